//! SCIM provisioning: the tokens identity providers use, and what they said about
//! people and teams (`scim_resources`).

use crate::db::schema::{scim_resources, scim_tokens};
use crate::db::DbConnection;
use chrono::NaiveDateTime;
use diesel::prelude::*;

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = scim_tokens)]
pub struct ScimToken {
    pub id: i32,
    pub name: String,
    #[allow(dead_code)]
    pub token_hash: String,
    pub created_by: Option<i32>,
    pub created_at: NaiveDateTime,
    pub last_used_at: Option<NaiveDateTime>,
    pub revoked_at: Option<NaiveDateTime>,
}

pub fn insert_token(
    conn: &mut DbConnection,
    name: &str,
    token_hash: &str,
    created_by: Option<i32>,
    now: NaiveDateTime,
) -> QueryResult<i32> {
    diesel::insert_into(scim_tokens::table)
        .values((
            scim_tokens::name.eq(name),
            scim_tokens::token_hash.eq(token_hash),
            scim_tokens::created_by.eq(created_by),
            scim_tokens::created_at.eq(now),
        ))
        .returning(scim_tokens::id)
        .get_result(conn)
}

pub fn find_token(conn: &mut DbConnection, id: i32) -> QueryResult<Option<ScimToken>> {
    scim_tokens::table
        .find(id)
        .select(ScimToken::as_select())
        .first(conn)
        .optional()
}

pub fn list_tokens(conn: &mut DbConnection) -> QueryResult<Vec<ScimToken>> {
    scim_tokens::table
        .order(scim_tokens::id)
        .select(ScimToken::as_select())
        .load(conn)
}

/// Revokes a token; false when there is none or it was revoked already.
pub fn revoke_token(conn: &mut DbConnection, id: i32, now: NaiveDateTime) -> QueryResult<bool> {
    Ok(diesel::update(
        scim_tokens::table
            .find(id)
            .filter(scim_tokens::revoked_at.is_null()),
    )
    .set(scim_tokens::revoked_at.eq(now))
    .execute(conn)?
        == 1)
}

/// The live token with this secret, marked as used now.
pub fn use_token(
    conn: &mut DbConnection,
    token_hash: &str,
    now: NaiveDateTime,
) -> QueryResult<Option<ScimToken>> {
    let found = scim_tokens::table
        .filter(scim_tokens::token_hash.eq(token_hash))
        .filter(scim_tokens::revoked_at.is_null())
        .select(ScimToken::as_select())
        .first(conn)
        .optional()?;
    if let Some(t) = &found {
        diesel::update(scim_tokens::table.find(t.id))
            .set(scim_tokens::last_used_at.eq(now))
            .execute(conn)?;
    }
    Ok(found)
}

pub const USER: &str = "User";
pub const GROUP: &str = "Group";

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = scim_resources)]
pub struct ScimResource {
    pub id: i32,
    pub kind: String,
    pub local_id: i32,
    pub external_id: Option<String>,
    pub user_name: Option<String>,
    /// The attributes as the provider sent them, a JSON object.
    pub attributes: String,
    pub deleted: bool,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
}

pub fn resources(conn: &mut DbConnection, kind: &str) -> QueryResult<Vec<ScimResource>> {
    scim_resources::table
        .filter(scim_resources::kind.eq(kind))
        .order(scim_resources::local_id)
        .select(ScimResource::as_select())
        .load(conn)
}

pub fn resource(
    conn: &mut DbConnection,
    kind: &str,
    local_id: i32,
) -> QueryResult<Option<ScimResource>> {
    scim_resources::table
        .filter(scim_resources::kind.eq(kind))
        .filter(scim_resources::local_id.eq(local_id))
        .select(ScimResource::as_select())
        .first(conn)
        .optional()
}

/// Writes what the provider said about a person or team (live again if it was deleted).
pub fn save_resource(
    conn: &mut DbConnection,
    kind: &str,
    local_id: i32,
    external_id: Option<&str>,
    user_name: Option<&str>,
    attributes: &str,
    now: NaiveDateTime,
) -> QueryResult<()> {
    let updated = diesel::update(
        scim_resources::table
            .filter(scim_resources::kind.eq(kind))
            .filter(scim_resources::local_id.eq(local_id)),
    )
    .set((
        scim_resources::external_id.eq(external_id),
        scim_resources::user_name.eq(user_name),
        scim_resources::attributes.eq(attributes),
        scim_resources::deleted.eq(false),
        scim_resources::updated_at.eq(now),
    ))
    .execute(conn)?;
    if updated == 0 {
        diesel::insert_into(scim_resources::table)
            .values((
                scim_resources::kind.eq(kind),
                scim_resources::local_id.eq(local_id),
                scim_resources::external_id.eq(external_id),
                scim_resources::user_name.eq(user_name),
                scim_resources::attributes.eq(attributes),
                scim_resources::deleted.eq(false),
                scim_resources::created_at.eq(now),
                scim_resources::updated_at.eq(now),
            ))
            .execute(conn)?;
    }
    Ok(())
}

/// The resource is gone for SCIM; what it maps to stays in Pulse.
pub fn mark_deleted(
    conn: &mut DbConnection,
    kind: &str,
    local_id: i32,
    now: NaiveDateTime,
) -> QueryResult<()> {
    if resource(conn, kind, local_id)?.is_none() {
        save_resource(conn, kind, local_id, None, None, "{}", now)?;
    }
    diesel::update(
        scim_resources::table
            .filter(scim_resources::kind.eq(kind))
            .filter(scim_resources::local_id.eq(local_id)),
    )
    .set((
        scim_resources::deleted.eq(true),
        scim_resources::external_id.eq(None::<String>),
        scim_resources::user_name.eq(None::<String>),
        scim_resources::attributes.eq("{}"),
        scim_resources::updated_at.eq(now),
    ))
    .execute(conn)
    .map(drop)
}

/// Erasure: what the provider said goes, and the resource is gone for SCIM.
/// Only an existing row is changed (an erased person who never came by SCIM is
/// hidden from it by `erased_ids`).
pub fn forget(
    conn: &mut DbConnection,
    kind: &str,
    local_id: i32,
    now: NaiveDateTime,
) -> QueryResult<()> {
    if resource(conn, kind, local_id)?.is_some() {
        mark_deleted(conn, kind, local_id, now)?;
    }
    Ok(())
}

/// The people erased: never SCIM Users.
pub fn erased_ids(conn: &mut DbConnection) -> QueryResult<Vec<i32>> {
    use crate::db::schema::erasures;
    erasures::table.select(erasures::employee_id).load(conn)
}

diesel::define_sql_function! {
    /// SQL `lower()`, the same on both engines for ASCII.
    fn lower(x: diesel::sql_types::Nullable<diesel::sql_types::Text>) -> diesel::sql_types::Nullable<diesel::sql_types::Text>;
}

/// Employees who may have this userName: by email or by what a provider said,
/// ignoring case. The caller checks each against the full filter.
pub fn user_ids_named(conn: &mut DbConnection, user_name: &str) -> QueryResult<Vec<i32>> {
    use crate::db::schema::employees;
    let wanted = user_name.to_lowercase();
    let mut ids: Vec<i32> = employees::table
        .filter(lower(employees::email.nullable()).eq(&wanted))
        .select(employees::id)
        .load(conn)?;
    ids.extend(
        scim_resources::table
            .filter(scim_resources::kind.eq(USER))
            .filter(lower(scim_resources::user_name).eq(&wanted))
            .select(scim_resources::local_id)
            .load::<i32>(conn)?,
    );
    Ok(ids)
}

/// Employees a provider gave this externalId.
pub fn user_ids_external(conn: &mut DbConnection, external_id: &str) -> QueryResult<Vec<i32>> {
    scim_resources::table
        .filter(scim_resources::kind.eq(USER))
        .filter(scim_resources::external_id.eq(external_id))
        .select(scim_resources::local_id)
        .load(conn)
}
