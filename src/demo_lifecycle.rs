//! `pulse demo`'s lifecycle surveys: an onboarding check-in (30, 60, 90 days) and an exit survey, two years old, with their cohorts' history.
//!
//! History is written as the scheduler and the answer writer would have left
//! it: one round per cohort (milestone × quarter), counters filed under no
//! team, anonymous responses, and a `lifecycle_sends` row per person and
//! milestone so the live scheduler never sends those again.

use crate::db::insert_all;
use crate::db::schema::{answers, employees, lifecycle_sends, responses, round_team_stats};
use crate::db::DbConnection;
use crate::domain::lifecycle::{cohort_window, Period, Trigger, EXIT_MILESTONE};
use crate::domain::survey::{Question, QuestionKind};
use crate::repo::rounds::{AnswerRow, ResponseRow, NO_TEAM};
use crate::repo::{self, rounds::NewRound, surveys::NewSurvey};
use chrono::{Duration, NaiveDate, NaiveDateTime, NaiveTime};
use diesel::prelude::*;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use std::collections::BTreeMap;

const OPEN_DAYS: i32 = 14;
const MIN_GROUP: i32 = 3;

fn question(kind: QuestionKind, prompt: &str, options: &[&str], required: bool) -> Question {
    Question {
        kind,
        prompt: prompt.into(),
        options: options.iter().map(|o| o.to_string()).collect(),
        required,
        driver: None,
    }
}

const EXIT_REASONS: [&str; 6] = [
    "Growth and career",
    "Pay and benefits",
    "My manager",
    "Workload",
    "Personal reasons",
    "Something else",
];

/// Creates both surveys and their history; returns how many responses it wrote.
pub fn seed(
    conn: &mut DbConnection,
    today: NaiveDate,
    now: NaiveDateTime,
    seed: u64,
) -> anyhow::Result<usize> {
    let mut rng = StdRng::seed_from_u64(seed ^ 0x11fe_c7c1e);
    let created = today - Duration::days(730);
    let onboarding = survey(
        conn,
        "Settling in",
        "A few questions at 30, 60 and 90 days: how your start is going.",
        &[
            question(
                QuestionKind::Scale,
                "I know what is expected of me in my role",
                &[],
                true,
            ),
            question(
                QuestionKind::Scale,
                "I have the tools and access I need to do my work",
                &[],
                true,
            ),
            question(QuestionKind::Scale, "I feel welcome in my team", &[], true),
            question(
                QuestionKind::Text,
                "What would have helped you settle in sooner?",
                &[],
                false,
            ),
        ],
        &Trigger::Onboarding(vec![30, 60, 90]),
        created,
        now,
    )?;
    let exit = survey(
        conn,
        "Before you go",
        "Thank you for your time with us. Your answers help the people who stay.",
        &[
            question(
                QuestionKind::Choice,
                "What weighed most in your decision to leave?",
                &EXIT_REASONS,
                true,
            ),
            question(
                QuestionKind::Scale,
                "I was treated fairly while I worked here",
                &[],
                true,
            ),
            question(
                QuestionKind::Text,
                "What one thing should we change?",
                &[],
                false,
            ),
        ],
        &Trigger::Exit,
        created,
        now,
    )?;
    let people: Vec<(i32, NaiveDate, Option<NaiveDate>)> = employees::table
        .filter(employees::email.like("person%@demo.pulse.example"))
        .select((employees::id, employees::hired_on, employees::left_on))
        .load(conn)?;
    // Who each cohort invited, and on which day.
    let mut cohorts: BTreeMap<(i32, i32, NaiveDate), Vec<(i32, NaiveDate)>> = BTreeMap::new();
    for &(id, hired_on, left_on) in &people {
        for m in [30, 60, 90] {
            let due = hired_on + Duration::days(m as i64);
            if due >= created && due < today && left_on.is_none_or(|l| l >= due) {
                let period = Period::quarter_of(due);
                cohorts
                    .entry((onboarding.0, m, period.start))
                    .or_default()
                    .push((id, due));
            }
        }
        if let Some(left) = left_on {
            let sent = left - Duration::days(OPEN_DAYS as i64);
            if sent >= created && sent < today {
                let period = Period::quarter_of(sent);
                cohorts
                    .entry((exit.0, EXIT_MILESTONE, period.start))
                    .or_default()
                    .push((id, sent));
            }
        }
    }
    let tz: chrono_tz::Tz = "Europe/Paris".parse().expect("a valid zone");
    let nine = NaiveTime::from_hms_opt(9, 0, 0).expect("a valid time");
    let mut written = 0;
    for ((survey_id, milestone, start), invited) in cohorts {
        let period = Period::quarter_of(start);
        let window = cohort_window(period, milestone, &tz, nine, OPEN_DAYS);
        let closed = window.closes_at.naive_utc() <= now;
        let first = invited.iter().map(|(_, d)| *d).min().unwrap_or(start);
        let round_id = repo::rounds::insert(
            conn,
            &NewRound {
                survey_id,
                question_version: 1,
                scheduled_for: window.scheduled_for.naive_utc(),
                opens_at: first.and_time(nine),
                closes_at: window.closes_at.naive_utc(),
                reminder_at: None,
                reminded: false,
                status: if closed { "closed" } else { "open" }.into(),
                invited: invited.len() as i32,
                responded: 0,
                enps_scale: "1-10".into(),
                min_group_size: MIN_GROUP,
                created_at: first.and_time(nine),
            },
        )?;
        repo::lifecycle::insert_cohort(conn, round_id, survey_id, milestone, period)?;
        let sends: Vec<_> = invited
            .iter()
            .map(|(id, day)| {
                (
                    lifecycle_sends::survey_id.eq(survey_id),
                    lifecycle_sends::employee_id.eq(*id),
                    lifecycle_sends::milestone.eq(milestone),
                    lifecycle_sends::sent_on.eq(*day),
                )
            })
            .collect();
        insert_all!(conn, lifecycle_sends::table, sends);
        let q: Vec<i32> = repo::surveys::questions(conn, survey_id, 1)?
            .iter()
            .map(|q| q.id)
            .collect();
        let (mut rows, mut answer_rows) = (Vec::new(), Vec::new());
        for (_, day) in &invited {
            if !rng.gen_bool(if milestone == EXIT_MILESTONE {
                0.6
            } else {
                0.75
            }) {
                continue;
            }
            let id = crate::tokens::random_token()[..32].to_string();
            let a = |question_id: i32, score: Option<i32>, choice: Option<&str>| AnswerRow {
                response_id: id.clone(),
                question_id,
                score,
                scale: None,
                choice: choice.map(String::from),
                text: None,
            };
            // Starts get easier with time; leavers are harsher.
            let lift = milestone as f64 / 90.0 * 0.5;
            let score = |rng: &mut StdRng, base: f64| {
                (base + lift + rng.gen_range(-1.5..1.5_f64))
                    .round()
                    .clamp(1.0, 5.0) as i32
            };
            if milestone == EXIT_MILESTONE {
                let weights = [4, 3, 2, 2, 1, 1];
                let mut pick = rng.gen_range(0..weights.iter().sum::<i32>());
                let reason = EXIT_REASONS
                    .iter()
                    .zip(weights)
                    .find(|(_, w)| {
                        pick -= w;
                        pick < 0
                    })
                    .map_or(EXIT_REASONS[5], |(r, _)| *r);
                answer_rows.push(a(q[0], None, Some(reason)));
                answer_rows.push(a(q[1], Some(score(&mut rng, 2.8)), None));
            } else {
                answer_rows.push(a(q[0], Some(score(&mut rng, 3.6)), None));
                answer_rows.push(a(q[1], Some(score(&mut rng, 3.2)), None));
                answer_rows.push(a(q[2], Some(score(&mut rng, 3.9)), None));
            }
            rows.push(ResponseRow {
                id,
                round_id,
                team_id: None,
                // A closed cohort's days are blurred to its quarter (see
                // `repo::lifecycle::blur_closed_cohorts`).
                submitted_on: if closed {
                    period.start
                } else {
                    (*day + Duration::days(rng.gen_range(0..5))).min(today)
                },
            });
        }
        let responded = insert_all!(conn, responses::table, rows);
        insert_all!(conn, answers::table, answer_rows);
        diesel::insert_into(round_team_stats::table)
            .values((
                round_team_stats::round_id.eq(round_id),
                round_team_stats::team_id.eq(NO_TEAM),
                round_team_stats::invited.eq(invited.len() as i32),
                round_team_stats::responses.eq(responded as i32),
                round_team_stats::promoters.eq(0),
                round_team_stats::passives.eq(0),
                round_team_stats::detractors.eq(0),
            ))
            .execute(conn)?;
        diesel::update(crate::db::schema::rounds::table.find(round_id))
            .set(crate::db::schema::rounds::responded.eq(responded as i32))
            .execute(conn)?;
        written += responded;
    }
    Ok(written)
}

/// A lifecycle survey created on `created`; returns its id.
fn survey(
    conn: &mut DbConnection,
    title: &str,
    intro: &str,
    questions: &[Question],
    trigger: &Trigger,
    created: NaiveDate,
    now: NaiveDateTime,
) -> anyhow::Result<(i32,)> {
    let at = created.and_time(NaiveTime::from_hms_opt(9, 0, 0).expect("a valid time"));
    let id = repo::surveys::insert(
        conn,
        &NewSurvey {
            title: title.into(),
            intro: Some(intro.into()),
            enps_scale: "1-10".into(),
            cadence: "once".into(),
            starts_on: created,
            send_time: "09:00".into(),
            timezone: "Europe/Paris".into(),
            open_days: OPEN_DAYS,
            reminder_after_days: None,
            min_group_size: MIN_GROUP,
            status: "active".into(),
            question_version: 1,
            scheduled_until: now,
            created_at: at,
            updated_at: at,
        },
    )?;
    repo::surveys::insert_questions(conn, id, 1, questions)?;
    repo::lifecycle::set_trigger(conn, id, trigger)?;
    Ok((id,))
}
