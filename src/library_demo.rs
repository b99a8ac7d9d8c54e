//! The demo company's rotating weekly pulse, built from the library's template, with weeks of answered rounds.

use crate::db::schema::{employees, round_team_stats, rounds};
use crate::db::DbConnection;
use crate::domain::rotation;
use crate::domain::survey::{Answer, EnpsScale, QuestionKind, ScheduleInput};
use crate::repo::{self, audit::Actor, rounds::NewResponse, rounds::NewRound};
use crate::routes::api::surveys::{create_survey, SurveyInput};
use chrono::{DateTime, Datelike, Duration, NaiveDate, NaiveTime, Utc};
use diesel::prelude::*;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use std::collections::BTreeMap;

/// One respondent's filed team and answers.
type Answered = (Option<i32>, Vec<(i32, Answer)>);

const COMMENTS: [&str; 4] = [
    "The new on-call rota helps a lot.",
    "I would like clearer goals for next quarter.",
    "Thanks for the training budget.",
    "Release weeks are still too hectic.",
];

/// Creates the "Weekly engagement pulse" from its template (every driver of
/// the library, three questions a person a week) and `weeks` closed rounds in
/// which each respondent answered eNPS and their own draw. Returns the survey id.
pub fn seed_rotating_pulse(
    conn: &mut DbConnection,
    now: DateTime<Utc>,
    weeks: u32,
    seed: u64,
) -> anyhow::Result<i32> {
    let mut rng = StdRng::seed_from_u64(seed ^ 0x05ee_d11b);
    let today = now.date_naive();
    let first = today - Duration::weeks(i64::from(weeks));
    let first_monday = first - Duration::days(i64::from(first.weekday().num_days_from_monday()));
    let input = SurveyInput {
        template: Some("weekly-engagement".into()),
        schedule: Some(ScheduleInput {
            cadence: "weekly".into(),
            starts_on: first_monday.to_string(),
            send_time: "09:30".into(),
            timezone: "Europe/Paris".into(),
            open_days: 5,
            reminder_after_days: Some(2),
        }),
        ..Default::default()
    };
    let survey = create_survey(conn, &Actor::command_line(), input, now)
        .map_err(|e| anyhow::anyhow!("demo rotating pulse: {e}"))?;
    let per_round = repo::rotations::per_round(conn, survey.id, 1)?.unwrap_or(3);
    let rows = repo::surveys::questions(conn, survey.id, 1)?;
    let questions: Vec<_> = rows.iter().map(|q| q.question()).collect();
    // A mood per team, so drivers differ between teams and over time.
    let people: Vec<(i32, NaiveDate, Option<NaiveDate>)> = employees::table
        .filter(employees::team_id.is_not_null())
        .select((
            employees::team_id.assume_not_null(),
            employees::hired_on,
            employees::left_on,
        ))
        .load(conn)?;
    let mut mood: BTreeMap<i32, f64> = BTreeMap::new();
    for (team, _, _) in &people {
        mood.entry(*team)
            .or_insert_with(|| rng.gen_range(-0.4..0.4));
    }
    let tree = crate::domain::disclosure::Tree::new(&repo::teams::edges(conn)?);
    let tz: chrono_tz::Tz = "Europe/Paris".parse().expect("valid zone");
    for w in 0..weeks {
        let day = first_monday + Duration::weeks(i64::from(w));
        let at = crate::domain::schedule::local_to_utc(
            day,
            NaiveTime::from_hms_opt(9, 30, 0).expect("valid"),
            tz,
        );
        if at + Duration::days(5) > now {
            break;
        }
        let round_id = repo::rounds::insert(
            conn,
            &NewRound {
                survey_id: survey.id,
                question_version: 1,
                scheduled_for: at.naive_utc(),
                opens_at: at.naive_utc(),
                closes_at: (at + Duration::days(5)).naive_utc(),
                reminder_at: Some((at + Duration::days(2)).naive_utc()),
                reminded: true,
                status: "closed".into(),
                invited: 0,
                responded: 0,
                enps_scale: "1-10".into(),
                min_group_size: survey.min_group_size,
                created_at: at.naive_utc(),
            },
        )?;
        let invitees: Vec<_> = people
            .iter()
            .filter(|(_, hired, left)| *hired <= day && left.is_none_or(|l| l >= day))
            .collect();
        let mut invited: BTreeMap<i32, u32> = BTreeMap::new();
        for (team, _, _) in &invitees {
            *invited.entry(*team).or_default() += 1;
        }
        for (team, n) in &invited {
            diesel::insert_into(round_team_stats::table)
                .values((
                    round_team_stats::round_id.eq(round_id),
                    round_team_stats::team_id.eq(team),
                    round_team_stats::invited.eq(*n as i32),
                    round_team_stats::responses.eq(0),
                    round_team_stats::promoters.eq(0),
                    round_team_stats::passives.eq(0),
                    round_team_stats::detractors.eq(0),
                ))
                .execute(conn)?;
        }
        let filed = tree.filing(&invited, survey.min_group_size as u32);
        // (filed team, answers) per respondent.
        let mut answered: Vec<Answered> = vec![];
        for (team, _, _) in &invitees {
            if !rng.gen_bool(0.7) {
                continue;
            }
            let m = mood[team] + (f64::from(w) / 6.0).sin() * 0.15;
            // The draw a link would make: any key will do, none is kept.
            let asked = rotation::draw(&questions, per_round, round_id, rng.gen());
            let mut answers = vec![];
            for i in asked {
                let (id, q) = (rows[i].id, &questions[i]);
                let a = match q.kind {
                    QuestionKind::Enps => Answer::Enps {
                        score: (7.6 + m * 5.0 + rng.gen_range(-3.0..3.0_f64))
                            .round()
                            .clamp(1.0, 10.0) as i32,
                        scale: EnpsScale::OneToTen,
                    },
                    QuestionKind::Text if rng.gen_bool(0.1) => {
                        Answer::Text(COMMENTS[rng.gen_range(0..COMMENTS.len())].into())
                    }
                    QuestionKind::Text => continue,
                    _ => Answer::Score(
                        (3.5 + m * 2.5 + rng.gen_range(-1.5..1.5_f64))
                            .round()
                            .clamp(1.0, 5.0) as i32,
                    ),
                };
                answers.push((id, a));
            }
            let team = Some(filed[team]).filter(|t| *t != repo::rounds::NO_TEAM);
            answered.push((team, answers));
        }
        let batch: Vec<NewResponse<'_>> = answered
            .iter()
            .map(|(team_id, answers)| NewResponse {
                round_id,
                team_id: *team_id,
                submitted_on: day + Duration::days(1),
                answers,
            })
            .collect();
        repo::rounds::insert_responses(conn, &batch)?;
        let total: u32 = invited.values().sum();
        diesel::update(rounds::table.find(round_id))
            .set(rounds::invited.eq(total as i32))
            .execute(conn)?;
    }
    Ok(survey.id)
}
