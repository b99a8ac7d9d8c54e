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
    smtp_down_schedules_a_retry_and_delivers_once_when_it_is_back,
    permanent_refusals_are_recorded_and_never_retried,
    temporary_refusals_are_retried_later,
    temporary_failures_give_up_after_max_attempts,
    files_transport_overwrites_a_message_resent_after_a_crash,
    two_dispatchers_racing_deliver_every_message_exactly_once,
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

async fn smtp_down_schedules_a_retry_and_delivers_once_when_it_is_back(db: Db) {
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

    assert_eq!(done, report(0, 1, 0));
    let failed = row(&mut conn, &during);
    assert_eq!(failed.status, "pending");
    assert_eq!(failed.attempts, 1);
    assert_eq!(failed.locked_until, None);
    assert!(failed.last_error.is_some());
    let wait = failed.next_attempt_at - t0().naive_utc();
    assert!(
        wait >= Duration::seconds(15) && wait <= Duration::seconds(45) + SLACK,
        "first retry about 30 s later, got {wait}"
    );
    assert_ne!(failed.message, "", "kept for the retry");
    // Not due yet: a second pass at the same instant leaves it alone.
    let done = dispatch_due(&db.pool, &transport, FROM, t0())
        .await
        .unwrap();
    assert_eq!(done, report(0, 0, 0));
    assert_eq!(row(&mut conn, &during).attempts, 1);

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
