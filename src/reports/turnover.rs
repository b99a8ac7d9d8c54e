//! Turnover views: every figure read from the turnover facts stored per group and day
//! (`repo::turnover`), and, for the tests and `pulse bench`, the same figures counted
//! from the people and team stays directly.

use super::{check_access, Listing};
use crate::auth::{Caller, Scope};
use crate::db::DbConnection;
use crate::domain::disclosure::Tree;
use crate::domain::report::{group_stints, team_stints, Membership, PersonDates};
use crate::domain::teams::with_descendants;
use crate::domain::turnover::{self, Grouping, PeriodFigures};
use crate::domain::turnover_facts::Ledger;
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

/// Loads one group's stored facts for [from, to] and computes a view of them on the
/// blocking pool.
pub async fn with_facts<T: Send + 'static>(
    state: &AppState,
    caller: Caller,
    team_id: Option<i32>,
    (from, to): (NaiveDate, NaiveDate),
    view: impl FnOnce(GroupFacts) -> AppResult<T> + Send + 'static,
) -> AppResult<T> {
    super::run(state, move |conn| {
        let scope = Scope::of(conn, &caller)?;
        view(load_facts(conn, &scope, team_id, from, to)?)
    })
    .await
}

/// One group's turnover as stored: its ledger from the start of the year holding
/// `from` (every period of every grouping that covers [from, to] starts there or
/// later) to the end of the year holding `to`.
pub struct GroupFacts {
    pub ledger: Ledger,
    pub names: BTreeMap<i32, String>,
}

pub fn load_facts(
    conn: &mut DbConnection,
    scope: &Scope,
    team_id: Option<i32>,
    from: NaiveDate,
    to: NaiveDate,
) -> AppResult<GroupFacts> {
    check_access(scope, team_id, Listing::Group)?;
    let team = match team_id {
        Some(t) => Some(repo::teams::find(conn, t)?.ok_or_else(|| AppError::not_found("team"))?),
        None => None,
    };
    let (first, last) = year_bounds(from, to);
    Ok(GroupFacts {
        ledger: repo::turnover::ledger(conn, team_id, first, last)?,
        names: team
            .map(|t| BTreeMap::from([(t.id, t.name)]))
            .unwrap_or_default(),
    })
}

/// The first day of the year holding `from` and the last of the year holding `to`.
fn year_bounds(from: NaiveDate, to: NaiveDate) -> (NaiveDate, NaiveDate) {
    let years = turnover::periods(from, from.max(to), Grouping::Year);
    match (years.first(), years.last()) {
        (Some(a), Some(b)) => (a.0, b.1),
        _ => (from, to),
    }
}

/// The periods of [from, to] from stored facts: the same figures as `periods`.
pub fn stored_periods(
    d: &GroupFacts,
    from: NaiveDate,
    to: NaiveDate,
    g: Grouping,
) -> Vec<PeriodFigures> {
    turnover::periods(from, to, g)
        .into_iter()
        .map(|(s, e)| turnover::figures(&d.ledger, s, e, g))
        .collect()
}

/// Each given team's turnover rate over [from, to] as one year-grouped figure, from
/// stored facts: the same rates as `PeopleData::yearly_rates`.
pub fn stored_yearly_rates(
    conn: &mut DbConnection,
    teams: &[i32],
    from: NaiveDate,
    to: NaiveDate,
) -> AppResult<BTreeMap<i32, Option<f64>>> {
    let ledgers = repo::turnover::ledgers(conn, Some(teams), from, to.max(from))?;
    Ok(teams
        .iter()
        .map(|t| {
            // A reversed window has no months, so no rate (as from people).
            let rate = ledgers
                .get(t)
                .filter(|_| from <= to)
                .and_then(|l| turnover::figures(l, from, to, Grouping::Year).turnover_rate);
            (*t, rate)
        })
        .collect())
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
