//! The lifecycle pass: invites each person to an onboarding milestone or the exit survey exactly once.
//!
//! Each invitation joins the round of its cohort (one per survey, milestone
//! and quarter, see `domain::lifecycle`), so answering, closing, shuffling
//! and disclosure are those of every round. Exactly once: the row in
//! `lifecycle_sends` is written with ON CONFLICT DO NOTHING in the same
//! transaction as the invitation and its outbox email, so a repeated pass,
//! a restart or a second instance finds it and sends nothing.
//!
//! Answers are filed under no team: a cohort grows one person at a time, so
//! no team's share of it can be known to reach the threshold in advance, and
//! a cohort's figures are the company's only.

use crate::db::DbConnection;
use crate::domain::lifecycle::{self, Period, Trigger};
use crate::domain::teams::with_descendants;
use crate::jobs::Mailing;
use crate::repo::outbox::NewRoundEmail;
use crate::repo::{self, lifecycle::Person, rounds::NewRound, surveys::Survey};
use crate::tokens::{random_token, sha256_hex};
use chrono::{DateTime, NaiveDate, Utc};

/// Runs every active lifecycle survey at `now`; returns how many people it invited.
pub fn run(
    conn: &mut DbConnection,
    mailing: &Mailing,
    now: DateTime<Utc>,
) -> anyhow::Result<usize> {
    let triggers = repo::lifecycle::triggers(conn)?;
    if triggers.is_empty() {
        return Ok(0);
    }
    // Closed in this pass or since the last one (the scheduler closes them).
    repo::lifecycle::blur_closed_cohorts(conn)?;
    let mut invited = 0;
    for survey in repo::surveys::active(conn)? {
        if let Some(trigger) = triggers.get(&survey.id) {
            invited += run_survey(conn, mailing, &survey, trigger, now)?;
        }
    }
    if invited > 0 {
        tracing::info!(invited, "lifecycle surveys sent");
    }
    Ok(invited)
}

fn run_survey(
    conn: &mut DbConnection,
    mailing: &Mailing,
    survey: &Survey,
    trigger: &Trigger,
    now: DateTime<Utc>,
) -> anyhow::Result<usize> {
    let Some(schedule) = survey.schedule() else {
        tracing::warn!(
            survey = survey.id,
            "lifecycle survey with an unreadable schedule; skipped"
        );
        return Ok(0);
    };
    let tz = survey.tz();
    let day = lifecycle::sending_day(now, &tz, schedule.send_time);
    let created_on = survey.created_at.and_utc().with_timezone(&tz).date_naive();
    let open_days = survey.open_days;
    let mut due: Vec<(Person, i32)> = Vec::new();
    match trigger {
        Trigger::Onboarding(milestones) => {
            for &m in milestones {
                let (from, to) = lifecycle::hired_between(m, day, open_days);
                for p in repo::lifecycle::hired_between(conn, from, to, day)? {
                    if lifecycle::onboarding_due(p.hired_on, m, day, created_on, open_days) {
                        due.push((p, m));
                    }
                }
            }
        }
        Trigger::Exit => {
            let (from, to) = lifecycle::leaving_between(day, open_days);
            for p in repo::lifecycle::leaving_between(conn, from, to)? {
                let left_on = p.left_on.expect("read by its leave date");
                if lifecycle::exit_due(left_on, day, created_on, open_days) {
                    due.push((p, lifecycle::EXIT_MILESTONE));
                }
            }
        }
    }
    if due.is_empty() {
        return Ok(0);
    }
    let teams = repo::surveys::audience(conn, survey.id)?;
    let in_audience = if teams.is_empty() {
        None
    } else {
        Some(with_descendants(
            &repo::teams::edges(conn)?,
            teams.iter().copied(),
        ))
    };
    let sent = repo::lifecycle::sent(conn, survey.id)?;
    let mut invited = 0;
    for (person, milestone) in due {
        let member = match &in_audience {
            Some(set) => person.team_id.is_some_and(|t| set.contains(&t)),
            None => true,
        };
        if !member || sent.contains(&(person.id, milestone)) {
            continue;
        }
        if invite(conn, mailing, survey, trigger, &person, milestone, day, now)? {
            invited += 1;
        }
    }
    Ok(invited)
}

/// Invites one person into their cohort's round: false when another pass did.
#[allow(clippy::too_many_arguments)]
fn invite(
    conn: &mut DbConnection,
    mailing: &Mailing,
    survey: &Survey,
    trigger: &Trigger,
    person: &Person,
    milestone: i32,
    day: NaiveDate,
    now: DateTime<Utc>,
) -> anyhow::Result<bool> {
    let period = Period::quarter_of(day);
    let round_id = cohort_round(conn, survey, milestone, period, now)?;
    crate::db::write_transaction::<_, anyhow::Error, _>(conn, |conn| {
        let open = repo::rounds::find(conn, round_id)?.is_some_and(|r| r.status == "open");
        if !open {
            // HR closed this cohort early: the quarter's later people are not
            // asked (its figures are out), and nothing is recorded, so a
            // reopened schedule could not have lost them either.
            tracing::warn!(
                round = round_id,
                "a lifecycle cohort was closed early; invitation left out"
            );
            return Ok(false);
        }
        if !repo::lifecycle::record_send(conn, survey.id, person.id, milestone, day)? {
            return Ok(false);
        }
        let token = random_token();
        repo::lifecycle::add_invitation(conn, round_id, person.id, &sha256_hex(&token))?;
        // The "invite:" key, like every round's invitations: the email goes
        // with the round's other per-person traces when it closes.
        let key = format!("invite:{round_id}:{}", person.id);
        let message_id = crate::mail::new_message_id(&key, &mailing.from);
        let template = match trigger {
            Trigger::Onboarding(_) => "onboarding",
            Trigger::Exit => "exit",
        };
        let email = NewRoundEmail::new(
            key,
            &person.email,
            &person.name,
            &person.locale,
            template,
            round_id,
            token,
            message_id,
            now.naive_utc(),
        );
        repo::outbox::enqueue_round_emails(conn, &[email])?;
        Ok(true)
    })
}

/// The round of a cohort, created on its first invitation. Two passes racing
/// to create it meet on the rounds' unique (survey, scheduled instant): the
/// loser reads the winner's.
fn cohort_round(
    conn: &mut DbConnection,
    survey: &Survey,
    milestone: i32,
    period: Period,
    now: DateTime<Utc>,
) -> anyhow::Result<i32> {
    if let Some(id) = repo::lifecycle::cohort_round(conn, survey.id, milestone, period)? {
        return Ok(id);
    }
    let schedule = survey
        .schedule()
        .ok_or_else(|| anyhow::anyhow!("survey {} has no readable schedule", survey.id))?;
    let window = lifecycle::cohort_window(
        period,
        milestone,
        &survey.tz(),
        schedule.send_time,
        survey.open_days,
    );
    let created = crate::db::write_transaction::<_, diesel::result::Error, _>(conn, |conn| {
        let round_id = repo::rounds::insert(
            conn,
            &NewRound {
                survey_id: survey.id,
                question_version: survey.question_version,
                scheduled_for: window.scheduled_for.naive_utc(),
                opens_at: now.naive_utc(),
                closes_at: window.closes_at.naive_utc(),
                // People join a cohort over a quarter: one reminder for the
                // whole round would come weeks late for some, early for others.
                reminder_at: None,
                reminded: false,
                status: "open".into(),
                invited: 0,
                responded: 0,
                enps_scale: survey.enps_scale.clone(),
                min_group_size: survey.min_group_size,
                created_at: now.naive_utc(),
            },
        )?;
        repo::lifecycle::insert_cohort(conn, round_id, survey.id, milestone, period)?;
        let counters = std::collections::BTreeMap::from([(repo::rounds::NO_TEAM, 0)]);
        repo::rounds::insert_team_stats(conn, round_id, &counters)?;
        Ok(round_id)
    });
    match created {
        Ok(id) => Ok(id),
        Err(e) if repo::is_unique_violation(&e) => {
            repo::lifecycle::cohort_round(conn, survey.id, milestone, period)?
                .ok_or_else(|| anyhow::anyhow!("cohort round of survey {} vanished", survey.id))
        }
        Err(e) => Err(e.into()),
    }
}
