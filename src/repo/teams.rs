//! Teams: stored rows and the tree they form.

use super::lower;
use crate::db::schema::{team_memberships, teams};
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

/// The names of the given teams (None: of every team).
pub fn names(
    conn: &mut DbConnection,
    ids: Option<&[i32]>,
) -> QueryResult<std::collections::BTreeMap<i32, String>> {
    let mut q = teams::table.select((teams::id, teams::name)).into_boxed();
    if let Some(ids) = ids {
        q = q.filter(teams::id.eq_any(ids.to_vec()));
    }
    Ok(q.load::<(i32, String)>(conn)?.into_iter().collect())
}

/// Stores a change. A new parent moves the team's subtree and its people's stays
/// from one set of groups to another, so the turnover facts follow.
pub fn update(conn: &mut DbConnection, id: i32, changes: &TeamChanges) -> QueryResult<()> {
    if changes.name.is_none() && changes.parent_id.is_none() && changes.lead_id.is_none() {
        return Ok(());
    }
    let Some(_) = changes.parent_id else {
        return diesel::update(teams::table.find(id))
            .set(changes)
            .execute(conn)
            .map(drop);
    };
    crate::db::write_transaction(conn, |conn| {
        let subtree: Vec<i32> = crate::domain::teams::with_descendants(&edges(conn)?, [id])
            .into_iter()
            .collect();
        let mut people: Vec<i32> = Vec::new();
        for chunk in subtree.chunks(10_000) {
            people.extend(
                team_memberships::table
                    .filter(team_memberships::team_id.eq_any(chunk.to_vec()))
                    .select(team_memberships::employee_id)
                    .distinct()
                    .load::<i32>(conn)?,
            );
        }
        people.sort_unstable();
        people.dedup();
        let facts = super::turnover::begin(conn, &people)?;
        diesel::update(teams::table.find(id))
            .set(changes)
            .execute(conn)?;
        facts.finish(conn, &[])
    })
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

/// `%…%` for LIKE … ESCAPE '\': the text matched as typed, wildcards included.
fn holding(text: &str) -> String {
    let escaped = text
        .replace('\\', "\\\\")
        .replace('%', "\\%")
        .replace('_', "\\_");
    format!("%{escaped}%")
}

/// Up to `limit` teams whose name holds `needle`, ignoring case: a team of that
/// very name first, then by name. "Sales / Web" asks for a name holding "Web"
/// whose parent's name holds "Sales", which tells namesakes apart. Only among
/// `within` when given. Both sides go through SQL `lower()`, so a name typed as
/// stored always matches, and case is ignored wherever the engine's `lower()`
/// folds it (ASCII on SQLite, every letter on PostgreSQL).
pub fn search(
    conn: &mut DbConnection,
    needle: &str,
    within: Option<&std::collections::BTreeSet<i32>>,
    limit: usize,
) -> QueryResult<Vec<Team>> {
    let mut parts = needle.rsplitn(2, '/').map(str::trim);
    let name = parts.next().unwrap_or_default().to_string();
    let parent = parts.next().filter(|p| !p.is_empty()).map(|p| {
        // Of "A / B / C", the parent's part is "B".
        p.rsplit('/').next().unwrap_or_default().trim().to_string()
    });
    let query = || {
        let mut q = teams::table
            .filter(lower(teams::name).like(lower(holding(&name))).escape('\\'))
            .select(Team::as_select())
            .order((
                lower(teams::name).eq(lower(name.clone())).desc(),
                lower(teams::name),
                teams::id,
            ))
            .limit(i64::try_from(limit).unwrap_or(i64::MAX))
            .into_boxed();
        if let Some(parent) = &parent {
            let parents = diesel::alias!(teams as parents);
            q = q.filter(
                teams::parent_id.eq_any(
                    parents
                        .filter(
                            lower(parents.field(teams::name))
                                .like(lower(holding(parent)))
                                .escape('\\'),
                        )
                        .select(parents.field(teams::id).nullable()),
                ),
            );
        }
        q
    };
    let Some(within) = within else {
        return query().load(conn);
    };
    // In chunks, as bound parameters are limited; each chunk's first matches, merged.
    let ids: Vec<i32> = within.iter().copied().collect();
    let mut found = Vec::new();
    for chunk in ids.chunks(10_000) {
        found.extend(
            query()
                .filter(teams::id.eq_any(chunk.to_vec()))
                .load(conn)?,
        );
    }
    let wanted = name.to_lowercase();
    found.sort_by_key(|t| {
        let lowered = t.name.to_lowercase();
        (lowered != wanted, lowered, t.id)
    });
    found.truncate(limit);
    Ok(found)
}
