//! The retention policy as stored, and applying it: answers of long-closed rounds and old sent emails deleted.

use crate::db::schema::{answers, answers_removed, outbox, responses, rounds};
use crate::db::DbConnection;
use crate::domain::retention::Policy;
use chrono::NaiveDateTime;
use diesel::prelude::*;

const KEY: &str = "retention_policy";

pub fn policy(conn: &mut DbConnection) -> QueryResult<Policy> {
    Ok(crate::repo::settings::get(conn, KEY)?
        .and_then(|v| serde_json::from_str(&v).ok())
        .unwrap_or_default())
}

pub fn set_policy(conn: &mut DbConnection, p: &Policy) -> QueryResult<()> {
    let json = serde_json::to_string(p).expect("a policy serialises");
    crate::repo::settings::put(conn, KEY, &json)
}

/// When a round's answers were deleted under the policy, if they were.
pub fn answers_removed_at(
    conn: &mut DbConnection,
    round_id: i32,
) -> QueryResult<Option<NaiveDateTime>> {
    answers_removed::table
        .find(round_id)
        .select(answers_removed::removed_at)
        .first(conn)
        .optional()
}

/// Closed rounds that closed before `before` and still hold their answers.
pub fn rounds_to_clear(conn: &mut DbConnection, before: NaiveDateTime) -> QueryResult<Vec<i32>> {
    rounds::table
        .filter(rounds::status.eq("closed"))
        .filter(rounds::closes_at.lt(before))
        .filter(diesel::dsl::not(diesel::dsl::exists(
            answers_removed::table.filter(answers_removed::round_id.eq(rounds::id)),
        )))
        .order(rounds::id)
        .select(rounds::id)
        .load(conn)
}

/// Deletes one round's answers and responses and records it, in the
/// caller's transaction; returns how many answers went. The round's counters
/// and stored cells are untouched, so no figure changes.
pub fn clear_round(
    conn: &mut DbConnection,
    round_id: i32,
    now: NaiveDateTime,
) -> QueryResult<usize> {
    let of_round = responses::table
        .filter(responses::round_id.eq(round_id))
        .select(responses::id);
    let gone = diesel::delete(answers::table.filter(answers::response_id.eq_any(of_round)))
        .execute(conn)?;
    diesel::delete(responses::table.filter(responses::round_id.eq(round_id))).execute(conn)?;
    crate::repo::conversations::clear_round(conn, round_id)?;
    diesel::insert_into(answers_removed::table)
        .values((
            answers_removed::round_id.eq(round_id),
            answers_removed::removed_at.eq(now),
        ))
        .execute(conn)?;
    Ok(gone)
}

/// Deletes sent and failed emails made before `before`; pending ones stay.
pub fn clear_emails(conn: &mut DbConnection, before: NaiveDateTime) -> QueryResult<usize> {
    diesel::delete(
        outbox::table
            .filter(outbox::status.ne(crate::repo::outbox::PENDING))
            .filter(outbox::created_at.lt(before)),
    )
    .execute(conn)
}
