//! /login and /logout pages.

use crate::auth::caller::same_origin;
use crate::auth::session::{self, client_ip};
use crate::error::AppError;
use crate::routes::pages::{redirect, render};
use crate::startup::AppState;
use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use serde::Deserialize;
use serde_json::json;

#[derive(Deserialize)]
pub struct LoginForm {
    email: String,
    password: String,
}

pub async fn login_form(req: HttpRequest) -> HttpResponse {
    render(
        &req,
        StatusCode::OK,
        "login",
        json!({ "title": "Sign in", "email": "", "error": null, "user": null }),
    )
}

pub async fn login(
    state: web::Data<AppState>,
    req: HttpRequest,
    form: web::Form<LoginForm>,
) -> HttpResponse {
    let page = |status, error: String| {
        render(
            &req,
            status,
            "login",
            json!({ "title": "Sign in", "email": form.email, "error": error, "user": null }),
        )
    };
    if !same_origin(&req, &state.settings.base_url) {
        return page(
            StatusCode::FORBIDDEN,
            "This form must be sent from Pulse's own sign-in page.".into(),
        );
    }
    match session::sign_in(&state, &form.email, &form.password, &client_ip(&req)).await {
        Ok(signed) => {
            let mut res = redirect("/");
            let _ = res.add_cookie(&session::session_cookie(&state, &signed.token));
            res
        }
        Err(e @ (AppError::InvalidCredentials | AppError::RateLimited { .. })) => {
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

pub async fn logout(state: web::Data<AppState>) -> HttpResponse {
    let mut res = redirect("/login");
    let _ = res.add_removal_cookie(&session::expired_cookie(&state));
    res
}
