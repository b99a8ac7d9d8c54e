//! /account/setup?token=…: the page an account invitation links to, where an employee chooses a password.

use crate::auth::password;
use crate::domain::people::check_password;
use crate::error::AppError;
use crate::repo::{self, account_invitations::AccountInvitation, employees::Employee};
use crate::routes::pages::render;
use crate::state::AppState;
use crate::tokens::sha256_hex;
use actix_web::http::{header, StatusCode};
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
    password: String,
    password_confirm: String,
}

/// The invitation and its employee while the link still works.
async fn open(
    state: &AppState,
    token: &str,
) -> Result<Option<(AccountInvitation, Employee)>, AppError> {
    let hash = sha256_hex(token);
    let now = chrono::Utc::now();
    state
        .db(move |conn| {
            let Some(inv) = repo::account_invitations::find_by_token_hash(conn, &hash)? else {
                return Ok(None);
            };
            let employee = repo::employees::find(conn, inv.employee_id)?;
            Ok(employee
                .filter(|e| e.is_employed_on(now.date_naive()) && inv.is_usable(now.naive_utc()))
                .map(|e| (inv, e)))
        })
        .await
}

/// The token is in the address: keep it out of Referer headers and caches.
fn private(mut res: HttpResponse) -> HttpResponse {
    res.headers_mut().insert(
        header::REFERRER_POLICY,
        header::HeaderValue::from_static("no-referrer"),
    );
    res
}

/// Every refusal looks the same, so a link tells nothing about why.
fn gone(req: &HttpRequest) -> HttpResponse {
    let page = render(
        req,
        StatusCode::GONE,
        "message",
        json!({ "title": "This link no longer works", "heading": "This link no longer works",
                "text": "It may have been used already or have expired. Ask HR to send you a new one.",
                "link": {"href": "/login", "label": "Sign in"}, "user": null }),
    );
    private(page)
}

fn form(
    req: &HttpRequest,
    status: StatusCode,
    token: &str,
    e: &Employee,
    fields: &BTreeMap<&str, String>,
) -> HttpResponse {
    private(render(
        req,
        status,
        "account_setup",
        json!({ "title": "Choose your password", "token": token, "name": e.name, "email": e.email,
                "error": (!fields.is_empty()).then_some("Please correct the fields below."),
                "fields": fields, "user": null }),
    ))
}

/// A GET only shows the form: mail scanners fetch links, and must use nothing up.
pub async fn setup_form(
    state: web::Data<AppState>,
    req: HttpRequest,
    q: web::Query<TokenQuery>,
) -> Result<HttpResponse, AppError> {
    let token = q.token.clone().unwrap_or_default();
    Ok(match open(&state, &token).await? {
        Some((_, e)) => form(&req, StatusCode::OK, &token, &e, &BTreeMap::new()),
        None => gone(&req),
    })
}

pub async fn setup(
    state: web::Data<AppState>,
    req: HttpRequest,
    body: web::Form<SetupForm>,
) -> Result<HttpResponse, AppError> {
    let Some((invitation, employee)) = open(&state, &body.token).await? else {
        return Ok(gone(&req));
    };
    let mut fields = BTreeMap::new();
    if let Err(e) = check_password(&body.password) {
        fields.insert("password", e);
    } else if body.password != body.password_confirm {
        fields.insert("password_confirm", "does not match the password".into());
    }
    if !fields.is_empty() {
        return Ok(form(
            &req,
            StatusCode::UNPROCESSABLE_ENTITY,
            &body.token,
            &employee,
            &fields,
        ));
    }
    let pw = body.password.clone();
    let hash = web::block(move || password::hash(&pw)).await?;
    let now = chrono::Utc::now().naive_utc();
    let used = state
        .db(move |conn| {
            crate::db::write_transaction(conn, |conn| {
                // Two tabs submitting at once: only one sets the password.
                if !repo::account_invitations::mark_used(conn, invitation.id, now)? {
                    return Ok(false);
                }
                let changes = repo::employees::EmployeeChanges {
                    password_hash: Some(Some(hash)),
                    updated_at: Some(now),
                    ..Default::default()
                };
                repo::employees::update(conn, invitation.employee_id, &changes)?;
                Ok(true)
            })
        })
        .await?;
    if !used {
        return Ok(gone(&req));
    }
    Ok(private(render(
        &req,
        StatusCode::OK,
        "message",
        json!({ "title": "Your password is set", "heading": "Your password is set",
                "text": format!("You can now sign in as {}.", employee.email),
                "link": {"href": "/login", "label": "Sign in"}, "user": null }),
    )))
}
