//! Teams: stored rows and the tree they form.

use crate::db::schema::teams;
use crate::db::DbConnection;
use chrono::NaiveDateTime;
use diesel::prelude::*;
use serde::Serialize;

#[derive(Debug, Clone, Queryable, Selectable, Serialize, utoipa::ToSchema)]
#[diesel(table_name = teams)]
pub struct Team {
    pub id: i32,
    pub name: String,
    pub parent_id: Option<i32>,
    pub lead_id: Option<i32>,
    #[serde(skip)]
    pub created_at: NaiveDateTime,
}

#[derive(Insertable)]
#[diesel(table_name = teams)]
pub struct NewTeam<'a> {
    pub name: &'a str,
    pub parent_id: Option<i32>,
    pub lead_id: Option<i32>,
    pub created_at: NaiveDateTime,
}

/// `None` leaves a column as it is; `Some(None)` clears it.
#[derive(Default, AsChangeset)]
#[diesel(table_name = teams)]
pub struct TeamChanges {
    pub name: Option<String>,
    pub parent_id: Option<Option<i32>>,
    pub lead_id: Option<Option<i32>>,
}

pub fn insert(conn: &mut DbConnection, new: &NewTeam) -> QueryResult<i32> {
    diesel::insert_into(teams::table)
        .values(new)
        .returning(teams::id)
        .get_result(conn)
}

pub fn find(conn: &mut DbConnection, id: i32) -> QueryResult<Option<Team>> {
    teams::table
        .find(id)
        .select(Team::as_select())
        .first(conn)
        .optional()
}

pub fn all(conn: &mut DbConnection) -> QueryResult<Vec<Team>> {
    teams::table
        .select(Team::as_select())
        .order(teams::id)
        .load(conn)
}

pub fn edges(conn: &mut DbConnection) -> QueryResult<Vec<(i32, Option<i32>)>> {
    teams::table
        .select((teams::id, teams::parent_id))
        .load(conn)
}

pub fn update(conn: &mut DbConnection, id: i32, changes: &TeamChanges) -> QueryResult<()> {
    if changes.name.is_none() && changes.parent_id.is_none() && changes.lead_id.is_none() {
        return Ok(());
    }
    diesel::update(teams::table.find(id))
        .set(changes)
        .execute(conn)
        .map(drop)
}

/// A sibling with the same name, which would make team paths ambiguous.
pub fn find_by_name(
    conn: &mut DbConnection,
    name: &str,
    parent_id: Option<i32>,
) -> QueryResult<Option<Team>> {
    let q = teams::table
        .filter(teams::name.eq(name))
        .select(Team::as_select());
    match parent_id {
        Some(p) => q.filter(teams::parent_id.eq(p)).first(conn).optional(),
        None => q.filter(teams::parent_id.is_null()).first(conn).optional(),
    }
}

/// Teams whose lead is this employee.
pub fn led_by(conn: &mut DbConnection, employee_id: i32) -> QueryResult<Vec<i32>> {
    teams::table
        .filter(teams::lead_id.eq(employee_id))
        .select(teams::id)
        .load(conn)
}
