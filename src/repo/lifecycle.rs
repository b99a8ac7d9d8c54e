//! Lifecycle surveys in storage: triggers, the cohort rounds, and who was sent which milestone.

use crate::db::schema::{
    employees, erasures, invitations, lifecycle_cohorts, lifecycle_sends, round_team_stats, rounds,
    survey_triggers,
};
use crate::db::DbConnection;
use crate::domain::lifecycle::{Period, Trigger};
use chrono::NaiveDate;
use diesel::prelude::*;
use std::collections::{BTreeMap, HashSet};

pub fn set_trigger(conn: &mut DbConnection, survey_id: i32, t: &Trigger) -> QueryResult<()> {
    diesel::insert_into(survey_triggers::table)
        .values((
            survey_triggers::survey_id.eq(survey_id),
            survey_triggers::kind.eq(t.kind()),
            survey_triggers::days_after_hire.eq(t.days_text()),
        ))
        .execute(conn)
        .map(drop)
}

pub fn trigger_of(conn: &mut DbConnection, survey_id: i32) -> QueryResult<Option<Trigger>> {
    let row: Option<(String, String)> = survey_triggers::table
        .find(survey_id)
        .select((survey_triggers::kind, survey_triggers::days_after_hire))
        .first(conn)
        .optional()?;
    Ok(row.and_then(|(k, d)| Trigger::from_stored(&k, &d)))
}

/// The ids of every lifecycle survey.
pub fn survey_ids(conn: &mut DbConnection) -> QueryResult<Vec<i32>> {
    survey_triggers::table
        .select(survey_triggers::survey_id)
        .load(conn)
}

/// Every lifecycle survey's trigger, by survey.
pub fn triggers(conn: &mut DbConnection) -> QueryResult<BTreeMap<i32, Trigger>> {
    let rows: Vec<(i32, String, String)> = survey_triggers::table
        .select((
            survey_triggers::survey_id,
            survey_triggers::kind,
            survey_triggers::days_after_hire,
        ))
        .load(conn)?;
    Ok(rows
        .into_iter()
        .filter_map(|(id, k, d)| Trigger::from_stored(&k, &d).map(|t| (id, t)))
        .collect())
}

/// What an invitation needs of a person, and the dates that trigger it.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = employees)]
pub struct Person {
    pub id: i32,
    pub email: String,
    pub name: String,
    pub locale: String,
    pub team_id: Option<i32>,
    pub hired_on: NaiveDate,
    pub left_on: Option<NaiveDate>,
}

/// People hired within `from..=to` and still employed on `day`, erased people aside.
pub fn hired_between(
    conn: &mut DbConnection,
    from: NaiveDate,
    to: NaiveDate,
    day: NaiveDate,
) -> QueryResult<Vec<Person>> {
    employees::table
        .filter(employees::hired_on.between(from, to))
        .filter(employees::left_on.is_null().or(employees::left_on.ge(day)))
        .filter(diesel::dsl::not(diesel::dsl::exists(
            erasures::table.filter(erasures::employee_id.eq(employees::id)),
        )))
        .order(employees::id)
        .select(Person::as_select())
        .load(conn)
}

/// People whose recorded last day is within `from..=to`, erased people aside.
pub fn leaving_between(
    conn: &mut DbConnection,
    from: NaiveDate,
    to: NaiveDate,
) -> QueryResult<Vec<Person>> {
    employees::table
        .filter(employees::left_on.between(from, to))
        .filter(diesel::dsl::not(diesel::dsl::exists(
            erasures::table.filter(erasures::employee_id.eq(employees::id)),
        )))
        .order(employees::id)
        .select(Person::as_select())
        .load(conn)
}

/// (employee, milestone) pairs of `survey_id` already sent.
pub fn sent(conn: &mut DbConnection, survey_id: i32) -> QueryResult<HashSet<(i32, i32)>> {
    let rows: Vec<(i32, i32)> = lifecycle_sends::table
        .filter(lifecycle_sends::survey_id.eq(survey_id))
        .select((lifecycle_sends::employee_id, lifecycle_sends::milestone))
        .load(conn)?;
    Ok(rows.into_iter().collect())
}

/// Records that `employee_id` is sent `milestone`: false when someone (another
/// pass, another instance) did first. ON CONFLICT DO NOTHING on the inner
/// connection, since a failed insert would abort a PostgreSQL transaction.
pub fn record_send(
    conn: &mut DbConnection,
    survey_id: i32,
    employee_id: i32,
    milestone: i32,
    day: NaiveDate,
) -> QueryResult<bool> {
    let insert = diesel::insert_into(lifecycle_sends::table)
        .values((
            lifecycle_sends::survey_id.eq(survey_id),
            lifecycle_sends::employee_id.eq(employee_id),
            lifecycle_sends::milestone.eq(milestone),
            lifecycle_sends::sent_on.eq(day),
        ))
        .on_conflict_do_nothing();
    let n = crate::db::on_engine!(conn, c => insert.execute(c))?;
    Ok(n == 1)
}

/// The round of a cohort, if it was created.
pub fn cohort_round(
    conn: &mut DbConnection,
    survey_id: i32,
    milestone: i32,
    period: Period,
) -> QueryResult<Option<i32>> {
    lifecycle_cohorts::table
        .filter(lifecycle_cohorts::survey_id.eq(survey_id))
        .filter(lifecycle_cohorts::milestone.eq(milestone))
        .filter(lifecycle_cohorts::period_start.eq(period.start))
        .select(lifecycle_cohorts::round_id)
        .first(conn)
        .optional()
}

pub fn insert_cohort(
    conn: &mut DbConnection,
    round_id: i32,
    survey_id: i32,
    milestone: i32,
    period: Period,
) -> QueryResult<()> {
    diesel::insert_into(lifecycle_cohorts::table)
        .values((
            lifecycle_cohorts::round_id.eq(round_id),
            lifecycle_cohorts::survey_id.eq(survey_id),
            lifecycle_cohorts::milestone.eq(milestone),
            lifecycle_cohorts::period_start.eq(period.start),
            lifecycle_cohorts::period_end.eq(period.end),
        ))
        .execute(conn)
        .map(drop)
}

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = lifecycle_cohorts)]
pub struct Cohort {
    pub round_id: i32,
    pub survey_id: i32,
    pub milestone: i32,
    pub period_start: NaiveDate,
    pub period_end: NaiveDate,
}

/// A survey's cohorts, newest period first, milestones in order.
pub fn cohorts_of(conn: &mut DbConnection, survey_id: i32) -> QueryResult<Vec<Cohort>> {
    lifecycle_cohorts::table
        .filter(lifecycle_cohorts::survey_id.eq(survey_id))
        .order((
            lifecycle_cohorts::period_start.desc(),
            lifecycle_cohorts::milestone,
        ))
        .select(Cohort::as_select())
        .load(conn)
}

/// Exit cohorts (of every exit survey) whose period meets `from..=to`.
pub fn exit_cohorts_between(
    conn: &mut DbConnection,
    from: NaiveDate,
    to: NaiveDate,
) -> QueryResult<Vec<Cohort>> {
    lifecycle_cohorts::table
        .inner_join(
            survey_triggers::table.on(survey_triggers::survey_id.eq(lifecycle_cohorts::survey_id)),
        )
        .filter(survey_triggers::kind.eq("exit"))
        .filter(lifecycle_cohorts::period_start.le(to))
        .filter(lifecycle_cohorts::period_end.ge(from))
        .order((
            lifecycle_cohorts::period_start,
            lifecycle_cohorts::survey_id,
        ))
        .select(Cohort::as_select())
        .load(conn)
}

/// One more invitation in a cohort round: the invitation (filed under no
/// team: see `jobs::lifecycle`), counted in the round and its counter.
pub fn add_invitation(
    conn: &mut DbConnection,
    round_id: i32,
    employee_id: i32,
    token_hash: &str,
) -> QueryResult<()> {
    diesel::insert_into(invitations::table)
        .values((
            invitations::round_id.eq(round_id),
            invitations::employee_id.eq(employee_id),
            invitations::team_id.eq(None::<i32>),
            invitations::token_hash.eq(token_hash),
        ))
        .execute(conn)?;
    diesel::update(rounds::table.find(round_id))
        .set(rounds::invited.eq(rounds::invited + 1))
        .execute(conn)?;
    diesel::update(round_team_stats::table.find((round_id, crate::repo::rounds::NO_TEAM)))
        .set(round_team_stats::invited.eq(round_team_stats::invited + 1))
        .execute(conn)
        .map(drop)
}

/// Blurs the submission day of a closed cohort's responses to the first day
/// of its quarter. A cohort's people are invited on different days, so an
/// exact day could be matched with one person's invitation by whoever holds
/// the database; a regular round invites everyone at once and keeps its days.
/// Returns how many responses it changed.
pub fn blur_closed_cohorts(conn: &mut DbConnection) -> QueryResult<usize> {
    use crate::db::schema::responses;
    let closed: Vec<(i32, NaiveDate)> = lifecycle_cohorts::table
        .inner_join(rounds::table.on(rounds::id.eq(lifecycle_cohorts::round_id)))
        .filter(rounds::status.eq("closed"))
        .select((lifecycle_cohorts::round_id, lifecycle_cohorts::period_start))
        .load(conn)?;
    let mut changed = 0;
    for (round_id, start) in closed {
        // Read first: most passes find nothing to change and take no write lock.
        let exact = responses::table
            .filter(responses::round_id.eq(round_id))
            .filter(responses::submitted_on.ne(start))
            .count()
            .get_result::<i64>(conn)?;
        if exact == 0 {
            continue;
        }
        changed += diesel::update(
            responses::table
                .filter(responses::round_id.eq(round_id))
                .filter(responses::submitted_on.ne(start)),
        )
        .set(responses::submitted_on.eq(start))
        .execute(conn)?;
    }
    Ok(changed)
}
