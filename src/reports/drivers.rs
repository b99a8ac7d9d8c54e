//! The key-driver report: loads a group's stored cells and the answers of the rounds
//! of a period and of the period before, and hands them to `domain::key_drivers`.

use super::{check_access, Listing};
use crate::auth::{Caller, Scope};
use crate::db::DbConnection;
use crate::domain::disclosure::{LeftOut, Reason, Tree};
use crate::domain::driver::Driver;
use crate::domain::key_drivers::{
    self as kd, ChangeFigures, CorrelationFigures, DriverFigures, Figure, GroupCell,
    ResponseScores, Tally,
};
use crate::domain::report::COMPANY;
use crate::error::{AppError, AppResult};
use crate::repo;
use crate::state::AppState;
use chrono::{Duration, NaiveDate};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

#[derive(Debug, Clone, Default, Deserialize, utoipa::IntoParams)]
pub struct DriversParams {
    /// A team and its sub-teams; absent: the whole company (admins only).
    pub team_id: Option<i32>,
    /// YYYY-MM-DD, default 90 days before `to`.
    #[param(format = Date)]
    pub from: Option<String>,
    /// YYYY-MM-DD inclusive, default today.
    #[param(format = Date)]
    pub to: Option<String>,
}

/// One driver over the period. Hidden figures say `"suppressed": true` and why.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct DriverOut {
    /// The driver's key, e.g. `growth`.
    pub driver: String,
    /// The driver's name in the caller's language.
    pub name: String,
    /// 1 for the highest impact; absent for outcomes and drivers without a correlation.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rank: Option<u32>,
    /// The mean answer to the driver's questions on the 1–5 scale, 2 decimals.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub score: Option<f64>,
    /// Answers behind the score.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub n: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub suppressed: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<Reason>,
    /// Against the previous period of the same length, with Welch's 95% interval;
    /// null when the driver was not asked then.
    pub change: Option<Figure<ChangeFigures>>,
    /// Pearson's r with the eNPS score of the same response, over the answers whose
    /// response gave both, with Fisher's
    /// 95% interval; null when the answers have no spread.
    pub correlation: Option<Figure<CorrelationFigures>>,
    /// r × (5 − score)/4: what the ranking orders by.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub impact: Option<f64>,
    /// Cells (round × question) of the period hidden for this group, so not in the
    /// figures, by reason.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub left_out: Option<LeftOut>,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct DriversReport {
    pub team_id: Option<i32>,
    pub from: NaiveDate,
    pub to: NaiveDate,
    /// The period compared with: the same number of days just before `from`.
    pub previous_from: NaiveDate,
    pub previous_to: NaiveDate,
    /// Drivers asked in the period, highest impact first.
    pub drivers: Vec<DriverOut>,
    /// Outcomes (intent to stay), beside the ranking and not in it.
    pub outcomes: Vec<DriverOut>,
}

/// A response's filed team and its scored answers (question, driver or None for eNPS, score).
type Answered = (i32, Vec<(i32, Option<Driver>, i32)>);

/// The previous period of the same length: the days just before `from`.
pub fn previous(from: NaiveDate, to: NaiveDate) -> (NaiveDate, NaiveDate) {
    let days = (to - from).num_days() + 1;
    (from - Duration::days(days), from - Duration::days(1))
}

pub async fn report(
    state: &AppState,
    caller: Caller,
    team_id: Option<i32>,
    from: NaiveDate,
    to: NaiveDate,
) -> AppResult<DriversReport> {
    super::run(state, move |conn| {
        let scope = Scope::of(conn, &caller)?;
        let lang = repo::key_drivers::locale(conn, caller.id)?;
        load(conn, &scope, team_id, from, to, &lang)
    })
    .await
}

pub fn load(
    conn: &mut DbConnection,
    scope: &Scope,
    team_id: Option<i32>,
    from: NaiveDate,
    to: NaiveDate,
    lang: &str,
) -> AppResult<DriversReport> {
    check_access(scope, team_id, Listing::Group)?;
    if let Some(t) = team_id {
        repo::teams::find(conn, t)?.ok_or_else(|| AppError::not_found("team"))?;
    }
    let group = team_id.unwrap_or(COMPANY);
    let (prev_from, prev_to) = previous(from, to);
    repo::reports::ensure_cells(conn)?;
    let midnight = |d: NaiveDate| d.and_hms_opt(0, 0, 0).unwrap_or_default();
    // The group's cells as stored at close: only closed rounds have them, and a round
    // that invited nobody of the group is no part of its views.
    let cells: Vec<_> = repo::reports::cells(
        conn,
        Some(&[group]),
        None,
        None,
        midnight(prev_from),
        midnight(to + Duration::days(1)),
    )?
    .into_iter()
    .filter(|c| c.cell.totals.invited > 0)
    .collect();
    let ids: Vec<i32> = cells.iter().map(|c| c.round_id).collect();
    let ids = repo::key_drivers::rounds_with_drivers(conn, &ids)?;
    let mut by_round: BTreeMap<i32, BTreeMap<String, Answered>> = BTreeMap::new();
    for a in repo::key_drivers::scored_answers(conn, &ids)? {
        let driver = match a.driver.as_deref().map(Driver::parse) {
            None => None,
            Some(Ok(d)) => Some(d),
            Some(Err(_)) => continue,
        };
        let r = by_round
            .entry(a.round_id)
            .or_default()
            .entry(a.response_id)
            .or_insert((a.team, vec![]));
        r.1.push((a.question_id, driver, a.score));
    }
    let tree = Tree::new(&repo::teams::edges(conn)?);
    let (mut now, mut before) = (BTreeMap::new(), BTreeMap::new());
    for c in &cells {
        let responses: Vec<ResponseScores> = by_round
            .remove(&c.round_id)
            .unwrap_or_default()
            .into_values()
            .map(|(team, answers)| ResponseScores::of(team, answers))
            .collect();
        let min = c.min_group_size.max(3) as u32;
        let cell = c.cell.hidden.map_or(GroupCell::Shown, GroupCell::Hidden);
        let round = kd::round_cells(&tree, group, min, cell, &responses);
        let period: &mut BTreeMap<Driver, Tally> =
            if c.day >= from { &mut now } else { &mut before };
        kd::add_round(period, &round);
    }
    let k = kd::key_drivers(&now, &before);
    let mut rank = 0;
    let drivers = k
        .drivers
        .iter()
        .map(|d| {
            let r = d.impact.map(|_| {
                rank += 1;
                rank
            });
            out(d, r, lang)
        })
        .collect();
    Ok(DriversReport {
        team_id,
        from,
        to,
        previous_from: prev_from,
        previous_to: prev_to,
        drivers,
        outcomes: k.outcomes.iter().map(|d| out(d, None, lang)).collect(),
    })
}

fn out(d: &DriverFigures, rank: Option<u32>, lang: &str) -> DriverOut {
    let (score, n, suppressed, reason) = match d.score {
        Ok((s, n)) => (Some(s), Some(n), None, None),
        Err(r) => (None, None, Some(true), Some(r)),
    };
    DriverOut {
        driver: d.driver.key().into(),
        name: d.driver.name(lang).into(),
        rank,
        score,
        n,
        suppressed,
        reason,
        change: d.change,
        correlation: d.correlation,
        impact: d.impact,
        left_out: (!d.left_out.is_empty()).then_some(d.left_out),
    }
}
