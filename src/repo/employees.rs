//! Employees: stored rows, lookups and changes.

use super::lower;
use crate::db::schema::{employees, team_memberships};
use crate::db::DbConnection;
use crate::domain::email::Email;
use chrono::{NaiveDate, NaiveDateTime};
use diesel::prelude::*;
use std::collections::BTreeSet;

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = employees)]
pub struct Employee {
    pub id: i32,
    pub email: String,
    pub name: String,
    pub team_id: Option<i32>,
    pub manager_id: Option<i32>,
    pub role: String,
    pub hired_on: NaiveDate,
    pub left_on: Option<NaiveDate>,
    pub leave_reason: Option<String>,
    pub regretted: bool,
    pub locale: String,
    pub password_hash: Option<String>,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
    /// Session tokens issued before this are refused (set by signing out).
    pub sessions_valid_after: Option<NaiveDateTime>,
}

impl Employee {
    /// Employed on `day`: hired by then and not yet gone (`left_on` is the last day).
    pub fn is_employed_on(&self, day: NaiveDate) -> bool {
        self.hired_on <= day && self.left_on.is_none_or(|l| day <= l)
    }
}

#[derive(Debug, Clone, Insertable)]
#[diesel(table_name = employees, treat_none_as_default_value = false)]
pub struct NewEmployee {
    pub email: String,
    pub name: String,
    pub team_id: Option<i32>,
    pub manager_id: Option<i32>,
    pub role: String,
    pub hired_on: NaiveDate,
    pub left_on: Option<NaiveDate>,
    pub leave_reason: Option<String>,
    pub regretted: bool,
    pub locale: String,
    pub password_hash: Option<String>,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
}

/// `None` leaves a column as it is; `Some(None)` clears it.
#[derive(Debug, Default, Clone, PartialEq, AsChangeset)]
#[diesel(table_name = employees)]
pub struct EmployeeChanges {
    pub email: Option<String>,
    pub name: Option<String>,
    pub team_id: Option<Option<i32>>,
    pub manager_id: Option<Option<i32>>,
    pub role: Option<String>,
    pub hired_on: Option<NaiveDate>,
    pub left_on: Option<Option<NaiveDate>>,
    pub leave_reason: Option<Option<String>>,
    pub regretted: Option<bool>,
    pub locale: Option<String>,
    pub password_hash: Option<Option<String>>,
    pub updated_at: Option<NaiveDateTime>,
}

impl EmployeeChanges {
    /// Whether the change can move a turnover figure: dates, leave or team.
    pub fn touches_turnover(&self) -> bool {
        self.team_id.is_some()
            || self.hired_on.is_some()
            || self.left_on.is_some()
            || self.leave_reason.is_some()
            || self.regretted.is_some()
    }

    pub fn is_empty(&self) -> bool {
        Self {
            updated_at: None,
            ..self.clone()
        } == Self::default()
    }
}

/// Inserts a person with their first team membership; the turnover facts follow.
pub fn insert(conn: &mut DbConnection, new: &NewEmployee) -> QueryResult<i32> {
    crate::db::write_transaction(conn, |conn| {
        let change = super::turnover::begin(conn, &[])?;
        let id = diesel::insert_into(employees::table)
            .values(new)
            .returning(employees::id)
            .get_result(conn)?;
        if let Some(team) = new.team_id {
            start_membership(conn, id, team, new.hired_on)?;
        }
        change.finish(conn, &[id])?;
        Ok(id)
    })
}

/// Inserts many employees with multi-row statements (on the inner
/// connection: MultiConnection has none), each with their first team
/// membership as `insert` gives it; returns their ids in order. The caller
/// keeps the turnover facts (the import begins one change for the whole file).
pub fn insert_many(conn: &mut DbConnection, new: &[NewEmployee]) -> QueryResult<Vec<i32>> {
    const ROWS: usize = 500;
    let mut ids = Vec::with_capacity(new.len());
    for chunk in new.chunks(ROWS) {
        let insert = diesel::insert_into(employees::table)
            .values(chunk)
            .returning((employees::email, employees::id));
        let got: Vec<(String, i32)> = match conn {
            DbConnection::Postgresql(c) => insert.get_results(c)?,
            DbConnection::Sqlite(c) => insert.get_results(c)?,
        };
        // RETURNING promises no order: matched by email, which is unique.
        let by_email: std::collections::HashMap<String, i32> = got.into_iter().collect();
        ids.extend(chunk.iter().map(|e| by_email[&e.email]));
    }
    let memberships: Vec<_> = new
        .iter()
        .zip(&ids)
        .filter_map(|(e, &id)| {
            e.team_id.map(|team| {
                (
                    team_memberships::employee_id.eq(id),
                    team_memberships::team_id.eq(team),
                    team_memberships::started_on.eq(e.hired_on),
                )
            })
        })
        .collect();
    for chunk in memberships.chunks(ROWS) {
        let insert = diesel::insert_into(team_memberships::table).values(chunk);
        match conn {
            DbConnection::Postgresql(c) => insert.execute(c)?,
            DbConnection::Sqlite(c) => insert.execute(c)?,
        };
    }
    Ok(ids)
}

/// Everyone with one of `emails`, by email.
pub fn find_by_emails(
    conn: &mut DbConnection,
    emails: &[&str],
) -> QueryResult<std::collections::HashMap<String, Employee>> {
    let mut found = std::collections::HashMap::new();
    for chunk in emails.chunks(500) {
        let rows: Vec<Employee> = employees::table
            .filter(employees::email.eq_any(chunk))
            .select(Employee::as_select())
            .load(conn)?;
        found.extend(rows.into_iter().map(|e| (e.email.clone(), e)));
    }
    Ok(found)
}

fn start_membership(
    conn: &mut DbConnection,
    employee_id: i32,
    team_id: i32,
    on: NaiveDate,
) -> QueryResult<()> {
    diesel::insert_into(team_memberships::table)
        .values((
            team_memberships::employee_id.eq(employee_id),
            team_memberships::team_id.eq(team_id),
            team_memberships::started_on.eq(on),
        ))
        .execute(conn)
        .map(drop)
}

/// Records a team change as of `today`: the old membership ends yesterday and
/// the new one starts today, so earlier periods keep the old team. A change
/// before the person's first day, or on the day the membership began, is a
/// correction and rewrites that membership instead.
fn move_team(
    conn: &mut DbConnection,
    e: &Employee,
    new_team: Option<i32>,
    today: NaiveDate,
) -> QueryResult<()> {
    let start = today.max(e.hired_on);
    let open = team_memberships::table
        .filter(team_memberships::employee_id.eq(e.id))
        .filter(team_memberships::ended_on.is_null());
    let current: Option<(i32, NaiveDate)> = open
        .select((team_memberships::id, team_memberships::started_on))
        .first(conn)
        .optional()?;
    if let Some((id, started_on)) = current {
        if started_on >= start {
            diesel::delete(team_memberships::table.find(id)).execute(conn)?;
        } else {
            let last_day = start.pred_opt().unwrap_or(start);
            diesel::update(team_memberships::table.find(id))
                .set(team_memberships::ended_on.eq(last_day))
                .execute(conn)?;
        }
    }
    match new_team {
        Some(t) => start_membership(conn, e.id, t, start),
        None => Ok(()),
    }
}

pub fn find(conn: &mut DbConnection, id: i32) -> QueryResult<Option<Employee>> {
    employees::table
        .find(id)
        .select(Employee::as_select())
        .first(conn)
        .optional()
}

pub fn find_by_email(conn: &mut DbConnection, email: &str) -> QueryResult<Option<Employee>> {
    employees::table
        .filter(employees::email.eq(email))
        .select(Employee::as_select())
        .first(conn)
        .optional()
}

/// Stores a change. A new password, email or role also ends every session
/// the person has, whichever path made the change (API, pages, import, CLI).
/// A change to their dates, leave or team changes the turnover facts with it.
pub fn update(conn: &mut DbConnection, id: i32, changes: &EmployeeChanges) -> QueryResult<()> {
    if !changes.touches_turnover() {
        return update_untracked(conn, id, changes);
    }
    crate::db::write_transaction(conn, |conn| {
        let change = super::turnover::begin(conn, &[id])?;
        update_untracked(conn, id, changes)?;
        change.finish(conn, &[])
    })
}

/// As `update`, for a caller that keeps the turnover facts itself (the import,
/// which begins one change for the whole file).
pub fn update_untracked(
    conn: &mut DbConnection,
    id: i32,
    changes: &EmployeeChanges,
) -> QueryResult<()> {
    if changes.is_empty() {
        return Ok(());
    }
    let Some(e) = find(conn, id)? else {
        return Ok(());
    };
    if let Some(team) = changes.team_id.filter(|t| *t != e.team_id) {
        move_team(conn, &e, team, chrono::Utc::now().date_naive())?;
    }
    diesel::update(employees::table.find(id))
        .set(changes)
        .execute(conn)?;
    if ends_sessions(&e, changes) {
        end_sessions(conn, id, sessions_cutoff())?;
    }
    Ok(())
}

/// Whether a change is one after which tokens issued before it must stop
/// working: the credentials or the powers behind them changed.
pub fn ends_sessions(e: &Employee, c: &EmployeeChanges) -> bool {
    c.password_hash
        .as_ref()
        .is_some_and(|h| *h != e.password_hash)
        || c.email.as_ref().is_some_and(|m| *m != e.email)
        || c.role.as_ref().is_some_and(|r| *r != e.role)
}

/// The instant from which sessions stay valid when they are ended now.
/// Tokens carry whole seconds: one issued earlier in this same second
/// survives, so that signing straight back in is never refused.
pub fn sessions_cutoff() -> NaiveDateTime {
    chrono::SubsecRound::trunc_subsecs(chrono::Utc::now().naive_utc(), 0)
}

/// Admins who have not left.
pub fn active_admin_count(conn: &mut DbConnection) -> QueryResult<i64> {
    employees::table
        .filter(employees::role.eq("admin"))
        .filter(employees::left_on.is_null())
        .count()
        .get_result(conn)
}

/// HR must never lock itself out: whether the changes just written, in the
/// transaction still open, took Pulse from `admins_before` active admins to
/// none. The API and the CSV import both ask this before they commit.
pub fn lost_last_admin(conn: &mut DbConnection, admins_before: i64) -> QueryResult<bool> {
    Ok(admins_before > 0 && active_admin_count(conn)? == 0)
}

/// The message when a change would leave Pulse without an admin.
pub const LAST_ADMIN: &str = "this would remove the last admin: make someone else an admin first";

/// Everyone employed on `day`, in id order.
pub fn employed_on(conn: &mut DbConnection, day: NaiveDate) -> QueryResult<Vec<Employee>> {
    employees::table
        .filter(employees::hired_on.le(day))
        .filter(employees::left_on.is_null().or(employees::left_on.ge(day)))
        .order(employees::id)
        .select(Employee::as_select())
        .load(conn)
}

/// Every employee's manager, for walking the management chain in memory.
pub fn managers(
    conn: &mut DbConnection,
) -> QueryResult<std::collections::HashMap<i32, Option<i32>>> {
    let rows: Vec<(i32, Option<i32>)> = employees::table
        .select((employees::id, employees::manager_id))
        .load(conn)?;
    Ok(rows.into_iter().collect())
}

/// The people who report to `manager_id` and are employed on `day`, by name.
pub fn reports_of(
    conn: &mut DbConnection,
    manager_id: i32,
    day: NaiveDate,
) -> QueryResult<Vec<Employee>> {
    employees::table
        .filter(employees::manager_id.eq(manager_id))
        .filter(employees::hired_on.le(day))
        .filter(employees::left_on.is_null().or(employees::left_on.ge(day)))
        .order(employees::name)
        .select(Employee::as_select())
        .load(conn)
}

/// Ends every session the person has: tokens issued until now stop working.
pub fn end_sessions(conn: &mut DbConnection, id: i32, now: NaiveDateTime) -> QueryResult<()> {
    diesel::update(employees::table.find(id))
        .set(employees::sessions_valid_after.eq(now))
        .execute(conn)
        .map(drop)
}

pub fn admin_exists(conn: &mut DbConnection) -> QueryResult<bool> {
    diesel::select(diesel::dsl::exists(
        employees::table.filter(employees::role.eq("admin")),
    ))
    .get_result(conn)
}

/// Which employees a list shows.
pub enum Filter<'a> {
    All,
    InTeams(&'a BTreeSet<i32>),
    Only(i32),
}

pub struct ListQuery<'a> {
    pub filter: Filter<'a>,
    pub team_id: Option<i32>,
    /// Case-insensitive match on name or email.
    pub search: Option<&'a str>,
    pub offset: i64,
    pub limit: i64,
}

/// One page of employees, ordered by name, and how many match in all.
pub fn list(conn: &mut DbConnection, q: &ListQuery) -> QueryResult<(Vec<Employee>, i64)> {
    let build = || {
        let mut query = employees::table.into_boxed();
        query = match q.filter {
            Filter::All => query,
            Filter::InTeams(ids) => {
                query.filter(employees::team_id.eq_any(ids.iter().copied().collect::<Vec<_>>()))
            }
            Filter::Only(id) => query.filter(employees::id.eq(id)),
        };
        if let Some(t) = q.team_id {
            query = query.filter(employees::team_id.eq(t));
        }
        if let Some(s) = q.search.filter(|s| !s.trim().is_empty()) {
            // Emails are stored lower-cased; names are matched through lower().
            let pattern = format!("%{}%", s.trim().to_lowercase().replace(['%', '_'], ""));
            query = query.filter(
                employees::email
                    .like(pattern.clone())
                    .or(lower(employees::name).like(pattern)),
            );
        }
        query
    };
    let total = build().count().get_result(conn)?;
    let rows = build()
        .select(Employee::as_select())
        .order((employees::name, employees::id))
        .offset(q.offset)
        .limit(q.limit)
        .load(conn)?;
    Ok((rows, total))
}

/// Creates an admin, or makes an existing employee with that email one.
pub fn make_admin(
    conn: &mut DbConnection,
    email: &Email,
    name: &str,
    hash: &str,
) -> QueryResult<i32> {
    let now = crate::repo::now();
    if let Some(e) = find_by_email(conn, email.as_str())? {
        let changes = EmployeeChanges {
            name: Some(name.to_string()),
            role: Some(crate::domain::people::Role::Admin.as_str().into()),
            password_hash: Some(Some(hash.to_string())),
            updated_at: Some(now),
            ..Default::default()
        };
        update(conn, e.id, &changes)?;
        return Ok(e.id);
    }
    let new = NewEmployee {
        email: email.to_string(),
        name: name.to_string(),
        team_id: None,
        manager_id: None,
        role: crate::domain::people::Role::Admin.as_str().into(),
        hired_on: now.date(),
        left_on: None,
        leave_reason: None,
        regretted: false,
        locale: "en".into(),
        password_hash: Some(hash.to_string()),
        created_at: now,
        updated_at: now,
    };
    insert(conn, &new)
}
