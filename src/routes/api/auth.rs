//! POST /api/v1/auth/login and /logout.

use crate::auth::session::{self, client_ip};
use crate::auth::Caller;
use crate::error::{AppError, AppResult};
use crate::routes::api::employees::EmployeeOut;
use crate::state::AppState;
use actix_web::{web, HttpRequest, HttpResponse};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

#[derive(Deserialize, utoipa::ToSchema)]
pub struct LoginRequest {
    pub email: String,
    pub password: String,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct UserOut {
    pub id: i32,
    pub email: String,
    pub name: String,
    pub role: String,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct LoginResponse {
    /// Send as `Authorization: Bearer <token>`; also set as the session cookie.
    pub token: String,
    pub expires_at: DateTime<Utc>,
    pub user: UserOut,
}

#[utoipa::path(post, path = "/api/v1/auth/login", tag = "auth", request_body = LoginRequest,
    responses((status = 200, body = LoginResponse),
              (status = 401, description = "invalid_credentials, whether or not the account exists", body = crate::error::ErrorBody),
              (status = 429, description = "too many failed sign-ins; see Retry-After", body = crate::error::ErrorBody)))]
pub async fn login(
    state: web::Data<AppState>,
    req: HttpRequest,
    body: web::Json<LoginRequest>,
) -> AppResult<HttpResponse> {
    if body.email.len() > 320 || body.password.len() > 1024 {
        return Err(AppError::InvalidCredentials);
    }
    let signed = session::sign_in(
        &state,
        &body.email,
        &body.password,
        &client_ip(&req, &state.settings.trusted_proxies),
    )
    .await?;
    let e = EmployeeOut::from(signed.employee);
    Ok(HttpResponse::Ok()
        .cookie(session::session_cookie(&state, &signed.token))
        .json(LoginResponse {
            token: signed.token,
            expires_at: signed.expires_at,
            user: UserOut {
                id: e.id,
                email: e.email,
                name: e.name,
                role: e.role,
            },
        }))
}

#[utoipa::path(post, path = "/api/v1/auth/logout", tag = "auth",
    responses((status = 204, description = "the session cookie is cleared")))]
pub async fn logout(state: web::Data<AppState>, caller: Option<Caller>) -> AppResult<HttpResponse> {
    if let Some(c) = caller {
        session::end_sessions(&state, c.id).await?;
    }
    Ok(HttpResponse::NoContent()
        .cookie(session::expired_cookie(&state))
        .finish())
}
