//! Sign-ins waiting for the OpenID provider to send the browser back: each used once, then gone.

use crate::db::schema::oidc_logins;
use crate::db::DbConnection;
use chrono::{Duration, NaiveDateTime};
use diesel::prelude::*;

/// Long enough to type a password and pass a second factor at the provider.
pub const VALID_MINUTES: i64 = 10;

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = oidc_logins)]
pub struct PendingLogin {
    pub nonce: String,
    pub code_verifier: String,
    pub next_path: String,
    pub created_at: NaiveDateTime,
}

pub fn insert(
    conn: &mut DbConnection,
    state_hash: &str,
    nonce: &str,
    code_verifier: &str,
    next_path: &str,
    now: NaiveDateTime,
) -> QueryResult<()> {
    // Abandoned sign-ins go as new ones start.
    diesel::delete(
        oidc_logins::table
            .filter(oidc_logins::created_at.lt(now - Duration::minutes(VALID_MINUTES))),
    )
    .execute(conn)?;
    diesel::insert_into(oidc_logins::table)
        .values((
            oidc_logins::state_hash.eq(state_hash),
            oidc_logins::nonce.eq(nonce),
            oidc_logins::code_verifier.eq(code_verifier),
            oidc_logins::next_path.eq(next_path),
            oidc_logins::created_at.eq(now),
        ))
        .execute(conn)
        .map(drop)
}

/// The sign-in `state_hash` started, removed so it cannot be used again;
/// `None` when it is unknown, used already (by this or a concurrent
/// callback: only the one whose delete removed the row gets it) or too old.
pub fn take(
    conn: &mut DbConnection,
    state_hash: &str,
    now: NaiveDateTime,
) -> QueryResult<Option<PendingLogin>> {
    let Some(found) = oidc_logins::table
        .find(state_hash)
        .select(PendingLogin::as_select())
        .first(conn)
        .optional()?
    else {
        return Ok(None);
    };
    let removed = diesel::delete(oidc_logins::table.find(state_hash)).execute(conn)?;
    let fresh = found.created_at >= now - Duration::minutes(VALID_MINUTES);
    Ok((removed == 1 && fresh).then_some(found))
}
