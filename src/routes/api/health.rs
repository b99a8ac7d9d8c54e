//! Liveness and readiness: the process answers and the database too.

use crate::error::AppResult;
use crate::state::AppState;
use actix_web::{web, HttpResponse};
use diesel::connection::SimpleConnection;
use serde::Serialize;

#[derive(Serialize, utoipa::ToSchema)]
pub struct Health {
    /// `ok` when the database answered.
    pub status: &'static str,
    /// `sqlite` or `postgres`.
    pub database: &'static str,
}

#[utoipa::path(get, path = "/healthz", tag = "health", security(()),
    responses((status = 200, body = Health), (status = 503, body = crate::error::ErrorBody)))]
pub async fn healthz(state: web::Data<AppState>) -> AppResult<HttpResponse> {
    state
        .db(|conn| conn.batch_execute("SELECT 1").map_err(Into::into))
        .await?;
    Ok(HttpResponse::Ok().json(Health {
        status: "ok",
        database: state.engine,
    }))
}
