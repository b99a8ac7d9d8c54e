//! Signing in: rate limits, password check and the session cookie, shared by the API and the login page.

use crate::auth::jwt::SESSION_COOKIE;
use crate::auth::password;
use crate::error::{AppError, AppResult};
use crate::repo::{self, employees::Employee, login_failures as lf};
use crate::state::AppState;
use actix_web::cookie::{time, Cookie, SameSite};
use actix_web::HttpRequest;
use chrono::{DateTime, Utc};

pub struct SignedIn {
    pub token: String,
    pub expires_at: DateTime<Utc>,
    pub employee: Employee,
}

/// The client address used for rate limiting: the TCP peer, not a header a
/// client could forge.
pub fn client_ip(req: &HttpRequest) -> String {
    req.peer_addr()
        .map(|a| a.ip().to_string())
        .unwrap_or_else(|| "unknown".into())
}

/// Checks the password and issues a session. Every failure — unknown account,
/// wrong password, account without password or gone — is the same error.
pub async fn sign_in(
    state: &AppState,
    email: &str,
    password: &str,
    ip: &str,
) -> AppResult<SignedIn> {
    // Looked up as stored: normalised as when the account was made.
    let email = crate::domain::email::Email::parse(email)
        .map(|e| e.to_string())
        .unwrap_or_else(|_| email.trim().to_lowercase());
    let password = password.to_string();
    let account_key = lf::account_key(&email);
    let address_key = lf::address_key(ip);
    let now = Utc::now();
    let employee = {
        let (account_key, address_key) = (account_key.clone(), address_key.clone());
        state
            .db(move |conn| {
                let limits = [
                    (account_key.as_str(), lf::PER_ACCOUNT),
                    (address_key.as_str(), lf::PER_ADDRESS),
                ];
                if let Some(secs) = lf::retry_after(conn, &limits, now.naive_utc())? {
                    return Err(AppError::RateLimited {
                        retry_after_secs: secs,
                    });
                }
                Ok(repo::employees::find_by_email(conn, &email)?)
            })
            .await?
    };
    let today = now.date_naive();
    let stored = employee
        .as_ref()
        .filter(|e| e.left_on.is_none_or(|l| today <= l))
        .and_then(|e| e.password_hash.clone());
    let ok = actix_web::web::block(move || password::verify(&password, stored.as_deref())).await?;
    let employee = match employee {
        Some(e) if ok => e,
        _ => {
            state
                .db(move |conn| {
                    Ok(lf::record(
                        conn,
                        &[&account_key, &address_key],
                        now.naive_utc(),
                    )?)
                })
                .await?;
            return Err(AppError::InvalidCredentials);
        }
    };
    state
        .db(move |conn| Ok(lf::clear(conn, &account_key)?))
        .await?;
    let (token, expires_at) = state.jwt.issue(employee.id, now);
    Ok(SignedIn {
        token,
        expires_at,
        employee,
    })
}

/// HttpOnly so scripts cannot read it, SameSite=Lax so other sites cannot post
/// with it, Secure whenever Pulse is served over https.
pub fn session_cookie(state: &AppState, token: &str) -> Cookie<'static> {
    Cookie::build(SESSION_COOKIE, token.to_string())
        .path("/")
        .http_only(true)
        .same_site(SameSite::Lax)
        .secure(state.settings.is_https())
        .max_age(time::Duration::hours(crate::auth::jwt::SESSION_HOURS))
        .finish()
}

pub fn expired_cookie(state: &AppState) -> Cookie<'static> {
    let mut c = session_cookie(state, "");
    c.make_removal();
    c
}

/// Signing out ends every session of the person, Bearer tokens included: a
/// token issued before this instant is refused from now on.
pub async fn end_sessions(state: &AppState, employee_id: i32) -> AppResult<()> {
    let after = repo::employees::sessions_cutoff();
    state
        .db(move |conn| Ok(repo::employees::end_sessions(conn, employee_id, after)?))
        .await
}
