//! Failed sign-ins, counted per account and per client address in the database,
//! so the limit holds across every app instance.

use crate::db::schema::login_failures;
use crate::db::DbConnection;
use chrono::{Duration, NaiveDateTime};
use diesel::prelude::*;

pub const WINDOW_MINUTES: i64 = 15;
/// Enough for typos, far too few for guessing.
pub const PER_ACCOUNT: i64 = 5;
/// Higher: an office behind one NAT address shares it.
pub const PER_ADDRESS: i64 = 50;

pub fn account_key(email: &str) -> String {
    format!("account:{}", email.trim().to_lowercase())
}

pub fn address_key(ip: &str) -> String {
    format!("ip:{ip}")
}

/// Seconds until the caller may try again, if any of `limits` is reached.
pub fn retry_after(
    conn: &mut DbConnection,
    limits: &[(&str, i64)],
    now: NaiveDateTime,
) -> QueryResult<Option<u64>> {
    let since = now - Duration::minutes(WINDOW_MINUTES);
    let mut wait = None;
    for &(key, limit) in limits {
        let times: Vec<NaiveDateTime> = login_failures::table
            .filter(login_failures::key.eq(key))
            .filter(login_failures::failed_at.gt(since))
            .order(login_failures::failed_at.desc())
            .select(login_failures::failed_at)
            .limit(limit)
            .load(conn)?;
        if times.len() as i64 >= limit {
            // Free again once the oldest of the last `limit` failures leaves the window.
            let oldest = *times.last().expect("limit > 0");
            let secs = (oldest + Duration::minutes(WINDOW_MINUTES) - now)
                .num_seconds()
                .max(1) as u64;
            wait = Some(wait.map_or(secs, |w: u64| w.max(secs)));
        }
    }
    Ok(wait)
}

pub fn record(conn: &mut DbConnection, keys: &[&str], now: NaiveDateTime) -> QueryResult<()> {
    for key in keys {
        diesel::insert_into(login_failures::table)
            .values((
                login_failures::key.eq(*key),
                login_failures::failed_at.eq(now),
            ))
            .execute(conn)?;
    }
    // Old rows are useless; clearing them here keeps the table small without a job.
    diesel::delete(
        login_failures::table.filter(login_failures::failed_at.lt(now - Duration::hours(1))),
    )
    .execute(conn)?;
    Ok(())
}

pub fn clear(conn: &mut DbConnection, key: &str) -> QueryResult<()> {
    diesel::delete(login_failures::table.filter(login_failures::key.eq(key)))
        .execute(conn)
        .map(drop)
}
