//! GET and PUT /api/v1/settings/retention: how long answers and sent emails are kept.

use crate::auth::Admin;
use crate::domain::retention::Policy;
use crate::error::{AppError, AppResult};
use crate::repo::audit::{action, record};
use crate::state::AppState;
use actix_web::{web, HttpResponse};
use std::collections::BTreeMap;

#[utoipa::path(get, path = "/api/v1/settings/retention", tag = "settings",
    responses((status = 200, body = Policy)))]
pub async fn get(state: web::Data<AppState>, _admin: Admin) -> AppResult<HttpResponse> {
    let policy = state
        .db(|conn| Ok(crate::repo::retention::policy(conn)?))
        .await?;
    Ok(HttpResponse::Ok().json(policy))
}

#[utoipa::path(put, path = "/api/v1/settings/retention", tag = "settings", request_body = Policy,
    responses((status = 200, body = Policy),
              (status = 422, description = "a field out of range", body = crate::error::ErrorBody)))]
pub async fn put(
    state: web::Data<AppState>,
    Admin(admin): Admin,
    body: web::Json<Policy>,
) -> AppResult<HttpResponse> {
    let policy = body.into_inner();
    let problems = policy.problems();
    if !problems.is_empty() {
        return Err(AppError::fields(
            problems
                .into_iter()
                .map(|(f, why)| (f.to_string(), why))
                .collect::<BTreeMap<_, _>>(),
        ));
    }
    let actor = admin.actor();
    state
        .db(move |conn| {
            crate::db::write_transaction(conn, |c| {
                crate::repo::retention::set_policy(c, &policy)?;
                let keep = |v: Option<u32>, unit: &str| {
                    v.map_or("for ever".to_string(), |n| format!("{n} {unit}"))
                };
                let detail = format!(
                    "retention: answers kept {}, sent emails kept {}",
                    keep(policy.answer_months, "months"),
                    keep(policy.sent_email_days, "days")
                );
                record(
                    c,
                    &actor,
                    action::SETTING_CHANGE,
                    "settings:retention",
                    &detail,
                )?;
                Ok(())
            })
        })
        .await?;
    Ok(HttpResponse::Ok().json(policy))
}
