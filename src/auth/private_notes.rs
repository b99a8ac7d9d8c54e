//! A person's notes key through their sessions: made or unlocked at sign-in, recovered with a code, or started afresh.
//!
//! Every function here runs argon2 or touches the database: call it from a
//! blocking thread.

use crate::auth::notes_key::{new_salt, NotesKey, RecoveryCode};
use crate::db::DbConnection;
use crate::repo::notes_keys as stored;
use chrono::NaiveDateTime;
use diesel::QueryResult;

/// The key a sign-in with `password` unlocks: made at the person's first
/// sign-in, `None` when the stored wrapping does not open with this password
/// (it was reset since) until they recover it with their code.
pub fn unlock(
    conn: &mut DbConnection,
    employee_id: i32,
    password: &str,
    now: NaiveDateTime,
) -> QueryResult<Option<NotesKey>> {
    let key = match stored::find(conn, employee_id)? {
        Some(s) => NotesKey::unwrap_with_password(&s.password_wrap, password, &s.salt),
        None => {
            let key = NotesKey::generate();
            let (salt, wrap) = wrapped(&key, password);
            if stored::insert(conn, employee_id, &salt, &wrap, now)? {
                Some(key)
            } else {
                // A sign-in at the same moment made the key first: use that one.
                stored::find(conn, employee_id)?.and_then(|s| {
                    NotesKey::unwrap_with_password(&s.password_wrap, password, &s.salt)
                })
            }
        }
    };
    if let Some(key) = &key {
        seal_plain_notes(conn, employee_id, key)?;
    }
    Ok(key)
}

/// Whether the person has a notes key. A session without one while this
/// holds means the sign-in could not unlock it: the password was reset.
pub fn has_key(conn: &mut DbConnection, employee_id: i32) -> QueryResult<bool> {
    Ok(stored::find(conn, employee_id)?.is_some())
}

pub fn has_recovery_code(conn: &mut DbConnection, employee_id: i32) -> QueryResult<bool> {
    Ok(stored::find(conn, employee_id)?.is_some_and(|s| s.recovery_wrap.is_some()))
}

/// A new recovery code for the unlocked `key`, replacing any earlier one;
/// shown once, stored only as the wrapping it opens.
pub fn new_recovery_code(
    conn: &mut DbConnection,
    employee_id: i32,
    key: &NotesKey,
    now: NaiveDateTime,
) -> QueryResult<RecoveryCode> {
    let code = RecoveryCode::generate();
    stored::set_recovery_wrap(conn, employee_id, &key.wrap_for_recovery(&code), now)?;
    Ok(code)
}

#[derive(Debug, PartialEq, Eq)]
pub enum RecoverError {
    /// No key, or no recovery code was ever made for it.
    NothingToRecover,
    WrongCode,
}

/// Opens the key with the recovery code and wraps it again under the
/// person's current `password` (already checked by the caller), so their
/// next sign-ins unlock it as before.
pub fn recover(
    conn: &mut DbConnection,
    employee_id: i32,
    code: &RecoveryCode,
    password: &str,
    now: NaiveDateTime,
) -> QueryResult<Result<NotesKey, RecoverError>> {
    let Some(wrap) = stored::find(conn, employee_id)?.and_then(|s| s.recovery_wrap) else {
        return Ok(Err(RecoverError::NothingToRecover));
    };
    let Some(key) = NotesKey::unwrap_with_recovery(&wrap, code) else {
        return Ok(Err(RecoverError::WrongCode));
    };
    let (salt, wrap) = wrapped(&key, password);
    stored::set_password_wrap(conn, employee_id, &salt, &wrap, now)?;
    seal_plain_notes(conn, employee_id, &key)?;
    Ok(Ok(key))
}

/// Gives up a key no one can open: deletes it and the private notes only it
/// opened, and makes a new one under `password`. Returns the new key and how
/// many notes went. A key that `password` still opens is kept, with every
/// note: the session only lacked it.
pub fn start_afresh(
    conn: &mut DbConnection,
    employee_id: i32,
    password: &str,
    now: NaiveDateTime,
) -> QueryResult<(NotesKey, usize)> {
    if let Some(key) = unlock(conn, employee_id, password, now)? {
        return Ok((key, 0));
    }
    let gone = stored::discard(conn, employee_id)?;
    let key = NotesKey::generate();
    let (salt, wrap) = wrapped(&key, password);
    stored::insert(conn, employee_id, &salt, &wrap, now)?;
    Ok((key, gone))
}

/// The key wrapped under `password` with a fresh salt: (salt, wrapping).
fn wrapped(key: &NotesKey, password: &str) -> (String, String) {
    let salt = new_salt();
    let wrap = key.wrap_for_password(password, &salt);
    (salt, wrap)
}

/// Private notes written before notes were sealed are sealed the first time
/// their author's key is at hand, and their plain text is overwritten.
fn seal_plain_notes(conn: &mut DbConnection, author_id: i32, key: &NotesKey) -> QueryResult<()> {
    for (id, meeting_id, body) in stored::unsealed_notes(conn, author_id)? {
        stored::seal_note(conn, id, &key.seal_note(author_id, meeting_id, &body))?;
    }
    Ok(())
}
