//! The signed-in caller, taken from a Bearer token or the session cookie.

use crate::auth::jwt::SESSION_COOKIE;
use crate::auth::notes_key::NotesKey;
use crate::domain::people::Role;
use crate::error::AppError;
use crate::repo;
use crate::state::AppState;
use actix_web::dev::Payload;
use actix_web::http::{header, Method};
use actix_web::{web, FromRequest, HttpRequest};
use futures_util::future::LocalBoxFuture;

#[derive(Debug, Clone)]
pub struct Caller {
    pub id: i32,
    pub email: String,
    pub name: String,
    pub role: Role,
    pub team_id: Option<i32>,
    /// The key of the caller's private notes, when their sign-in unlocked it.
    pub notes_key: Option<NotesKey>,
    /// Signed in through the OpenID provider rather than with a password.
    pub sso: bool,
    /// The client address, as the sign-in limits see it (`session::client_ip`).
    pub ip: String,
}

impl Caller {
    pub fn is_admin(&self) -> bool {
        self.role == Role::Admin
    }

    /// Who the audit trail names for what this caller does.
    pub fn actor(&self) -> crate::repo::audit::Actor {
        crate::repo::audit::Actor::person(self.id, self.ip.clone())
    }
}

/// A caller who must be an admin (HR); anyone else gets 403.
#[derive(Debug, Clone)]
pub struct Admin(pub Caller);

fn bearer(req: &HttpRequest) -> Option<String> {
    let value = req.headers().get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.split_once(' ')?;
    scheme
        .eq_ignore_ascii_case("bearer")
        .then(|| token.trim().to_string())
}

/// A cookie rides along on cross-site requests, so a write that relies on it
/// must come from our own pages: Origin must be ours, or, without Origin, the
/// browser's Sec-Fetch-Site must say so. Clients sending neither are not
/// browsers and cannot be tricked into riding a cookie.
pub fn same_origin(req: &HttpRequest, base: &url::Url) -> bool {
    if let Some(origin) = req
        .headers()
        .get(header::ORIGIN)
        .and_then(|v| v.to_str().ok())
    {
        return url::Url::parse(origin).is_ok_and(|o| o.origin() == base.origin());
    }
    match req
        .headers()
        .get("sec-fetch-site")
        .and_then(|v| v.to_str().ok())
    {
        Some(site) => matches!(site, "same-origin" | "none"),
        None => true,
    }
}

/// The raw session token of a request, and whether it came from the cookie.
pub fn session_token(req: &HttpRequest) -> Option<(String, bool)> {
    bearer(req).map(|t| (t, false)).or_else(|| {
        req.cookie(SESSION_COOKIE)
            .map(|c| (c.value().to_string(), true))
    })
}

impl FromRequest for Caller {
    type Error = AppError;
    type Future = LocalBoxFuture<'static, Result<Self, AppError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let state = req.app_data::<web::Data<AppState>>().cloned();
        let token = session_token(req);
        let unsafe_method = !matches!(*req.method(), Method::GET | Method::HEAD | Method::OPTIONS);
        let csrf_ok = |state: &AppState| same_origin(req, &state.settings.base_url);
        let ip = state
            .as_ref()
            .map(|s| crate::auth::session::client_ip(req, &s.settings.trusted_proxies))
            .unwrap_or_default();
        let checked = match (&state, &token) {
            (Some(state), Some((_, true))) if unsafe_method && !csrf_ok(state) => {
                Err(AppError::Forbidden(
                    "cross-site request refused: send it from Pulse's own pages".into(),
                ))
            }
            _ => Ok(()),
        };
        Box::pin(async move {
            checked?;
            let state =
                state.ok_or_else(|| AppError::Internal(anyhow::anyhow!("app state missing")))?;
            let (token, _) = token.ok_or_else(|| {
                AppError::Unauthorized(
                    "sign in first: send a Bearer token or the session cookie".into(),
                )
            })?;
            let session = state.jwt.verify(&token).ok_or_else(|| {
                AppError::Unauthorized(
                    "the session is invalid or has expired: sign in again".into(),
                )
            })?;
            let (id, issued_at) = (session.employee_id, session.issued_at);
            let employee = state
                .db(move |conn| Ok(repo::employees::find(conn, id)?))
                .await?;
            let today = chrono::Utc::now().date_naive();
            // Checked on every request so a role change or a departure takes
            // effect at once, not when the token expires.
            match employee {
                Some(e)
                    // A session from single sign-on needs no Pulse password.
                    if (e.password_hash.is_some() || session.sso)
                        && e.left_on.is_none_or(|l| today <= l)
                        && e.sessions_valid_after
                            .is_none_or(|t| issued_at >= t.and_utc().timestamp()) =>
                {
                    Ok(Caller {
                        id: e.id,
                        email: e.email,
                        name: e.name,
                        role: Role::parse(&e.role).unwrap_or(Role::Member),
                        team_id: e.team_id,
                        notes_key: session.notes_key,
                        sso: session.sso,
                        ip,
                    })
                }
                _ => Err(AppError::Unauthorized(
                    "the session is invalid or has expired: sign in again".into(),
                )),
            }
        })
    }
}

impl FromRequest for Admin {
    type Error = AppError;
    type Future = LocalBoxFuture<'static, Result<Self, AppError>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let caller = Caller::from_request(req, payload);
        Box::pin(async move {
            let caller = caller.await?;
            if caller.is_admin() {
                Ok(Admin(caller))
            } else {
                Err(AppError::Forbidden("only HR admins may do this".into()))
            }
        })
    }
}
