//! Turnover views: the people and team stays every turnover figure is counted from.

use super::{check_access, Listing};
use crate::auth::{Caller, Scope};
use crate::db::DbConnection;
use crate::domain::disclosure::Tree;
use crate::domain::report::{group_stints, team_stints, Membership, PersonDates};
use crate::domain::teams::with_descendants;
use crate::domain::turnover::{self, Grouping, PeriodFigures};
use crate::error::{AppError, AppResult};
use crate::repo;
use crate::state::AppState;
use chrono::NaiveDate;
use std::collections::{BTreeMap, BTreeSet};

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
    with_data(state, caller, team_id, listing, Ok).await
}

/// Loads the data and computes a view of it on the blocking pool.
pub async fn with_data<T: Send + 'static>(
    state: &AppState,
    caller: Caller,
    team_id: Option<i32>,
    listing: Listing,
    view: impl FnOnce(PeopleData) -> AppResult<T> + Send + 'static,
) -> AppResult<T> {
    super::run(state, move |conn| {
        let scope = Scope::of(conn, &caller)?;
        view(load(conn, &scope, team_id, listing)?)
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
    let team = match team_id {
        Some(t) => Some(repo::teams::find(conn, t)?.ok_or_else(|| AppError::not_found("team"))?),
        None => None,
    };
    // One group reads only what its figures count from: the company, everyone's
    // dates and no stays; a team, the stays in its subtree and those people's dates.
    match (listing, team) {
        (Listing::Group, None) => Ok(PeopleData {
            people: repo::reports::people(conn)?,
            memberships: vec![],
            edges: vec![],
            names: BTreeMap::new(),
        }),
        (Listing::Group, Some(team)) => {
            let edges = repo::teams::edges(conn)?;
            let subtree: Vec<i32> = with_descendants(&edges, [team.id]).into_iter().collect();
            let memberships = repo::reports::memberships_in(conn, &subtree)?;
            let ids: BTreeSet<i32> = memberships.iter().map(|m| m.0).collect();
            Ok(PeopleData {
                people: repo::reports::people_among(conn, &ids.into_iter().collect::<Vec<_>>())?,
                memberships,
                edges,
                names: BTreeMap::from([(team.id, team.name)]),
            })
        }
        _ => {
            let teams = repo::teams::all(conn)?;
            Ok(PeopleData {
                people: repo::reports::people(conn)?,
                memberships: repo::reports::memberships(conn)?,
                edges: teams.iter().map(|t| (t.id, t.parent_id)).collect(),
                names: teams.into_iter().map(|t| (t.id, t.name)).collect(),
            })
        }
    }
}

impl PeopleData {
    /// Each given team's turnover rate over [from, to] as one year-grouped figure, all
    /// teams in one pass over the memberships (each stay counted for its team and the
    /// teams above it) rather than one pass per team.
    pub fn yearly_rates(
        &self,
        teams: &[i32],
        from: NaiveDate,
        to: NaiveDate,
    ) -> BTreeMap<i32, Option<f64>> {
        let wanted: BTreeSet<i32> = teams.iter().copied().collect();
        let tree = Tree::new(&self.edges);
        let mut stints = group_stints(&self.people, &self.memberships, |team| {
            tree.ancestry(team)
                .into_iter()
                .filter(|g| wanted.contains(g))
                .collect()
        });
        teams
            .iter()
            .map(|&t| {
                let s = stints.remove(&t).unwrap_or_default();
                (
                    t,
                    turnover::figures(&s, from, to, Grouping::Year).turnover_rate,
                )
            })
            .collect()
    }

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
