//! Reports: load the counters, apply the disclosure rule, add up shown cells. The one
//! service that the API, the pages and `pulse bench` all call, so they show the same figures.

pub mod digest;
pub mod drivers;
pub mod enps;
pub mod lifecycle;
pub mod participation;
pub mod round;
pub mod turnover;
pub mod views;

use crate::auth::Scope;
use crate::db::DbConnection;
use crate::error::{AppError, AppResult};
use crate::state::AppState;

/// Reports that read at once: half the SQLite pool (8 connections), so a burst of
/// large reports leaves connections for answers, pages and `/healthz`.
static RUNNING: tokio::sync::Semaphore = tokio::sync::Semaphore::const_new(4);

/// Runs a report's reads and figures on the blocking pool, a few at a time.
pub async fn run<T: Send + 'static>(
    state: &AppState,
    report: impl FnOnce(&mut DbConnection) -> AppResult<T> + Send + 'static,
) -> AppResult<T> {
    let _slot = RUNNING
        .acquire()
        .await
        .map_err(|e| AppError::Internal(anyhow::anyhow!(e)))?;
    state.db(report).await
}

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
