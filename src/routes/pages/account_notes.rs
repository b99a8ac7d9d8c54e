//! /account/notes: the signed-in person's private-notes key — whether this
//! session can open the notes, a recovery code shown once, unlocking with it
//! after a password reset, or starting afresh.

use crate::auth::session::session_cookie;
use crate::error::AppError;
use crate::routes::api::account::{
    key_state, make_recovery_code, start_afresh_with, unlock_with_code, unlock_with_passphrase,
    NewSession,
};
use crate::routes::pages::ui::{
    field, field_errors, redirect_with, FormData, OrPage, PageResult, Session, User,
};
use crate::state::AppState;
use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest};
use serde_json::json;
use std::collections::BTreeMap;

const HERE: &str = "/account/notes";

pub fn configure(cfg: &mut web::ServiceConfig) {
    crate::routes::Router::new()
        .route(HERE, web::get().to(show))
        .route(
            "/account/notes/recovery-code",
            web::post().to(recovery_code),
        )
        .route("/account/notes/unlock", web::post().to(unlock))
        .route("/account/notes/passphrase", web::post().to(passphrase))
        .route("/account/notes/start-afresh", web::post().to(start_afresh))
        .register(cfg);
}

/// Which form a refusal belongs to, with its reasons and what was typed.
enum Shown {
    Nothing,
    Code(String),
    Refused {
        form: &'static str,
        errors: BTreeMap<String, String>,
    },
}

async fn render(req: &HttpRequest, user: &User, state: &AppState, shown: Shown) -> PageResult {
    let key = key_state(state, &user.caller).await.or_page(req, user)?;
    let (status, code, form, errors) = match shown {
        Shown::Nothing => (StatusCode::OK, None, "", BTreeMap::new()),
        Shown::Code(c) => (StatusCode::OK, Some(c), "", BTreeMap::new()),
        Shown::Refused { form, errors } => (StatusCode::UNPROCESSABLE_ENTITY, None, form, errors),
    };
    let none = BTreeMap::new();
    let of = |f: &str| if form == f { &errors } else { &none };
    // Signed in through single sign-on without a Pulse password, what is
    // typed in place of the password becomes the notes passphrase.
    let password_label = if user.caller.sso {
        "Your Pulse password, or a new notes passphrase if you have none"
    } else {
        "Your current password"
    };
    Ok(user.render(
        req,
        status,
        "account_notes",
        json!({
            "title": "Your private notes",
            "narrow": true,
            "unlocked": key.unlocked,
            "locked": key.locked,
            "has_recovery_code": key.has_recovery_code,
            "needs_passphrase": key.needs_passphrase,
            "recovery_code": code,
            "passphrase_error": of("passphrase").get("form"),
            "passphrase_fields": [
                field("passphrase", "Notes passphrase").id("notes-passphrase").kind("password")
                    .required().autocomplete("current-password").errors(of("passphrase")).json(),
            ],
            "unlock_error": of("unlock").get("form"),
            "unlock_fields": [
                field("recovery_code", "Recovery code").id("unlock-code").required()
                    .autocomplete("off").hint("32 letters and digits, dashes optional")
                    .errors(of("unlock")).json(),
                field("password", password_label).id("unlock-password").kind("password")
                    .required().autocomplete("current-password").errors(of("unlock")).json(),
            ],
            "afresh_error": of("afresh").get("form").or(of("afresh").get("confirm")),
            "afresh_fields": [
                field("password", password_label).id("afresh-password").kind("password")
                    .required().autocomplete("current-password").errors(of("afresh")).json(),
            ],
        }),
    ))
}

pub async fn show(req: HttpRequest, session: Session, state: web::Data<AppState>) -> PageResult {
    let user = session.require(&req)?;
    render(&req, &user, &state, Shown::Nothing).await
}

/// Shows the new code on this response only; it is stored nowhere.
pub async fn recovery_code(
    req: HttpRequest,
    session: Session,
    state: web::Data<AppState>,
    form: FormData,
) -> PageResult {
    let user = session.require(&req)?;
    user.check_csrf(&req, &form)?;
    let code = make_recovery_code(&state, &user.caller)
        .await
        .or_page(&req, &user)?;
    render(&req, &user, &state, Shown::Code(code)).await
}

/// A refusal of the form's fields re-shows the page; anything else is an error page.
async fn refused(
    req: &HttpRequest,
    user: &User,
    state: &AppState,
    form: &'static str,
    e: AppError,
) -> PageResult {
    match field_errors(&e) {
        Some(errors) => render(req, user, state, Shown::Refused { form, errors }).await,
        None => Err(user.error(req, e)),
    }
}

/// Back to the page in the new session, which carries the notes key.
fn opened(req: &HttpRequest, state: &AppState, out: &NewSession, text: &str) -> PageResult {
    let mut res = redirect_with(req, HERE, true, text);
    res.add_cookie(&session_cookie(state, &out.token))
        .map_err(actix_web::error::ErrorInternalServerError)?;
    Ok(res)
}

pub async fn unlock(
    req: HttpRequest,
    session: Session,
    state: web::Data<AppState>,
    form: FormData,
) -> PageResult {
    let user = session.require(&req)?;
    user.check_csrf(&req, &form)?;
    match unlock_with_code(
        &state,
        &user.caller,
        form.get("recovery_code"),
        form.get("password"),
    )
    .await
    {
        Ok(out) => opened(
            &req,
            &state,
            &out,
            "Your private notes are unlocked again. Your recovery code still works; if anyone else may have seen it, make a new one.",
        ),
        Err(e) => refused(&req, &user, &state, "unlock", e).await,
    }
}

pub async fn passphrase(
    req: HttpRequest,
    session: Session,
    state: web::Data<AppState>,
    form: FormData,
) -> PageResult {
    let user = session.require(&req)?;
    user.check_csrf(&req, &form)?;
    match unlock_with_passphrase(&state, &user.caller, form.get("passphrase")).await {
        Ok(out) => opened(
            &req,
            &state,
            &out,
            "Your private notes are open in this session.",
        ),
        Err(e) => refused(&req, &user, &state, "passphrase", e).await,
    }
}

pub async fn start_afresh(
    req: HttpRequest,
    session: Session,
    state: web::Data<AppState>,
    form: FormData,
) -> PageResult {
    let user = session.require(&req)?;
    user.check_csrf(&req, &form)?;
    if !form.has("confirm") {
        let errors = BTreeMap::from([(
            "confirm".to_string(),
            "Tick the box to confirm that your locked private notes will be deleted.".to_string(),
        )]);
        return render(
            &req,
            &user,
            &state,
            Shown::Refused {
                form: "afresh",
                errors,
            },
        )
        .await;
    }
    match start_afresh_with(&state, &user.caller, form.get("password")).await {
        Ok(out) => {
            let text = match out.deleted_private_notes {
                0 => "Your private notes are unlocked; nothing needed deleting.".to_string(),
                1 => "Started afresh: 1 private note no key could open was deleted.".to_string(),
                n => format!("Started afresh: {n} private notes no key could open were deleted."),
            };
            opened(&req, &state, &out, &text)
        }
        Err(e) => refused(&req, &user, &state, "afresh", e).await,
    }
}
