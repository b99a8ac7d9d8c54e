//! Reports: load the counters, apply the disclosure rule, add up shown cells. The one
//! service that the API, the pages and `pulse bench` all call, so they show the same figures.

pub mod enps;
pub mod participation;
pub mod round;
pub mod turnover;
pub mod views;

use crate::auth::Scope;
use crate::error::AppResult;

/// What a report shows: one group's figures, or a list of the caller's teams.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Listing {
    Group,
    Teams,
    /// One group's figures, read with those of the teams the caller may see beside it
    /// (the report page's heat map): access as for `Group`.
    GroupAndTeams,
}

/// Who may read what is decided by `Scope`; a lead listing teams sees the teams they lead.
pub fn check_access(scope: &Scope, team_id: Option<i32>, listing: Listing) -> AppResult<()> {
    match (listing, team_id, scope) {
        (Listing::Teams, None, Scope::Teams(ids)) if !ids.is_empty() => Ok(()),
        _ => scope.check_report(team_id),
    }
}
