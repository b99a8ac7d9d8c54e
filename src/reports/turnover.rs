//! Turnover views: the people and team stays every turnover figure is counted from.

use super::{check_access, Listing};
use crate::auth::{Caller, Scope};
use crate::db::DbConnection;
use crate::domain::report::{team_stints, Membership, PersonDates};
use crate::domain::teams::with_descendants;
use crate::domain::turnover::{self, Grouping, PeriodFigures};
use crate::error::{AppError, AppResult};
use crate::repo;
use crate::state::AppState;
use chrono::NaiveDate;
use std::collections::BTreeMap;

/// The stints of every group a report may ask for: the company and each team subtree.
pub struct PeopleData {
    people: Vec<PersonDates>,
    memberships: Vec<Membership>,
    edges: Vec<(i32, Option<i32>)>,
    pub names: BTreeMap<i32, String>,
}

pub async fn data(
    state: &AppState,
    caller: Caller,
    team_id: Option<i32>,
    listing: Listing,
) -> AppResult<PeopleData> {
    state
        .db(move |conn| {
            let scope = Scope::of(conn, &caller)?;
            load(conn, &scope, team_id, listing)
        })
        .await
}

pub fn load(
    conn: &mut DbConnection,
    scope: &Scope,
    team_id: Option<i32>,
    listing: Listing,
) -> AppResult<PeopleData> {
    check_access(scope, team_id, listing)?;
    if let Some(t) = team_id {
        repo::teams::find(conn, t)?.ok_or_else(|| AppError::not_found("team"))?;
    }
    let teams = repo::teams::all(conn)?;
    Ok(PeopleData {
        people: repo::reports::people(conn)?,
        memberships: repo::reports::memberships(conn)?,
        edges: teams.iter().map(|t| (t.id, t.parent_id)).collect(),
        names: teams.into_iter().map(|t| (t.id, t.name)).collect(),
    })
}

impl PeopleData {
    pub fn stints(&self, team_id: Option<i32>) -> Vec<turnover::Stint> {
        let teams = team_id.map(|t| with_descendants(&self.edges, [t]));
        team_stints(&self.people, &self.memberships, teams.as_ref())
    }
}

pub fn periods(
    d: &PeopleData,
    team_id: Option<i32>,
    from: NaiveDate,
    to: NaiveDate,
    g: Grouping,
) -> Vec<PeriodFigures> {
    let stints = d.stints(team_id);
    turnover::periods(from, to, g)
        .into_iter()
        .map(|(s, e)| turnover::figures(&stints, s, e, g))
        .collect()
}
