//! 1:1 meetings in the scheduler pass: each series' upcoming meetings created
//! exactly once, and both people emailed a reminder with an .ics invite (or
//! its update, or its cancellation) through the outbox.

use crate::db::DbConnection;
use crate::domain::calendar::{meeting_invite, MeetingInvite, Method, Person};
use crate::domain::one_on_one::{occurrences_to_materialize, remind_at, retime};
use crate::jobs::Mailing;
use crate::repo as repos;
use crate::repo::one_on_ones::{self as repo, Meeting, MeetingChanges, Series};
use chrono::{DateTime, NaiveDateTime, Utc};
use diesel::QueryResult;
use serde::Serialize;
use serde_json::json;
use std::collections::{BTreeSet, HashMap};

#[derive(Debug, Default, Clone, Serialize)]
pub struct MeetingsReport {
    pub meetings_created: usize,
    /// Reminder or update emails, one per person.
    pub reminders: usize,
    pub cancellations: usize,
}

pub fn run(
    conn: &mut DbConnection,
    mailing: &Mailing,
    now: DateTime<Utc>,
) -> anyhow::Result<MeetingsReport> {
    let mut report = MeetingsReport::default();
    for series in repo::active_series(conn)? {
        report.meetings_created +=
            crate::db::write_transaction(conn, |conn| materialize(conn, &series, now))?;
    }
    for meeting in repo::announcements_due(conn, now.naive_utc())? {
        let (reminders, cancellations) =
            crate::db::write_transaction::<_, anyhow::Error, _>(conn, |conn| {
                announce(conn, mailing, &meeting, now)
            })?;
        report.reminders += reminders;
        report.cancellations += cancellations;
    }
    Ok(report)
}

/// Creates the series' meetings that fall within the horizon (and at least the
/// next one). The unique key on (series, occurrence) makes a second pass, from
/// any instance, create nothing. Returns how many were created.
pub fn materialize(
    conn: &mut DbConnection,
    series: &Series,
    now: DateTime<Utc>,
) -> QueryResult<usize> {
    let Some(schedule) = series.schedule() else {
        tracing::warn!(
            series = series.id,
            "1:1 series has an unreadable schedule; skipped"
        );
        return Ok(0);
    };
    let from = series.materialized_until.and_utc();
    let (due, until) = occurrences_to_materialize(&schedule, from, now);
    let mut created = 0;
    for at in due {
        if insert_at(conn, series, at.naive_utc(), now)? {
            created += 1;
        }
    }
    if until > from {
        repo::update_series(
            conn,
            series.id,
            &repo::SeriesChanges {
                materialized_until: Some(until.naive_utc()),
                ..Default::default()
            },
        )?;
    }
    Ok(created)
}

fn insert_at(
    conn: &mut DbConnection,
    series: &Series,
    at: NaiveDateTime,
    now: DateTime<Utc>,
) -> QueryResult<bool> {
    repo::insert_meeting_if_absent(
        conn,
        series.id,
        at,
        at + series.duration(),
        remind_at(at, series.reminder_hours_before),
        now.naive_utc(),
    )
}

/// Takes a meeting off the calendar: an empty one nobody heard of is deleted;
/// any other is kept for the record as cancelled (the next pass tells both
/// people if they had been sent it) and gives its occurrence back.
pub fn drop_meeting(conn: &mut DbConnection, m: &Meeting, now: DateTime<Utc>) -> QueryResult<()> {
    if m.announced_sequence.is_none() && !repo::meeting_has_content(conn, m.id)? {
        return repo::delete_meeting(conn, m.id);
    }
    repo::update_meeting(
        conn,
        m.id,
        &MeetingChanges {
            scheduled_for: Some(repo::released_slot(m.id)),
            status: Some(repo::CANCELLED.into()),
            sequence: Some(m.sequence + 1),
            updated_at: Some(now.naive_utc()),
            ..Default::default()
        },
    )
}

/// Pausing or ending a series: its upcoming meetings are dropped.
pub fn drop_upcoming(
    conn: &mut DbConnection,
    series: &Series,
    now: DateTime<Utc>,
) -> QueryResult<()> {
    for m in repo::upcoming_meetings(conn, series.id, now.naive_utc())? {
        drop_meeting(conn, &m, now)?;
    }
    Ok(())
}

/// After a schedule change (`series` as stored afterwards): the k-th upcoming
/// meeting moves to the k-th upcoming occurrence, keeping its agenda, and
/// its SEQUENCE rises if its time changed; meetings left over are dropped and
/// missing ones created.
pub fn reschedule(conn: &mut DbConnection, series: &Series, now: DateTime<Utc>) -> QueryResult<()> {
    let Some(schedule) = series.schedule() else {
        return Ok(());
    };
    let upcoming = repo::upcoming_meetings(conn, series.id, now.naive_utc())?;
    let ids: Vec<i32> = upcoming.iter().map(|m| m.id).collect();
    // An occurrence held by a meeting already past (say, moved earlier) stays held.
    let mine: BTreeSet<NaiveDateTime> = upcoming.iter().map(|m| m.scheduled_for).collect();
    let taken: BTreeSet<NaiveDateTime> = repo::taken_occurrences(conn, series.id)?
        .into_iter()
        .filter(|t| !mine.contains(t))
        .collect();
    let (mut occurrences, mut until) = occurrences_to_materialize(&schedule, now, now);
    // Meetings were made up to `materialized_until`: the new schedule covers as far.
    let made_until = series.materialized_until.and_utc();
    if made_until > until {
        occurrences.extend(schedule.occurrences_between(until, made_until));
        until = made_until;
    }
    let occurrences: Vec<_> = occurrences
        .into_iter()
        .filter(|at| !taken.contains(&at.naive_utc()))
        .collect();
    let plan = retime(&ids, &occurrences);
    let by_id: HashMap<i32, &Meeting> = upcoming.iter().map(|m| (m.id, m)).collect();
    // Meetings left over give their occurrences back first: one of them may hold
    // an occurrence another meeting moves to.
    for id in &plan.dropped {
        drop_meeting(conn, by_id[id], now)?;
    }
    // Two steps, so that no meeting briefly holds another's occurrence.
    for (id, _) in &plan.moves {
        repo::update_meeting(
            conn,
            *id,
            &MeetingChanges {
                scheduled_for: Some(repo::released_slot(*id)),
                ..Default::default()
            },
        )?;
    }
    for (id, at) in &plan.moves {
        let m = by_id[id];
        let starts_at = at.naive_utc();
        let ends_at = starts_at + series.duration();
        // Calendars hold only scheduled meetings; a skipped one has nothing to update.
        let moved =
            m.status == repo::SCHEDULED && (m.starts_at != starts_at || m.ends_at != ends_at);
        repo::update_meeting(
            conn,
            *id,
            &MeetingChanges {
                scheduled_for: Some(starts_at),
                starts_at: Some(starts_at),
                ends_at: Some(ends_at),
                remind_at: Some(remind_at(starts_at, series.reminder_hours_before)),
                sequence: moved.then_some(m.sequence + 1),
                updated_at: Some(now.naive_utc()),
                ..Default::default()
            },
        )?;
    }
    for at in &occurrences[plan.moves.len()..] {
        insert_at(conn, series, at.naive_utc(), now)?;
    }
    repo::update_series(
        conn,
        series.id,
        &repo::SeriesChanges {
            materialized_until: Some(until.naive_utc()),
            ..Default::default()
        },
    )
}

/// A new reminder lead time applies to the meetings not yet announced.
pub fn refresh_reminders(
    conn: &mut DbConnection,
    series: &Series,
    now: DateTime<Utc>,
) -> QueryResult<()> {
    for m in repo::upcoming_meetings(conn, series.id, now.naive_utc())? {
        repo::update_meeting(
            conn,
            m.id,
            &MeetingChanges {
                remind_at: Some(remind_at(m.starts_at, series.reminder_hours_before)),
                ..Default::default()
            },
        )?;
    }
    Ok(())
}

/// Emails both people about the current version of `meeting`, once: a
/// reminder (or update) with the agenda, open action items and a REQUEST
/// invite, or a CANCEL when it was skipped or dropped.
fn announce(
    conn: &mut DbConnection,
    mailing: &Mailing,
    meeting: &Meeting,
    now: DateTime<Utc>,
) -> anyhow::Result<(usize, usize)> {
    if !repo::claim_announcement(conn, meeting.id, meeting.sequence)? {
        return Ok((0, 0));
    }
    let Some(series) = repo::find_series(conn, meeting.series_id)? else {
        return Ok((0, 0));
    };
    let (Some(manager), Some(report)) = (
        repos::employees::find(conn, series.manager_id)?,
        repos::employees::find(conn, series.report_id)?,
    ) else {
        return Ok((0, 0));
    };
    let method = if meeting.status == repo::SCHEDULED {
        Method::Request
    } else {
        Method::Cancel
    };
    let names: HashMap<i32, &str> = [
        (manager.id, manager.name.as_str()),
        (report.id, report.name.as_str()),
    ]
    .into();
    let name_of = |id: i32| names.get(&id).copied().unwrap_or("?");
    let agenda: Vec<_> = repo::agenda_of(conn, meeting.id)?
        .into_iter()
        .map(|a| json!({"text": a.text, "author": name_of(a.author_id), "done": a.done}))
        .collect();
    let mut open = repo::carried_actions(conn, meeting)?;
    open.extend(
        repo::actions_of(conn, meeting.id)?
            .into_iter()
            .filter(|a| !a.done),
    );
    let actions: Vec<_> = open
        .iter()
        .map(|a| {
            json!({"text": a.text, "owner": name_of(a.owner_id),
                   "due_on": a.due_on.map(|d| d.to_string())})
        })
        .collect();
    let tz: chrono_tz::Tz = series.timezone.parse().unwrap_or(chrono_tz::UTC);
    let starts_at = meeting.starts_at.and_utc();
    let when = format!(
        "{} ({})",
        starts_at.with_timezone(&tz).format("%Y-%m-%d %H:%M"),
        series.timezone
    );
    let link = format!("{}/meetings/{}", mailing.base_url, meeting.id);
    let summary = format!("1:1 {} / {}", manager.name, report.name);
    let description = format!("Pulse 1:1: {link}");
    let domain = mailing.uid_domain();
    let ics = meeting_invite(&MeetingInvite {
        method,
        meeting_id: meeting.id,
        uid_domain: &domain,
        sequence: meeting.sequence,
        starts_at,
        ends_at: meeting.ends_at.and_utc(),
        timezone: &series.timezone,
        summary: &summary,
        description: &description,
        url: &link,
        organizer: Person {
            name: &manager.name,
            email: &manager.email,
        },
        attendee: Person {
            name: &report.name,
            email: &report.email,
        },
        stamp: now,
    });
    let today = now.date_naive();
    let mut sent = 0;
    for (to, other) in [(&manager, &report), (&report, &manager)] {
        if !to.is_employed_on(today) {
            continue;
        }
        let (template, key) = match method {
            Method::Request => ("meeting_reminder", "meeting-reminder"),
            Method::Cancel => ("meeting_cancelled", "meeting-cancel"),
        };
        let data = json!({
            "name": to.name,
            "other": other.name,
            "when": when,
            "duration": series.duration_minutes,
            "link": link,
            "update": meeting.announced_sequence.is_some(),
            "agenda": agenda,
            "actions": actions,
        });
        let dedupe = format!("{key}:{}:{}:{}", meeting.id, to.id, meeting.sequence);
        if mailing.enqueue(conn, template, &dedupe, to, &data, Some(ics.clone()), now)? {
            sent += 1;
        }
    }
    Ok(match method {
        Method::Request => (sent, 0),
        Method::Cancel => (0, sent),
    })
}
