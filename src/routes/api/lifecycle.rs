//! /api/v1/reports/lifecycle (cohort results of a lifecycle survey) and
//! /api/v1/account/digest (the caller's weekly digest and its opt-out).

use crate::auth::{Admin, Caller, Scope};
use crate::error::AppResult;
use crate::reports::digest::Digest;
use crate::reports::lifecycle::LifecycleReport;
use crate::state::AppState;
use actix_web::{web, HttpResponse};
use serde::{Deserialize, Serialize};

#[derive(Debug, Deserialize, utoipa::IntoParams)]
pub struct LifecycleParams {
    /// A survey with a trigger.
    pub survey_id: i32,
}

#[utoipa::path(get, path = "/api/v1/reports/lifecycle", tag = "reports", params(LifecycleParams),
    responses((status = 200, description = "each cohort (milestone × quarter) of a lifecycle survey: figures once it closed and reached min_group_size, else why not", body = LifecycleReport),
              (status = 403, body = crate::error::ErrorBody), (status = 404, body = crate::error::ErrorBody),
              (status = 422, body = crate::error::ErrorBody)))]
pub async fn cohorts(
    state: web::Data<AppState>,
    Admin(admin): Admin,
    q: web::Query<LifecycleParams>,
) -> AppResult<HttpResponse> {
    let survey_id = q.survey_id;
    let report = crate::reports::run(&state, move |conn| {
        let scope = Scope::of(conn, &admin)?;
        crate::reports::lifecycle::load(conn, &scope, survey_id)
    })
    .await?;
    Ok(HttpResponse::Ok().json(report))
}

#[derive(Debug, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DigestSetting {
    /// Whether the weekly digest email goes to the caller (leads get it).
    pub enabled: bool,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct DigestOut {
    pub enabled: bool,
    /// This week's digest, as the email and the dashboard show it.
    pub digest: Digest,
}

#[utoipa::path(get, path = "/api/v1/account/digest", tag = "account",
    responses((status = 200, body = DigestOut)))]
pub async fn get_digest(state: web::Data<AppState>, caller: Caller) -> AppResult<HttpResponse> {
    let now = chrono::Utc::now();
    let out = state
        .db(move |conn| {
            Ok(DigestOut {
                enabled: crate::repo::digests::enabled(conn, caller.id)?,
                digest: crate::reports::digest::load(conn, caller.id, now)?,
            })
        })
        .await?;
    Ok(HttpResponse::Ok().json(out))
}

#[utoipa::path(put, path = "/api/v1/account/digest", tag = "account", request_body = DigestSetting,
    responses((status = 200, body = DigestSetting), (status = 400, body = crate::error::ErrorBody)))]
pub async fn put_digest(
    state: web::Data<AppState>,
    caller: Caller,
    body: web::Json<DigestSetting>,
) -> AppResult<HttpResponse> {
    let on = body.enabled;
    state
        .db(move |conn| Ok(crate::repo::digests::set_enabled(conn, caller.id, on)?))
        .await?;
    Ok(HttpResponse::Ok().json(DigestSetting { enabled: on }))
}
