//! What the key-driver report reads: each round's answers to driver and eNPS questions,
//! by response, and the caller's language.

use crate::db::schema::{answers, employees, questions, responses, rounds};
use crate::db::DbConnection;
use diesel::prelude::*;

/// One scored answer: its round, its response, where the response is filed (0: the
/// company), its question and the question's driver (None: the eNPS question), the score.
pub struct ScoredAnswer {
    pub round_id: i32,
    pub response_id: String,
    pub team: i32,
    pub question_id: i32,
    pub driver: Option<String>,
    pub score: i32,
}

type Row = (
    i32,
    String,
    Option<i32>,
    i32,
    Option<String>,
    String,
    Option<i32>,
);

/// The answers of the given rounds to questions with a driver and to eNPS questions,
/// ordered by round and response. Rounds are read a few hundred at a time, well under
/// the engines' limits on bound values.
pub fn scored_answers(conn: &mut DbConnection, rounds: &[i32]) -> QueryResult<Vec<ScoredAnswer>> {
    let mut out = vec![];
    for chunk in rounds.chunks(500) {
        let rows: Vec<Row> = answers::table
            .inner_join(responses::table)
            .inner_join(questions::table)
            .filter(responses::round_id.eq_any(chunk.to_vec()))
            .filter(
                questions::driver
                    .is_not_null()
                    .or(questions::kind.eq("enps")),
            )
            .filter(answers::score.is_not_null())
            .select((
                responses::round_id,
                answers::response_id,
                responses::team_id,
                answers::question_id,
                questions::driver,
                questions::kind,
                answers::score,
            ))
            .order((responses::round_id, answers::response_id))
            .load(conn)?;
        out.extend(rows.into_iter().filter_map(
            |(round_id, response_id, team, question_id, driver, kind, score)| {
                Some(ScoredAnswer {
                    round_id,
                    response_id,
                    team: team.unwrap_or(crate::repo::rounds::NO_TEAM),
                    question_id,
                    // Only scale questions carry a driver; an eNPS question never does.
                    driver: if kind == "enps" { None } else { driver },
                    score: score?,
                })
            },
        ));
    }
    Ok(out)
}

/// Those of the given rounds whose survey has ever had a question with a driver: only
/// their answers are worth reading (an eNPS-only survey adds nothing to any driver).
/// By survey rather than by question version, so however a round picks its questions
/// (versions, rotation), no round with driver answers is passed over.
pub fn rounds_with_drivers(conn: &mut DbConnection, ids: &[i32]) -> QueryResult<Vec<i32>> {
    let surveys: std::collections::BTreeSet<i32> = questions::table
        .filter(questions::driver.is_not_null())
        .select(questions::survey_id)
        .distinct()
        .load::<i32>(conn)?
        .into_iter()
        .collect();
    let mut out = vec![];
    for chunk in ids.chunks(500) {
        let rows: Vec<(i32, i32)> = rounds::table
            .filter(rounds::id.eq_any(chunk.to_vec()))
            .select((rounds::id, rounds::survey_id))
            .load(conn)?;
        out.extend(
            rows.into_iter()
                .filter(|(_, s)| surveys.contains(s))
                .map(|(id, _)| id),
        );
    }
    Ok(out)
}

/// The language a person reads Pulse in ("en" when unknown).
pub fn locale(conn: &mut DbConnection, employee: i32) -> QueryResult<String> {
    Ok(employees::table
        .find(employee)
        .select(employees::locale)
        .first::<String>(conn)
        .optional()?
        .unwrap_or_else(|| "en".into()))
}

/// The demo's weekly pulse asks two scale questions that measure drivers: say which,
/// so the demo's key-driver page has figures. Matches the demo's wording; questions a
/// driver was already set on are left alone.
pub fn seed_demo(conn: &mut DbConnection) -> QueryResult<usize> {
    let mut n = 0;
    for (prompt, driver) in [
        ("I have what I need to do my job well", "environment"),
        ("My workload is sustainable", "wellbeing"),
    ] {
        n += diesel::update(
            questions::table
                .filter(questions::kind.eq("scale"))
                .filter(questions::prompt.eq(prompt))
                .filter(questions::driver.is_null()),
        )
        .set(questions::driver.eq(driver))
        .execute(conn)?;
    }
    Ok(n)
}
