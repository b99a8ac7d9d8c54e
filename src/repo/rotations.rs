//! A rotating survey's `per_round`, stored per version of its question list.

use crate::db::schema::question_rotations;
use crate::db::DbConnection;
use diesel::prelude::*;

pub fn set(
    conn: &mut DbConnection,
    survey_id: i32,
    version: i32,
    per_round: usize,
) -> QueryResult<()> {
    diesel::insert_into(question_rotations::table)
        .values((
            question_rotations::survey_id.eq(survey_id),
            question_rotations::version.eq(version),
            question_rotations::per_round.eq(per_round as i32),
        ))
        .execute(conn)
        .map(drop)
}

/// How many questions each link is asked, when this version rotates.
pub fn per_round(
    conn: &mut DbConnection,
    survey_id: i32,
    version: i32,
) -> QueryResult<Option<usize>> {
    Ok(question_rotations::table
        .find((survey_id, version))
        .select(question_rotations::per_round)
        .first::<i32>(conn)
        .optional()?
        .map(|k| k.max(1) as usize))
}
