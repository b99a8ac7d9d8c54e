//! The scheduler pass: opens each due round exactly once with its invitations,
//! records missed rounds as skipped, sends reminders once, closes ended rounds.

use crate::db::DbConnection;
use crate::domain::disclosure::Tree;
use crate::domain::survey::QuestionKind;
use crate::domain::teams::with_descendants;
use crate::jobs::Mailing;
use crate::repo::{self, rounds::NewRound, surveys::Survey};
use crate::tokens::{random_token, sha256_hex};
use chrono::{DateTime, Duration, Utc};
use serde::Serialize;
use serde_json::json;

#[derive(Debug, Default, Clone, Serialize)]
pub struct TickReport {
    pub rounds_sent: usize,
    pub rounds_skipped: usize,
    pub invitations: usize,
    pub reminders: usize,
    pub rounds_closed: usize,
}

#[derive(Debug, PartialEq, Eq)]
pub enum RoundOutcome {
    Sent {
        round_id: i32,
        invited: usize,
    },
    /// Its window had passed when Pulse got to it: recorded, never sent.
    Skipped {
        round_id: i32,
    },
    /// Another pass or instance created it first.
    AlreadyThere,
}

#[derive(Debug, thiserror::Error)]
#[error("the round already exists")]
struct AlreadyThere;

pub fn run(
    conn: &mut DbConnection,
    mailing: &Mailing,
    now: DateTime<Utc>,
) -> anyhow::Result<TickReport> {
    let mut report = TickReport::default();
    for survey in repo::surveys::active(conn)? {
        let Some(schedule) = survey.schedule() else {
            tracing::warn!(
                survey = survey.id,
                "survey has an unreadable schedule; skipped"
            );
            continue;
        };
        let from = survey.scheduled_until.and_utc();
        if now <= from {
            continue;
        }
        for at in schedule.occurrences_between(from, now) {
            match open_round(conn, &survey, at, now, mailing)? {
                RoundOutcome::Sent { invited, .. } => {
                    report.rounds_sent += 1;
                    report.invitations += invited;
                }
                RoundOutcome::Skipped { .. } => report.rounds_skipped += 1,
                RoundOutcome::AlreadyThere => {}
            }
        }
        repo::surveys::advance_scheduled_until(conn, survey.id, now.naive_utc())?;
    }
    report.reminders = send_reminders(conn, mailing, now)?;
    report.rounds_closed = crate::jobs::closing::close_due(conn, &mailing.mail_dir, now)?;
    Ok(report)
}

/// Creates the round of `survey` scheduled for `at`, with one invitation and
/// one outbox email per invitee, all in one transaction. The unique key on
/// (survey, scheduled instant) makes a second attempt, from any instance, a no-op.
pub fn open_round(
    conn: &mut DbConnection,
    survey: &Survey,
    at: DateTime<Utc>,
    now: DateTime<Utc>,
    mailing: &Mailing,
) -> anyhow::Result<RoundOutcome> {
    let closes_at = survey.closes_at(at);
    let missed = now >= closes_at;
    // Sent late after downtime: it opens now but keeps its planned close.
    let opens_at = at.max(now);
    let result = crate::db::write_transaction::<_, anyhow::Error, _>(conn, |conn| {
        let new = NewRound {
            survey_id: survey.id,
            question_version: survey.question_version,
            scheduled_for: at.naive_utc(),
            opens_at: opens_at.naive_utc(),
            closes_at: closes_at.naive_utc(),
            reminder_at: survey
                .reminder_after_days
                // Counted from the actual opening, so a late round is not
                // reminded the moment it goes out.
                .map(|d| (opens_at + Duration::days(d as i64)).naive_utc())
                .filter(|r| *r < closes_at.naive_utc()),
            reminded: false,
            status: if missed { "skipped" } else { "open" }.into(),
            invited: 0,
            responded: 0,
            enps_scale: survey.enps_scale.clone(),
            min_group_size: survey.min_group_size,
            created_at: now.naive_utc(),
        };
        let round_id = match repo::rounds::insert(conn, &new) {
            Err(e) if repo::is_unique_violation(&e) => return Err(AlreadyThere.into()),
            other => other?,
        };
        if missed {
            return Ok(RoundOutcome::Skipped { round_id });
        }
        let invited = invite_audience(conn, survey, round_id, at, now, mailing)?;
        repo::rounds::set_invited(conn, round_id, invited as i32)?;
        Ok(RoundOutcome::Sent { round_id, invited })
    });
    match result {
        Err(e) if e.is::<AlreadyThere>() => Ok(RoundOutcome::AlreadyThere),
        other => other,
    }
}

/// Invites everyone in the audience who is employed on the round's local date.
fn invite_audience(
    conn: &mut DbConnection,
    survey: &Survey,
    round_id: i32,
    at: DateTime<Utc>,
    now: DateTime<Utc>,
    mailing: &Mailing,
) -> anyhow::Result<usize> {
    let tz = survey.tz();
    let local_day = at.with_timezone(&tz).date_naive();
    let teams = repo::surveys::audience(conn, survey.id)?;
    let in_audience = (!teams.is_empty()).then(|| -> diesel::QueryResult<_> {
        Ok(with_descendants(
            &repo::teams::edges(conn)?,
            teams.iter().copied(),
        ))
    });
    let in_audience = in_audience.transpose()?;
    let questions = repo::surveys::questions(conn, survey.id, survey.question_version)?;
    let invitees: Vec<_> = repo::employees::employed_on(conn, local_day)?
        .into_iter()
        .filter(|e| match &in_audience {
            Some(set) => e.team_id.is_some_and(|t| set.contains(&t)),
            None => true,
        })
        .collect();
    let mut invited_by_team = std::collections::BTreeMap::new();
    for e in &invitees {
        *invited_by_team
            .entry(e.team_id.unwrap_or(repo::rounds::NO_TEAM))
            .or_insert(0) += 1;
    }
    // Each answer is filed under the smallest team around its author that had at
    // least `min_group_size` invitees, so no answer sits in a group too small to hide in.
    let tree = Tree::new(&repo::teams::edges(conn)?);
    let counts: std::collections::BTreeMap<i32, u32> = invited_by_team
        .iter()
        .map(|(&t, &n)| (t, n as u32))
        .collect();
    let min = survey.min_group_size.max(3) as u32;
    let filed_by_team = tree.filing(&counts, min);
    for &filed in filed_by_team.values() {
        // Counters exist up front for every team answers are filed under.
        invited_by_team.entry(filed).or_insert(0);
    }
    let mut invited = 0;
    for employee in &invitees {
        let team = employee.team_id.unwrap_or(repo::rounds::NO_TEAM);
        let filed = filed_by_team
            .get(&team)
            .copied()
            .filter(|&f| f != repo::rounds::NO_TEAM);
        let token = random_token();
        repo::rounds::insert_invitation(conn, round_id, employee.id, filed, &sha256_hex(&token))?;
        let key = format!("invite:{round_id}:{}", employee.id);
        enqueue_email(
            conn,
            mailing,
            "invitation",
            &key,
            survey,
            &questions,
            employee,
            &token,
            at,
            now,
        )?;
        invited += 1;
    }
    repo::rounds::insert_team_stats(conn, round_id, &invited_by_team)?;
    Ok(invited)
}

/// Sends each due round's one reminder, to those who have not answered.
fn send_reminders(
    conn: &mut DbConnection,
    mailing: &Mailing,
    now: DateTime<Utc>,
) -> anyhow::Result<usize> {
    let mut sent = 0;
    for round in repo::rounds::reminders_due(conn, now.naive_utc())? {
        sent += crate::db::write_transaction::<_, anyhow::Error, _>(conn, |conn| {
            if !repo::rounds::claim_reminder(conn, round.id)? {
                return Ok(0);
            }
            let Some(survey) = repo::surveys::find(conn, round.survey_id)? else {
                return Ok(0);
            };
            let questions = repo::surveys::questions(conn, survey.id, round.question_version)?;
            let mut n = 0;
            for invitation in repo::rounds::unanswered(conn, round.id)? {
                let Some(employee) = repo::employees::find(conn, invitation.employee_id)? else {
                    continue;
                };
                if !employee.is_employed_on(now.date_naive()) {
                    continue;
                }
                // A second token, so the first email's link keeps working too.
                let token = random_token();
                repo::rounds::set_reminder_token(conn, invitation.id, &sha256_hex(&token))?;
                let key = format!("reminder:{}:{}", round.id, employee.id);
                let at = round.scheduled_for.and_utc();
                enqueue_email(
                    conn, mailing, "reminder", &key, &survey, &questions, &employee, &token, at,
                    now,
                )?;
                n += 1;
            }
            Ok(n)
        })?;
    }
    Ok(sent)
}

#[allow(clippy::too_many_arguments)]
fn enqueue_email(
    conn: &mut DbConnection,
    mailing: &Mailing,
    template: &str,
    dedupe_key: &str,
    survey: &Survey,
    questions: &[repo::surveys::QuestionRow],
    employee: &repo::employees::Employee,
    token: &str,
    at: DateTime<Utc>,
    now: DateTime<Utc>,
) -> anyhow::Result<()> {
    let tz = survey.tz();
    let closes = survey.closes_at(at).with_timezone(&tz);
    let link = format!("{}/s/{token}", mailing.base_url);
    // A survey that opens with the eNPS question lets people answer it from
    // the email: each score opens the form with that score chosen.
    let enps = questions
        .first()
        .filter(|q| q.kind == QuestionKind::Enps.as_str())
        .map(|q| {
            let scores: Vec<_> = survey
                .scale()
                .range()
                .map(|n| json!({"n": n, "link": format!("{link}?score={n}")}))
                .collect();
            json!({"prompt": q.prompt, "scores": scores})
        });
    let data = json!({
        "name": employee.name,
        "survey": {"title": survey.title, "intro": survey.intro},
        "closes": format!("{} ({})", closes.format("%Y-%m-%d %H:%M"), survey.timezone),
        "min_group": survey.min_group_size,
        "link": link,
        "enps": enps,
    });
    let rendered = mailing
        .templates
        .render(template, &employee.locale, &data)?;
    let email = crate::mail::Email {
        to: employee.email.clone(),
        to_name: Some(employee.name.clone()),
        subject: rendered.subject.clone(),
        text: rendered.text,
        html: rendered.html,
        calendar: None,
    };
    let message_id = crate::mail::new_message_id(dedupe_key, &mailing.from);
    let raw =
        crate::mail::compose(&mailing.from, &email, &message_id).map_err(anyhow::Error::msg)?;
    repo::outbox::enqueue(
        conn,
        dedupe_key,
        &employee.email,
        &rendered.subject,
        &raw,
        &message_id,
        now.naive_utc(),
    )?;
    Ok(())
}
