//! /auth/oidc/start and its callback: signing in through the OpenID provider.
//!
//! The browser leaves with a fresh `state`, `nonce` and PKCE challenge; the
//! state is also set in a cookie, so a callback only completes in the browser
//! that started it (no one can sign a victim in as themselves), and its row
//! is deleted on first use, so a replayed callback is refused.

use crate::auth::oidc::{self, OidcError};
use crate::auth::session;
use crate::error::AppError;
use crate::routes::pages::redirect;
use crate::routes::pages::session::login_page;
use crate::routes::pages::ui::safe_next;
use crate::state::AppState;
use crate::tokens::{random_token, sha256_hex};
use actix_web::cookie::{time, Cookie, SameSite};
use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use chrono::Utc;
use serde::Deserialize;

const STATE_COOKIE: &str = "pulse_sso";
const START: &str = "/auth/oidc/start";
const CALLBACK: &str = "/auth/oidc/callback";

pub fn configure(cfg: &mut web::ServiceConfig) {
    crate::routes::Router::new()
        .route(START, web::get().to(start))
        // The first name this page had; bookmarks and provider buttons keep working.
        .route("/login/sso", web::get().to(start))
        .route(CALLBACK, web::get().to(callback))
        .register(cfg);
}

#[derive(Deserialize)]
pub struct Start {
    next: Option<String>,
}

#[derive(Deserialize)]
pub struct Callback {
    code: Option<String>,
    state: Option<String>,
    error: Option<String>,
    error_description: Option<String>,
}

fn redirect_uri(state: &AppState) -> String {
    format!("{}{CALLBACK}", state.settings.base())
}

fn state_cookie(state: &AppState, value: &str) -> Cookie<'static> {
    Cookie::build(STATE_COOKIE, value.to_string())
        .path(CALLBACK)
        .http_only(true)
        // Lax: the provider sends the browser back with a top-level GET.
        .same_site(SameSite::Lax)
        .secure(state.settings.is_https())
        .max_age(time::Duration::minutes(
            crate::repo::oidc_logins::VALID_MINUTES,
        ))
        .finish()
}

fn not_set_up(state: &AppState, req: &HttpRequest) -> HttpResponse {
    refused(
        state,
        req,
        StatusCode::NOT_FOUND,
        "single sign-on is not set up here: sign in with your Pulse password".into(),
    )
}

/// Our own database failed: logged, and the person is asked to retry.
fn unavailable(state: &AppState, req: &HttpRequest, e: AppError) -> HttpResponse {
    tracing::error!(error = %e, "single sign-on could not use the database");
    refused(
        state,
        req,
        StatusCode::SERVICE_UNAVAILABLE,
        "signing in is not possible right now; try again in a minute".into(),
    )
}

fn refused(state: &AppState, req: &HttpRequest, status: StatusCode, why: String) -> HttpResponse {
    let mut res = login_page(state, req, status, "", Some(why), None);
    forget_state(state, &mut res);
    res
}

/// A finished or refused sign-in's state cookie is of no further use.
fn forget_state(state: &AppState, res: &mut HttpResponse) {
    let mut gone = state_cookie(state, "");
    gone.make_removal();
    let _ = res.add_removal_cookie(&gone);
}

pub async fn start(
    state: web::Data<AppState>,
    req: HttpRequest,
    q: web::Query<Start>,
) -> HttpResponse {
    let Some(provider) = state.oidc.clone() else {
        return not_set_up(&state, &req);
    };
    let (login_state, nonce, verifier) = (random_token(), random_token(), oidc::code_verifier());
    let next = safe_next(q.next.as_deref()).to_string();
    let stored = {
        let (hash, nonce, verifier) = (sha256_hex(&login_state), nonce.clone(), verifier.clone());
        let now = Utc::now().naive_utc();
        state
            .db(move |conn| {
                Ok(crate::repo::oidc_logins::insert(
                    conn, &hash, &nonce, &verifier, &next, now,
                )?)
            })
            .await
    };
    if let Err(e) = stored {
        return unavailable(&state, &req, e);
    }
    let challenge = oidc::code_challenge(&verifier);
    match provider
        .authorization_url(&login_state, &nonce, &challenge, &redirect_uri(&state))
        .await
    {
        Ok(url) => {
            let mut res = redirect(&url);
            let _ = res.add_cookie(&state_cookie(&state, &login_state));
            res
        }
        Err(e) => {
            tracing::warn!(error = %e, "the identity provider is not answering");
            refused(
                &state,
                &req,
                StatusCode::SERVICE_UNAVAILABLE,
                format!("{e}; try again in a minute, or tell IT"),
            )
        }
    }
}

pub async fn callback(
    state: web::Data<AppState>,
    req: HttpRequest,
    q: web::Query<Callback>,
) -> HttpResponse {
    let Some(provider) = state.oidc.clone() else {
        return not_set_up(&state, &req);
    };
    if let Some(error) = &q.error {
        let why = q.error_description.as_deref().unwrap_or(error);
        return refused(
            &state,
            &req,
            StatusCode::UNAUTHORIZED,
            format!("the identity provider did not sign you in ({why}); try again"),
        );
    }
    let (Some(code), Some(login_state)) = (q.code.as_deref(), q.state.as_deref()) else {
        return refused(
            &state,
            &req,
            StatusCode::BAD_REQUEST,
            "this address lacks the code and state the identity provider adds: start again from the sign-in page".into(),
        );
    };
    let started_here = req
        .cookie(STATE_COOKIE)
        .is_some_and(|c| c.value() == login_state);
    if !started_here {
        return refused(
            &state,
            &req,
            StatusCode::BAD_REQUEST,
            "this sign-in was started in another browser or has expired: start again here".into(),
        );
    }
    let hash = sha256_hex(login_state);
    let now = Utc::now();
    let pending = state
        .db(move |conn| {
            Ok(crate::repo::oidc_logins::take(
                conn,
                &hash,
                now.naive_utc(),
            )?)
        })
        .await;
    let pending = match pending {
        Ok(Some(p)) => p,
        Ok(None) => {
            return refused(
                &state,
                &req,
                StatusCode::BAD_REQUEST,
                "this sign-in was already used or has expired: start again".into(),
            )
        }
        Err(e) => return unavailable(&state, &req, e),
    };
    let email = provider
        .sign_in(
            code,
            &pending.code_verifier,
            &redirect_uri(&state),
            &pending.nonce,
            now.timestamp().max(0) as u64,
        )
        .await;
    let email = match email {
        Ok(e) => e,
        Err(e @ OidcError::Provider(_)) => {
            tracing::warn!(error = %e, "single sign-on failed at the provider");
            return refused(&state, &req, StatusCode::SERVICE_UNAVAILABLE, e.to_string());
        }
        Err(e) => {
            tracing::warn!(error = %e, "single sign-on refused");
            return refused(&state, &req, StatusCode::UNAUTHORIZED, e.to_string());
        }
    };
    match session::sign_in_verified_email(&state, &email).await {
        Ok(signed) => {
            let mut res = redirect(safe_next(Some(&pending.next_path)));
            let _ = res.add_cookie(&session::session_cookie(&state, &signed.token));
            forget_state(&state, &mut res);
            res
        }
        Err(AppError::Forbidden(why)) => refused(&state, &req, StatusCode::FORBIDDEN, why),
        Err(e) => unavailable(&state, &req, e),
    }
}
