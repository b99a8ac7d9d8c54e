//! Stored notes keys, always wrapped (src/auth/notes_key.rs), and the private notes sealed under them.

use crate::db::schema::{meeting_notes, notes_keys};
use crate::db::DbConnection;
use chrono::NaiveDateTime;
use diesel::prelude::*;

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = notes_keys)]
pub struct StoredKey {
    pub employee_id: i32,
    pub salt: String,
    pub password_wrap: String,
    pub recovery_wrap: Option<String>,
}

pub fn find(conn: &mut DbConnection, employee_id: i32) -> QueryResult<Option<StoredKey>> {
    notes_keys::table
        .find(employee_id)
        .select(StoredKey::as_select())
        .first(conn)
        .optional()
}

/// Stores a new key; false when the person already has one (two first
/// sign-ins at once: the other's key stands and this one is dropped).
pub fn insert(
    conn: &mut DbConnection,
    employee_id: i32,
    salt: &str,
    password_wrap: &str,
    now: NaiveDateTime,
) -> QueryResult<bool> {
    let inserted = diesel::insert_into(notes_keys::table)
        .values((
            notes_keys::employee_id.eq(employee_id),
            notes_keys::salt.eq(salt),
            notes_keys::password_wrap.eq(password_wrap),
            notes_keys::created_at.eq(now),
            notes_keys::updated_at.eq(now),
        ))
        .execute(conn);
    match inserted {
        Ok(_) => Ok(true),
        Err(diesel::result::Error::DatabaseError(
            diesel::result::DatabaseErrorKind::UniqueViolation,
            _,
        )) => Ok(false),
        Err(e) => Err(e),
    }
}

pub fn set_password_wrap(
    conn: &mut DbConnection,
    employee_id: i32,
    salt: &str,
    password_wrap: &str,
    now: NaiveDateTime,
) -> QueryResult<()> {
    diesel::update(notes_keys::table.find(employee_id))
        .set((
            notes_keys::salt.eq(salt),
            notes_keys::password_wrap.eq(password_wrap),
            notes_keys::updated_at.eq(now),
        ))
        .execute(conn)
        .map(drop)
}

pub fn set_recovery_wrap(
    conn: &mut DbConnection,
    employee_id: i32,
    recovery_wrap: &str,
    now: NaiveDateTime,
) -> QueryResult<()> {
    diesel::update(notes_keys::table.find(employee_id))
        .set((
            notes_keys::recovery_wrap.eq(recovery_wrap),
            notes_keys::updated_at.eq(now),
        ))
        .execute(conn)
        .map(drop)
}

/// Forgets a key no one can open any more, and the notes only it opened.
pub fn discard(conn: &mut DbConnection, employee_id: i32) -> QueryResult<usize> {
    let notes = diesel::delete(
        meeting_notes::table
            .filter(meeting_notes::author_id.eq(employee_id))
            .filter(meeting_notes::private.eq(true)),
    )
    .execute(conn)?;
    diesel::delete(notes_keys::table.find(employee_id)).execute(conn)?;
    Ok(notes)
}

/// Private notes of `author_id` still stored as plain text (written before
/// notes were sealed): (id, meeting id, body).
pub fn unsealed_notes(
    conn: &mut DbConnection,
    author_id: i32,
) -> QueryResult<Vec<(i32, i32, String)>> {
    meeting_notes::table
        .filter(meeting_notes::author_id.eq(author_id))
        .filter(meeting_notes::private.eq(true))
        .filter(meeting_notes::sealed.is_null())
        .select((
            meeting_notes::id,
            meeting_notes::meeting_id,
            meeting_notes::body,
        ))
        .load(conn)
}

pub fn seal_note(conn: &mut DbConnection, note_id: i32, sealed: &str) -> QueryResult<()> {
    diesel::update(meeting_notes::table.find(note_id))
        .set((meeting_notes::sealed.eq(sealed), meeting_notes::body.eq("")))
        .execute(conn)
        .map(drop)
}
