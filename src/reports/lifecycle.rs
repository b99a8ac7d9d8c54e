//! Lifecycle survey results by cohort, and exit answers beside the turnover report.
//!
//! A cohort is a round (see `jobs::lifecycle`): its figures come from the
//! round report, so they appear only once the cohort has closed (`open_days`
//! after its quarter ends) and only when it reached `min_group_size`
//! respondents, comments at `max(min_group_size, 5)`. Cohorts are filed at
//! company level, so these results are HR's: leads have no team cell here.

use crate::auth::Scope;
use crate::db::DbConnection;
use crate::domain::disclosure::{Reason, Shown};
use crate::domain::lifecycle::{Period, EXIT_MILESTONE};
use crate::domain::report::Figures;
use crate::error::{AppError, AppResult};
use crate::repo::{self, lifecycle::Cohort};
use crate::reports::round::{self as round_report, Live, QuestionResult, Stage};
use chrono::{DateTime, NaiveDate, Utc};
use serde::Serialize;

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct LifecycleReport {
    pub survey_id: i32,
    /// `onboarding` or `exit`.
    pub kind: String,
    pub cohorts: Vec<CohortResult>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct CohortResult {
    pub round_id: i32,
    /// Days after hire (onboarding); absent for exit.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub days_after_hire: Option<i32>,
    /// "2026 Q4".
    pub period: String,
    #[schema(value_type = String, format = Date)]
    pub period_start: NaiveDate,
    #[schema(value_type = String, format = Date)]
    pub period_end: NaiveDate,
    /// `open` until the cohort closes, then `closed`.
    pub status: String,
    /// When an open cohort's figures appear.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<String>, format = DateTime)]
    pub available_at: Option<DateTime<Utc>>,
    /// While open: participation where the rule allows.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub participation: Option<Live>,
    /// Once closed, when shown.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub figures: Option<Figures>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub suppressed: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<Reason>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub questions: Vec<QuestionResult>,
}

/// A survey's cohorts as HR sees them.
pub fn load(conn: &mut DbConnection, scope: &Scope, survey_id: i32) -> AppResult<LifecycleReport> {
    scope.check_report(None)?;
    repo::surveys::find(conn, survey_id)?.ok_or_else(|| AppError::not_found("survey"))?;
    let trigger = repo::lifecycle::trigger_of(conn, survey_id)?.ok_or_else(|| {
        AppError::field(
            "survey_id",
            "this survey has no trigger: its results are on its rounds' pages",
        )
    })?;
    let mut cohorts = vec![];
    for c in repo::lifecycle::cohorts_of(conn, survey_id)? {
        cohorts.push(cohort(conn, scope, &c)?);
    }
    Ok(LifecycleReport {
        survey_id,
        kind: trigger.kind().into(),
        cohorts,
    })
}

fn cohort(conn: &mut DbConnection, scope: &Scope, c: &Cohort) -> AppResult<CohortResult> {
    let data = round_report::load(conn, scope, c.round_id, None)?;
    let mut out = CohortResult {
        round_id: c.round_id,
        days_after_hire: (c.milestone != EXIT_MILESTONE).then_some(c.milestone),
        period: Period::quarter_of(c.period_start).label(),
        period_start: c.period_start,
        period_end: c.period_end,
        status: "open".into(),
        available_at: None,
        participation: None,
        figures: None,
        suppressed: None,
        reason: None,
        questions: vec![],
    };
    match data.stage {
        Stage::Open { participation } => {
            out.available_at = Some(data.round.closes_at.and_utc());
            out.participation = Some(participation);
        }
        Stage::Closed(closed) => {
            out.status = "closed".into();
            match closed.shown {
                Shown::Figures(f) => out.figures = Some(f),
                Shown::Suppressed { reason, .. } => {
                    out.suppressed = Some(true);
                    out.reason = Some(reason);
                }
            }
            out.questions = closed.questions;
        }
    }
    Ok(out)
}

/// Answers of one disclosed exit cohort: the reasons people gave for leaving.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ExitReasons {
    pub survey_id: i32,
    pub survey_title: String,
    pub period: String,
    #[schema(value_type = String, format = Date)]
    pub period_start: NaiveDate,
    #[schema(value_type = String, format = Date)]
    pub period_end: NaiveDate,
    pub respondents: u32,
    /// Its choice and text questions, each as the round report shows it.
    pub questions: Vec<QuestionResult>,
}

/// The disclosed exit cohorts whose quarter meets `from..=to`, for the
/// company-wide turnover report (HR only: cohorts have no team cells, and a
/// hidden or open cohort is simply not listed, as it shows nothing).
pub fn exit_reasons(
    conn: &mut DbConnection,
    scope: &Scope,
    from: NaiveDate,
    to: NaiveDate,
) -> AppResult<Vec<ExitReasons>> {
    if scope.check_report(None).is_err() {
        return Ok(vec![]);
    }
    let mut out = vec![];
    for c in repo::lifecycle::exit_cohorts_between(conn, from, to)? {
        let data = round_report::load(conn, scope, c.round_id, None)?;
        let Stage::Closed(closed) = data.stage else {
            continue;
        };
        let Shown::Figures(f) = &closed.shown else {
            continue;
        };
        let respondents = f.responses;
        let questions: Vec<QuestionResult> = closed
            .questions
            .into_iter()
            .filter(|q| q.kind == "choice" || q.kind == "text")
            .collect();
        let survey_title = repo::surveys::find(conn, c.survey_id)?
            .map(|s| s.title)
            .unwrap_or_default();
        out.push(ExitReasons {
            survey_id: c.survey_id,
            survey_title,
            period: Period::quarter_of(c.period_start).label(),
            period_start: c.period_start,
            period_end: c.period_end,
            respondents,
            questions,
        });
    }
    Ok(out)
}

/// The exit answers the turnover report shows: for HR's company-wide view
/// only (None for a team, whose people cohorts do not single out).
pub async fn beside_turnover(
    state: &crate::state::AppState,
    caller: &crate::auth::Caller,
    team_id: Option<i32>,
    from: NaiveDate,
    to: NaiveDate,
) -> AppResult<Option<Vec<ExitReasons>>> {
    if team_id.is_some() || caller.role != crate::domain::people::Role::Admin {
        return Ok(None);
    }
    let caller = caller.clone();
    crate::reports::run(state, move |conn| {
        let scope = Scope::of(conn, &caller)?;
        exit_reasons(conn, &scope, from, to).map(Some)
    })
    .await
}
