//! The question library's rows: current versions, their history, and seeding Pulse's own questions.

use crate::db::schema::{library_question_history, library_questions};
use crate::db::DbConnection;
use crate::domain::driver::Driver;
use crate::domain::library::{Bilingual, LibraryQuestion, SHIPPED};
use crate::domain::survey::QuestionKind;
use chrono::NaiveDateTime;
use diesel::prelude::*;

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = library_questions)]
pub struct LibraryRow {
    pub id: i32,
    pub key: Option<String>,
    pub kind: String,
    pub driver: Option<String>,
    pub prompt_en: String,
    pub prompt_fr: String,
    pub options_en: Option<String>,
    pub options_fr: Option<String>,
    pub version: i32,
    pub retired: bool,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
}

fn options(json: Option<&str>) -> Vec<String> {
    json.and_then(|o| serde_json::from_str(o).ok())
        .unwrap_or_default()
}

fn options_json(kind: QuestionKind, options: &[String]) -> Option<String> {
    (kind == QuestionKind::Choice).then(|| serde_json::to_string(options).unwrap_or_default())
}

impl LibraryRow {
    /// Stored rows were checked on the way in.
    pub fn question(&self) -> LibraryQuestion {
        LibraryQuestion {
            kind: QuestionKind::parse(&self.kind).unwrap_or(QuestionKind::Text),
            driver: self.driver.as_deref().and_then(|d| Driver::parse(d).ok()),
            prompt: Bilingual {
                en: self.prompt_en.clone(),
                fr: self.prompt_fr.clone(),
            },
            options: Bilingual {
                en: options(self.options_en.as_deref()),
                fr: options(self.options_fr.as_deref()),
            },
        }
    }
}

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = library_question_history)]
pub struct HistoryRow {
    pub question_id: i32,
    pub version: i32,
    pub driver: Option<String>,
    pub prompt_en: String,
    pub prompt_fr: String,
    pub options_en: Option<String>,
    pub options_fr: Option<String>,
    pub replaced_at: NaiveDateTime,
}

/// Adds the shipped questions the library lacks, by key: a new release's
/// questions appear, and HR's edits and retirements of earlier ones stay.
/// Safe when several instances start at once: a key another one inserted
/// meanwhile is skipped.
pub fn seed(conn: &mut DbConnection, now: NaiveDateTime) -> QueryResult<usize> {
    let present: Vec<Option<String>> = library_questions::table
        .filter(library_questions::key.is_not_null())
        .select(library_questions::key)
        .load(conn)?;
    let mut added = 0;
    for s in SHIPPED {
        if present.iter().any(|k| k.as_deref() == Some(s.key)) {
            continue;
        }
        let q = LibraryQuestion::of_shipped(s);
        match insert(conn, Some(s.key), &q, now) {
            Ok(_) => added += 1,
            Err(diesel::result::Error::DatabaseError(
                diesel::result::DatabaseErrorKind::UniqueViolation,
                _,
            )) => {}
            Err(e) => return Err(e),
        }
    }
    Ok(added)
}

pub fn insert(
    conn: &mut DbConnection,
    key: Option<&str>,
    q: &LibraryQuestion,
    now: NaiveDateTime,
) -> QueryResult<i32> {
    diesel::insert_into(library_questions::table)
        .values((
            library_questions::key.eq(key),
            library_questions::kind.eq(q.kind.as_str()),
            library_questions::driver.eq(q.driver.map(Driver::key)),
            library_questions::prompt_en.eq(&q.prompt.en),
            library_questions::prompt_fr.eq(&q.prompt.fr),
            library_questions::options_en.eq(options_json(q.kind, &q.options.en)),
            library_questions::options_fr.eq(options_json(q.kind, &q.options.fr)),
            library_questions::version.eq(1),
            library_questions::retired.eq(false),
            library_questions::created_at.eq(now),
            library_questions::updated_at.eq(now),
        ))
        .returning(library_questions::id)
        .get_result(conn)
}

/// Every question, by id (the order they were added: shipped ones first).
pub fn all(conn: &mut DbConnection) -> QueryResult<Vec<LibraryRow>> {
    library_questions::table
        .order(library_questions::id)
        .select(LibraryRow::as_select())
        .load(conn)
}

pub fn find(conn: &mut DbConnection, id: i32) -> QueryResult<Option<LibraryRow>> {
    library_questions::table
        .find(id)
        .select(LibraryRow::as_select())
        .first(conn)
        .optional()
}

pub fn history(conn: &mut DbConnection, id: i32) -> QueryResult<Vec<HistoryRow>> {
    library_question_history::table
        .filter(library_question_history::question_id.eq(id))
        .order(library_question_history::version.desc())
        .select(HistoryRow::as_select())
        .load(conn)
}

/// A new wording (or driver, or options): the version it replaces goes to the
/// history first. Returns the new version number.
pub fn revise(
    conn: &mut DbConnection,
    row: &LibraryRow,
    q: &LibraryQuestion,
    now: NaiveDateTime,
) -> QueryResult<i32> {
    diesel::insert_into(library_question_history::table)
        .values((
            library_question_history::question_id.eq(row.id),
            library_question_history::version.eq(row.version),
            library_question_history::driver.eq(&row.driver),
            library_question_history::prompt_en.eq(&row.prompt_en),
            library_question_history::prompt_fr.eq(&row.prompt_fr),
            library_question_history::options_en.eq(&row.options_en),
            library_question_history::options_fr.eq(&row.options_fr),
            library_question_history::replaced_at.eq(now),
        ))
        .execute(conn)?;
    let version = row.version + 1;
    diesel::update(library_questions::table.find(row.id))
        .set((
            library_questions::driver.eq(q.driver.map(Driver::key)),
            library_questions::prompt_en.eq(&q.prompt.en),
            library_questions::prompt_fr.eq(&q.prompt.fr),
            library_questions::options_en.eq(options_json(q.kind, &q.options.en)),
            library_questions::options_fr.eq(options_json(q.kind, &q.options.fr)),
            library_questions::version.eq(version),
            library_questions::updated_at.eq(now),
        ))
        .execute(conn)?;
    Ok(version)
}

pub fn set_retired(
    conn: &mut DbConnection,
    id: i32,
    retired: bool,
    now: NaiveDateTime,
) -> QueryResult<()> {
    diesel::update(library_questions::table.find(id))
        .set((
            library_questions::retired.eq(retired),
            library_questions::updated_at.eq(now),
        ))
        .execute(conn)
        .map(drop)
}
