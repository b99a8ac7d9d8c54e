//! Action plans as stored: one row per action, with its team (NULL: company-wide).

use crate::db::schema::action_plans;
use crate::db::DbConnection;
use chrono::{NaiveDate, NaiveDateTime};
use diesel::prelude::*;

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = action_plans)]
pub struct ActionPlan {
    pub id: i32,
    pub team_id: Option<i32>,
    pub round_id: Option<i32>,
    pub driver: Option<String>,
    pub text: String,
    pub owner_id: i32,
    pub due_on: NaiveDate,
    pub status: String,
    pub done_at: Option<NaiveDateTime>,
    pub created_by: Option<i32>,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
}

#[derive(Debug, Insertable)]
#[diesel(table_name = action_plans)]
pub struct NewActionPlan<'a> {
    pub team_id: Option<i32>,
    pub round_id: Option<i32>,
    pub driver: Option<&'a str>,
    pub text: &'a str,
    pub owner_id: i32,
    pub due_on: NaiveDate,
    pub status: &'a str,
    pub created_by: Option<i32>,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
}

pub fn insert(conn: &mut DbConnection, new: &NewActionPlan) -> QueryResult<i32> {
    diesel::insert_into(action_plans::table)
        .values(new)
        .returning(action_plans::id)
        .get_result(conn)
}

pub fn find(conn: &mut DbConnection, id: i32) -> QueryResult<Option<ActionPlan>> {
    action_plans::table
        .find(id)
        .select(ActionPlan::as_select())
        .first(conn)
        .optional()
}

/// Every action, open ones first, then by due day: callers keep those in scope.
pub fn all(conn: &mut DbConnection) -> QueryResult<Vec<ActionPlan>> {
    action_plans::table
        .select(ActionPlan::as_select())
        .order((
            action_plans::status.desc(),
            action_plans::due_on,
            action_plans::id,
        ))
        .load(conn)
}

/// Actions marked done from `since` on.
pub fn done_since(conn: &mut DbConnection, since: NaiveDateTime) -> QueryResult<Vec<ActionPlan>> {
    action_plans::table
        .filter(action_plans::status.eq("done"))
        .filter(action_plans::done_at.ge(since))
        .select(ActionPlan::as_select())
        .order(action_plans::id)
        .load(conn)
}

/// Open actions whose due day lies in `from..=to`, for `action.due`.
pub fn open_due_between(
    conn: &mut DbConnection,
    from: NaiveDate,
    to: NaiveDate,
) -> QueryResult<Vec<ActionPlan>> {
    action_plans::table
        .filter(action_plans::status.eq("open"))
        .filter(action_plans::due_on.ge(from))
        .filter(action_plans::due_on.le(to))
        .select(ActionPlan::as_select())
        .order(action_plans::id)
        .load(conn)
}

pub fn set_status(
    conn: &mut DbConnection,
    id: i32,
    status: &str,
    done_at: Option<NaiveDateTime>,
    now: NaiveDateTime,
) -> QueryResult<usize> {
    diesel::update(action_plans::table.find(id))
        .set((
            action_plans::status.eq(status),
            action_plans::done_at.eq(done_at),
            action_plans::updated_at.eq(now),
        ))
        .execute(conn)
}

/// The round of the same survey sent last before `round_id`, if any: when it was sent.
pub fn previous_round_at(
    conn: &mut DbConnection,
    survey_id: i32,
    before: NaiveDateTime,
) -> QueryResult<Option<NaiveDateTime>> {
    use crate::db::schema::rounds;
    rounds::table
        .filter(rounds::survey_id.eq(survey_id))
        .filter(rounds::scheduled_for.lt(before))
        .filter(rounds::status.ne("skipped"))
        .select(rounds::opens_at)
        .order(rounds::scheduled_for.desc())
        .first(conn)
        .optional()
}
