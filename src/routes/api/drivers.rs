//! GET /api/v1/reports/drivers: key drivers of a period for a team or the company.

use crate::auth::Caller;
use crate::error::AppResult;
use crate::reports::drivers::{self, DriversParams, DriversReport};
use crate::routes::api::reports::window;
use crate::state::AppState;
use actix_web::{web, HttpResponse};
use chrono::{Duration, NaiveDate};

/// The period asked for; without `from`, the 90 days up to `to`.
pub(crate) fn period(from: Option<&str>, to: Option<&str>) -> AppResult<(NaiveDate, NaiveDate)> {
    let (start, end) = window(from, to)?;
    Ok(match from {
        Some(_) => (start, end),
        None => (end - Duration::days(89), end),
    })
}

#[utoipa::path(get, path = "/api/v1/reports/drivers", tag = "reports", params(DriversParams),
    responses((status = 200, description = "each driver asked in the period: score, change against the previous period of the same length and correlation with eNPS, each with a 95% interval, or suppressed; ranked by impact, outcomes beside", body = DriversReport),
              (status = 403, body = crate::error::ErrorBody), (status = 404, body = crate::error::ErrorBody), (status = 422, body = crate::error::ErrorBody)))]
pub async fn report(
    state: web::Data<AppState>,
    caller: Caller,
    q: web::Query<DriversParams>,
) -> AppResult<HttpResponse> {
    let (from, to) = period(q.from.as_deref(), q.to.as_deref())?;
    let r = drivers::report(&state, caller, q.team_id, from, to).await?;
    Ok(HttpResponse::Ok().json(r))
}
