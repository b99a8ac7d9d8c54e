//! POST /api/v1/employees/{id}/invite: HR emails an employee a one-time link to choose a password.

use crate::auth::Admin;
use crate::error::{AppError, AppResult};
use crate::repo;
use crate::state::AppState;
use crate::tokens::{random_token, sha256_hex};
use actix_web::{web, HttpResponse};
use chrono::{DateTime, Duration, SubsecRound, Utc};
use serde::Serialize;
use serde_json::json;

/// How long an account link works.
pub const INVITATION_DAYS: i64 = 7;

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct AccountInvitationOut {
    pub employee_id: i32,
    /// The link stops working then, or once used; a new invitation replaces it.
    pub expires_at: DateTime<Utc>,
}

#[utoipa::path(post, path = "/api/v1/employees/{id}/invite", tag = "people",
    responses((status = 202, description = "the email with a one-time link (valid 7 days) is queued", body = AccountInvitationOut),
              (status = 403, body = crate::error::ErrorBody), (status = 404, body = crate::error::ErrorBody),
              (status = 409, description = "the person has left", body = crate::error::ErrorBody)))]
pub async fn invite(
    state: web::Data<AppState>,
    Admin(admin): Admin,
    id: web::Path<i32>,
) -> AppResult<HttpResponse> {
    let id = id.into_inner();
    let now = Utc::now().trunc_subsecs(0);
    let mailing = state.mailing.clone();
    let out = state
        .db(move |conn| {
            crate::db::write_transaction(conn, |conn| {
                let employee = repo::employees::find(conn, id)?
                    .ok_or_else(|| AppError::not_found("employee"))?;
                if !employee.is_employed_on(now.date_naive()) {
                    return Err(AppError::Conflict {
                        code: "not_employed",
                        message: format!("{} is not employed today", employee.name),
                    });
                }
                let token = random_token();
                let expires_at = now + Duration::days(INVITATION_DAYS);
                let invitation = repo::account_invitations::insert(
                    conn,
                    employee.id,
                    &sha256_hex(&token),
                    expires_at.naive_utc(),
                    admin.id,
                    now.naive_utc(),
                )?;
                repo::audit::record(
                    conn,
                    &admin.actor(),
                    repo::audit::action::EMPLOYEE_INVITE,
                    &crate::audit::employee_target(employee.id),
                    "sign-in link emailed",
                )?;
                let data = json!({
                    "name": employee.name,
                    "link": format!("{}/account/setup?token={token}", mailing.base_url),
                    "expires": expires_at.format("%Y-%m-%d %H:%M UTC").to_string(),
                });
                mailing
                    .enqueue(
                        conn,
                        "account_invitation",
                        &format!("account-invite:{invitation}"),
                        &employee,
                        &data,
                        None,
                        now,
                    )
                    .map_err(AppError::Internal)?;
                Ok(AccountInvitationOut {
                    employee_id: employee.id,
                    expires_at,
                })
            })
        })
        .await?;
    Ok(HttpResponse::Accepted().json(out))
}
