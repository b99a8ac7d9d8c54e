//! Signing in: rate limits, password check and the session cookie, shared by the API and the login page.

use crate::auth::jwt::SESSION_COOKIE;
use crate::auth::{password, private_notes};
use crate::domain::client_address::TrustedProxies;
use crate::error::{AppError, AppResult};
use crate::repo::{self, employees::Employee, login_attempts as la};
use crate::state::AppState;
use actix_web::cookie::{time, Cookie, SameSite};
use actix_web::HttpRequest;
use chrono::{DateTime, Utc};

pub struct SignedIn {
    pub token: String,
    pub expires_at: DateTime<Utc>,
    pub employee: Employee,
}

/// The client address used for rate limiting: the TCP peer, or, when the peer
/// is one of `PULSE_TRUSTED_PROXIES`, the right-most `X-Forwarded-For` address
/// that is not itself a trusted proxy. A header from anyone else is ignored,
/// since any client can write one.
pub fn client_ip(req: &HttpRequest, trusted: &TrustedProxies) -> String {
    let Some(peer) = req.peer_addr().map(|a| a.ip()) else {
        return "unknown".into();
    };
    let forwarded: Vec<&str> = req
        .headers()
        .get_all("x-forwarded-for")
        .filter_map(|v| v.to_str().ok())
        .collect();
    trusted.client_address(peer, &forwarded).to_string()
}

/// An email as sign-ins look it up: normalised as when the account was made.
fn as_stored(email: &str) -> String {
    crate::domain::email::Email::parse(email)
        .map(|e| e.to_string())
        .unwrap_or_else(|_| email.trim().to_lowercase())
}

/// Checks the password and issues a session. Every failure — unknown account,
/// wrong password, account without password or gone — is the same error.
///
/// The attempt is counted, for the account and for the address, before the
/// password is checked and in one conditional statement per key, so
/// concurrent guesses cannot all slip under the limit; a success then clears
/// the account's count and gives the address its attempt back.
pub async fn sign_in(
    state: &AppState,
    email: &str,
    password: &str,
    ip: &str,
) -> AppResult<SignedIn> {
    if !state.settings.password_sign_in {
        return Err(password_sign_in_off(state));
    }
    let email = as_stored(email);
    let password = password.to_string();
    let typed = password.clone();
    let account_key = la::account_key(&email);
    let address_key = la::address_key(ip);
    let now = Utc::now();
    let employee = {
        let (account_key, address_key) = (account_key.clone(), address_key.clone());
        state
            .db(move |conn| {
                let at = now.naive_utc();
                // Always the account first, then the address: every sign-in
                // takes the two row locks in the same order.
                let limits = [
                    (account_key.as_str(), la::PER_ACCOUNT),
                    (address_key.as_str(), la::PER_ADDRESS),
                ];
                crate::db::write_transaction(conn, |c| {
                    for (key, limit) in limits {
                        if !la::try_count(c, key, limit, at)? {
                            // Returning the error rolls back what this attempt counted.
                            return Err(AppError::RateLimited {
                                retry_after_secs: la::retry_after(c, key, at)?,
                            });
                        }
                    }
                    la::forget_old(c, at)?;
                    Ok(())
                })?;
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
        // The attempt is already counted as a failure.
        _ => return Err(AppError::InvalidCredentials),
    };
    let id = employee.id;
    let notes_key = state
        .db(move |conn| {
            crate::db::write_transaction(conn, |c| {
                la::clear(c, &account_key)?;
                la::give_back(c, &address_key)
            })?;
            Ok(private_notes::unlock(conn, id, &typed, now.naive_utc())?)
        })
        .await?;
    let (token, expires_at) = state.jwt.issue(employee.id, now, notes_key.as_ref());
    Ok(SignedIn {
        token,
        expires_at,
        employee,
    })
}

/// A session for the person the OpenID provider vouched for, matched by
/// their verified email to someone already in Pulse: strangers get no
/// account, and people who have left get no session. The session carries no
/// notes key until the person gives their notes passphrase.
pub async fn sign_in_verified_email(state: &AppState, email: &str) -> AppResult<SignedIn> {
    let normalised = as_stored(email);
    let now = Utc::now();
    let today = now.date_naive();
    let lookup = normalised.clone();
    let employee = state
        .db(move |conn| Ok(repo::employees::find_by_email(conn, &lookup)?))
        .await?
        .filter(|e| e.left_on.is_none_or(|l| today <= l))
        .ok_or_else(|| {
            AppError::Forbidden(format!(
                "nobody in Pulse has the email address {normalised}: ask HR to add you with the \
                 address your company account uses"
            ))
        })?;
    let (token, expires_at) = state.jwt.issue_as(employee.id, now, None, true);
    Ok(SignedIn {
        token,
        expires_at,
        employee,
    })
}

pub fn password_sign_in_off(state: &AppState) -> AppError {
    let name = state
        .settings
        .oidc
        .as_ref()
        .map_or("single sign-on", |o| o.name.as_str());
    AppError::Forbidden(format!(
        "signing in with a Pulse password is turned off here: sign in with {name}"
    ))
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
