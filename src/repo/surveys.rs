//! Surveys, their versioned questions and their audience.

use crate::db::schema::{questions, survey_teams, surveys};
use crate::db::DbConnection;
use crate::domain::driver::Driver;
use crate::domain::schedule::{Cadence, Schedule};
use crate::domain::survey::{EnpsScale, Question, QuestionKind};
use chrono::{NaiveDate, NaiveDateTime};
use diesel::prelude::*;

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = surveys)]
pub struct Survey {
    pub id: i32,
    pub title: String,
    pub intro: Option<String>,
    pub enps_scale: String,
    pub cadence: String,
    pub starts_on: NaiveDate,
    pub send_time: String,
    pub timezone: String,
    pub open_days: i32,
    pub reminder_after_days: Option<i32>,
    pub min_group_size: i32,
    pub status: String,
    pub question_version: i32,
    pub scheduled_until: NaiveDateTime,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
}

impl Survey {
    /// The stored schedule; stored values were checked on the way in.
    pub fn schedule(&self) -> Option<Schedule> {
        Some(Schedule {
            cadence: Cadence::parse(&self.cadence)?,
            starts_on: self.starts_on,
            send_time: crate::domain::schedule::parse_send_time(&self.send_time).ok()?,
            timezone: self.timezone.parse().ok()?,
        })
    }

    /// The survey's zone; stored names were checked on the way in.
    pub fn tz(&self) -> chrono_tz::Tz {
        self.timezone.parse().unwrap_or(chrono_tz::UTC)
    }

    /// When its round sent at `at` closes: `open_days` later on the survey's
    /// local calendar (see `Schedule::closes_at`).
    pub fn closes_at(&self, at: chrono::DateTime<chrono::Utc>) -> chrono::DateTime<chrono::Utc> {
        let days = u32::try_from(self.open_days).unwrap_or(0);
        match self.schedule() {
            Some(schedule) => schedule.closes_at(at, days),
            None => at + chrono::Duration::days(i64::from(days)),
        }
    }

    pub fn scale(&self) -> EnpsScale {
        EnpsScale::parse(&self.enps_scale).unwrap_or(EnpsScale::OneToTen)
    }
}

#[derive(Debug, Clone, Insertable)]
#[diesel(table_name = surveys)]
pub struct NewSurvey {
    pub title: String,
    pub intro: Option<String>,
    pub enps_scale: String,
    pub cadence: String,
    pub starts_on: NaiveDate,
    pub send_time: String,
    pub timezone: String,
    pub open_days: i32,
    pub reminder_after_days: Option<i32>,
    pub min_group_size: i32,
    pub status: String,
    pub question_version: i32,
    pub scheduled_until: NaiveDateTime,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
}

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = questions)]
pub struct QuestionRow {
    pub id: i32,
    pub survey_id: i32,
    pub version: i32,
    pub position: i32,
    pub kind: String,
    pub prompt: String,
    pub options: Option<String>,
    pub required: bool,
    pub driver: Option<String>,
}

impl QuestionRow {
    pub fn question(&self) -> Question {
        Question {
            kind: QuestionKind::parse(&self.kind).unwrap_or(QuestionKind::Text),
            prompt: self.prompt.clone(),
            options: self
                .options
                .as_deref()
                .and_then(|o| serde_json::from_str(o).ok())
                .unwrap_or_default(),
            required: self.required,
            driver: self.driver.as_deref().and_then(|d| Driver::parse(d).ok()),
        }
    }
}

pub fn insert(conn: &mut DbConnection, new: &NewSurvey) -> QueryResult<i32> {
    diesel::insert_into(surveys::table)
        .values(new)
        .returning(surveys::id)
        .get_result(conn)
}

pub fn find(conn: &mut DbConnection, id: i32) -> QueryResult<Option<Survey>> {
    surveys::table
        .find(id)
        .select(Survey::as_select())
        .first(conn)
        .optional()
}

pub fn list(conn: &mut DbConnection, offset: i64, limit: i64) -> QueryResult<(Vec<Survey>, i64)> {
    let total = surveys::table.count().get_result(conn)?;
    let rows = surveys::table
        .select(Survey::as_select())
        .order(surveys::id.desc())
        .offset(offset)
        .limit(limit)
        .load(conn)?;
    Ok((rows, total))
}

pub fn active(conn: &mut DbConnection) -> QueryResult<Vec<Survey>> {
    surveys::table
        .filter(surveys::status.eq("active"))
        .select(Survey::as_select())
        .load(conn)
}

/// Stores one version of the question list.
pub fn insert_questions(
    conn: &mut DbConnection,
    survey_id: i32,
    version: i32,
    qs: &[Question],
) -> QueryResult<()> {
    for (position, q) in qs.iter().enumerate() {
        let options = (q.kind == QuestionKind::Choice)
            .then(|| serde_json::to_string(&q.options).unwrap_or_default());
        diesel::insert_into(questions::table)
            .values((
                questions::survey_id.eq(survey_id),
                questions::version.eq(version),
                questions::position.eq(position as i32),
                questions::kind.eq(q.kind.as_str()),
                questions::prompt.eq(&q.prompt),
                questions::options.eq(options),
                questions::required.eq(q.required),
                questions::driver.eq(q.driver.map(Driver::key)),
            ))
            .execute(conn)?;
    }
    Ok(())
}

pub fn questions(
    conn: &mut DbConnection,
    survey_id: i32,
    version: i32,
) -> QueryResult<Vec<QuestionRow>> {
    questions::table
        .filter(questions::survey_id.eq(survey_id))
        .filter(questions::version.eq(version))
        .order(questions::position)
        .select(QuestionRow::as_select())
        .load(conn)
}

pub fn set_audience(conn: &mut DbConnection, survey_id: i32, team_ids: &[i32]) -> QueryResult<()> {
    diesel::delete(survey_teams::table.filter(survey_teams::survey_id.eq(survey_id)))
        .execute(conn)?;
    for t in team_ids {
        diesel::insert_into(survey_teams::table)
            .values((
                survey_teams::survey_id.eq(survey_id),
                survey_teams::team_id.eq(t),
            ))
            .execute(conn)?;
    }
    Ok(())
}

/// The audience's teams as chosen (sub-teams are added when a round goes out).
pub fn audience(conn: &mut DbConnection, survey_id: i32) -> QueryResult<Vec<i32>> {
    survey_teams::table
        .filter(survey_teams::survey_id.eq(survey_id))
        .select(survey_teams::team_id)
        .order(survey_teams::team_id)
        .load(conn)
}

#[derive(Default, AsChangeset)]
#[diesel(table_name = surveys)]
pub struct SurveyChanges {
    pub title: Option<String>,
    pub intro: Option<Option<String>>,
    pub status: Option<String>,
    pub question_version: Option<i32>,
    pub min_group_size: Option<i32>,
    pub updated_at: Option<NaiveDateTime>,
}

pub fn update(conn: &mut DbConnection, id: i32, changes: &SurveyChanges) -> QueryResult<()> {
    diesel::update(surveys::table.find(id))
        .set(changes)
        .execute(conn)
        .map(drop)
}

/// Moves the scheduling mark forward only: a tick "at" an earlier instant,
/// or a slower instance, never makes occurrences due twice.
pub fn advance_scheduled_until(
    conn: &mut DbConnection,
    id: i32,
    to: NaiveDateTime,
) -> QueryResult<()> {
    diesel::update(
        surveys::table
            .find(id)
            .filter(surveys::scheduled_until.lt(to)),
    )
    .set(surveys::scheduled_until.eq(to))
    .execute(conn)
    .map(drop)
}
