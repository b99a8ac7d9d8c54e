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
    #[serde(serialize_with = "crate::instant::serialize")]
    #[schema(value_type = String, format = DateTime)]
    pub scheduled_for: NaiveDateTime,
    #[serde(serialize_with = "crate::instant::serialize")]
    #[schema(value_type = String, format = DateTime)]
    pub opens_at: NaiveDateTime,
    #[serde(serialize_with = "crate::instant::serialize")]
    #[schema(value_type = String, format = DateTime)]
    pub closes_at: NaiveDateTime,
    #[serde(skip)]
    pub reminder_at: Option<NaiveDateTime>,
    #[serde(skip)]
    pub reminded: bool,
    /// `open`, `closed`, or `skipped` (missed while Pulse was down; never sent).
    pub status: String,
    pub invited: i32,
    /// Null in round lists where the company's cell is hidden (then
    /// `participation_suppressed` says why): a small count would tell who answered.
    #[schema(value_type = Option<i32>)]
    pub responded: i32,
    pub enps_scale: String,
    pub min_group_size: i32,
    #[serde(skip)]
    pub created_at: NaiveDateTime,
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

/// The latest rounds that went out, of every survey, newest first.
pub fn recent(conn: &mut DbConnection, limit: i64) -> QueryResult<Vec<Round>> {
    rounds::table
        .filter(rounds::status.ne("skipped"))
        .order((rounds::scheduled_for.desc(), rounds::id.desc()))
        .limit(limit)
        .select(Round::as_select())
        .load(conn)
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
    /// The group the answer will be filed under: the smallest team around the
    /// invitee with at least `min_group_size` invitees in the round (None: the company).
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
    let ids = insert_responses(
        conn,
        &[NewResponse {
            round_id,
            team_id,
            submitted_on,
            answers: answers_by_question,
        }],
    )?;
    Ok(ids.into_iter().next().unwrap_or_default())
}

/// One checked response waiting to be stored.
pub struct NewResponse<'a> {
    pub round_id: i32,
    pub team_id: Option<i32>,
    pub submitted_on: NaiveDate,
    pub answers: &'a [(i32, Answer)],
}

/// A response row as stored: nothing but a random id, the round, the team and the day.
#[derive(Insertable)]
#[diesel(table_name = responses)]
pub struct ResponseRow {
    pub id: String,
    pub round_id: i32,
    pub team_id: Option<i32>,
    pub submitted_on: NaiveDate,
}

#[derive(Insertable)]
#[diesel(table_name = answers)]
pub struct AnswerRow {
    pub response_id: String,
    pub question_id: i32,
    pub score: Option<i32>,
    pub scale: Option<String>,
    pub choice: Option<String>,
    pub text: Option<String>,
}

impl AnswerRow {
    fn new(response_id: &str, question_id: i32, answer: &Answer) -> Self {
        let (score, scale, choice, text) = match answer {
            Answer::Score(s) => (Some(*s), None, None, None),
            Answer::Enps { score, scale } => {
                (Some(*score), Some(scale.as_str().to_string()), None, None)
            }
            Answer::Choice(c) => (None, None, Some(c.clone()), None),
            Answer::Text(t) => (None, None, None, Some(t.clone())),
        };
        Self {
            response_id: response_id.to_string(),
            question_id,
            score,
            scale,
            choice,
            text,
        }
    }
}

/// Stores several responses with a few multi-row statements, in the order given
/// (callers shuffle), and adds them to their round and team counters once per
/// round and team rather than once per response: the counters are the rows every
/// answer would otherwise queue on. Returns the new random ids.
pub fn insert_responses(
    conn: &mut DbConnection,
    batch: &[NewResponse<'_>],
) -> QueryResult<Vec<String>> {
    if batch.is_empty() {
        return Ok(vec![]);
    }
    let mut rows = Vec::with_capacity(batch.len());
    let mut answer_rows = Vec::new();
    let mut by_round: std::collections::BTreeMap<i32, i32> = Default::default();
    let mut by_team: std::collections::BTreeMap<(i32, i32), Tally> = Default::default();
    for r in batch {
        let id = crate::tokens::random_token()[..32].to_string();
        answer_rows.extend(r.answers.iter().map(|(q, a)| AnswerRow::new(&id, *q, a)));
        *by_round.entry(r.round_id).or_default() += 1;
        let enps = r.answers.iter().find_map(|(_, a)| match a {
            Answer::Enps { score, scale } => classify(*score, *scale),
            _ => None,
        });
        by_team
            .entry((r.round_id, r.team_id.unwrap_or(NO_TEAM)))
            .or_default()
            .add(enps);
        rows.push(ResponseRow {
            id,
            round_id: r.round_id,
            team_id: r.team_id,
            submitted_on: r.submitted_on,
        });
    }
    crate::db::insert_all!(conn, responses::table, rows);
    crate::db::insert_all!(conn, answers::table, answer_rows);
    for (round_id, n) in by_round {
        diesel::update(rounds::table.find(round_id))
            .set(rounds::responded.eq(rounds::responded + n))
            .execute(conn)?;
    }
    count_responses(conn, &by_team)?;
    Ok(rows.into_iter().map(|r| r.id).collect())
}

/// Responses added to one round and team counter.
#[derive(Debug, Default, Clone, Copy)]
pub struct Tally {
    pub responses: i32,
    pub promoters: i32,
    pub passives: i32,
    pub detractors: i32,
}

impl Tally {
    pub fn add(&mut self, enps: Option<Category>) {
        self.responses += 1;
        match enps {
            Some(Category::Promoter) => self.promoters += 1,
            Some(Category::Passive) => self.passives += 1,
            Some(Category::Detractor) => self.detractors += 1,
            None => {}
        }
    }
}

/// `round_team_stats.team_id` for people without a team.
pub use crate::domain::disclosure::NO_TEAM;

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

#[derive(QueryableByName)]
struct CounterKey {
    #[diesel(sql_type = diesel::sql_types::Integer)]
    round_id: i32,
    #[diesel(sql_type = diesel::sql_types::Integer)]
    team_id: i32,
}

/// Adds a batch's responses to their round and team counters with one
/// statement, in the answers' transaction.
fn count_responses(
    conn: &mut DbConnection,
    by_team: &std::collections::BTreeMap<(i32, i32), Tally>,
) -> QueryResult<()> {
    use std::fmt::Write;
    if by_team.is_empty() {
        return Ok(());
    }
    // Only integers this function computed go into the text; both engines
    // name the columns of a VALUES list column1, column2, …
    let mut values = String::new();
    for ((round_id, team_id), t) in by_team {
        let sep = if values.is_empty() { "" } else { ", " };
        let _ = write!(
            values,
            "{sep}({round_id}, {team_id}, {}, {}, {}, {})",
            t.responses, t.promoters, t.passives, t.detractors
        );
    }
    let sql = format!(
        "UPDATE round_team_stats SET responses = responses + v.column3, \
         promoters = promoters + v.column4, passives = passives + v.column5, \
         detractors = detractors + v.column6 \
         FROM (VALUES {values}) AS v \
         WHERE round_team_stats.round_id = v.column1 AND round_team_stats.team_id = v.column2 \
         RETURNING round_team_stats.round_id, round_team_stats.team_id"
    );
    let updated: std::collections::HashSet<(i32, i32)> =
        crate::db::on_engine!(conn, c => diesel::sql_query(&sql).load::<CounterKey>(c))?
            .into_iter()
            .map(|k| (k.round_id, k.team_id))
            .collect();
    for ((round_id, team_id), tally) in by_team {
        if !updated.contains(&(*round_id, *team_id)) {
            count_response(conn, *round_id, *team_id, *tally)?;
        }
    }
    Ok(())
}

/// Adds responses to their round and team counters, in the answers' transaction.
fn count_response(
    conn: &mut DbConnection,
    round_id: i32,
    team_id: i32,
    tally: Tally,
) -> QueryResult<()> {
    let row = stats::table.find((round_id, team_id));
    let updated = diesel::update(row)
        .set((
            stats::responses.eq(stats::responses + tally.responses),
            stats::promoters.eq(stats::promoters + tally.promoters),
            stats::passives.eq(stats::passives + tally.passives),
            stats::detractors.eq(stats::detractors + tally.detractors),
        ))
        .execute(conn)?;
    if updated == 0 {
        // Only rounds from before the counters existed lack a row.
        diesel::insert_into(stats::table)
            .values((
                stats::round_id.eq(round_id),
                stats::team_id.eq(team_id),
                stats::responses.eq(tally.responses),
                stats::promoters.eq(tally.promoters),
                stats::passives.eq(tally.passives),
                stats::detractors.eq(tally.detractors),
            ))
            .execute(conn)?;
    }
    Ok(())
}

/// The invitations these token hashes belong to (first email's or reminder's).
pub fn invitations_by_tokens(
    conn: &mut DbConnection,
    token_hashes: &[&str],
) -> QueryResult<Vec<Invitation>> {
    crate::db::on_engine!(conn, c => invitations::table
        .filter(
            invitations::token_hash
                .eq_any(token_hashes.to_vec())
                .or(invitations::reminder_token_hash.eq_any(token_hashes.to_vec())),
        )
        .select(Invitation::as_select())
        .load(c))
}

/// Reads these rounds as they are now and holds them until the transaction ends,
/// so a round cannot close between this read and the commit: on PostgreSQL a row
/// lock that closing (`begin_closing`) waits for; on SQLite the write lock the
/// transaction already holds. Ordered by id, so two instances lock in one order.
pub fn lock_rounds(conn: &mut DbConnection, ids: &[i32]) -> QueryResult<Vec<Round>> {
    let of = rounds::table
        .filter(rounds::id.eq_any(ids.to_vec()))
        .order(rounds::id);
    match conn {
        DbConnection::Postgresql(c) => of.for_no_key_update().select(Round::as_select()).load(c),
        DbConnection::Sqlite(c) => of.select(Round::as_select()).load(c),
    }
}

/// Marks these invitations answered where they were not yet; returns those it marked.
pub fn mark_responded_many(conn: &mut DbConnection, ids: &[i32]) -> QueryResult<Vec<i32>> {
    if ids.is_empty() {
        return Ok(vec![]);
    }
    crate::db::on_engine!(conn, c => diesel::update(
        invitations::table
            .filter(invitations::id.eq_any(ids.to_vec()))
            .filter(invitations::responded.eq(false)),
    )
    .set(invitations::responded.eq(true))
    .returning(invitations::id)
    .get_results(c))
}

/// Rounds to close: open ones whose window has ended, and any a crash left half closed.
pub fn due_to_close(conn: &mut DbConnection, now: NaiveDateTime) -> QueryResult<Vec<i32>> {
    rounds::table
        .filter(
            rounds::status
                .eq("open")
                .and(rounds::closes_at.le(now))
                .or(rounds::status.eq("closing")),
        )
        .select(rounds::id)
        .order(rounds::id)
        .load(conn)
}

/// Ends answering on a round: true for exactly one of several instances racing on it.
pub fn begin_closing(conn: &mut DbConnection, round_id: i32) -> QueryResult<bool> {
    diesel::update(
        rounds::table
            .find(round_id)
            .filter(rounds::status.eq("open")),
    )
    .set(rounds::status.eq("closing"))
    .execute(conn)
    .map(|n| n == 1)
}

/// Brings an open round's close forward to `now` (HR closing it early).
pub fn close_early(conn: &mut DbConnection, round_id: i32, now: NaiveDateTime) -> QueryResult<()> {
    diesel::update(
        rounds::table
            .find(round_id)
            .filter(rounds::status.eq("open"))
            .filter(rounds::closes_at.gt(now)),
    )
    .set(rounds::closes_at.eq(now))
    .execute(conn)
    .map(drop)
}

/// Forgets who answered: the per-person flags and the reminder links go; the
/// counters keep participation.
pub fn forget_answerers(conn: &mut DbConnection, round_id: i32) -> QueryResult<()> {
    diesel::update(invitations::table.filter(invitations::round_id.eq(round_id)))
        .set((
            invitations::responded.eq(false),
            invitations::reminder_token_hash.eq(None::<String>),
        ))
        .execute(conn)
        .map(drop)
}

/// Marks a closing round closed: true for exactly one caller.
pub fn finish_closing(conn: &mut DbConnection, round_id: i32) -> QueryResult<bool> {
    diesel::update(
        rounds::table
            .find(round_id)
            .filter(rounds::status.eq("closing")),
    )
    .set(rounds::status.eq("closed"))
    .execute(conn)
    .map(|n| n == 1)
}

type StoredResponse = (String, Option<i32>, NaiveDate);
/// One answer as stored: (question, score, scale, choice, text).
type StoredValues = (
    i32,
    Option<i32>,
    Option<String>,
    Option<String>,
    Option<String>,
);

/// Writes one response row and its answers.
fn write_response(
    conn: &mut DbConnection,
    id: &str,
    round_id: i32,
    team_id: Option<i32>,
    submitted_on: NaiveDate,
    answers: &[StoredValues],
) -> QueryResult<()> {
    diesel::insert_into(responses::table)
        .values((
            responses::id.eq(id),
            responses::round_id.eq(round_id),
            responses::team_id.eq(team_id),
            responses::submitted_on.eq(submitted_on),
        ))
        .execute(conn)?;
    for (question_id, score, scale, choice, text) in answers {
        diesel::insert_into(answers::table)
            .values((
                answers::response_id.eq(id),
                answers::question_id.eq(question_id),
                answers::score.eq(score),
                answers::scale.eq(scale),
                answers::choice.eq(choice),
                answers::text.eq(text),
            ))
            .execute(conn)?;
    }
    Ok(())
}
type StoredAnswer = (
    String,
    i32,
    Option<i32>,
    Option<String>,
    Option<String>,
    Option<String>,
);

/// Rewrites a round's responses and answers in random order under new random ids,
/// so neither ids nor physical order (rowid, ctid) nor the writing transaction
/// (PostgreSQL's xmin) keep any trace of who answered when.
pub fn shuffle_responses(conn: &mut DbConnection, round_id: i32) -> QueryResult<usize> {
    use rand::seq::SliceRandom;
    let mut stored: Vec<StoredResponse> = responses::table
        .filter(responses::round_id.eq(round_id))
        .select((responses::id, responses::team_id, responses::submitted_on))
        .load(conn)?;
    let of_round = responses::table
        .filter(responses::round_id.eq(round_id))
        .select(responses::id);
    let answers: Vec<StoredAnswer> = answers::table
        .filter(answers::response_id.eq_any(of_round))
        .select((
            answers::response_id,
            answers::question_id,
            answers::score,
            answers::scale,
            answers::choice,
            answers::text,
        ))
        .load(conn)?;
    let mut by_response: std::collections::HashMap<String, Vec<StoredAnswer>> =
        std::collections::HashMap::new();
    for a in answers {
        by_response.entry(a.0.clone()).or_default().push(a);
    }
    diesel::delete(answers::table.filter(answers::response_id.eq_any(of_round))).execute(conn)?;
    diesel::delete(responses::table.filter(responses::round_id.eq(round_id))).execute(conn)?;
    stored.shuffle(&mut rand::rngs::OsRng);
    let mut renamed = Vec::with_capacity(stored.len());
    for (old_id, team_id, submitted_on) in &stored {
        let id = crate::tokens::random_token()[..32].to_string();
        renamed.push((old_id.clone(), id.clone()));
        let values: Vec<StoredValues> = by_response
            .remove(old_id)
            .unwrap_or_default()
            .into_iter()
            .map(|(_, q, score, scale, choice, text)| (q, score, scale, choice, text))
            .collect();
        write_response(conn, &id, round_id, *team_id, *submitted_on, &values)?;
    }
    crate::repo::conversations::follow_responses(conn, round_id, &renamed)?;
    // The counters were last written by the last answer's transaction: rewrite them
    // here too, so no row of the round keeps that transaction's id.
    diesel::update(stats::table.filter(stats::round_id.eq(round_id)))
        .set(stats::responses.eq(stats::responses))
        .execute(conn)?;
    Ok(stored.len())
}

/// How many rounds there are in each status.
pub fn count_by_status(conn: &mut DbConnection) -> QueryResult<Vec<(String, i64)>> {
    rounds::table
        .group_by(rounds::status)
        .select((rounds::status, diesel::dsl::count_star()))
        .load(conn)
}
