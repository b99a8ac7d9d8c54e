//! /api/v1/action-plans: actions recorded from results, for a team or the company.

use crate::action_plans::{self as plans, ActionPlanInput, ActionPlanOut, ActionPlanPatch};
use crate::auth::Caller;
use crate::domain::action_plan::Status;
use crate::error::{AppError, AppResult};
use crate::routes::api::{paged_vec, Paging};
use crate::state::AppState;
use actix_web::{web, HttpRequest, HttpResponse};
use serde::Deserialize;

#[derive(Debug, Clone, Deserialize, utoipa::IntoParams)]
pub struct ListParams {
    /// A team and its sub-teams; absent: every action the caller may read.
    pub team_id: Option<i32>,
    /// `open` or `done`.
    pub status: Option<String>,
    #[param(minimum = 1)]
    pub page: Option<i64>,
    #[param(minimum = 1, maximum = 1000)]
    pub per_page: Option<i64>,
}

#[utoipa::path(post, path = "/api/v1/action-plans", tag = "action plans", request_body = ActionPlanInput,
    responses((status = 201, description = "the action, open", body = ActionPlanOut),
              (status = 403, description = "members, or a team the lead does not lead", body = crate::error::ErrorBody),
              (status = 422, description = "`text`, `team_id`, `owner_id`, `due_on`, `driver` or `round_id`: what to fix", body = crate::error::ErrorBody)))]
pub async fn create(
    state: web::Data<AppState>,
    caller: Caller,
    body: web::Json<ActionPlanInput>,
) -> AppResult<HttpResponse> {
    let input = body.into_inner();
    let now = chrono::Utc::now().naive_utc();
    let out = state
        .db(move |conn| plans::create(conn, &caller, &input, now))
        .await?;
    Ok(HttpResponse::Created().json(out))
}

#[utoipa::path(get, path = "/api/v1/action-plans", tag = "action plans", params(ListParams),
    responses((status = 200, description = "open actions first, by due day; leads see their teams' and the company-wide ones", body = [ActionPlanOut]),
              (status = 403, body = crate::error::ErrorBody)))]
pub async fn list(
    state: web::Data<AppState>,
    caller: Caller,
    req: HttpRequest,
    q: web::Query<ListParams>,
) -> AppResult<HttpResponse> {
    let paging = Paging {
        page: q.page,
        per_page: q.per_page,
    };
    paging.check()?;
    let status = match q.status.as_deref() {
        None | Some("") => None,
        Some(s) => Some(Status::parse(s).map_err(|e| AppError::field("status", e))?),
    };
    let team_id = q.team_id;
    let now = chrono::Utc::now().naive_utc();
    let out = state
        .db(move |conn| plans::list(conn, &caller, team_id, status, now))
        .await?;
    paged_vec(&req, paging, out)
}

#[utoipa::path(patch, path = "/api/v1/action-plans/{id}", tag = "action plans", request_body = ActionPlanPatch,
    params(("id" = i32, Path, description = "the action")),
    responses((status = 200, description = "the action with its new status", body = ActionPlanOut),
              (status = 404, body = crate::error::ErrorBody),
              (status = 422, description = "`status` must be open or done", body = crate::error::ErrorBody)))]
pub async fn update(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<i32>,
    body: web::Json<ActionPlanPatch>,
) -> AppResult<HttpResponse> {
    let (id, patch) = (id.into_inner(), body.into_inner());
    let now = chrono::Utc::now().naive_utc();
    let out = state
        .db(move |conn| plans::set_status(conn, &caller, id, &patch, now))
        .await?;
    Ok(HttpResponse::Ok().json(out))
}
