//! Reading the pre-aggregated counters and the people data that reports are built from.

use crate::db::schema::{employees, round_team_stats as stats, rounds, team_memberships};
use crate::db::DbConnection;
use crate::domain::enps::Counts;
use crate::domain::report::{Counter, Membership, PersonDates};

type PersonRow = (i32, NaiveDate, Option<NaiveDate>, Option<String>, bool);
type AnswerTuple = (
    String,
    Option<i32>,
    i32,
    Option<i32>,
    Option<String>,
    Option<String>,
);
use chrono::{NaiveDate, NaiveDateTime};
use diesel::prelude::*;

/// Counters of every closed round scheduled in [from, to), optionally of one survey:
/// an open round's figures are not shown until it closes.
pub fn closed_counters(
    conn: &mut DbConnection,
    survey_id: Option<i32>,
    from: NaiveDateTime,
    to: NaiveDateTime,
) -> QueryResult<Vec<Counter>> {
    let mut q = rounds::table
        .filter(rounds::status.eq("closed"))
        .filter(rounds::scheduled_for.ge(from))
        .filter(rounds::scheduled_for.lt(to))
        .into_boxed();
    if let Some(s) = survey_id {
        q = q.filter(rounds::survey_id.eq(s));
    }
    let rounds: Vec<RoundMeta> = q
        .select((
            rounds::id,
            rounds::scheduled_for,
            rounds::enps_scale,
            rounds::min_group_size,
        ))
        .order((rounds::scheduled_for, rounds::id))
        .load(conn)?;
    counters_of(conn, &rounds)
}

/// (id, scheduled_for, scale, min_group_size) of a round.
type RoundMeta = (i32, NaiveDateTime, String, i32);
type StatsTuple = (i32, i32, i32, i32, i32, i32, i32);

/// The counters of the given rounds. Read in two queries rather than a join,
/// so each round's details are decoded once, not once per team.
fn counters_of(conn: &mut DbConnection, rounds: &[RoundMeta]) -> QueryResult<Vec<Counter>> {
    let meta: std::collections::HashMap<i32, &RoundMeta> =
        rounds.iter().map(|r| (r.0, r)).collect();
    let mut out = Vec::new();
    for chunk in rounds.chunks(500) {
        let ids: Vec<i32> = chunk.iter().map(|r| r.0).collect();
        let rows: Vec<StatsTuple> = stats::table
            .filter(stats::round_id.eq_any(ids))
            .select((
                stats::round_id,
                stats::team_id,
                stats::invited,
                stats::responses,
                stats::promoters,
                stats::passives,
                stats::detractors,
            ))
            .load(conn)?;
        let n = |v: i32| v.max(0) as u32;
        out.extend(rows.into_iter().filter_map(
            |(round_id, team_id, invited, responses, p, pa, d)| {
                let &&(_, at, ref scale, min) = meta.get(&round_id)?;
                Some(Counter {
                    round_id,
                    day: at.date(),
                    scale: scale.clone(),
                    min_group_size: min,
                    team_id,
                    invited: n(invited),
                    responses: n(responses),
                    counts: Counts {
                        promoters: n(p),
                        passives: n(pa),
                        detractors: n(d),
                    },
                })
            },
        ));
    }
    Ok(out)
}

pub fn people(conn: &mut DbConnection) -> QueryResult<Vec<PersonDates>> {
    let rows: Vec<PersonRow> = employees::table
        .select((
            employees::id,
            employees::hired_on,
            employees::left_on,
            employees::leave_reason,
            employees::regretted,
        ))
        .load(conn)?;
    Ok(rows
        .into_iter()
        .map(
            |(id, hired_on, left_on, leave_reason, regretted)| PersonDates {
                id,
                hired_on,
                left_on,
                leave_reason,
                regretted,
            },
        )
        .collect())
}

/// `(employee, team, started_on, ended_on)` for every team membership.
pub fn memberships(conn: &mut DbConnection) -> QueryResult<Vec<Membership>> {
    team_memberships::table
        .select((
            team_memberships::employee_id,
            team_memberships::team_id,
            team_memberships::started_on,
            team_memberships::ended_on,
        ))
        .order((team_memberships::employee_id, team_memberships::started_on))
        .load(conn)
}

/// One stored answer of a round, with the response it belongs to.
pub struct AnswerRow {
    pub response_id: String,
    /// The team the response is filed under (0: the company).
    pub team: i32,
    pub question_id: i32,
    pub score: Option<i32>,
    pub choice: Option<String>,
    pub text: Option<String>,
}

/// The answers of a round in the random order of response ids (so the order
/// says nothing about who answered when).
pub fn round_answers(conn: &mut DbConnection, round_id: i32) -> QueryResult<Vec<AnswerRow>> {
    use crate::db::schema::{answers, responses};
    let rows: Vec<AnswerTuple> = answers::table
        .inner_join(responses::table)
        .filter(responses::round_id.eq(round_id))
        .select((
            answers::response_id,
            responses::team_id,
            answers::question_id,
            answers::score,
            answers::choice,
            answers::text,
        ))
        .order((answers::response_id, answers::question_id))
        .load(conn)?;
    Ok(rows
        .into_iter()
        .map(
            |(response_id, team, question_id, score, choice, text)| AnswerRow {
                response_id,
                team: team.unwrap_or(crate::repo::rounds::NO_TEAM),
                question_id,
                score,
                choice,
                text,
            },
        )
        .collect())
}

/// The counters of one round, whatever its status.
pub fn round_counters(conn: &mut DbConnection, round_id: i32) -> QueryResult<Vec<Counter>> {
    counters_of_rounds(conn, &[round_id])
}

/// The counters of the given rounds, whatever their status.
pub fn counters_of_rounds(conn: &mut DbConnection, ids: &[i32]) -> QueryResult<Vec<Counter>> {
    let round: Vec<RoundMeta> = rounds::table
        .filter(rounds::id.eq_any(ids.to_vec()))
        .select((
            rounds::id,
            rounds::scheduled_for,
            rounds::enps_scale,
            rounds::min_group_size,
        ))
        .load(conn)?;
    counters_of(conn, &round)
}
