//! GDPR for HR: `POST /api/v1/employees/{id}/erase` (article 17) and `GET /api/v1/employees/{id}/export` (article 15).

use crate::auth::Admin;
use crate::error::{AppError, AppResult};
use crate::repo::audit::{action, record, Actor};
use crate::repo::erasure::{self, Erased};
use crate::repo::{self, employees::Employee};
use crate::state::AppState;
use actix_web::http::header;
use actix_web::{web, HttpResponse};
use chrono::Utc;
use serde::Deserialize;

#[derive(Deserialize, utoipa::ToSchema)]
pub struct EraseRequest {
    /// The person's current email address, typed again: erasure cannot be undone.
    pub confirm_email: String,
}

/// Erases a person who has left; refuses anyone still employed (record the
/// departure first) and anyone already erased.
pub async fn erase_person(
    state: &AppState,
    actor: &Actor,
    id: i32,
    confirm_email: &str,
) -> AppResult<Erased> {
    let (actor, typed) = (actor.clone(), confirm_email.trim().to_lowercase());
    let now = Utc::now();
    state
        .db(move |conn| {
            let erased = crate::db::write_transaction(conn, |c| {
                let e = find(c, id)?;
                if erasure::is_erased(c, id)? {
                    return Err(AppError::Conflict {
                        code: "already_erased",
                        message: "this person was already erased".into(),
                    });
                }
                if e.left_on.is_none_or(|l| l >= now.date_naive()) {
                    return Err(AppError::Conflict {
                        code: "still_employed",
                        message: "only someone who has left can be erased: record their \
                                  departure (a past last day) first"
                            .into(),
                    });
                }
                if typed != e.email.to_lowercase() {
                    return Err(AppError::field(
                        "confirm_email",
                        "must be the person's current email address, to confirm the erasure",
                    ));
                }
                let erased = erasure::erase(c, &e, now.naive_utc())?;
                let detail = serde_json::to_string(&erased).unwrap_or_default();
                record(
                    c,
                    &actor,
                    action::EMPLOYEE_ERASE,
                    &crate::audit::employee_target(id),
                    &detail,
                )?;
                Ok(erased)
            })?;
            crate::db::forget_deleted(conn, ERASED_FROM);
            Ok(erased)
        })
        .await
}

/// The tables an erasure deletes from or rewrites.
const ERASED_FROM: &[&str] = &[
    "employees",
    "one_on_ones",
    "meetings",
    "agenda_items",
    "meeting_notes",
    "action_items",
    "agenda_templates",
    "notes_keys",
    "invitations",
    "account_invitations",
    "outbox",
    "login_attempts",
];

fn find(conn: &mut crate::db::DbConnection, id: i32) -> AppResult<Employee> {
    repo::employees::find(conn, id)?.ok_or_else(|| AppError::not_found("employee"))
}

/// The export document of a person, recorded in the audit trail.
pub async fn export_person(state: &AppState, actor: &Actor, id: i32) -> AppResult<String> {
    let actor = actor.clone();
    let now = Utc::now().naive_utc();
    state
        .db(move |conn| {
            crate::db::write_transaction(conn, |c| {
                let e = find(c, id)?;
                let doc = erasure::export(c, &e, now)?;
                record(
                    c,
                    &actor,
                    action::EXPORT_PERSON,
                    &crate::audit::employee_target(id),
                    "GDPR article 15 export",
                )?;
                serde_json::to_string_pretty(&doc).map_err(|e| AppError::Internal(e.into()))
            })
        })
        .await
}

#[utoipa::path(post, path = "/api/v1/employees/{id}/erase", tag = "people", request_body = EraseRequest,
    responses((status = 200, body = Erased, description = "what was removed; the person stays in turnover as an anonymous departure"),
              (status = 404, body = crate::error::ErrorBody),
              (status = 409, description = "still_employed or already_erased", body = crate::error::ErrorBody),
              (status = 422, description = "confirm_email does not match", body = crate::error::ErrorBody)))]
pub async fn erase(
    state: web::Data<AppState>,
    Admin(admin): Admin,
    id: web::Path<i32>,
    body: web::Json<EraseRequest>,
) -> AppResult<HttpResponse> {
    let erased = erase_person(&state, &admin.actor(), id.into_inner(), &body.confirm_email).await?;
    Ok(HttpResponse::Ok().json(erased))
}

#[utoipa::path(get, path = "/api/v1/employees/{id}/export", tag = "people",
    responses((status = 200, description = "everything Pulse holds about the person, as a JSON file", content_type = "application/json", body = Object),
              (status = 404, body = crate::error::ErrorBody)))]
pub async fn export(
    state: web::Data<AppState>,
    Admin(admin): Admin,
    id: web::Path<i32>,
) -> AppResult<HttpResponse> {
    let id = id.into_inner();
    let doc = export_person(&state, &admin.actor(), id).await?;
    Ok(export_file(id, doc))
}

/// The export as a file to save, for the API and the person's page.
pub fn export_file(id: i32, doc: String) -> HttpResponse {
    HttpResponse::Ok()
        .content_type("application/json")
        .insert_header((
            header::CONTENT_DISPOSITION,
            format!("attachment; filename=\"pulse-person-{id}.json\""),
        ))
        .body(doc)
}
