//! Reading the pre-aggregated counters, the cells stored when rounds close, and the
//! people data that reports are built from.

use crate::db::schema::{
    employees, round_cells, round_team_stats as stats, rounds, team_memberships,
};
use crate::db::DbConnection;
use crate::domain::disclosure::{LeftOut, Reason, RoundCells, StoredCell, Tree};
use crate::domain::enps::Counts;
use crate::domain::report::{Counter, Membership, PersonDates, Totals, COMPANY};
use std::collections::BTreeMap;

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
    people_where(conn, None)
}

/// The dates of the given people only.
pub fn people_among(conn: &mut DbConnection, ids: &[i32]) -> QueryResult<Vec<PersonDates>> {
    let mut out = Vec::with_capacity(ids.len());
    for chunk in ids.chunks(IN_LIST) {
        out.extend(people_where(conn, Some(chunk))?);
    }
    Ok(out)
}

/// Ids per `IN (…)` list: well under SQLite's limit on bound values.
const IN_LIST: usize = 10_000;

fn people_where(conn: &mut DbConnection, ids: Option<&[i32]>) -> QueryResult<Vec<PersonDates>> {
    let mut q = employees::table.into_boxed();
    if let Some(ids) = ids {
        q = q.filter(employees::id.eq_any(ids.to_vec()));
    }
    let rows: Vec<PersonRow> = q
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
    memberships_where(conn, None)
}

/// The memberships of the given teams only.
pub fn memberships_in(conn: &mut DbConnection, teams: &[i32]) -> QueryResult<Vec<Membership>> {
    let mut out = Vec::new();
    for chunk in teams.chunks(IN_LIST) {
        out.extend(memberships_where(conn, Some(chunk))?);
    }
    Ok(out)
}

fn memberships_where(
    conn: &mut DbConnection,
    teams: Option<&[i32]>,
) -> QueryResult<Vec<Membership>> {
    let mut q = team_memberships::table.into_boxed();
    if let Some(teams) = teams {
        q = q.filter(team_memberships::team_id.eq_any(teams.to_vec()));
    }
    q.select((
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

/// A cell's figures: invited, responses, promoters, passives, detractors.
const FIGURES: (
    round_cells::invited,
    round_cells::responses,
    round_cells::promoters,
    round_cells::passives,
    round_cells::detractors,
) = (
    round_cells::invited,
    round_cells::responses,
    round_cells::promoters,
    round_cells::passives,
    round_cells::detractors,
);
type FiguresRow = (i32, i32, i32, i32, i32);

/// One stored cell with its round's details, as views read them.
pub struct CellRow {
    pub round_id: i32,
    pub survey_id: i32,
    pub day: NaiveDate,
    pub scale: String,
    pub min_group_size: i32,
    pub cell: StoredCell,
}

#[derive(Insertable)]
#[diesel(table_name = round_cells)]
struct NewCell<'a> {
    round_id: i32,
    team_id: i32,
    survey_id: i32,
    scheduled_for: NaiveDateTime,
    enps_scale: &'a str,
    min_group_size: i32,
    invited: i32,
    responses: i32,
    promoters: i32,
    passives: i32,
    detractors: i32,
    hidden: Option<&'static str>,
}

/// The company as `round_cells` names it (a key column cannot be -1 by convention here:
/// counters and filing already call it 0).
const COMPANY_ROW: i32 = crate::domain::disclosure::NO_TEAM;

/// Decides a round's cells with the disclosure rule over the team tree as it is now,
/// and stores them: called in the transaction that closes the round, and for rounds
/// closed before cells were stored. Stores nothing when the round has them already.
pub fn store_cells(conn: &mut DbConnection, round_id: i32) -> QueryResult<usize> {
    if has_cells(conn, round_id)? {
        return Ok(0);
    }
    let Some(round) = crate::repo::rounds::find(conn, round_id)? else {
        return Ok(0);
    };
    let tree = Tree::new(&crate::repo::teams::edges(conn)?);
    let counters = round_counters(conn, round_id)?;
    let refs: Vec<&Counter> = counters.iter().collect();
    let min = round.min_group_size.max(3) as u32;
    let cells = RoundCells::disclose(round.id, round.scheduled_for.date(), &refs, &tree, min);
    let n = |v: u32| i32::try_from(v).unwrap_or(i32::MAX);
    let rows: Vec<NewCell> = cells
        .stored()
        .into_iter()
        .map(|c| NewCell {
            round_id,
            team_id: if c.group == COMPANY {
                COMPANY_ROW
            } else {
                c.group
            },
            survey_id: round.survey_id,
            scheduled_for: round.scheduled_for,
            enps_scale: &round.enps_scale,
            min_group_size: round.min_group_size,
            invited: n(c.totals.invited),
            responses: n(c.totals.responses),
            promoters: n(c.totals.counts.promoters),
            passives: n(c.totals.counts.passives),
            detractors: n(c.totals.counts.detractors),
            hidden: c.hidden.map(Reason::as_str),
        })
        .collect();
    // Multi-row inserts on the concrete connection: a round at a large company has
    // thousands of cells, and one statement per cell would cost a round trip each.
    let mut stored = 0;
    for chunk in rows.chunks(500) {
        stored += match conn {
            DbConnection::Postgresql(c) => diesel::insert_into(round_cells::table)
                .values(chunk)
                .execute(c)?,
            DbConnection::Sqlite(c) => diesel::insert_into(round_cells::table)
                .values(chunk)
                .execute(c)?,
        };
    }
    Ok(stored)
}

fn has_cells(conn: &mut DbConnection, round_id: i32) -> QueryResult<bool> {
    diesel::select(diesel::dsl::exists(
        round_cells::table
            .filter(round_cells::round_id.eq(round_id))
            .filter(round_cells::team_id.eq(COMPANY_ROW)),
    ))
    .get_result(conn)
}

/// Stores the cells of closed rounds that have none yet (rounds closed before cells
/// were kept); cheap when there are none. Safe to run from several requests or
/// instances at once: each round is stored in its own write transaction, and a round
/// another connection stored first is left as it is.
pub fn ensure_cells(conn: &mut DbConnection) -> QueryResult<usize> {
    let missing: Vec<i32> = rounds::table
        .filter(rounds::status.eq("closed"))
        .filter(diesel::dsl::not(
            rounds::id.eq_any(
                round_cells::table
                    .filter(round_cells::team_id.eq(COMPANY_ROW))
                    .select(round_cells::round_id),
            ),
        ))
        .select(rounds::id)
        .load(conn)?;
    let mut stored = 0;
    for id in missing {
        match crate::db::write_transaction(conn, |c| store_cells(c, id)) {
            Ok(n) => stored += n,
            // Another connection stored this round's cells between our check and our insert.
            Err(diesel::result::Error::DatabaseError(
                diesel::result::DatabaseErrorKind::UniqueViolation,
                _,
            )) => {}
            Err(e) => return Err(e),
        }
    }
    Ok(stored)
}

type CellTuple = (
    i32,
    i32,
    i32,
    NaiveDateTime,
    String,
    i32,
    FiguresRow,
    Option<String>,
);

/// Stored cells of closed rounds scheduled in [from, to): of the given groups
/// (`COMPANY` for the company), or of every group when `groups` is None; optionally of
/// one survey and one scale. In round order.
///
/// Without a survey, lifecycle cohorts are left out: their people (new hires at a
/// milestone, leavers) are not the company's pulse, and their figures have a report
/// of their own (`reports::lifecycle`).
pub fn cells(
    conn: &mut DbConnection,
    groups: Option<&[i32]>,
    survey_id: Option<i32>,
    scale: Option<&str>,
    from: NaiveDateTime,
    to: NaiveDateTime,
) -> QueryResult<Vec<CellRow>> {
    let mut q = round_cells::table
        .filter(round_cells::scheduled_for.ge(from))
        .filter(round_cells::scheduled_for.lt(to))
        .into_boxed();
    if let Some(groups) = groups {
        let ids: Vec<i32> = groups
            .iter()
            .map(|&g| if g == COMPANY { COMPANY_ROW } else { g })
            .collect();
        q = q.filter(round_cells::team_id.eq_any(ids));
    }
    if let Some(s) = survey_id {
        q = q.filter(round_cells::survey_id.eq(s));
    } else {
        q = q.filter(round_cells::survey_id.ne_all(crate::repo::lifecycle::survey_ids(conn)?));
    }
    if let Some(s) = scale {
        q = q.filter(round_cells::enps_scale.eq(s.to_string()));
    }
    let rows: Vec<CellTuple> = q
        .select((
            round_cells::round_id,
            round_cells::team_id,
            round_cells::survey_id,
            round_cells::scheduled_for,
            round_cells::enps_scale,
            round_cells::min_group_size,
            FIGURES,
            round_cells::hidden,
        ))
        .order((round_cells::scheduled_for, round_cells::round_id))
        .load(conn)?;
    Ok(rows
        .into_iter()
        .map(
            |(round_id, team, survey_id, at, scale, min, figures, hidden)| CellRow {
                round_id,
                survey_id,
                day: at.date(),
                scale,
                min_group_size: min,
                cell: stored_cell(
                    if team == COMPANY_ROW { COMPANY } else { team },
                    figures,
                    hidden,
                ),
            },
        )
        .collect())
}

/// How many people are employed on `day`, counted by the database.
pub fn headcount_on(conn: &mut DbConnection, day: NaiveDate) -> QueryResult<i64> {
    employees::table
        .filter(employees::hired_on.le(day))
        .filter(employees::left_on.is_null().or(employees::left_on.ge(day)))
        .count()
        .get_result(conn)
}

/// A closed round's stored company cell (None: not stored yet).
pub fn company_cell(conn: &mut DbConnection, round_id: i32) -> QueryResult<Option<StoredCell>> {
    round_cell(conn, round_id, COMPANY)
}

/// A closed round's stored cell of one group (None: not stored, or the round did not concern the group).
pub fn round_cell(
    conn: &mut DbConnection,
    round_id: i32,
    group: i32,
) -> QueryResult<Option<StoredCell>> {
    let team = if group == COMPANY { COMPANY_ROW } else { group };
    let row: Option<(FiguresRow, Option<String>)> = round_cells::table
        .filter(round_cells::round_id.eq(round_id))
        .filter(round_cells::team_id.eq(team))
        .select((FIGURES, round_cells::hidden))
        .first(conn)
        .optional()?;
    Ok(row.map(|(figures, hidden)| stored_cell(group, figures, hidden)))
}

fn stored_cell(
    group: i32,
    (invited, responses, p, pa, d): FiguresRow,
    hidden: Option<String>,
) -> StoredCell {
    let n = |v: i32| v.max(0) as u32;
    StoredCell {
        group,
        totals: Totals {
            invited: n(invited),
            responses: n(responses),
            counts: Counts {
                promoters: n(p),
                passives: n(pa),
                detractors: n(d),
            },
        },
        hidden: hidden.as_deref().and_then(Reason::parse),
    }
}

/// What a group's shown cells add up to over a window: their totals, how many there
/// are, and the cells of rounds that concern the group but are hidden.
pub struct GroupSum {
    pub totals: Totals,
    pub shown: u32,
    pub left_out: LeftOut,
}

type CellFilter = Box<
    dyn BoxableExpression<
        round_cells::table,
        crate::db::MultiBackend,
        SqlType = diesel::sql_types::Bool,
    >,
>;

type GroupSumRow = (
    i32,
    Option<i64>,
    Option<i64>,
    Option<i64>,
    Option<i64>,
    Option<i64>,
    Option<i64>,
    Option<i64>,
    Option<i64>,
);

/// Each group's sum of stored cells over closed rounds scheduled in [from, to) (the
/// groups given, `COMPANY` included as asked, or every group), added up by the
/// database: a cell counts only where the round concerns the group (anyone invited),
/// its figures only when shown, as `disclosure::sum` adds them.
pub fn group_sums(
    conn: &mut DbConnection,
    groups: Option<&[i32]>,
    survey_id: Option<i32>,
    scale: Option<&str>,
    from: NaiveDateTime,
    to: NaiveDateTime,
) -> QueryResult<BTreeMap<i32, GroupSum>> {
    use diesel::dsl::{case_when, sum};
    let mut out = BTreeMap::new();
    // Views across surveys leave lifecycle cohorts out (see `cells`).
    let lifecycle = match survey_id {
        Some(_) => vec![],
        None => crate::repo::lifecycle::survey_ids(conn)?,
    };
    let mut read = |ids: Option<Vec<i32>>| -> QueryResult<()> {
        // A grouped query cannot be boxed: the optional filters are boxed instead.
        let mut filter: CellFilter = Box::new(
            round_cells::scheduled_for
                .ge(from)
                .and(round_cells::scheduled_for.lt(to))
                .and(round_cells::invited.gt(0)),
        );
        if let Some(ids) = ids {
            filter = Box::new(filter.and(round_cells::team_id.eq_any(ids)));
        }
        if let Some(s) = survey_id {
            filter = Box::new(filter.and(round_cells::survey_id.eq(s)));
        } else if !lifecycle.is_empty() {
            filter = Box::new(filter.and(round_cells::survey_id.ne_all(lifecycle.clone())));
        }
        if let Some(s) = scale {
            filter = Box::new(filter.and(round_cells::enps_scale.eq(s.to_string())));
        }
        let shown = || round_cells::hidden.is_null();
        let one = || 1.into_sql::<diesel::sql_types::Integer>();
        let rows: Vec<GroupSumRow> = round_cells::table
            .filter(filter)
            .group_by(round_cells::team_id)
            .select((
                round_cells::team_id,
                sum(case_when(shown(), round_cells::invited).otherwise(0)),
                sum(case_when(shown(), round_cells::responses).otherwise(0)),
                sum(case_when(shown(), round_cells::promoters).otherwise(0)),
                sum(case_when(shown(), round_cells::passives).otherwise(0)),
                sum(case_when(shown(), round_cells::detractors).otherwise(0)),
                sum(case_when(shown(), one()).otherwise(0)),
                sum(case_when(round_cells::hidden.eq(Reason::TooFew.as_str()), one()).otherwise(0)),
                sum(
                    case_when(round_cells::hidden.eq(Reason::Derivable.as_str()), one())
                        .otherwise(0),
                ),
            ))
            .load(conn)?;
        let n = |v: Option<i64>| u32::try_from(v.unwrap_or(0).max(0)).unwrap_or(u32::MAX);
        for (team, invited, responses, p, pa, d, shown, too_few, derivable) in rows {
            let group = if team == COMPANY_ROW { COMPANY } else { team };
            out.insert(
                group,
                GroupSum {
                    totals: Totals {
                        invited: n(invited),
                        responses: n(responses),
                        counts: Counts {
                            promoters: n(p),
                            passives: n(pa),
                            detractors: n(d),
                        },
                    },
                    shown: n(shown),
                    left_out: LeftOut::new(n(too_few), n(derivable)),
                },
            );
        }
        Ok(())
    };
    match groups {
        None => read(None)?,
        Some(groups) => {
            let ids: Vec<i32> = groups
                .iter()
                .map(|&g| if g == COMPANY { COMPANY_ROW } else { g })
                .collect();
            for chunk in ids.chunks(IN_LIST) {
                read(Some(chunk.to_vec()))?;
            }
        }
    }
    Ok(out)
}
