//! The weekly manager digest in storage: who turned it off, which week each lead was sent, and what it reads.

use crate::db::schema::{
    digest_preferences as prefs, digest_sends as sends, employees, erasures, meetings, one_on_ones,
    rounds, teams,
};
use crate::db::DbConnection;
use crate::repo::one_on_ones::{Meeting, CANCELLED};
use crate::repo::rounds::Round;
use chrono::{NaiveDate, NaiveDateTime};
use diesel::prelude::*;

/// Whether `employee_id` gets the digest: on unless they turned it off.
pub fn enabled(conn: &mut DbConnection, employee_id: i32) -> QueryResult<bool> {
    let row: Option<bool> = prefs::table
        .find(employee_id)
        .select(prefs::enabled)
        .first(conn)
        .optional()?;
    Ok(row.unwrap_or(true))
}

/// Turns the digest on or off for `employee_id` (an upsert on the inner
/// connection: MultiConnection has no on_conflict).
pub fn set_enabled(conn: &mut DbConnection, employee_id: i32, on: bool) -> QueryResult<()> {
    let upsert = diesel::insert_into(prefs::table)
        .values((prefs::employee_id.eq(employee_id), prefs::enabled.eq(on)))
        .on_conflict(prefs::employee_id)
        .do_update()
        .set(prefs::enabled.eq(on));
    crate::db::on_engine!(conn, c => upsert.execute(c)).map(drop)
}

/// Everyone who leads a team, is employed on `day`, not erased, and has the digest on.
pub fn recipients(conn: &mut DbConnection, day: NaiveDate) -> QueryResult<Vec<i32>> {
    let leads: Vec<Option<i32>> = teams::table
        .filter(teams::lead_id.is_not_null())
        .select(teams::lead_id)
        .load(conn)?;
    let leads: Vec<i32> = leads.into_iter().flatten().collect();
    let mut ids: Vec<i32> = employees::table
        .filter(employees::id.eq_any(&leads))
        .filter(employees::hired_on.le(day))
        .filter(employees::left_on.is_null().or(employees::left_on.ge(day)))
        .filter(diesel::dsl::not(diesel::dsl::exists(
            erasures::table.filter(erasures::employee_id.eq(employees::id)),
        )))
        .filter(diesel::dsl::not(diesel::dsl::exists(
            prefs::table
                .filter(prefs::employee_id.eq(employees::id))
                .filter(prefs::enabled.eq(false)),
        )))
        .select(employees::id)
        .load(conn)?;
    ids.sort_unstable();
    ids.dedup();
    Ok(ids)
}

/// Records the week's digest of `employee_id`: false when it was already
/// sent (another pass or instance). ON CONFLICT DO NOTHING, since a failed
/// insert would abort a PostgreSQL transaction.
pub fn record_send(
    conn: &mut DbConnection,
    employee_id: i32,
    week_start: NaiveDate,
    unsubscribe_hash: &str,
) -> QueryResult<bool> {
    let insert = diesel::insert_into(sends::table)
        .values((
            sends::employee_id.eq(employee_id),
            sends::week_start.eq(week_start),
            sends::unsubscribe_hash.eq(unsubscribe_hash),
        ))
        .on_conflict_do_nothing();
    Ok(crate::db::on_engine!(conn, c => insert.execute(c))? == 1)
}

/// The lead an unsubscribe link was sent to.
pub fn by_unsubscribe_hash(conn: &mut DbConnection, hash: &str) -> QueryResult<Option<i32>> {
    sends::table
        .filter(sends::unsubscribe_hash.eq(hash))
        .select(sends::employee_id)
        .first(conn)
        .optional()
}

/// Rounds that closed within `from..to`, oldest first.
pub fn closed_between(
    conn: &mut DbConnection,
    from: NaiveDateTime,
    to: NaiveDateTime,
) -> QueryResult<Vec<Round>> {
    rounds::table
        .filter(rounds::status.eq("closed"))
        .filter(rounds::closes_at.ge(from))
        .filter(rounds::closes_at.lt(to))
        .order((rounds::closes_at, rounds::id))
        .select(Round::as_select())
        .load(conn)
}

/// Rounds open now, closing soonest first.
pub fn open_rounds(conn: &mut DbConnection) -> QueryResult<Vec<Round>> {
    rounds::table
        .filter(rounds::status.eq("open"))
        .order((rounds::closes_at, rounds::id))
        .select(Round::as_select())
        .load(conn)
}

/// Meetings of `employee_id`'s 1:1 series starting within `from..to`, not
/// cancelled, soonest first, each with the other person's id and the series' zone.
pub fn meetings_between(
    conn: &mut DbConnection,
    employee_id: i32,
    from: NaiveDateTime,
    to: NaiveDateTime,
) -> QueryResult<Vec<(Meeting, i32, i32, String)>> {
    meetings::table
        .inner_join(one_on_ones::table.on(one_on_ones::id.eq(meetings::series_id)))
        .filter(
            one_on_ones::manager_id
                .eq(employee_id)
                .or(one_on_ones::report_id.eq(employee_id)),
        )
        .filter(meetings::starts_at.ge(from))
        .filter(meetings::starts_at.lt(to))
        .filter(meetings::status.ne(CANCELLED))
        .order((meetings::starts_at, meetings::id))
        .select((
            Meeting::as_select(),
            one_on_ones::manager_id,
            one_on_ones::report_id,
            one_on_ones::timezone,
        ))
        .load(conn)
}

/// Whether the week's digest of `employee_id` was written.
pub fn already_sent(
    conn: &mut DbConnection,
    employee_id: i32,
    week_start: NaiveDate,
) -> QueryResult<bool> {
    sends::table
        .find((employee_id, week_start))
        .count()
        .get_result::<i64>(conn)
        .map(|n| n > 0)
}
