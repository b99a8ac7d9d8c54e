//! /setup: the one-time page that creates the first admin.

use crate::auth::{password, session};
use crate::domain::email::Email;
use crate::domain::people::{check_password, parse_name};
use crate::error::AppError;
use crate::repo;
use crate::repo::settings::SETUP_TOKEN_KEY;
use crate::routes::pages::{message_page, redirect, render};
use crate::state::AppState;
use crate::tokens::sha256_hex;
use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use serde::Deserialize;
use serde_json::json;
use std::collections::BTreeMap;

#[derive(Deserialize)]
pub struct TokenQuery {
    token: Option<String>,
}

#[derive(Deserialize)]
pub struct SetupForm {
    token: String,
    name: String,
    email: String,
    password: String,
}

enum Gate {
    Open,
    AlreadySetUp,
    BadToken,
}

async fn gate(state: &AppState, token: &str) -> Result<Gate, AppError> {
    let hash = sha256_hex(token);
    state
        .db(move |conn| {
            if repo::employees::admin_exists(conn)? {
                return Ok(Gate::AlreadySetUp);
            }
            let stored = repo::settings::get(conn, SETUP_TOKEN_KEY)?;
            Ok(if stored.is_some_and(|s| s == hash) {
                Gate::Open
            } else {
                Gate::BadToken
            })
        })
        .await
}

fn closed(req: &HttpRequest, g: Gate) -> HttpResponse {
    match g {
        Gate::AlreadySetUp => message_page(req, StatusCode::GONE, "Pulse is already set up", "An administrator exists. Sign in at /login."),
        _ => message_page(
            req,
            StatusCode::FORBIDDEN,
            "This setup link is not valid",
            "Use the link that `pulse serve` printed when it started last, or create an admin with `pulse admin create`.",
        ),
    }
}

pub async fn form(
    state: web::Data<AppState>,
    req: HttpRequest,
    q: web::Query<TokenQuery>,
) -> Result<HttpResponse, AppError> {
    let token = q.token.clone().unwrap_or_default();
    Ok(match gate(&state, &token).await? {
        Gate::Open => render(
            &req,
            StatusCode::OK,
            "setup",
            json!({ "title": "Set up Pulse", "token": token, "name": "", "email": "", "error": null, "fields": {}, "user": null }),
        ),
        g => closed(&req, g),
    })
}

pub async fn submit(
    state: web::Data<AppState>,
    req: HttpRequest,
    form: web::Form<SetupForm>,
) -> Result<HttpResponse, AppError> {
    let g = gate(&state, &form.token).await?;
    if !matches!(g, Gate::Open) {
        return Ok(closed(&req, g));
    }
    let mut fields = BTreeMap::new();
    let name = parse_name(&form.name)
        .map_err(|e| fields.insert("name", e))
        .ok();
    let email = Email::parse(&form.email)
        .map_err(|e| fields.insert("email", e))
        .ok();
    let _ = check_password(&form.password).map_err(|e| fields.insert("password", e));
    let (Some(name), Some(email), true) = (name, email, fields.is_empty()) else {
        return Ok(render(
            &req,
            StatusCode::UNPROCESSABLE_ENTITY,
            "setup",
            json!({ "title": "Set up Pulse", "token": form.token, "name": form.name, "email": form.email,
                    "error": "Please correct the fields below.", "fields": fields, "user": null }),
        ));
    };
    let pw = form.password.clone();
    let hash = web::block(move || password::hash(&pw)).await?;
    let typed = form.password.clone();
    let now = chrono::Utc::now();
    let ip = session::client_ip(&req, &state.settings.trusted_proxies);
    let (id, notes_key) = state
        .db(move |conn| {
            crate::db::write_transaction(conn, |conn| {
                // Re-checked inside the transaction: two tabs cannot both create one.
                if repo::employees::admin_exists(conn)? {
                    return Err(AppError::Gone {
                        code: "already_set_up",
                        message: "Pulse is already set up".into(),
                    });
                }
                let id = repo::employees::make_admin(conn, &email, &name, &hash)?;
                repo::settings::delete(conn, SETUP_TOKEN_KEY)?;
                repo::audit::record(
                    conn,
                    &repo::audit::Actor::person(id, ip),
                    repo::audit::action::EMPLOYEE_ROLE,
                    &crate::audit::employee_target(id),
                    "the first admin, created through /setup",
                )?;
                Ok(id)
            })
            .and_then(|id| {
                let key = crate::auth::private_notes::unlock(conn, id, &typed, now.naive_utc())?;
                Ok((id, key))
            })
        })
        .await?;
    let (token, _) = state.jwt.issue(id, now, notes_key.as_ref());
    let mut res = redirect("/");
    let _ = res.add_cookie(&session::session_cookie(&state, &token));
    Ok(res)
}
