//! The outbox and its dispatcher on both engines, against a real SMTP server on loopback and a mail directory.

use crate::helpers::{test_database, Engine, TestDb};
use crate::smtp_sink::{Mode, SmtpSink};
use chrono::{DateTime, Duration, NaiveDateTime, TimeZone, Utc};
use diesel::prelude::*;
use pulse::config::Settings;
use pulse::db::schema::outbox as table;
use pulse::db::{DatabaseUrl, DbConnection, Pool};
use pulse::mail::dispatcher::{dispatch_due, DispatchReport};
use pulse::mail::{compose, new_message_id, Email, Transport};
use pulse::repo::outbox;
use std::collections::{HashMap, HashSet};
use std::path::PathBuf;

const FROM: &str = "Pulse <pulse@example.com>";

/// A fixed instant, so schedules in these tests do not depend on the wall clock.
fn t0() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2030, 1, 7, 9, 0, 0).unwrap()
}

struct Db {
    // Declared first so its connections close before the database is dropped.
    pool: Pool,
    url: String,
    _guard: TestDb,
}

impl Db {
    fn conn(&self) -> pulse::db::PooledConnection {
        self.pool.get().unwrap()
    }

    /// Another pool on the same database, as a second Pulse process would have.
    fn second_pool(&self) -> Pool {
        pulse::db::connect(&DatabaseUrl::parse(&self.url).unwrap(), 4).unwrap()
    }
}

fn database(engine: Engine) -> Option<Db> {
    let Some((url, guard)) = test_database(engine) else {
        eprintln!("skipped: set TEST_DATABASE_URL=postgres://… to run this test on PostgreSQL");
        return None;
    };
    let pool = pulse::db::connect(&DatabaseUrl::parse(&url).unwrap(), 4).unwrap();
    pulse::db::migrate(&mut pool.get().unwrap()).unwrap();
    Some(Db {
        pool,
        url,
        _guard: guard,
    })
}

macro_rules! on_both_databases {
    ($($name:ident),* $(,)?) => {
        mod sqlite {
            $(#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $name() {
                let db = super::database($crate::helpers::Engine::Sqlite).unwrap();
                super::$name(db).await
            })*
        }
        mod postgres {
            $(#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $name() {
                if let Some(db) = super::database($crate::helpers::Engine::Postgres) {
                    super::$name(db).await
                }
            })*
        }
    };
}

on_both_databases!(
    enqueue_keeps_one_row_per_dedupe_key_within_the_callers_transaction,
    dispatch_delivers_over_smtp_with_the_stored_message_id_and_forgets_the_body,
    smtp_down_costs_no_attempt_and_delivers_once_when_it_is_back,
    permanent_refusals_are_recorded_and_never_retried,
    temporary_refusals_are_retried_later,
    temporary_failures_give_up_after_max_attempts,
    files_transport_overwrites_a_message_resent_after_a_crash,
    two_dispatchers_racing_deliver_every_message_exactly_once,
    a_message_whose_dispatcher_died_goes_again_once_the_short_lease_lapses,
    a_lease_is_renewed_only_by_the_pass_holding_it,
    an_outage_fails_nothing_and_the_queue_leaves_at_the_first_pass_after_it,
    a_connection_dropped_while_the_relay_answers_counts_an_attempt,
);

fn smtp_transport(sink: &SmtpSink) -> Transport {
    let url = sink.url();
    let settings = Settings::from_lookup(|k| (k == "SMTP_URL").then(|| url.clone())).unwrap();
    let transport = Transport::from_settings(&settings).unwrap();
    assert!(matches!(transport, Transport::Smtp(_)));
    transport
}

/// Composes a message with a one-time link and a line holding only "."
/// (which SMTP must dot-stuff), and queues it at `t0`. Returns its Message-ID.
fn queue(conn: &mut DbConnection, key: &str, to: &str) -> String {
    let email = Email {
        to: to.to_string(),
        to_name: Some("Zoë Test".into()),
        subject: format!("Your pulse survey ({key}) — 2 minutes"),
        text: format!(
            "Hello,\r\n\r\nanswer here: https://pulse.example.com/r/{key}\r\n.\r\nThanks"
        ),
        html: format!("<p>Hello, <a href=\"https://pulse.example.com/r/{key}\">answer</a></p>"),
        calendar: None,
    };
    let message_id = new_message_id(key, FROM);
    let raw = compose(FROM, &email, &message_id).unwrap();
    let inserted = outbox::enqueue(
        conn,
        key,
        to,
        &email.subject,
        &raw,
        &message_id,
        t0().naive_utc(),
    )
    .unwrap();
    assert!(inserted);
    message_id
}

#[derive(Debug, Queryable)]
struct Row {
    status: String,
    attempts: i32,
    message: String,
    next_attempt_at: NaiveDateTime,
    locked_until: Option<NaiveDateTime>,
    last_error: Option<String>,
    sent_at: Option<NaiveDateTime>,
}

fn row(conn: &mut DbConnection, message_id: &str) -> Row {
    table::table
        .filter(table::message_id.eq(message_id))
        .select((
            table::status,
            table::attempts,
            table::message,
            table::next_attempt_at,
            table::locked_until,
            table::last_error,
            table::sent_at,
        ))
        .first(conn)
        .unwrap()
}

fn stored_message(conn: &mut DbConnection, message_id: &str) -> String {
    table::table
        .filter(table::message_id.eq(message_id))
        .select(table::message)
        .first(conn)
        .unwrap()
}

/// A pass stamps what it writes with its start instant plus the real time
/// elapsed since, which in these tests is well under this.
const SLACK: Duration = Duration::seconds(10);

fn assert_close(stamp: NaiveDateTime, pass_start: DateTime<Utc>) {
    let offset = stamp - pass_start.naive_utc();
    assert!(
        offset >= Duration::zero() && offset <= SLACK,
        "{stamp} is not just after {pass_start}"
    );
}

fn report(sent: usize, retried: usize, failed: usize) -> DispatchReport {
    DispatchReport {
        sent,
        retried,
        failed,
        deferred: 0,
    }
}

/// A pass that found the relay down and left `n` messages waiting.
fn deferred(n: usize) -> DispatchReport {
    DispatchReport {
        deferred: n,
        ..DispatchReport::default()
    }
}

async fn enqueue_keeps_one_row_per_dedupe_key_within_the_callers_transaction(db: Db) {
    let mut pooled = db.conn();
    let conn: &mut DbConnection = &mut pooled;
    let now = t0().naive_utc();
    let (first, second, pending_inside) = conn
        .transaction::<_, diesel::result::Error, _>(|c| {
            let first = outbox::enqueue(
                c,
                "invite:1:2",
                "a@example.org",
                "First",
                "raw 1",
                "<1@x>",
                now,
            )?;
            let second = outbox::enqueue(
                c,
                "invite:1:2",
                "a@example.org",
                "Second",
                "raw 2",
                "<2@x>",
                now,
            )?;
            // On PostgreSQL a failed statement would have aborted the transaction here.
            let (pending, _, _) = outbox::counts(c)?;
            Ok((first, second, pending))
        })
        .unwrap();
    assert!(first, "the first enqueue inserts");
    assert!(!second, "the second enqueue with the same key does nothing");
    assert_eq!(pending_inside, 1);

    // Also after commit, from another transaction.
    assert!(!outbox::enqueue(
        conn,
        "invite:1:2",
        "b@example.org",
        "Third",
        "raw 3",
        "<3@x>",
        now
    )
    .unwrap());
    let rows: Vec<(String, String, String)> = table::table
        .select((table::subject, table::message, table::message_id))
        .load(conn)
        .unwrap();
    assert_eq!(
        rows,
        vec![(
            "First".to_string(),
            "raw 1".to_string(),
            "<1@x>".to_string()
        )]
    );

    // The insert belongs to the caller's transaction: rolled back with it.
    let rolled_back = conn.transaction::<(), _, _>(|c| {
        assert!(outbox::enqueue(
            c,
            "invite:1:3",
            "c@example.org",
            "S",
            "raw",
            "<4@x>",
            now
        )?);
        Err(diesel::result::Error::RollbackTransaction)
    });
    assert!(rolled_back.is_err());
    assert_eq!(outbox::counts(conn).unwrap(), (1, 0, 0));
}

async fn dispatch_delivers_over_smtp_with_the_stored_message_id_and_forgets_the_body(db: Db) {
    let sink = SmtpSink::start().await;
    let transport = smtp_transport(&sink);
    let mut conn = db.conn();
    let ids = [
        queue(&mut conn, "invite:1:1", "ann@example.org"),
        queue(&mut conn, "invite:1:2", "bob@example.org"),
    ];
    let raws: Vec<String> = ids.iter().map(|id| stored_message(&mut conn, id)).collect();

    let done = dispatch_due(&db.pool, &transport, FROM, t0())
        .await
        .unwrap();

    assert_eq!(done, report(2, 0, 0));
    let received = sink.received();
    assert_eq!(received.len(), 2);
    for ((id, raw), to) in ids
        .iter()
        .zip(&raws)
        .zip(["ann@example.org", "bob@example.org"])
    {
        let message = received
            .iter()
            .find(|m| m.message_id().as_deref() == Some(id.as_str()))
            .unwrap_or_else(|| panic!("{id} not received"));
        assert_eq!(message.from, "pulse@example.com");
        assert_eq!(message.to, vec![to.to_string()]);
        // Byte for byte what was stored, dot-stuffed line included; SMTP adds
        // the CRLF that ends the last line.
        assert_eq!(
            message.data.trim_end_matches("\r\n"),
            raw.trim_end_matches("\r\n")
        );
        let row = row(&mut conn, id);
        assert_eq!(row.status, "sent");
        assert_eq!(row.message, "", "the one-time link must not stay stored");
        assert_close(row.sent_at.unwrap(), t0());
        assert_eq!(row.locked_until, None);
        assert_eq!(row.attempts, 0);
    }
    assert_eq!(outbox::counts(&mut conn).unwrap(), (0, 2, 0));

    let again = dispatch_due(&db.pool, &transport, FROM, t0() + Duration::days(1)).await;
    assert_eq!(again.unwrap(), report(0, 0, 0));
    assert_eq!(sink.received().len(), 2);
}

async fn smtp_down_costs_no_attempt_and_delivers_once_when_it_is_back(db: Db) {
    let mut sink = SmtpSink::start().await;
    let port = sink.port();
    let transport = smtp_transport(&sink);
    let mut conn = db.conn();
    // One delivery first, so the transport holds a pooled connection that the
    // outage then breaks.
    let before = queue(&mut conn, "invite:1:1", "ann@example.org");
    let done = dispatch_due(&db.pool, &transport, FROM, t0())
        .await
        .unwrap();
    assert_eq!(done, report(1, 0, 0));

    sink.stop().await;
    let during = queue(&mut conn, "invite:1:2", "bob@example.org");
    let done = dispatch_due(&db.pool, &transport, FROM, t0())
        .await
        .unwrap();

    // The relay does not answer a probe either: the message is not at fault,
    // so it keeps its attempts and its due time, and waits for the next pass.
    assert_eq!(done, deferred(1));
    let waiting = row(&mut conn, &during);
    assert_eq!(waiting.status, "pending");
    assert_eq!(waiting.attempts, 0);
    assert_eq!(waiting.locked_until, None);
    assert!(waiting.last_error.is_some());
    assert_eq!(waiting.next_attempt_at, t0().naive_utc());
    assert_ne!(waiting.message, "", "kept for the retry");

    let sink = SmtpSink::start_on(port).await;
    let later = t0() + Duration::minutes(1);
    let done = dispatch_due(&db.pool, &transport, FROM, later)
        .await
        .unwrap();
    assert_eq!(done, report(1, 0, 0));
    let done = dispatch_due(&db.pool, &transport, FROM, later + Duration::hours(1)).await;
    assert_eq!(done.unwrap(), report(0, 0, 0));

    assert_eq!(
        sink.count_by_message_id(),
        HashMap::from([(during.clone(), 1)])
    );
    let delivered = row(&mut conn, &during);
    assert_eq!(delivered.status, "sent");
    assert_close(delivered.sent_at.unwrap(), later);
    assert_eq!(row(&mut conn, &before).status, "sent");
    assert_eq!(outbox::counts(&mut conn).unwrap(), (0, 2, 0));
}

/// A dispatcher dies while the relay has its message but before it could
/// record it: another dispatcher sends it again well within a minute, with
/// the same Message-ID, and only that once.
async fn a_message_whose_dispatcher_died_goes_again_once_the_short_lease_lapses(db: Db) {
    let sink = SmtpSink::start().await;
    sink.set_mode(Mode::HangData);
    let mut conn = db.conn();
    let id = queue(&mut conn, "invite:1:1", "ann@example.org");
    let dying = {
        let (pool, transport) = (db.pool.clone(), smtp_transport(&sink));
        tokio::spawn(async move { dispatch_due(&pool, &transport, FROM, t0()).await })
    };
    for _ in 0..500 {
        if !sink.received().is_empty() {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    assert_eq!(sink.received().len(), 1, "the relay has the message");
    dying.abort();
    assert!(dying.await.unwrap_err().is_cancelled());
    sink.set_mode(Mode::Accept);

    let held = row(&mut conn, &id);
    assert_eq!(held.status, "pending");
    let lease = held.locked_until.expect("still claimed") - t0().naive_utc();
    assert!(
        lease <= Duration::seconds(30) + SLACK,
        "a short lease, got {lease}"
    );
    // Another instance, with its own pool and connections.
    let (pool, transport) = (db.second_pool(), smtp_transport(&sink));
    let done = dispatch_due(&pool, &transport, FROM, t0()).await.unwrap();
    assert_eq!(done, report(0, 0, 0), "held while the claim may be alive");
    let done = dispatch_due(&pool, &transport, FROM, t0() + Duration::seconds(40)).await;
    assert_eq!(done.unwrap(), report(1, 0, 0));

    assert_eq!(sink.count_by_message_id(), HashMap::from([(id.clone(), 2)]));
    let sent = row(&mut conn, &id);
    assert_eq!((sent.status.as_str(), sent.attempts), ("sent", 0));
    assert_close(sent.sent_at.unwrap(), t0() + Duration::seconds(40));
}

async fn a_lease_is_renewed_only_by_the_pass_holding_it(db: Db) {
    let mut conn = db.conn();
    let ids = [
        queue(&mut conn, "invite:1:1", "ann@example.org"),
        queue(&mut conn, "invite:1:2", "bob@example.org"),
    ];
    let at = |secs: i64| (t0() + Duration::seconds(secs)).naive_utc();
    let lease = Duration::seconds(20);
    let mine: Vec<i32> = outbox::claim_as(&mut conn, at(0), 10, lease, "a")
        .unwrap()
        .iter()
        .map(|m| m.id)
        .collect();
    assert_eq!(mine.len(), ids.len());
    // Renewed while the work goes on, the lease outlives its first term.
    assert_eq!(outbox::renew(&mut conn, &mine, "a", at(35)).unwrap(), mine);
    assert!(outbox::claim_as(&mut conn, at(25), 10, lease, "b")
        .unwrap()
        .is_empty());
    // Once it lapses, another pass takes the messages, and the first can
    // neither renew nor release them any more.
    assert_eq!(
        outbox::claim_as(&mut conn, at(36), 10, lease, "b")
            .unwrap()
            .len(),
        2
    );
    assert!(outbox::renew(&mut conn, &mine, "a", at(60))
        .unwrap()
        .is_empty());
    outbox::release(&mut conn, &mine, "a").unwrap();
    assert!(outbox::claim_as(&mut conn, at(40), 10, lease, "c")
        .unwrap()
        .is_empty());
    // Their holder releases them: due at once for anyone.
    outbox::release(&mut conn, &mine, "b").unwrap();
    assert_eq!(
        outbox::claim_as(&mut conn, at(40), 10, lease, "c")
            .unwrap()
            .len(),
        2
    );
}

/// A relay down for an hour: every pass meanwhile finds it down and fails
/// nothing; the first pass after it is back sends the whole queue.
async fn an_outage_fails_nothing_and_the_queue_leaves_at_the_first_pass_after_it(db: Db) {
    const MESSAGES: usize = 20;
    let mut sink = SmtpSink::start().await;
    let port = sink.port();
    let transport = smtp_transport(&sink);
    let mut conn = db.conn();
    let ids: HashSet<String> = (0..MESSAGES)
        .map(|i| queue(&mut conn, &format!("invite:1:{i}"), "p@example.org"))
        .collect();
    sink.stop().await;

    for minutes in (0..60).step_by(5) {
        let at = t0() + Duration::minutes(minutes);
        let done = dispatch_due(&db.pool, &transport, FROM, at).await.unwrap();
        assert_eq!(done, deferred(MESSAGES), "at +{minutes} min");
    }
    let attempts: Vec<i32> = table::table
        .select(table::attempts)
        .load(&mut *conn)
        .unwrap();
    assert_eq!(attempts, vec![0; MESSAGES], "an outage costs no attempt");
    assert_eq!(outbox::counts(&mut conn).unwrap(), (MESSAGES as i64, 0, 0));

    let sink = SmtpSink::start_on(port).await;
    let back = t0() + Duration::minutes(61);
    let done = dispatch_due(&db.pool, &transport, FROM, back)
        .await
        .unwrap();
    assert_eq!(done, report(MESSAGES, 0, 0));
    let counts = sink.count_by_message_id();
    assert_eq!(counts.keys().cloned().collect::<HashSet<_>>(), ids);
    assert!(counts.values().all(|n| *n == 1), "{counts:?}");
}

/// When the relay answers a probe, a dropped connection is this message's
/// trouble: an attempt, retried with back-off, so it cannot stall the queue.
async fn a_connection_dropped_while_the_relay_answers_counts_an_attempt(db: Db) {
    let sink = SmtpSink::start().await;
    sink.set_mode(Mode::DropData);
    let transport = smtp_transport(&sink);
    let mut conn = db.conn();
    let id = queue(&mut conn, "invite:1:1", "ann@example.org");
    let done = dispatch_due(&db.pool, &transport, FROM, t0())
        .await
        .unwrap();
    assert_eq!(done, report(0, 1, 0));
    let row = row(&mut conn, &id);
    assert_eq!((row.status.as_str(), row.attempts), ("pending", 1));
    let wait = row.next_attempt_at - t0().naive_utc();
    assert!(wait >= Duration::seconds(15), "backed off, got {wait}");
}

async fn permanent_refusals_are_recorded_and_never_retried(db: Db) {
    let sink = SmtpSink::start().await;
    let transport = smtp_transport(&sink);
    let mut conn = db.conn();
    for (mode, key, code) in [
        (Mode::PermFailRcpt, "invite:1:1", "550"),
        (Mode::PermFailData, "invite:1:2", "554"),
    ] {
        sink.set_mode(mode);
        let id = queue(&mut conn, key, "gone@example.org");
        let done = dispatch_due(&db.pool, &transport, FROM, t0())
            .await
            .unwrap();
        assert_eq!(done, report(0, 0, 1), "{mode:?}");
        let row = row(&mut conn, &id);
        assert_eq!(row.status, "failed");
        assert_eq!(row.attempts, 1);
        assert_eq!(row.locked_until, None);
        let error = row.last_error.unwrap();
        assert!(error.contains(code), "{mode:?}: {error}");
    }

    sink.set_mode(Mode::Accept);
    let done = dispatch_due(&db.pool, &transport, FROM, t0() + Duration::days(30)).await;
    assert_eq!(done.unwrap(), report(0, 0, 0));
    assert!(sink.received().is_empty());
    assert_eq!(outbox::counts(&mut conn).unwrap(), (0, 0, 2));
}

async fn temporary_refusals_are_retried_later(db: Db) {
    let sink = SmtpSink::start().await;
    let transport = smtp_transport(&sink);
    let mut conn = db.conn();
    let mut ids = Vec::new();
    for (mode, key) in [
        (Mode::TempFailRcpt, "invite:1:1"),
        (Mode::TempFailData, "invite:1:2"),
    ] {
        sink.set_mode(mode);
        let id = queue(&mut conn, key, "busy@example.org");
        let done = dispatch_due(&db.pool, &transport, FROM, t0())
            .await
            .unwrap();
        assert_eq!(done, report(0, 1, 0), "{mode:?}");
        let row = row(&mut conn, &id);
        assert_eq!((row.status.as_str(), row.attempts), ("pending", 1));
        assert!(row.next_attempt_at > t0().naive_utc());
        assert!(row.last_error.unwrap().contains("451"));
        ids.push(id);
    }
    assert!(sink.received().is_empty());

    sink.set_mode(Mode::Accept);
    let done = dispatch_due(&db.pool, &transport, FROM, t0() + Duration::minutes(5)).await;
    assert_eq!(done.unwrap(), report(2, 0, 0));
    let expected: HashMap<String, usize> = ids.iter().map(|id| (id.clone(), 1)).collect();
    assert_eq!(sink.count_by_message_id(), expected);
    assert_eq!(outbox::counts(&mut conn).unwrap(), (0, 2, 0));
}

async fn temporary_failures_give_up_after_max_attempts(db: Db) {
    let sink = SmtpSink::start().await;
    sink.set_mode(Mode::TempFailRcpt);
    let transport = smtp_transport(&sink);
    let mut conn = db.conn();
    let id = queue(&mut conn, "invite:1:1", "busy@example.org");
    let mut at = t0();
    for attempt in 1..=outbox::MAX_ATTEMPTS {
        let done = dispatch_due(&db.pool, &transport, FROM, at).await.unwrap();
        let row = row(&mut conn, &id);
        assert_eq!(row.attempts, attempt);
        if attempt < outbox::MAX_ATTEMPTS {
            assert_eq!(done, report(0, 1, 0), "attempt {attempt}");
            assert_eq!(row.status, "pending");
            // Doubling back-off, within the jitter range.
            let wait = row.next_attempt_at - at.naive_utc();
            let base = 30 * 2_i64.pow(attempt as u32 - 1);
            assert!(
                wait >= Duration::seconds(base / 2)
                    && wait <= Duration::seconds(base * 3 / 2) + SLACK,
                "attempt {attempt}: waited {wait}"
            );
            at = row.next_attempt_at.and_utc();
        } else {
            assert_eq!(done, report(0, 0, 1), "attempt {attempt}");
            assert_eq!(row.status, "failed");
        }
    }
    sink.set_mode(Mode::Accept);
    let done = dispatch_due(&db.pool, &transport, FROM, at + Duration::days(1)).await;
    assert_eq!(done.unwrap(), report(0, 0, 0));
    assert!(sink.received().is_empty());
}

/// A directory of its own, removed when the test ends.
struct TempDir(PathBuf);

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn eml_files(dir: &std::path::Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

async fn files_transport_overwrites_a_message_resent_after_a_crash(db: Db) {
    use rand::Rng;
    let temp = TempDir(std::env::temp_dir().join(format!(
        "pulse-mail-test-{:016x}",
        rand::thread_rng().gen::<u64>()
    )));
    let mail_dir = temp.0.join("not").join("yet");
    let dir = mail_dir.display().to_string();
    let settings = Settings::from_lookup(|k| (k == "PULSE_MAIL_DIR").then(|| dir.clone())).unwrap();
    let transport = Transport::from_settings(&settings).unwrap();
    assert!(matches!(&transport, Transport::Files(d) if *d == mail_dir));
    assert!(mail_dir.is_dir(), "created when missing");

    let mut conn = db.conn();
    let ids = [
        queue(&mut conn, "invite:1:1", "ann@example.org"),
        queue(&mut conn, "invite:1:2", "bob@example.org"),
    ];
    let raws: Vec<String> = ids.iter().map(|id| stored_message(&mut conn, id)).collect();
    let names: Vec<String> = ids
        .iter()
        .map(|id| format!("{}.eml", id.trim_start_matches('<').trim_end_matches('>')))
        .collect();

    // A dispatcher claims both, writes them, and dies before recording it.
    let claimed = outbox::claim(&mut conn, t0().naive_utc(), 50, Duration::minutes(5)).unwrap();
    assert_eq!(claimed.len(), 2);
    for message in &claimed {
        transport
            .send_raw(FROM, &message.recipient, &message.message)
            .await
            .unwrap();
    }
    let mut sorted_names = names.clone();
    sorted_names.sort();
    assert_eq!(eml_files(&mail_dir), sorted_names);

    // Its lease still holds them.
    let done = dispatch_due(&db.pool, &transport, FROM, t0())
        .await
        .unwrap();
    assert_eq!(done, report(0, 0, 0));

    // Once it has run out, they go again, into the same files.
    let done = dispatch_due(&db.pool, &transport, FROM, t0() + Duration::minutes(6)).await;
    assert_eq!(done.unwrap(), report(2, 0, 0));
    assert_eq!(
        eml_files(&mail_dir),
        sorted_names,
        "no duplicates, no temp files"
    );
    for (name, raw) in names.iter().zip(&raws) {
        let written = std::fs::read_to_string(mail_dir.join(name)).unwrap();
        assert_eq!(&written, raw);
    }
    assert_eq!(outbox::counts(&mut conn).unwrap(), (0, 2, 0));
}

/// PostgreSQL is where several Pulse processes share one database; SQLite
/// runs it too, as two processes on one file would.
async fn two_dispatchers_racing_deliver_every_message_exactly_once(db: Db) {
    const MESSAGES: usize = 200;
    let sink = SmtpSink::start().await;
    let mut conn = db.conn();
    let mut ids = HashSet::new();
    conn.transaction::<_, diesel::result::Error, _>(|c| {
        for i in 0..MESSAGES {
            ids.insert(queue(
                c,
                &format!("invite:9:{i}"),
                &format!("p{i}@example.org"),
            ));
        }
        Ok(())
    })
    .unwrap();
    let (pool_a, pool_b) = (db.pool.clone(), db.second_pool());
    let (transport_a, transport_b) = (smtp_transport(&sink), smtp_transport(&sink));

    let (a, b) = tokio::join!(
        dispatch_due(&pool_a, &transport_a, FROM, t0()),
        dispatch_due(&pool_b, &transport_b, FROM, t0()),
    );
    let (a, b) = (a.unwrap(), b.unwrap());
    eprintln!("dispatcher a sent {}, dispatcher b sent {}", a.sent, b.sent);

    assert_eq!(a.sent + b.sent, MESSAGES);
    assert_eq!((a.retried, a.failed, b.retried, b.failed), (0, 0, 0, 0));
    let counts = sink.count_by_message_id();
    let duplicates: Vec<_> = counts.iter().filter(|(_, n)| **n != 1).collect();
    assert!(duplicates.is_empty(), "sent more than once: {duplicates:?}");
    assert_eq!(counts.keys().cloned().collect::<HashSet<_>>(), ids);
    assert_eq!(outbox::counts(&mut conn).unwrap(), (0, MESSAGES as i64, 0));
}
