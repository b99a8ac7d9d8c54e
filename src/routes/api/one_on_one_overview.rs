//! GET /api/v1/one-on-ones/overview: for HR, which 1:1s are kept and how
//! regularly — counts and dates only, never anything written in a meeting.

use crate::auth::Admin;
use crate::error::AppResult;
use crate::repo::one_on_one_overview::{self as repo, SeriesKept};
use crate::routes::api::one_on_ones::PersonOut;
use crate::routes::api::{paged, Paging};
use crate::state::AppState;
use actix_web::{web, HttpRequest, HttpResponse};
use chrono::{DateTime, SubsecRound, Utc};
use serde::Serialize;

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct SeriesOverview {
    /// The series.
    pub id: i32,
    pub manager: PersonOut,
    pub report: PersonOut,
    pub cadence: String,
    /// `active`, `paused` or `ended`.
    pub status: String,
    /// Meetings due in the 90 days up to now, whatever became of them.
    pub meetings_scheduled: i64,
    /// Of those, the ones whose time has passed and that were not skipped or cancelled.
    pub meetings_held: i64,
    /// Of those, the ones skipped or cancelled.
    pub meetings_skipped: i64,
    /// The last meeting held, however long ago.
    pub last_held_at: Option<DateTime<Utc>>,
    pub next_meeting_at: Option<DateTime<Utc>>,
    /// Active, and its last held meeting (or its start, when none was held)
    /// is older than its cadence interval plus 7 days of grace.
    pub overdue: bool,
}

impl From<SeriesKept> for SeriesOverview {
    fn from(k: SeriesKept) -> Self {
        Self {
            id: k.series.id,
            manager: PersonOut {
                id: k.series.manager_id,
                name: k.manager_name,
            },
            report: PersonOut {
                id: k.series.report_id,
                name: k.report_name,
            },
            cadence: k.series.cadence,
            status: k.series.status,
            meetings_scheduled: k.scheduled,
            meetings_held: k.held,
            meetings_skipped: k.skipped,
            last_held_at: k.last_held.map(|t| t.and_utc()),
            next_meeting_at: k.next.map(|t| t.and_utc()),
            overdue: k.overdue,
        }
    }
}

/// One page of the overview as of now, for the API and the page.
pub async fn overview_page(
    state: &AppState,
    offset: i64,
    limit: i64,
) -> AppResult<(Vec<SeriesOverview>, i64)> {
    let now = Utc::now().trunc_subsecs(0).naive_utc();
    let (rows, total) = state
        .db(move |conn| Ok(repo::page(conn, now, offset, limit)?))
        .await?;
    Ok((rows.into_iter().map(SeriesOverview::from).collect(), total))
}

#[utoipa::path(get, path = "/api/v1/one-on-ones/overview", tag = "one-on-ones",
    params(Paging),
    responses((status = 200, body = [SeriesOverview]),
              (status = 403, description = "not an HR admin", body = crate::error::ErrorBody)))]
pub async fn overview(
    state: web::Data<AppState>,
    _admin: Admin,
    req: HttpRequest,
    paging: web::Query<Paging>,
) -> AppResult<HttpResponse> {
    let (offset, limit) = paging.offset()?;
    let (items, total) = overview_page(&state, offset, limit).await?;
    paged(&req, *paging, items, total)
}
