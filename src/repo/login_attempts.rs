//! Sign-in attempts, counted per account and per client address in the database
//! before the password is checked, so the limit holds across concurrent
//! requests and every app instance.

use crate::db::schema::login_attempts;
use crate::db::DbConnection;
use chrono::{Duration, NaiveDateTime};
use diesel::prelude::*;
use diesel::sql_types::{Integer, Text, Timestamp};

pub const WINDOW_MINUTES: i64 = 15;
/// Enough for typos, far too few for guessing.
pub const PER_ACCOUNT: i32 = 5;
/// Higher: an office behind one NAT address shares it.
pub const PER_ADDRESS: i32 = 50;

pub fn account_key(email: &str) -> String {
    format!("account:{}", email.trim().to_lowercase())
}

pub fn address_key(ip: &str) -> String {
    format!("ip:{ip}")
}

/// Counts one attempt under `key` unless `limit` attempts were already
/// counted in the current window; returns whether it was counted.
///
/// One statement, `INSERT … ON CONFLICT (key) DO UPDATE … WHERE attempts <
/// limit`, so the check and the count cannot be separated: PostgreSQL locks
/// the row and re-evaluates the condition on its latest version, and SQLite
/// runs one writer at a time. Twenty concurrent attempts therefore count
/// exactly `limit` and refuse the rest. A window older than
/// `WINDOW_MINUTES` starts afresh at `now`.
pub fn try_count(
    conn: &mut DbConnection,
    key: &str,
    limit: i32,
    now: NaiveDateTime,
) -> QueryResult<bool> {
    let since = now - Duration::minutes(WINDOW_MINUTES);
    // Numbered parameters, reused: `$n` on PostgreSQL, `?n` on SQLite.
    let sql = |p: char| {
        format!(
            "INSERT INTO login_attempts (key, window_started_at, attempts) VALUES ({p}1, {p}2, 1) \
             ON CONFLICT (key) DO UPDATE SET \
               attempts = CASE WHEN login_attempts.window_started_at <= {p}3 THEN 1 \
                               ELSE login_attempts.attempts + 1 END, \
               window_started_at = CASE WHEN login_attempts.window_started_at <= {p}3 THEN {p}2 \
                                        ELSE login_attempts.window_started_at END \
             WHERE login_attempts.window_started_at <= {p}3 OR login_attempts.attempts < {p}4"
        )
    };
    let counted = match conn {
        DbConnection::Postgresql(c) => diesel::sql_query(sql('$'))
            .bind::<Text, _>(key)
            .bind::<Timestamp, _>(now)
            .bind::<Timestamp, _>(since)
            .bind::<Integer, _>(limit)
            .execute(c)?,
        DbConnection::Sqlite(c) => diesel::sql_query(sql('?'))
            .bind::<Text, _>(key)
            .bind::<Timestamp, _>(now)
            .bind::<Timestamp, _>(since)
            .bind::<Integer, _>(limit)
            .execute(c)?,
    };
    Ok(counted == 1)
}

/// Seconds until `key`'s window ends and attempts are counted again (at least 1).
pub fn retry_after(conn: &mut DbConnection, key: &str, now: NaiveDateTime) -> QueryResult<u64> {
    let started: Option<NaiveDateTime> = login_attempts::table
        .find(key)
        .select(login_attempts::window_started_at)
        .first(conn)
        .optional()?;
    let secs = started.map_or(1, |s| {
        (s + Duration::minutes(WINDOW_MINUTES) - now).num_seconds()
    });
    Ok(secs.max(1) as u64)
}

/// Drops windows long over, which count nothing any more; done on the way,
/// so the table stays small without a job.
pub fn forget_old(conn: &mut DbConnection, now: NaiveDateTime) -> QueryResult<()> {
    diesel::delete(
        login_attempts::table
            .filter(login_attempts::window_started_at.lt(now - Duration::hours(1))),
    )
    .execute(conn)
    .map(drop)
}

/// A successful sign-in: the account starts afresh.
pub fn clear(conn: &mut DbConnection, key: &str) -> QueryResult<()> {
    diesel::delete(login_attempts::table.find(key))
        .execute(conn)
        .map(drop)
}

/// A successful sign-in gives its counted attempt back to its address, so
/// only failures use up an address's allowance.
pub fn give_back(conn: &mut DbConnection, key: &str) -> QueryResult<()> {
    diesel::update(
        login_attempts::table
            .find(key)
            .filter(login_attempts::attempts.gt(0)),
    )
    .set(login_attempts::attempts.eq(login_attempts::attempts - 1))
    .execute(conn)
    .map(drop)
}
