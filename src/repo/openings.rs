//! Rounds being opened: who is invited, written in chunks under a lease, so no transaction holds the write lock for long.

use crate::db::schema::{employees, invitations, round_openings, rounds};
use crate::db::DbConnection;
use chrono::{NaiveDate, NaiveDateTime};
use diesel::prelude::*;

/// Someone a round may invite, as planning the round needs them: who, and
/// in which team. Names and addresses are read a chunk at a time
/// (`invitees`): held for 100,000 people at once they were ~25 MB of the
/// serving process's peak while a round opened.
#[derive(Debug, Clone, Copy, Queryable, Selectable)]
#[diesel(table_name = employees)]
pub struct Member {
    pub id: i32,
    pub team_id: Option<i32>,
}

/// What an invitation's email needs of a person.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = employees)]
pub struct Invitee {
    pub id: i32,
    pub email: String,
    pub name: String,
    pub locale: String,
}

/// Everyone employed on `day`, by id: the people a round may invite.
///
/// Read 10,000 at a time: the PostgreSQL client holds a whole result in
/// memory besides the rows made of it.
pub fn employed_on(conn: &mut DbConnection, day: NaiveDate) -> QueryResult<Vec<Member>> {
    const PAGE: i64 = 10_000;
    let mut all: Vec<Member> = Vec::new();
    loop {
        let after = all.last().map_or(i32::MIN, |e| e.id);
        let page: Vec<Member> = employees::table
            .filter(employees::id.gt(after))
            .filter(employees::hired_on.le(day))
            .filter(employees::left_on.is_null().or(employees::left_on.ge(day)))
            .order(employees::id)
            .limit(PAGE)
            .select(Member::as_select())
            .load(conn)?;
        let full = page.len() as i64 == PAGE;
        all.extend(page);
        if !full {
            return Ok(all);
        }
    }
}

/// The names, addresses and languages of the people `ids` names (one chunk
/// of an opening); someone erased meanwhile is simply not there.
pub fn invitees(conn: &mut DbConnection, ids: &[i32]) -> QueryResult<Vec<Invitee>> {
    employees::table
        .filter(employees::id.eq_any(ids))
        .select(Invitee::as_select())
        .load(conn)
}

#[derive(Debug, Clone, Insertable)]
#[diesel(table_name = invitations, treat_none_as_default_value = false)]
pub struct NewInvitation {
    pub round_id: i32,
    pub employee_id: i32,
    pub team_id: Option<i32>,
    pub token_hash: String,
}

/// Rows per multi-row INSERT: far below either engine's limit on bound values.
const INSERT_ROWS: usize = 1000;

/// Inserts invitations in multi-row statements (on the inner connection:
/// MultiConnection has none) and counts them in the round's `invited`.
pub fn insert_invitations(
    conn: &mut DbConnection,
    round_id: i32,
    new: &[NewInvitation],
) -> QueryResult<()> {
    for chunk in new.chunks(INSERT_ROWS) {
        let insert = diesel::insert_into(invitations::table).values(chunk);
        match conn {
            DbConnection::Postgresql(c) => insert.execute(c)?,
            DbConnection::Sqlite(c) => insert.execute(c)?,
        };
    }
    diesel::update(rounds::table.find(round_id))
        .set(rounds::invited.eq(rounds::invited + new.len() as i32))
        .execute(conn)
        .map(drop)
}

/// The employees a round has invited so far.
pub fn invited(conn: &mut DbConnection, round_id: i32) -> QueryResult<Vec<i32>> {
    invitations::table
        .filter(invitations::round_id.eq(round_id))
        .select(invitations::employee_id)
        .load(conn)
}

/// Records that `round_id` is being opened for `to_invite` people, held by
/// `claim_token` until `locked_until`.
pub fn begin(
    conn: &mut DbConnection,
    round_id: i32,
    to_invite: i32,
    claim_token: &str,
    locked_until: NaiveDateTime,
) -> QueryResult<()> {
    diesel::insert_into(round_openings::table)
        .values((
            round_openings::round_id.eq(round_id),
            round_openings::to_invite.eq(to_invite),
            round_openings::locked_until.eq(locked_until),
            round_openings::claim_token.eq(claim_token),
        ))
        .execute(conn)
        .map(drop)
}

/// Takes or extends the lease on an opening: true when `claim_token` holds
/// it until `locked_until`, false when another process does (or it is done).
pub fn claim(
    conn: &mut DbConnection,
    round_id: i32,
    claim_token: &str,
    now: NaiveDateTime,
    locked_until: NaiveDateTime,
) -> QueryResult<bool> {
    diesel::update(
        round_openings::table.find(round_id).filter(
            round_openings::claim_token
                .eq(claim_token)
                .or(round_openings::locked_until.is_null())
                .or(round_openings::locked_until.lt(now)),
        ),
    )
    .set((
        round_openings::locked_until.eq(locked_until),
        round_openings::claim_token.eq(claim_token),
    ))
    .execute(conn)
    .map(|n| n == 1)
}

/// Lets go of an opening, so any process may carry it on at once.
pub fn release(conn: &mut DbConnection, round_id: i32, claim_token: &str) -> QueryResult<()> {
    diesel::update(
        round_openings::table
            .find(round_id)
            .filter(round_openings::claim_token.eq(claim_token)),
    )
    .set((
        round_openings::locked_until.eq(None::<NaiveDateTime>),
        round_openings::claim_token.eq(None::<String>),
    ))
    .execute(conn)
    .map(drop)
}

/// The opening is over: everyone is invited, or the round closed meanwhile.
pub fn finish(conn: &mut DbConnection, round_id: i32) -> QueryResult<()> {
    diesel::delete(round_openings::table.find(round_id))
        .execute(conn)
        .map(drop)
}

/// Openings no process holds: their holder died or let go.
pub fn stalled(conn: &mut DbConnection, now: NaiveDateTime) -> QueryResult<Vec<i32>> {
    round_openings::table
        .filter(
            round_openings::locked_until
                .is_null()
                .or(round_openings::locked_until.lt(now)),
        )
        .order(round_openings::round_id)
        .select(round_openings::round_id)
        .load(conn)
}

/// Of `round_ids`, those still being opened, with how many they will invite.
pub fn in_progress(
    conn: &mut DbConnection,
    round_ids: &[i32],
) -> QueryResult<std::collections::HashMap<i32, i32>> {
    let rows: Vec<(i32, i32)> = round_openings::table
        .filter(round_openings::round_id.eq_any(round_ids))
        .select((round_openings::round_id, round_openings::to_invite))
        .load(conn)?;
    Ok(rows.into_iter().collect())
}
