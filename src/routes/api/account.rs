//! /api/v1/account/notes: the caller's private-notes key — its state, a recovery code, unlocking after a password reset, starting afresh.

use crate::auth::notes_key::RecoveryCode;
use crate::auth::one_on_one::notes_locked;
use crate::auth::private_notes::{self, RecoverError};
use crate::auth::{password, session, Caller};
use crate::error::{AppError, AppResult};
use crate::repo;
use crate::state::AppState;
use actix_web::{web, HttpResponse};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

#[derive(Serialize, utoipa::ToSchema)]
pub struct NotesKeyState {
    /// This session can read and write the caller's private notes.
    pub unlocked: bool,
    /// The caller has earlier private notes this session cannot open: their
    /// password was reset since. Unlock with the recovery code, or start afresh.
    pub locked: bool,
    pub has_recovery_code: bool,
    /// This session came through single sign-on and has not opened the notes
    /// key yet: send the notes passphrase (a Pulse password, if the person
    /// has one, serves as it) to `POST /api/v1/account/notes/passphrase`.
    pub needs_passphrase: bool,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct RecoveryCodeOut {
    /// Shown this once and stored nowhere: keep it somewhere safe.
    pub recovery_code: String,
}

#[derive(Deserialize, utoipa::ToSchema)]
pub struct UnlockRequest {
    pub recovery_code: String,
    /// The caller's current password, under which the key is wrapped again.
    pub password: String,
}

#[derive(Deserialize, utoipa::ToSchema)]
pub struct PassphraseRequest {
    /// The notes passphrase; chosen now (at least 10 characters) when the
    /// person has neither a notes key nor a Pulse password.
    pub passphrase: String,
}

#[derive(Deserialize, utoipa::ToSchema)]
pub struct StartAfreshRequest {
    pub password: String,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct NewSession {
    /// A new session that carries the notes key; also set as the cookie.
    pub token: String,
    pub expires_at: DateTime<Utc>,
    /// Private notes deleted because no key opens them any more (start afresh).
    pub deleted_private_notes: usize,
}

pub async fn key_state(state: &AppState, caller: &Caller) -> AppResult<NotesKeyState> {
    let id = caller.id;
    let (has_key, has_recovery_code) = state
        .db(move |conn| {
            Ok((
                private_notes::has_key(conn, id)?,
                private_notes::has_recovery_code(conn, id)?,
            ))
        })
        .await?;
    let unlocked = caller.notes_key.is_some();
    Ok(NotesKeyState {
        unlocked,
        locked: has_key && !unlocked,
        has_recovery_code,
        needs_passphrase: caller.sso && !unlocked,
    })
}

#[utoipa::path(get, path = "/api/v1/account/notes", tag = "account",
    responses((status = 200, body = NotesKeyState)))]
pub async fn notes(state: web::Data<AppState>, caller: Caller) -> AppResult<HttpResponse> {
    Ok(HttpResponse::Ok().json(key_state(&state, &caller).await?))
}

/// A new recovery code (any earlier one stops working); needs an unlocked session.
pub async fn make_recovery_code(state: &AppState, caller: &Caller) -> AppResult<String> {
    let key = caller.notes_key.clone().ok_or_else(notes_locked)?;
    let id = caller.id;
    let now = Utc::now().naive_utc();
    let code = state
        .db(move |conn| Ok(private_notes::new_recovery_code(conn, id, &key, now)?))
        .await?;
    Ok(code.show())
}

#[utoipa::path(post, path = "/api/v1/account/notes/recovery-code", tag = "account",
    responses((status = 201, body = RecoveryCodeOut),
              (status = 409, description = "notes_locked: this session cannot open the notes key", body = crate::error::ErrorBody)))]
pub async fn recovery_code(state: web::Data<AppState>, caller: Caller) -> AppResult<HttpResponse> {
    let recovery_code = make_recovery_code(&state, &caller).await?;
    Ok(HttpResponse::Created().json(RecoveryCodeOut { recovery_code }))
}

/// The caller's password, checked as at sign-in; a wrong one is a field error.
/// Someone who signs in only through single sign-on has no Pulse password:
/// what they type becomes their notes passphrase, so it need only be long enough.
async fn check_password(state: &AppState, caller: &Caller, typed: &str) -> AppResult<()> {
    let id = caller.id;
    let stored = state
        .db(move |conn| Ok(repo::employees::find(conn, id)?.and_then(|e| e.password_hash)))
        .await?;
    if stored.is_none() && caller.sso {
        return crate::domain::people::check_password(typed)
            .map_err(|why| AppError::field("password", format!("(your notes passphrase) {why}")));
    }
    let typed = typed.to_string();
    if web::block(move || password::verify(&typed, stored.as_deref())).await? {
        Ok(())
    } else {
        Err(AppError::field("password", "is not your current password"))
    }
}

/// Opens the key with the recovery code and wraps it under the current password.
pub async fn unlock_with_code(
    state: &AppState,
    caller: &Caller,
    code: &str,
    typed_password: &str,
) -> AppResult<NewSession> {
    let code = RecoveryCode::parse(code).ok_or_else(|| {
        AppError::field(
            "recovery_code",
            "is not a recovery code: 32 letters and digits, as shown when it was made",
        )
    })?;
    check_password(state, caller, typed_password).await?;
    let (id, typed) = (caller.id, typed_password.to_string());
    let now = Utc::now();
    let key = state
        .db(move |conn| {
            crate::db::write_transaction(conn, |c| {
                Ok(private_notes::recover(
                    c,
                    id,
                    &code,
                    &typed,
                    now.naive_utc(),
                )?)
            })
        })
        .await?
        .map_err(|e| match e {
            RecoverError::NothingToRecover => AppError::Conflict {
                code: "no_recovery_code",
                message: "no recovery code was made for your private notes, so they cannot be \
                          unlocked; you can start afresh"
                    .into(),
            },
            RecoverError::WrongCode => AppError::field(
                "recovery_code",
                "does not open your private notes: check it, or use the newest code you made",
            ),
        })?;
    let (token, expires_at) = state.jwt.issue_as(id, now, Some(&key), caller.sso);
    Ok(NewSession {
        token,
        expires_at,
        deleted_private_notes: 0,
    })
}

/// Opens the notes key of a session that came through single sign-on with
/// the notes passphrase, or makes the key under a new passphrase at the
/// person's first use. Someone with a Pulse password uses it as the
/// passphrase, so both ways in open the same wrapping.
pub async fn unlock_with_passphrase(
    state: &AppState,
    caller: &Caller,
    typed: &str,
) -> AppResult<NewSession> {
    let id = caller.id;
    let has_key = state
        .db(move |conn| Ok(private_notes::has_key(conn, id)?))
        .await?;
    if !has_key {
        // The first key is made under what is typed: it must be the Pulse
        // password when there is one, else long enough to be a passphrase.
        check_password(state, caller, typed)
            .await
            .map_err(|_| passphrase_refused(true))?;
    }
    let typed = typed.to_string();
    let now = Utc::now();
    let key = state
        .db(move |conn| {
            crate::db::write_transaction(conn, |c| {
                Ok(private_notes::unlock(c, id, &typed, now.naive_utc())?)
            })
        })
        .await?
        .ok_or_else(|| passphrase_refused(false))?;
    let (token, expires_at) = state.jwt.issue_as(id, now, Some(&key), caller.sso);
    Ok(NewSession {
        token,
        expires_at,
        deleted_private_notes: 0,
    })
}

fn passphrase_refused(first: bool) -> AppError {
    AppError::field(
        "passphrase",
        if first {
            "must be your Pulse password if you have one, else a new passphrase of 10 to 256 characters"
        } else {
            "does not open your private notes: it is the passphrase you chose (or your Pulse \
             password, if you have one); a recovery code also opens them"
        },
    )
}

/// Deletes the private notes no key opens any more and makes a new key.
pub async fn start_afresh_with(
    state: &AppState,
    caller: &Caller,
    typed_password: &str,
) -> AppResult<NewSession> {
    check_password(state, caller, typed_password).await?;
    let (id, typed) = (caller.id, typed_password.to_string());
    let now = Utc::now();
    let (key, deleted) = state
        .db(move |conn| {
            crate::db::write_transaction(conn, |c| {
                Ok(private_notes::start_afresh(c, id, &typed, now.naive_utc())?)
            })
        })
        .await?;
    let (token, expires_at) = state.jwt.issue_as(id, now, Some(&key), caller.sso);
    Ok(NewSession {
        token,
        expires_at,
        deleted_private_notes: deleted,
    })
}

#[utoipa::path(post, path = "/api/v1/account/notes/unlock", tag = "account", request_body = UnlockRequest,
    responses((status = 200, body = NewSession),
              (status = 409, description = "no_recovery_code", body = crate::error::ErrorBody),
              (status = 422, description = "a wrong recovery code or password", body = crate::error::ErrorBody)))]
pub async fn unlock(
    state: web::Data<AppState>,
    caller: Caller,
    body: web::Json<UnlockRequest>,
) -> AppResult<HttpResponse> {
    let out = unlock_with_code(&state, &caller, &body.recovery_code, &body.password).await?;
    Ok(HttpResponse::Ok()
        .cookie(session::session_cookie(&state, &out.token))
        .json(out))
}

#[utoipa::path(post, path = "/api/v1/account/notes/passphrase", tag = "account", request_body = PassphraseRequest,
    responses((status = 200, body = NewSession),
              (status = 422, description = "a passphrase that does not open the notes key, or too short a new one", body = crate::error::ErrorBody)))]
pub async fn passphrase(
    state: web::Data<AppState>,
    caller: Caller,
    body: web::Json<PassphraseRequest>,
) -> AppResult<HttpResponse> {
    let out = unlock_with_passphrase(&state, &caller, &body.passphrase).await?;
    Ok(HttpResponse::Ok()
        .cookie(session::session_cookie(&state, &out.token))
        .json(out))
}

#[utoipa::path(post, path = "/api/v1/account/notes/start-afresh", tag = "account", request_body = StartAfreshRequest,
    responses((status = 200, body = NewSession),
              (status = 422, description = "a wrong password", body = crate::error::ErrorBody)))]
pub async fn start_afresh(
    state: web::Data<AppState>,
    caller: Caller,
    body: web::Json<StartAfreshRequest>,
) -> AppResult<HttpResponse> {
    let out = start_afresh_with(&state, &caller, &body.password).await?;
    Ok(HttpResponse::Ok()
        .cookie(session::session_cookie(&state, &out.token))
        .json(out))
}
