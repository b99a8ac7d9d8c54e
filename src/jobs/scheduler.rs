//! The scheduler pass: opens each due round exactly once with its invitations,
//! records missed rounds as skipped, sends reminders once, closes ended rounds.

use crate::db::DbConnection;
use crate::domain::disclosure::Tree;
use crate::domain::teams::with_descendants;
use crate::jobs::Mailing;
use crate::repo::outbox::NewRoundEmail;
use crate::repo::{self, openings::Member, rounds::NewRound, surveys::Survey};
use crate::tokens::{random_token, sha256_hex};
use chrono::{DateTime, Duration, Utc};
use serde::Serialize;

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
        /// Invited by this call.
        invited: usize,
        /// Invitations are still being written (see `carry_on_openings`).
        opening: bool,
    },
    /// Its window had passed when Pulse got to it: recorded, never sent.
    Skipped { round_id: i32 },
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
    report.invitations += carry_on_openings(conn, mailing, now)?;
    // Lifecycle surveys go out with people's milestones (`jobs::lifecycle`).
    let lifecycle = repo::lifecycle::triggers(conn)?;
    for survey in repo::surveys::active(conn)? {
        if lifecycle.contains_key(&survey.id) {
            continue;
        }
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

/// Invitations (each with its outbox row) written per transaction while a
/// round opens: tens of milliseconds of write lock, so answers, edits and
/// other ticks go on meanwhile.
pub const OPENING_CHUNK: usize = 2000;

/// How long an opening is held by the process writing it; renewed at every chunk.
const OPENING_LEASE: Duration = Duration::seconds(60);

/// Creates the round of `survey` scheduled for `at` and invites its audience.
/// The unique key on (survey, scheduled instant) makes a second attempt, from
/// any instance, a no-op. See `open_round_within`.
pub fn open_round(
    conn: &mut DbConnection,
    survey: &Survey,
    at: DateTime<Utc>,
    now: DateTime<Utc>,
    mailing: &Mailing,
) -> anyhow::Result<RoundOutcome> {
    open_round_within(conn, survey, at, now, mailing, usize::MAX, None)
}

/// Creates the round of `survey` scheduled for `at`, then writes its
/// invitations, each with its outbox email, `OPENING_CHUNK` at a time, each
/// chunk in its own transaction, for at most `max_chunks` chunks.
///
/// The first transaction creates the round (still `open`, `invited` 0), its
/// per-team counters and a `round_openings` row naming how many it will
/// invite; `invited` grows with every chunk and the row goes with the last.
/// Whatever is left (`Sent { opening: true }`, or a crash) is carried on by
/// `carry_on_openings`, which every scheduler pass runs: someone invited
/// early can answer at once, and nobody is invited twice.
///
/// A round an admin sends by hand (`opened_by`) is recorded in the audit
/// trail by the transaction that creates it.
pub fn open_round_within(
    conn: &mut DbConnection,
    survey: &Survey,
    at: DateTime<Utc>,
    now: DateTime<Utc>,
    mailing: &Mailing,
    max_chunks: usize,
    opened_by: Option<&repo::audit::Actor>,
) -> anyhow::Result<RoundOutcome> {
    let closes_at = survey.closes_at(at);
    let missed = now >= closes_at;
    // Sent late after downtime: it opens now but keeps its planned close.
    let opens_at = at.max(now);
    let claim_token = random_token();
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
        if let Some(actor) = opened_by {
            repo::audit::record(
                conn,
                actor,
                repo::audit::action::ROUND_OPEN,
                &format!("round:{round_id}"),
                &format!("survey:{}, sent by hand", survey.id),
            )?;
        }
        if missed {
            return Ok(Err(RoundOutcome::Skipped { round_id }));
        }
        let plan = plan_invitations(conn, survey, at)?;
        repo::rounds::insert_team_stats(conn, round_id, &plan.invited_by_team)?;
        let opened = crate::webhooks::events::Opened {
            round_id,
            survey_id: survey.id,
            survey_title: &survey.title,
            opens_at: new.opens_at,
            closes_at: new.closes_at,
            invited: plan.invitees.len(),
        };
        crate::webhooks::events::round_opened(conn, &opened, now.naive_utc())?;
        let lease_end = (now + OPENING_LEASE).naive_utc();
        repo::openings::begin(
            conn,
            round_id,
            plan.invitees.len() as i32,
            &claim_token,
            lease_end,
        )?;
        Ok(Ok((round_id, plan)))
    });
    let (round_id, plan) = match result {
        Err(e) if e.is::<AlreadyThere>() => return Ok(RoundOutcome::AlreadyThere),
        Err(e) => return Err(e),
        Ok(Err(skipped)) => return Ok(skipped),
        Ok(Ok(begun)) => begun,
    };
    let facts = OpeningFacts::new(round_id, claim_token, now);
    let (invited, done) = invite_in_chunks(conn, mailing, &facts, plan.invitees, max_chunks)?;
    if !done {
        repo::openings::release(conn, round_id, &facts.claim_token)?;
    }
    Ok(RoundOutcome::Sent {
        round_id,
        invited,
        opening: !done,
    })
}

/// Carries on every opening no process holds (left by a crash, or by a
/// request that wrote its first chunk only): invites whoever of the audience
/// has no invitation yet. Returns how many it invited.
pub fn carry_on_openings(
    conn: &mut DbConnection,
    mailing: &Mailing,
    now: DateTime<Utc>,
) -> anyhow::Result<usize> {
    let mut invited = 0;
    for round_id in repo::openings::stalled(conn, now.naive_utc())? {
        invited += carry_on_opening(conn, mailing, round_id, now)?;
    }
    Ok(invited)
}

/// Carries on the opening of one round if no other process holds it.
pub fn carry_on_opening(
    conn: &mut DbConnection,
    mailing: &Mailing,
    round_id: i32,
    now: DateTime<Utc>,
) -> anyhow::Result<usize> {
    let facts = OpeningFacts::new(round_id, random_token(), now);
    if !facts.hold(conn)? {
        return Ok(0);
    }
    let Some(round) = repo::rounds::find(conn, round_id)? else {
        repo::openings::finish(conn, round_id)?;
        return Ok(0);
    };
    let Some(survey) = repo::surveys::find(conn, round.survey_id)? else {
        repo::openings::finish(conn, round_id)?;
        return Ok(0);
    };
    let plan = plan_invitations(conn, &survey, round.scheduled_for.and_utc())?;
    let done: std::collections::HashSet<i32> = repo::openings::invited(conn, round_id)?
        .into_iter()
        .collect();
    let left: Vec<_> = plan
        .invitees
        .into_iter()
        .filter(|(e, _)| !done.contains(&e.id))
        .collect();
    tracing::info!(
        round = round_id,
        invited = done.len(),
        left = left.len(),
        "carrying on the opening of a round"
    );
    let (invited, _) = invite_in_chunks(conn, mailing, &facts, left, usize::MAX)?;
    Ok(invited)
}

/// Who an opening is for and who holds it.
struct OpeningFacts {
    round_id: i32,
    claim_token: String,
    now: DateTime<Utc>,
    started: std::time::Instant,
}

impl OpeningFacts {
    fn new(round_id: i32, claim_token: String, now: DateTime<Utc>) -> Self {
        Self {
            round_id,
            claim_token,
            now,
            started: std::time::Instant::now(),
        }
    }

    /// `now` plus the real time elapsed since: leases last their full length.
    fn clock(&self) -> DateTime<Utc> {
        self.now + Duration::from_std(self.started.elapsed()).unwrap_or_default()
    }

    /// Takes or renews the lease on the opening; false when another process holds it.
    fn hold(&self, conn: &mut DbConnection) -> diesel::QueryResult<bool> {
        let now = self.clock();
        repo::openings::claim(
            conn,
            self.round_id,
            &self.claim_token,
            now.naive_utc(),
            (now + OPENING_LEASE).naive_utc(),
        )
    }
}

/// Writes invitations and their emails, a chunk per transaction, each
/// renewing the opening's lease first; the last one ends the opening.
/// Stops when another process holds the opening or the round is no longer
/// open (closed early meanwhile). Returns how many it invited and whether
/// the opening is over.
fn invite_in_chunks(
    conn: &mut DbConnection,
    mailing: &Mailing,
    facts: &OpeningFacts,
    invitees: Vec<(Member, Option<i32>)>,
    max_chunks: usize,
) -> anyhow::Result<(usize, bool)> {
    let round_id = facts.round_id;
    let mut invited = 0;
    let total_chunks = invitees.len().div_ceil(OPENING_CHUNK).max(1);
    let mut chunks = invitees.chunks(OPENING_CHUNK);
    for n in 0..total_chunks.min(max_chunks) {
        let chunk = chunks.next().unwrap_or(&[]);
        let last = n + 1 == total_chunks;
        let written = crate::db::write_transaction::<_, anyhow::Error, _>(conn, |conn| {
            if !facts.hold(conn)? {
                return Ok(None);
            }
            let open = repo::rounds::find(conn, round_id)?.is_some_and(|r| r.status == "open");
            if !open {
                repo::openings::finish(conn, round_id)?;
                return Ok(None);
            }
            let invited = invite(conn, mailing, round_id, chunk, facts.now)?;
            if last {
                repo::openings::finish(conn, round_id)?;
            }
            Ok(Some(invited))
        })?;
        match written {
            Some(n) => invited += n,
            None => return Ok((invited, true)),
        }
        if total_chunks > 1 && (n == 0 || last) {
            repo::outbox::refresh_statistics(conn);
        }
    }
    Ok((invited, max_chunks >= total_chunks))
}

/// One chunk: invitations with fresh tokens, and their emails as outbox rows
/// that keep the token until sent (the email is rendered then). Returns how
/// many it invited: someone erased since the plan is left out.
fn invite(
    conn: &mut DbConnection,
    mailing: &Mailing,
    round_id: i32,
    chunk: &[(Member, Option<i32>)],
    now: DateTime<Utc>,
) -> anyhow::Result<usize> {
    let ids: Vec<i32> = chunk.iter().map(|(m, _)| m.id).collect();
    let mut people: std::collections::HashMap<i32, repo::openings::Invitee> =
        repo::openings::invitees(conn, &ids)?
            .into_iter()
            .map(|p| (p.id, p))
            .collect();
    let mut invitations = Vec::with_capacity(chunk.len());
    let mut emails = Vec::with_capacity(chunk.len());
    for (member, filed) in chunk {
        let Some(employee) = people.remove(&member.id) else {
            continue;
        };
        let token = random_token();
        invitations.push(repo::openings::NewInvitation {
            round_id,
            employee_id: employee.id,
            team_id: *filed,
            token_hash: sha256_hex(&token),
        });
        let key = format!("invite:{round_id}:{}", employee.id);
        let message_id = crate::mail::new_message_id(&key, &mailing.from);
        emails.push(NewRoundEmail::new(
            key,
            &employee.email,
            &employee.name,
            &employee.locale,
            "invitation",
            round_id,
            token,
            message_id,
            now.naive_utc(),
        ));
    }
    repo::openings::insert_invitations(conn, round_id, &invitations)?;
    repo::outbox::enqueue_round_emails(conn, &emails)?;
    Ok(invitations.len())
}

/// Who a round invites, each with the team their answers are filed under,
/// and the per-team counters to create.
struct Plan {
    invitees: Vec<(Member, Option<i32>)>,
    invited_by_team: std::collections::BTreeMap<i32, i32>,
}

/// Everyone in the audience who is employed on the round's local date.
fn plan_invitations(
    conn: &mut DbConnection,
    survey: &Survey,
    at: DateTime<Utc>,
) -> anyhow::Result<Plan> {
    let tz = survey.tz();
    let local_day = at.with_timezone(&tz).date_naive();
    let teams = repo::surveys::audience(conn, survey.id)?;
    let edges = repo::teams::edges(conn)?;
    let in_audience = (!teams.is_empty()).then(|| with_descendants(&edges, teams.iter().copied()));
    let invitees: Vec<_> = repo::openings::employed_on(conn, local_day)?
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
    let tree = Tree::new(&edges);
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
    let invitees = invitees
        .into_iter()
        .map(|e| {
            let team = e.team_id.unwrap_or(repo::rounds::NO_TEAM);
            let filed = filed_by_team
                .get(&team)
                .copied()
                .filter(|&f| f != repo::rounds::NO_TEAM);
            (e, filed)
        })
        .collect();
    Ok(Plan {
        invitees,
        invited_by_team,
    })
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
            let mut emails = Vec::new();
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
                let message_id = crate::mail::new_message_id(&key, &mailing.from);
                emails.push(NewRoundEmail::new(
                    key,
                    &employee.email,
                    &employee.name,
                    &employee.locale,
                    "reminder",
                    round.id,
                    token,
                    message_id,
                    now.naive_utc(),
                ));
            }
            repo::outbox::enqueue_round_emails(conn, &emails)?;
            Ok(emails.len())
        })?;
    }
    Ok(sent)
}
