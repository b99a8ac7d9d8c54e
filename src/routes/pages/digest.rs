//! /account/digest (the weekly digest on or off, and this week's) and
//! /digest/unsubscribe/<token> (the link in every digest email).

use crate::routes::pages::ui::{redirect_with, FormData, OrPage, PageResult, Session};
use crate::routes::pages::{message_page, render};
use crate::state::AppState;
use crate::tokens::sha256_hex;
use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use serde_json::json;

const HERE: &str = "/account/digest";

pub fn configure(cfg: &mut web::ServiceConfig) {
    crate::routes::Router::new()
        .route(HERE, web::get().to(show))
        .route(HERE, web::post().to(set))
        .route("/digest/unsubscribe/{token}", web::get().to(confirm))
        .route("/digest/unsubscribe/{token}", web::post().to(unsubscribe))
        .register(cfg);
}

async fn show(req: HttpRequest, session: Session, state: web::Data<AppState>) -> PageResult {
    let user = session.require(&req)?;
    let me = user.caller.id;
    let now = chrono::Utc::now();
    let (enabled, digest) = state
        .db(move |conn| {
            let enabled = crate::repo::digests::enabled(conn, me)?;
            let digest = crate::reports::digest::load(conn, me, now)?;
            Ok((enabled, crate::reports::digest::view(&digest)))
        })
        .await
        .or_page(&req, &user)?;
    Ok(user.page(
        &req,
        "account_digest",
        json!({"title": "Weekly digest", "enabled": enabled, "digest": digest}),
    ))
}

async fn set(
    req: HttpRequest,
    session: Session,
    state: web::Data<AppState>,
    form: FormData,
) -> PageResult {
    let user = session.require(&req)?;
    user.check_csrf(&req, &form)?;
    let on = form.get("enabled") == "on";
    let me = user.caller.id;
    state
        .db(move |conn| Ok(crate::repo::digests::set_enabled(conn, me, on)?))
        .await
        .or_page(&req, &user)?;
    let text = if on {
        "You will get the weekly digest every Monday."
    } else {
        "You will no longer get the weekly digest."
    };
    Ok(redirect_with(&req, HERE, true, text))
}

fn unknown(req: &HttpRequest) -> HttpResponse {
    message_page(
        req,
        StatusCode::NOT_FOUND,
        "Link not recognised",
        "This unsubscribe link is not one Pulse sent. Sign in and turn the weekly digest off on your account page.",
    )
}

/// A GET changes nothing (mail scanners follow links): it asks first.
async fn confirm(
    req: HttpRequest,
    state: web::Data<AppState>,
    token: web::Path<String>,
) -> Result<HttpResponse, crate::error::AppError> {
    let token = token.into_inner();
    let hash = sha256_hex(&token);
    let lead = state
        .db(move |conn| Ok(crate::repo::digests::by_unsubscribe_hash(conn, &hash)?))
        .await?;
    Ok(match lead {
        None => unknown(&req),
        Some(_) => render(
            &req,
            StatusCode::OK,
            "digest_unsubscribe",
            json!({"title": "Stop the weekly digest", "token": token, "user": null}),
        ),
    })
}

async fn unsubscribe(
    req: HttpRequest,
    state: web::Data<AppState>,
    token: web::Path<String>,
) -> Result<HttpResponse, crate::error::AppError> {
    let hash = sha256_hex(&token.into_inner());
    let done = state
        .db(move |conn| {
            let Some(lead) = crate::repo::digests::by_unsubscribe_hash(conn, &hash)? else {
                return Ok(false);
            };
            crate::repo::digests::set_enabled(conn, lead, false)?;
            Ok(true)
        })
        .await?;
    Ok(if done {
        message_page(
            &req,
            StatusCode::OK,
            "Weekly digest stopped",
            "You will no longer get the weekly digest. Turn it back on from your account page whenever you like.",
        )
    } else {
        unknown(&req)
    })
}
