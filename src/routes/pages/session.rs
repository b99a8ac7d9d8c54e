//! /login and /logout pages.

use crate::auth::caller::same_origin;
use crate::auth::session::{self, client_ip};
use crate::error::AppError;
use crate::routes::pages::ui::{safe_next, FormData, PageResult, Session};
use crate::routes::pages::{redirect, render};
use crate::state::AppState;
use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use serde::Deserialize;
use serde_json::json;

#[derive(Deserialize)]
pub struct LoginForm {
    email: String,
    password: String,
    /// The page to return to after signing in.
    next: Option<String>,
}

#[derive(Deserialize)]
pub struct Next {
    next: Option<String>,
}

pub async fn login_form(
    state: web::Data<AppState>,
    req: HttpRequest,
    q: web::Query<Next>,
) -> HttpResponse {
    login_page(&state, &req, StatusCode::OK, "", None, q.next.as_deref())
}

/// The sign-in page: the password form unless it is turned off, and the
/// single sign-on button when a provider is configured.
pub fn login_page(
    state: &AppState,
    req: &HttpRequest,
    status: StatusCode,
    email: &str,
    error: Option<String>,
    next: Option<&str>,
) -> HttpResponse {
    let next = safe_next(next);
    let sso = state.settings.oidc.as_ref().map(|o| {
        json!({
            "name": o.name,
            "href": format!("/auth/oidc/start?next={}", percent_encoding::utf8_percent_encode(next, percent_encoding::NON_ALPHANUMERIC)),
        })
    });
    render(
        req,
        status,
        "login",
        json!({ "title": "Sign in", "email": email, "error": error, "user": null, "next": next,
                "sso": sso, "password_sign_in": state.settings.password_sign_in }),
    )
}

pub async fn login(
    state: web::Data<AppState>,
    req: HttpRequest,
    form: web::Form<LoginForm>,
) -> HttpResponse {
    let page = |status, error: String| {
        login_page(
            &state,
            &req,
            status,
            &form.email,
            Some(error),
            form.next.as_deref(),
        )
    };
    if !same_origin(&req, &state.settings.base_url) {
        return page(
            StatusCode::FORBIDDEN,
            "This form must be sent from Pulse's own sign-in page.".into(),
        );
    }
    match session::sign_in(
        &state,
        &form.email,
        &form.password,
        &client_ip(&req, &state.settings.trusted_proxies),
    )
    .await
    {
        Ok(signed) => {
            let mut res = redirect(safe_next(form.next.as_deref()));
            let _ = res.add_cookie(&session::session_cookie(&state, &signed.token));
            res
        }
        Err(
            e @ (AppError::InvalidCredentials
            | AppError::RateLimited { .. }
            | AppError::Forbidden(_)),
        ) => {
            use actix_web::ResponseError;
            page(e.status_code(), e.to_string())
        }
        Err(e) => {
            tracing::error!(error = %e, "sign-in failed");
            page(
                StatusCode::SERVICE_UNAVAILABLE,
                "Signing in is not possible right now; try again in a minute.".into(),
            )
        }
    }
}

/// GET only asks: a link or an image on another site must not sign anyone out.
pub async fn logout_confirm(req: HttpRequest, session: Session) -> PageResult {
    let user = session.require(&req)?;
    Ok(user.page(
        &req,
        "logout",
        json!({ "title": "Sign out", "narrow": true }),
    ))
}

/// Signs out: a signed-in session must send its form token; an expired one
/// is simply cleared.
pub async fn logout(
    state: web::Data<AppState>,
    req: HttpRequest,
    session: Session,
    form: Option<FormData>,
) -> PageResult {
    if !session.is_signed_out() {
        let user = session.require(&req)?;
        user.check_csrf(&req, &form.unwrap_or(FormData(vec![])))?;
        crate::auth::session::end_sessions(&state, user.caller.id).await?;
    }
    let mut res = redirect("/login");
    let _ = res.add_removal_cookie(&session::expired_cookie(&state));
    Ok(res)
}
