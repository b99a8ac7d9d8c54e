//! Values the app keeps for itself: the generated session secret and the setup token.

use crate::db::schema::settings;
use crate::db::DbConnection;
use diesel::prelude::*;

/// The setting that holds the first-run setup link's SHA-256 while no admin exists.
pub const SETUP_TOKEN_KEY: &str = "setup_token_sha256";

pub fn get(conn: &mut DbConnection, key: &str) -> QueryResult<Option<String>> {
    settings::table
        .find(key)
        .select(settings::value)
        .first(conn)
        .optional()
}

pub fn put(conn: &mut DbConnection, key: &str, value: &str) -> QueryResult<()> {
    crate::db::write_transaction(conn, |conn| {
        let updated = diesel::update(settings::table.find(key))
            .set(settings::value.eq(value))
            .execute(conn)?;
        if updated == 0 {
            diesel::insert_into(settings::table)
                .values((settings::key.eq(key), settings::value.eq(value)))
                .execute(conn)?;
        }
        Ok(())
    })
}

pub fn delete(conn: &mut DbConnection, key: &str) -> QueryResult<()> {
    diesel::delete(settings::table.find(key))
        .execute(conn)
        .map(drop)
}

/// Returns the stored value, or stores `make()` if there is none. When two
/// instances start at once the first insert wins and both read it back.
pub fn get_or_insert(
    conn: &mut DbConnection,
    key: &str,
    make: impl FnOnce() -> String,
) -> QueryResult<String> {
    if let Some(v) = get(conn, key)? {
        return Ok(v);
    }
    match diesel::insert_into(settings::table)
        .values((settings::key.eq(key), settings::value.eq(make())))
        .execute(conn)
    {
        Ok(_) => {}
        Err(e) if super::is_unique_violation(&e) => {}
        Err(e) => return Err(e),
    }
    settings::table
        .find(key)
        .select(settings::value)
        .first(conn)
}
