//! Database reads and writes, one file per aggregate: `fn(&mut DbConnection, …) -> QueryResult<T>`.

pub mod account_invitations;
pub mod action_plans;
pub mod audit;
pub mod conversations;
pub mod digests;
pub mod employees;
pub mod erasure;
pub mod import;
pub mod key_drivers;
pub mod library;
pub mod lifecycle;
pub mod login_attempts;
pub mod notes_keys;
pub mod oidc_logins;
pub mod one_on_one_overview;
pub mod one_on_ones;
pub mod openings;
pub mod outbox;
pub mod reports;
pub mod retention;
pub mod rotations;
pub mod rounds;
pub mod scim;
pub mod settings;
pub mod surveys;
pub mod teams;
pub mod turnover;
pub mod webhooks;

use chrono::{NaiveDateTime, Utc};

diesel::define_sql_function! {
    /// SQL `lower()`, the same on both engines for ASCII.
    fn lower(x: diesel::sql_types::Text) -> diesel::sql_types::Text;
}

/// Timestamps are stored as UTC without zone, set from Rust so both engines agree.
pub fn now() -> NaiveDateTime {
    Utc::now().naive_utc()
}

/// Whether a failed write broke a unique constraint (someone else got there first).
pub fn is_unique_violation(e: &diesel::result::Error) -> bool {
    matches!(
        e,
        diesel::result::Error::DatabaseError(diesel::result::DatabaseErrorKind::UniqueViolation, _)
    )
}
