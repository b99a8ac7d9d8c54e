//! Rounds, their invitations, and the anonymous responses they collect.

use crate::db::schema::{answers, invitations, responses, round_team_stats as stats, rounds};
use crate::db::DbConnection;
use crate::domain::enps::{classify, Category};
use crate::domain::survey::Answer;
use chrono::{NaiveDate, NaiveDateTime};
use diesel::prelude::*;
use serde::Serialize;

#[derive(Debug, Clone, Queryable, Selectable, Serialize, utoipa::ToSchema)]
#[diesel(table_name = rounds)]
pub struct Round {
    pub id: i32,
    pub survey_id: i32,
    #[serde(skip)]
    pub question_version: i32,
    #[serde(serialize_with = "utc")]
    #[schema(value_type = String, format = DateTime)]
    pub scheduled_for: NaiveDateTime,
    #[serde(serialize_with = "utc")]
    #[schema(value_type = String, format = DateTime)]
    pub opens_at: NaiveDateTime,
    #[serde(serialize_with = "utc")]
    #[schema(value_type = String, format = DateTime)]
    pub closes_at: NaiveDateTime,
    #[serde(skip)]
    pub reminder_at: Option<NaiveDateTime>,
    #[serde(skip)]
    pub reminded: bool,
    /// `open`, `closed`, or `skipped` (missed while Pulse was down; never sent).
    pub status: String,
    pub invited: i32,
    pub responded: i32,
    pub enps_scale: String,
    pub min_group_size: i32,
    #[serde(skip)]
    pub created_at: NaiveDateTime,
}

/// Instants are stored as naive UTC and shown as RFC 3339 with a Z.
fn utc<S: serde::Serializer>(t: &NaiveDateTime, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(
        &t.and_utc()
            .to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
    )
}

#[derive(Debug, Clone, Insertable)]
#[diesel(table_name = rounds)]
pub struct NewRound {
    pub survey_id: i32,
    pub question_version: i32,
    pub scheduled_for: NaiveDateTime,
    pub opens_at: NaiveDateTime,
    pub closes_at: NaiveDateTime,
    pub reminder_at: Option<NaiveDateTime>,
    pub reminded: bool,
    pub status: String,
    pub invited: i32,
    pub responded: i32,
    pub enps_scale: String,
    pub min_group_size: i32,
    pub created_at: NaiveDateTime,
}

pub fn insert(conn: &mut DbConnection, new: &NewRound) -> QueryResult<i32> {
    diesel::insert_into(rounds::table)
        .values(new)
        .returning(rounds::id)
        .get_result(conn)
}

pub fn find(conn: &mut DbConnection, id: i32) -> QueryResult<Option<Round>> {
    rounds::table
        .find(id)
        .select(Round::as_select())
        .first(conn)
        .optional()
}

pub fn for_survey(
    conn: &mut DbConnection,
    survey_id: i32,
    offset: i64,
    limit: i64,
) -> QueryResult<(Vec<Round>, i64)> {
    let q = rounds::table.filter(rounds::survey_id.eq(survey_id));
    let total = q.count().get_result(conn)?;
    let rows = q
        .select(Round::as_select())
        .order(rounds::scheduled_for.desc())
        .offset(offset)
        .limit(limit)
        .load(conn)?;
    Ok((rows, total))
}

pub fn set_invited(conn: &mut DbConnection, id: i32, invited: i32) -> QueryResult<()> {
    diesel::update(rounds::table.find(id))
        .set(rounds::invited.eq(invited))
        .execute(conn)
        .map(drop)
}

/// Closes every open round whose window has ended; returns how many.
pub fn close_due(conn: &mut DbConnection, now: NaiveDateTime) -> QueryResult<usize> {
    diesel::update(
        rounds::table
            .filter(rounds::status.eq("open"))
            .filter(rounds::closes_at.le(now)),
    )
    .set(rounds::status.eq("closed"))
    .execute(conn)
}

/// Open rounds whose reminder is due and not yet sent.
pub fn reminders_due(conn: &mut DbConnection, now: NaiveDateTime) -> QueryResult<Vec<Round>> {
    rounds::table
        .filter(rounds::status.eq("open"))
        .filter(rounds::reminded.eq(false))
        .filter(rounds::reminder_at.le(now))
        .filter(rounds::closes_at.gt(now))
        .select(Round::as_select())
        .load(conn)
}

/// Takes the reminder of a round for this caller: true for exactly one of
/// several instances racing on it.
pub fn claim_reminder(conn: &mut DbConnection, round_id: i32) -> QueryResult<bool> {
    diesel::update(
        rounds::table
            .find(round_id)
            .filter(rounds::reminded.eq(false)),
    )
    .set(rounds::reminded.eq(true))
    .execute(conn)
    .map(|n| n == 1)
}

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = invitations)]
pub struct Invitation {
    pub id: i32,
    pub round_id: i32,
    pub employee_id: i32,
    pub team_id: Option<i32>,
    pub token_hash: String,
    pub reminder_token_hash: Option<String>,
    pub responded: bool,
}

pub fn insert_invitation(
    conn: &mut DbConnection,
    round_id: i32,
    employee_id: i32,
    team_id: Option<i32>,
    token_hash: &str,
) -> QueryResult<i32> {
    diesel::insert_into(invitations::table)
        .values((
            invitations::round_id.eq(round_id),
            invitations::employee_id.eq(employee_id),
            invitations::team_id.eq(team_id),
            invitations::token_hash.eq(token_hash),
            invitations::responded.eq(false),
        ))
        .returning(invitations::id)
        .get_result(conn)
}

/// The invitation a link token belongs to: the first email's or the reminder's.
pub fn invitation_by_token(
    conn: &mut DbConnection,
    token_hash: &str,
) -> QueryResult<Option<Invitation>> {
    invitations::table
        .filter(
            invitations::token_hash
                .eq(token_hash)
                .or(invitations::reminder_token_hash.eq(token_hash)),
        )
        .select(Invitation::as_select())
        .first(conn)
        .optional()
}

pub fn unanswered(conn: &mut DbConnection, round_id: i32) -> QueryResult<Vec<Invitation>> {
    invitations::table
        .filter(invitations::round_id.eq(round_id))
        .filter(invitations::responded.eq(false))
        .select(Invitation::as_select())
        .order(invitations::id)
        .load(conn)
}

pub fn set_reminder_token(
    conn: &mut DbConnection,
    invitation_id: i32,
    token_hash: &str,
) -> QueryResult<()> {
    diesel::update(invitations::table.find(invitation_id))
        .set(invitations::reminder_token_hash.eq(token_hash))
        .execute(conn)
        .map(drop)
}

/// Records that someone answered; false when the invitation was already used,
/// so two simultaneous submissions store one response.
pub fn mark_responded(conn: &mut DbConnection, invitation_id: i32) -> QueryResult<bool> {
    diesel::update(
        invitations::table
            .find(invitation_id)
            .filter(invitations::responded.eq(false)),
    )
    .set(invitations::responded.eq(true))
    .execute(conn)
    .map(|n| n == 1)
}

/// Stores an anonymous response: a random id, the round, the team snapshot
/// and the date — nothing that leads back to the person.
pub fn insert_response(
    conn: &mut DbConnection,
    round_id: i32,
    team_id: Option<i32>,
    submitted_on: NaiveDate,
    answers_by_question: &[(i32, Answer)],
) -> QueryResult<String> {
    let id = crate::startup::random_token()[..32].to_string();
    diesel::insert_into(responses::table)
        .values((
            responses::id.eq(&id),
            responses::round_id.eq(round_id),
            responses::team_id.eq(team_id),
            responses::submitted_on.eq(submitted_on),
        ))
        .execute(conn)?;
    for (question_id, answer) in answers_by_question {
        let (score, scale, choice, text) = match answer {
            Answer::Score(s) => (Some(*s), None, None, None),
            Answer::Enps { score, scale } => (Some(*score), Some(scale.as_str()), None, None),
            Answer::Choice(c) => (None, None, Some(c.as_str()), None),
            Answer::Text(t) => (None, None, None, Some(t.as_str())),
        };
        diesel::insert_into(answers::table)
            .values((
                answers::response_id.eq(&id),
                answers::question_id.eq(question_id),
                answers::score.eq(score),
                answers::scale.eq(scale),
                answers::choice.eq(choice),
                answers::text.eq(text),
            ))
            .execute(conn)?;
    }
    diesel::update(rounds::table.find(round_id))
        .set(rounds::responded.eq(rounds::responded + 1))
        .execute(conn)?;
    let enps = answers_by_question.iter().find_map(|(_, a)| match a {
        Answer::Enps { score, scale } => classify(*score, *scale),
        _ => None,
    });
    count_response(conn, round_id, team_id.unwrap_or(NO_TEAM), enps)?;
    Ok(id)
}

/// `round_team_stats.team_id` for people without a team.
pub const NO_TEAM: i32 = 0;

/// Creates a round's per-team counters with how many were invited.
pub fn insert_team_stats(
    conn: &mut DbConnection,
    round_id: i32,
    invited_by_team: &std::collections::BTreeMap<i32, i32>,
) -> QueryResult<()> {
    for (team, invited) in invited_by_team {
        diesel::insert_into(stats::table)
            .values((
                stats::round_id.eq(round_id),
                stats::team_id.eq(team),
                stats::invited.eq(invited),
            ))
            .execute(conn)?;
    }
    Ok(())
}

/// Adds one response to its round and team counters, in the answer's transaction.
fn count_response(
    conn: &mut DbConnection,
    round_id: i32,
    team_id: i32,
    enps: Option<Category>,
) -> QueryResult<()> {
    let one = |c: Category| i32::from(enps == Some(c));
    let row = stats::table.find((round_id, team_id));
    let updated = diesel::update(row)
        .set((
            stats::responses.eq(stats::responses + 1),
            stats::promoters.eq(stats::promoters + one(Category::Promoter)),
            stats::passives.eq(stats::passives + one(Category::Passive)),
            stats::detractors.eq(stats::detractors + one(Category::Detractor)),
        ))
        .execute(conn)?;
    if updated == 0 {
        // Only rounds from before the counters existed lack a row.
        diesel::insert_into(stats::table)
            .values((
                stats::round_id.eq(round_id),
                stats::team_id.eq(team_id),
                stats::responses.eq(1),
                stats::promoters.eq(one(Category::Promoter)),
                stats::passives.eq(one(Category::Passive)),
                stats::detractors.eq(one(Category::Detractor)),
            ))
            .execute(conn)?;
    }
    Ok(())
}
