//! The outbox: email written in the caller's transaction, then claimed, sent and settled by the dispatcher.

use crate::db::schema::outbox;
use crate::db::DbConnection;
use chrono::{Duration, NaiveDateTime};
use diesel::prelude::*;

/// After this many failed attempts a message is given up on (about an hour of retries).
pub const MAX_ATTEMPTS: i32 = 8;

/// Longest kept error text: SMTP replies can be long and say nothing more after the start.
const MAX_ERROR_LEN: usize = 1000;

pub const PENDING: &str = "pending";
pub const SENT: &str = "sent";
pub const FAILED: &str = "failed";

/// Counts commits that queued messages in this process: `pulse serve`'s
/// dispatcher waits on it between its ticks and sends at once, instead of
/// leaving the first email of a round to wait up to a whole tick.
///
/// Process-wide rather than in the app state because the signal comes from
/// where rows are written (repository functions inside transactions, on
/// whatever thread), which sees no app state; a watch, so every dispatcher
/// loop of the process sees each change and a change made while a loop is
/// busy sending is not lost. Other instances on the same database are not
/// woken: they send what is due at their next tick.
static QUEUED: std::sync::LazyLock<tokio::sync::watch::Sender<u64>> =
    std::sync::LazyLock::new(|| tokio::sync::watch::Sender::new(0));

/// Heard whenever messages were queued and committed in this process.
pub fn queued() -> tokio::sync::watch::Receiver<u64> {
    QUEUED.subscribe()
}

fn signal_queued() {
    QUEUED.send_modify(|n| *n = n.wrapping_add(1));
}

/// A claimed message, with what the dispatcher needs to send and settle it.
#[derive(Debug, Clone, PartialEq, Eq, Queryable, QueryableByName, Selectable)]
#[diesel(table_name = outbox)]
pub struct OutboxMessage {
    pub id: i32,
    pub dedupe_key: String,
    pub recipient: String,
    pub message: String,
    pub message_id: String,
    pub attempts: i32,
    /// Set for round emails, rendered when sent: then `message` is empty.
    pub template: Option<String>,
    pub round_id: Option<i32>,
    pub token: Option<String>,
    pub to_name: Option<String>,
    pub locale: Option<String>,
}

/// A round email as stored: what rendering it at dispatch needs, a few
/// hundred bytes instead of the composed message.
#[derive(Debug, Clone, Insertable)]
#[diesel(table_name = outbox, treat_none_as_default_value = false)]
pub struct NewRoundEmail {
    pub dedupe_key: String,
    pub recipient: String,
    pub subject: String,
    pub message: String,
    pub message_id: String,
    pub status: String,
    pub attempts: i32,
    pub next_attempt_at: NaiveDateTime,
    pub created_at: NaiveDateTime,
    /// `invitation` or `reminder`.
    pub template: Option<String>,
    pub round_id: Option<i32>,
    /// The one-time token of the link, until sent.
    pub token: Option<String>,
    pub to_name: Option<String>,
    pub locale: Option<String>,
}

impl NewRoundEmail {
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        dedupe_key: String,
        recipient: &str,
        to_name: &str,
        locale: &str,
        template: &str,
        round_id: i32,
        token: String,
        message_id: String,
        now: NaiveDateTime,
    ) -> Self {
        Self {
            dedupe_key,
            recipient: recipient.to_string(),
            subject: String::new(),
            message: String::new(),
            message_id,
            status: PENDING.to_string(),
            attempts: 0,
            next_attempt_at: now,
            created_at: now,
            template: Some(template.to_string()),
            round_id: Some(round_id),
            token: Some(token),
            to_name: Some(to_name.to_string()),
            locale: Some(locale.to_string()),
        }
    }
}

/// Rows per multi-row INSERT: far below either engine's limit on bound values.
const INSERT_ROWS: usize = 500;

/// Inserts round emails in multi-row statements (on the inner connection:
/// MultiConnection has no multi-row insert), skipping dedupe keys already
/// there, in the caller's transaction. Returns how many were inserted.
pub fn enqueue_round_emails(
    conn: &mut DbConnection,
    emails: &[NewRoundEmail],
) -> QueryResult<usize> {
    let mut inserted = 0;
    for chunk in emails.chunks(INSERT_ROWS) {
        let insert = diesel::insert_into(outbox::table)
            .values(chunk)
            .on_conflict(outbox::dedupe_key)
            .do_nothing();
        inserted += match conn {
            DbConnection::Postgresql(c) => insert.execute(c)?,
            DbConnection::Sqlite(c) => insert.execute(c)?,
        };
    }
    if inserted > 0 {
        crate::db::after_commit(conn, signal_queued);
    }
    Ok(inserted)
}

/// Inserts unless a row with this dedupe key exists (INSERT … ON CONFLICT (dedupe_key) DO NOTHING, done on the inner concrete connection by matching DbConnection's variant, because MultiConnection lacks on_conflict). Must work inside a caller's transaction on both engines. Returns whether a row was inserted.
///
/// ON CONFLICT rather than catching the unique violation: on PostgreSQL a
/// failed statement aborts the caller's whole transaction.
pub fn enqueue(
    conn: &mut DbConnection,
    dedupe_key: &str,
    recipient: &str,
    subject: &str,
    message: &str,
    message_id: &str,
    now: NaiveDateTime,
) -> QueryResult<bool> {
    let insert = diesel::insert_into(outbox::table)
        .values((
            outbox::dedupe_key.eq(dedupe_key),
            outbox::recipient.eq(recipient),
            outbox::subject.eq(subject),
            outbox::message.eq(message),
            outbox::message_id.eq(message_id),
            outbox::status.eq(PENDING),
            outbox::attempts.eq(0),
            outbox::next_attempt_at.eq(now),
            outbox::created_at.eq(now),
        ))
        .on_conflict(outbox::dedupe_key)
        .do_nothing();
    let inserted = match conn {
        DbConnection::Postgresql(c) => insert.execute(c)?,
        DbConnection::Sqlite(c) => insert.execute(c)?,
    };
    if inserted == 1 {
        crate::db::after_commit(conn, signal_queued);
    }
    Ok(inserted == 1)
}

/// Claims up to `batch` due messages under a fresh claim token; see `claim_as`.
pub fn claim(
    conn: &mut DbConnection,
    now: NaiveDateTime,
    batch: i64,
    lease: Duration,
) -> QueryResult<Vec<OutboxMessage>> {
    let token = crate::tokens::random_token();
    claim_as(conn, now, batch, lease, &token)
}

/// Claims up to `batch` due messages (status pending, next_attempt_at <= now, locked_until null or < now), oldest first, setting locked_until = now + lease and `claim_token`, which `renew` and `release` then require, and returns them. Safe with several processes on one PostgreSQL database and on SQLite.
///
/// On PostgreSQL the candidates are locked `FOR UPDATE SKIP LOCKED` by the
/// UPDATE that leases them, one statement (`claim_on_postgres`), so
/// concurrent dispatchers take different rows instead of queueing on (or
/// deadlocking over) the same ones, and an empty result means nothing is
/// due that another claim is not already taking.
///
/// On SQLite the claim is one write transaction begun `IMMEDIATE`: it holds
/// the database's one write lock from its first read, so no other process
/// can take a candidate between the read and the lease (`claim_on_sqlite`).
pub fn claim_as(
    conn: &mut DbConnection,
    now: NaiveDateTime,
    batch: i64,
    lease: Duration,
    claim_token: &str,
) -> QueryResult<Vec<OutboxMessage>> {
    let locked_until = now + lease;
    if let DbConnection::Postgresql(c) = conn {
        return claim_on_postgres(c, now, batch, locked_until, claim_token);
    }
    crate::db::write_transaction(conn, |conn| {
        claim_on_sqlite(conn, now, batch, locked_until, claim_token)
    })
}

/// `claim_as` on PostgreSQL: one statement, in a transaction of its own. The candidates
/// are locked `FOR UPDATE SKIP LOCKED` (a row another dispatcher is claiming
/// is passed over, and a row changed since the statement began is checked
/// again against the conditions once locked), then leased and returned, in
/// the order of the partial index `outbox_pending`, which holds only pending
/// rows: claiming reads the 50 rows it takes, not every pending one.
fn claim_on_postgres(
    conn: &mut PgConnection,
    now: NaiveDateTime,
    batch: i64,
    locked_until: NaiveDateTime,
    claim_token: &str,
) -> QueryResult<Vec<OutboxMessage>> {
    // Not waiting for the WAL flush either (as `mark_all_sent`): a claim lost
    // to a database crash only frees its rows for the next claim, and the
    // sessions no longer wait for a flush per batch (3–10 ms on this disk).
    conn.transaction(|conn| {
        diesel::connection::SimpleConnection::batch_execute(
            conn,
            "SET LOCAL synchronous_commit TO OFF",
        )?;
        claim_statement(conn, now, batch, locked_until, claim_token)
    })
}

/// The claim's one statement: lease the first due candidates nobody holds.
fn claim_statement(
    conn: &mut PgConnection,
    now: NaiveDateTime,
    batch: i64,
    locked_until: NaiveDateTime,
    claim_token: &str,
) -> QueryResult<Vec<OutboxMessage>> {
    use diesel::sql_types::{BigInt, Text, Timestamp};
    // SQL rather than the DSL: diesel cannot update through a locking
    // subselect, and `status = 'pending'` must be written out for the planner
    // to use the partial index in a prepared statement's generic plan.
    // `= ANY(ARRAY(…))` makes the candidates a value computed first, then
    // updated through the primary key: with `IN (…)` the generic plan
    // hash-joined them against a scan of the whole table (20 ms at 100,000
    // rows, against 1 ms).
    let mut claimed: Vec<OutboxMessage> = diesel::sql_query(
        "UPDATE outbox SET locked_until = $1, claim_token = $2 \
         WHERE id = ANY(ARRAY(SELECT id FROM outbox \
                              WHERE status = 'pending' AND next_attempt_at <= $3 \
                                AND webhook_id IS NULL \
                                AND (locked_until IS NULL OR locked_until < $3) \
                              ORDER BY next_attempt_at, id LIMIT $4 \
                              FOR UPDATE SKIP LOCKED)) \
         RETURNING id, dedupe_key, recipient, message, message_id, attempts, \
                   template, round_id, token, to_name, locale",
    )
    .bind::<Timestamp, _>(locked_until)
    .bind::<Text, _>(claim_token)
    .bind::<Timestamp, _>(now)
    .bind::<BigInt, _>(batch)
    .load(conn)?;
    claimed.sort_by_key(|m| m.id);
    Ok(claimed)
}

/// Refreshes PostgreSQL's statistics of the outbox once a large round has
/// been queued (after its first chunk, and again after its last). Planned on
/// statistics from before, when few rows were pending, the claim read every
/// pending row through a bitmap scan and sorted them on disk: 130–160 ms a
/// claim at 100,000 pending rather than under 1 ms, and the round went out at
/// 1,800 emails a second instead of 5,000 (`pulse bench delivery`).
/// Autovacuum gets there too, but up to a minute or more later. On SQLite,
/// which keeps no such statistics, nothing to do. A failure only costs speed.
pub fn refresh_statistics(conn: &mut DbConnection) {
    if let DbConnection::Postgresql(c) = conn {
        if let Err(e) = diesel::connection::SimpleConnection::batch_execute(c, "ANALYZE outbox") {
            tracing::warn!(error = %e, "could not refresh the outbox's statistics");
        }
    }
}

/// `claim_as` on SQLite, inside the write transaction that holds the lock:
/// the candidates read are still due when leased.
///
/// The lease and the read-back name the rows by id alone. With `status` and
/// `next_attempt_at` in their conditions as well, SQLite's planner took the
/// `outbox_due` index and read every pending row: a claim cost 15–19 ms with
/// 100,000 emails queued, and throttled the whole dispatch
/// (`pulse bench delivery`).
fn claim_on_sqlite(
    conn: &mut DbConnection,
    now: NaiveDateTime,
    batch: i64,
    locked_until: NaiveDateTime,
    claim_token: &str,
) -> QueryResult<Vec<OutboxMessage>> {
    let candidates: Vec<i32> = outbox::table
        // Webhook deliveries are claimed by `repo::webhooks::claim`.
        .filter(outbox::webhook_id.is_null())
        .filter(outbox::status.eq(PENDING))
        .filter(outbox::next_attempt_at.le(now))
        .filter(
            outbox::locked_until
                .is_null()
                .or(outbox::locked_until.lt(now)),
        )
        .order((outbox::next_attempt_at, outbox::id))
        .select(outbox::id)
        .limit(batch)
        .load(conn)?;
    if candidates.is_empty() {
        return Ok(Vec::new());
    }
    diesel::update(outbox::table.filter(outbox::id.eq_any(&candidates)))
        .set((
            outbox::locked_until.eq(locked_until),
            outbox::claim_token.eq(claim_token),
        ))
        .execute(conn)?;
    outbox::table
        .filter(outbox::id.eq_any(&candidates))
        .order(outbox::id)
        .select(OutboxMessage::as_select())
        .load(conn)
}

/// Renews the lease of those of `ids` still claimed under `claim_token`
/// until `locked_until`, and returns them: a message another dispatcher took
/// after our lease lapsed is no longer ours to send.
///
/// The token alone says a row is still ours and pending: every change out of
/// pending (sent, failed, retried, deferred, released) clears it. A condition
/// on `status` as well made SQLite's planner read every pending row through
/// `outbox_due` instead of the few ids (as in `claim_on_sqlite`).
pub fn renew(
    conn: &mut DbConnection,
    ids: &[i32],
    claim_token: &str,
    locked_until: NaiveDateTime,
) -> QueryResult<Vec<i32>> {
    diesel::update(
        outbox::table
            .filter(outbox::id.eq_any(ids))
            .filter(outbox::claim_token.eq(claim_token)),
    )
    .set(outbox::locked_until.eq(locked_until))
    .execute(conn)?;
    outbox::table
        .filter(outbox::id.eq_any(ids))
        .filter(outbox::claim_token.eq(claim_token))
        .order(outbox::id)
        .select(outbox::id)
        .load(conn)
}

/// Lets go of messages claimed under `claim_token` without attempting them,
/// so any dispatcher may take them at once.
pub fn release(conn: &mut DbConnection, ids: &[i32], claim_token: &str) -> QueryResult<()> {
    diesel::update(
        outbox::table
            .filter(outbox::id.eq_any(ids))
            .filter(outbox::claim_token.eq(claim_token)),
    )
    .set((
        outbox::locked_until.eq(None::<NaiveDateTime>),
        outbox::claim_token.eq(None::<String>),
    ))
    .execute(conn)
    .map(drop)
}

/// Records why a message could not go while the relay was down and lets go
/// of it, without counting an attempt or moving its due time: the relay was
/// at fault, not the message, so an outage of any length fails nothing.
pub fn defer(conn: &mut DbConnection, id: i32, error: &str) -> QueryResult<()> {
    diesel::update(outbox::table.find(id).filter(outbox::status.eq(PENDING)))
        .set((
            outbox::last_error.eq(truncate(error, MAX_ERROR_LEN)),
            outbox::locked_until.eq(None::<NaiveDateTime>),
            outbox::claim_token.eq(None::<String>),
        ))
        .execute(conn)
        .map(drop)
}

/// Marks sent and empties `message` (it contains a one-time link that must not stay stored).
pub fn mark_sent(conn: &mut DbConnection, id: i32, now: NaiveDateTime) -> QueryResult<()> {
    mark_all_sent(conn, &[id], now)
}

/// Marks messages sent in one statement, emptying their message and token.
pub fn mark_all_sent(conn: &mut DbConnection, ids: &[i32], now: NaiveDateTime) -> QueryResult<()> {
    if ids.is_empty() {
        return Ok(());
    }
    let mark = |conn: &mut DbConnection| {
        diesel::update(outbox::table.filter(outbox::id.eq_any(ids)))
            .set((
                outbox::status.eq(SENT),
                outbox::message.eq(""),
                outbox::token.eq(None::<String>),
                outbox::sent_at.eq(now),
                outbox::locked_until.eq(None::<NaiveDateTime>),
                outbox::claim_token.eq(None::<String>),
            ))
            .execute(conn)
            .map(drop)
    };
    match conn {
        // Not waiting for the WAL flush: should the server crash, a record
        // lost sends the message again under its Message-ID, never loses it,
        // and the dispatcher stops queueing on one flush per record.
        //
        // One round trip, as the sessions wait for their records: the
        // statements of one simple query run as one transaction, within which
        // SET LOCAL holds. Literals rather than binds (a simple query takes
        // none), made of integers and a timestamp only.
        DbConnection::Postgresql(c) => {
            let ids: Vec<String> = ids.iter().map(i32::to_string).collect();
            diesel::connection::SimpleConnection::batch_execute(
                c,
                &format!(
                    "SET LOCAL synchronous_commit TO OFF; \
                     UPDATE outbox SET status = '{SENT}', message = '', token = NULL, \
                       sent_at = '{}', locked_until = NULL, claim_token = NULL \
                     WHERE id IN ({})",
                    now.format("%Y-%m-%d %H:%M:%S%.6f"),
                    ids.join(",")
                ),
            )
        }
        // In a write transaction, to queue with the claims for SQLite's
        // write lock rather than poll for it (`db::write_transaction`).
        DbConnection::Sqlite(_) => crate::db::write_transaction(conn, mark),
    }
}

/// Records a failed attempt: attempts+1, last_error, locked_until = NULL; next_attempt_at = now + backoff; status 'failed' when permanent or attempts reach MAX_ATTEMPTS (8).
///
/// The first retry comes `backoff(0, jitter)` (about 30 s) after the first failure.
pub fn mark_failed(
    conn: &mut DbConnection,
    id: i32,
    attempts_before: i32,
    error: &str,
    permanent: bool,
    now: NaiveDateTime,
    jitter: f64,
) -> QueryResult<()> {
    let attempts = attempts_before.saturating_add(1);
    let status = if permanent || attempts >= MAX_ATTEMPTS {
        FAILED
    } else {
        PENDING
    };
    let error = truncate(error, MAX_ERROR_LEN);
    diesel::update(outbox::table.find(id))
        .set((
            outbox::status.eq(status),
            outbox::attempts.eq(attempts),
            outbox::last_error.eq(error),
            outbox::locked_until.eq(None::<NaiveDateTime>),
            outbox::claim_token.eq(None::<String>),
            outbox::next_attempt_at.eq(now + backoff(attempts_before, jitter)),
        ))
        .execute(conn)
        .map(drop)
}

/// How many messages are (pending, sent, failed).
pub fn counts(conn: &mut DbConnection) -> QueryResult<(i64, i64, i64)> {
    let rows: Vec<(String, i64)> = outbox::table
        .group_by(outbox::status)
        .select((outbox::status, diesel::dsl::count_star()))
        .load(conn)?;
    let of = |status: &str| {
        rows.iter()
            .find(|(s, _)| s == status)
            .map_or(0, |(_, n)| *n)
    };
    Ok((of(PENDING), of(SENT), of(FAILED)))
}

/// Pending messages that failed at least once and wait for a retry.
pub fn retrying(conn: &mut DbConnection) -> QueryResult<i64> {
    outbox::table
        .filter(outbox::status.eq(PENDING))
        .filter(outbox::attempts.gt(0))
        .count()
        .get_result(conn)
}

/// When the oldest message not yet sent was written, if any waits.
pub fn oldest_pending(conn: &mut DbConnection) -> QueryResult<Option<NaiveDateTime>> {
    outbox::table
        .filter(outbox::status.eq(PENDING))
        .select(diesel::dsl::min(outbox::created_at))
        .get_result(conn)
}

/// Wait before the next attempt: 30 s · 2^attempts, at most 6 h, times `jitter`.
///
/// Jitter (a factor in [0.5, 1.5), drawn by the caller so this stays pure and
/// testable) spreads out retries of messages that failed together, so a mail
/// server coming back is not hit by all of them at once.
pub fn backoff(attempts: i32, jitter: f64) -> Duration {
    const BASE_SECS: i64 = 30;
    const CAP_SECS: i64 = 6 * 60 * 60;
    // 30 · 2^10 already exceeds the cap; clamping the exponent avoids overflow.
    let exponent = attempts.clamp(0, 10) as u32;
    let secs = (BASE_SECS << exponent).min(CAP_SECS);
    let jitter = if jitter.is_finite() {
        jitter.clamp(0.5, 1.5)
    } else {
        1.0
    };
    Duration::milliseconds((secs as f64 * 1000.0 * jitter).round() as i64)
}

fn truncate(s: &str, max: usize) -> &str {
    if s.len() <= max {
        return s;
    }
    let mut end = max;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    &s[..end]
}

/// Drops a closed round's invitation and reminder emails, sent or not: each
/// held a person's link, and their send times could be set beside answers.
pub fn delete_round_emails(conn: &mut DbConnection, round_id: i32) -> QueryResult<usize> {
    diesel::delete(
        outbox::table.filter(
            outbox::dedupe_key
                .like(format!("invite:{round_id}:%"))
                .or(outbox::dedupe_key.like(format!("reminder:{round_id}:%"))),
        ),
    )
    .execute(conn)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_from_thirty_seconds() {
        assert_eq!(backoff(0, 1.0), Duration::seconds(30));
        assert_eq!(backoff(1, 1.0), Duration::seconds(60));
        assert_eq!(backoff(2, 1.0), Duration::seconds(120));
        assert_eq!(backoff(7, 1.0), Duration::seconds(3840));
    }

    #[test]
    fn backoff_is_capped_at_six_hours() {
        assert_eq!(backoff(10, 1.0), Duration::hours(6));
        assert_eq!(backoff(11, 1.0), Duration::hours(6));
        assert_eq!(backoff(i32::MAX, 1.0), Duration::hours(6));
        assert_eq!(backoff(-3, 1.0), Duration::seconds(30));
    }

    #[test]
    fn backoff_applies_the_jitter_factor() {
        assert_eq!(backoff(1, 0.5), Duration::seconds(30));
        assert_eq!(backoff(1, 1.25), Duration::seconds(75));
        assert_eq!(backoff(0, 1.499), Duration::milliseconds(44_970));
        assert_eq!(backoff(20, 1.5), Duration::hours(9));
        // Out-of-range factors cannot make a retry immediate or endless.
        assert_eq!(backoff(0, 0.0), Duration::seconds(15));
        assert_eq!(backoff(0, 100.0), Duration::seconds(45));
        assert_eq!(backoff(0, f64::NAN), Duration::seconds(30));
    }

    #[test]
    fn errors_are_truncated_on_a_character_boundary() {
        assert_eq!(truncate("abc", 10), "abc");
        assert_eq!(truncate("aé", 2), "a");
        assert_eq!(truncate(&"x".repeat(2000), MAX_ERROR_LEN).len(), 1000);
    }
}
