//! Account invitations: one-time links, stored as SHA-256 hashes, that let an employee choose a password.

use crate::db::schema::account_invitations;
use crate::db::DbConnection;
use chrono::NaiveDateTime;
use diesel::prelude::*;

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = account_invitations)]
pub struct AccountInvitation {
    pub id: i32,
    pub employee_id: i32,
    pub token_hash: String,
    pub expires_at: NaiveDateTime,
    pub used_at: Option<NaiveDateTime>,
    pub created_by: i32,
    pub created_at: NaiveDateTime,
}

impl AccountInvitation {
    pub fn is_usable(&self, now: NaiveDateTime) -> bool {
        self.used_at.is_none() && now < self.expires_at
    }
}

/// Stores a new invitation and retires the employee's earlier unused ones, so
/// only the link sent last works.
pub fn insert(
    conn: &mut DbConnection,
    employee_id: i32,
    token_hash: &str,
    expires_at: NaiveDateTime,
    created_by: i32,
    now: NaiveDateTime,
) -> QueryResult<i32> {
    diesel::update(
        account_invitations::table
            .filter(account_invitations::employee_id.eq(employee_id))
            .filter(account_invitations::used_at.is_null())
            .filter(account_invitations::expires_at.gt(now)),
    )
    .set(account_invitations::expires_at.eq(now))
    .execute(conn)?;
    diesel::insert_into(account_invitations::table)
        .values((
            account_invitations::employee_id.eq(employee_id),
            account_invitations::token_hash.eq(token_hash),
            account_invitations::expires_at.eq(expires_at),
            account_invitations::created_by.eq(created_by),
            account_invitations::created_at.eq(now),
        ))
        .returning(account_invitations::id)
        .get_result(conn)
}

pub fn find_by_token_hash(
    conn: &mut DbConnection,
    token_hash: &str,
) -> QueryResult<Option<AccountInvitation>> {
    account_invitations::table
        .filter(account_invitations::token_hash.eq(token_hash))
        .select(AccountInvitation::as_select())
        .first(conn)
        .optional()
}

/// Uses the invitation up: true for exactly one of two simultaneous submissions.
pub fn mark_used(conn: &mut DbConnection, id: i32, now: NaiveDateTime) -> QueryResult<bool> {
    diesel::update(
        account_invitations::table
            .find(id)
            .filter(account_invitations::used_at.is_null())
            .filter(account_invitations::expires_at.gt(now)),
    )
    .set(account_invitations::used_at.eq(now))
    .execute(conn)
    .map(|n| n == 1)
}
