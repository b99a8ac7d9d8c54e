//! Erasing a person (GDPR article 17) and exporting what Pulse holds about them (article 15).
//!
//! Erasure keeps the row in `employees` under a placeholder name and
//! address, with the dates, team and leave reason turnover is counted from,
//! so every report figure stays as it was; everything else about the person
//! goes. Answers were never linked to anyone and stay, as do the counters.

use crate::db::schema::{
    account_invitations, action_items, action_plans, agenda_items, agenda_templates, audit_log,
    digest_preferences, digest_sends, employees, erasures, invitations, lifecycle_sends,
    login_attempts, meeting_notes, meetings, notes_keys, one_on_ones, outbox, team_memberships,
};
use crate::db::DbConnection;
use crate::repo::employees::Employee;
use chrono::NaiveDateTime;
use diesel::prelude::*;
use serde::Serialize;
use serde_json::{json, Value};

/// What an erasure removed, for the answer and the audit trail.
#[derive(Debug, Default, Serialize, PartialEq, Eq, utoipa::ToSchema)]
pub struct Erased {
    /// 1:1 series the person took part in, deleted with their meetings.
    pub one_on_ones: usize,
    pub meetings: usize,
    pub agenda_items: usize,
    /// Shared and private notes of those meetings, and any the person wrote.
    pub notes: usize,
    pub action_items: usize,
    pub agenda_templates: usize,
    /// Their survey invitations (answer links); answers were never linked.
    pub invitations: usize,
    /// Records that an onboarding or exit survey was sent to them.
    pub lifecycle_surveys: usize,
    pub account_invitations: usize,
    /// Emails to them, or naming them, kept in the outbox.
    pub emails: usize,
}

/// The placeholder a person's name becomes.
pub const ERASED_NAME: &str = "Erased person";

pub fn erased_email(id: i32) -> String {
    format!("erased-{id}@erased.invalid")
}

pub fn is_erased(conn: &mut DbConnection, id: i32) -> QueryResult<bool> {
    Ok(erasures::table
        .find(id)
        .select(erasures::employee_id)
        .first::<i32>(conn)
        .optional()?
        .is_some())
}

/// Erases `e` in the caller's transaction.
///
/// 1:1 series the person took part in are deleted whole: their meetings,
/// agendas, notes (the other person's too) and actions are records of
/// conversations with them. Emails to their address are deleted, and sent
/// or failed emails that name them (1:1 reminders to their lead); a pending
/// email to someone else is kept, so no one misses a notice.
pub fn erase(conn: &mut DbConnection, e: &Employee, now: NaiveDateTime) -> QueryResult<Erased> {
    let id = e.id;
    let series: Vec<i32> = one_on_ones::table
        .filter(
            one_on_ones::manager_id
                .eq(id)
                .or(one_on_ones::report_id.eq(id)),
        )
        .select(one_on_ones::id)
        .load(conn)?;
    let meeting_ids: Vec<i32> = meetings::table
        .filter(meetings::series_id.eq_any(&series))
        .select(meetings::id)
        .load(conn)?;
    let mut out = Erased {
        notes: diesel::delete(
            meeting_notes::table.filter(
                meeting_notes::meeting_id
                    .eq_any(&meeting_ids)
                    .or(meeting_notes::author_id.eq(id)),
            ),
        )
        .execute(conn)?,
        agenda_items: diesel::delete(
            agenda_items::table.filter(
                agenda_items::meeting_id
                    .eq_any(&meeting_ids)
                    .or(agenda_items::author_id.eq(id)),
            ),
        )
        .execute(conn)?,
        action_items: diesel::delete(
            action_items::table.filter(
                action_items::series_id
                    .eq_any(&series)
                    .or(action_items::author_id.eq(id))
                    .or(action_items::owner_id.eq(id)),
            ),
        )
        .execute(conn)?,
        ..Erased::default()
    };
    out.meetings =
        diesel::delete(meetings::table.filter(meetings::id.eq_any(&meeting_ids))).execute(conn)?;
    out.one_on_ones =
        diesel::delete(one_on_ones::table.filter(one_on_ones::id.eq_any(&series))).execute(conn)?;
    out.agenda_templates =
        diesel::delete(agenda_templates::table.filter(agenda_templates::owner_id.eq(id)))
            .execute(conn)?;
    diesel::delete(notes_keys::table.find(id)).execute(conn)?;
    // Which onboarding and exit surveys went to them, and their digests: the
    // lifecycle pass skips erased people, so nothing is sent again without these.
    out.lifecycle_surveys =
        diesel::delete(lifecycle_sends::table.filter(lifecycle_sends::employee_id.eq(id)))
            .execute(conn)?;
    diesel::delete(digest_sends::table.filter(digest_sends::employee_id.eq(id))).execute(conn)?;
    diesel::delete(digest_preferences::table.find(id)).execute(conn)?;
    out.invitations =
        diesel::delete(invitations::table.filter(invitations::employee_id.eq(id))).execute(conn)?;
    out.account_invitations =
        diesel::delete(account_invitations::table.filter(account_invitations::employee_id.eq(id)))
            .execute(conn)?;
    out.emails = diesel::delete(
        outbox::table.filter(
            outbox::recipient
                .eq(&e.email)
                .or(outbox::status.ne(crate::repo::outbox::PENDING).and(
                    outbox::message
                        .like(format!("%{}%", e.email))
                        .or(outbox::message.like(format!("%{}%", e.name)))
                        .or(outbox::to_name.eq(&e.name)),
                )),
        ),
    )
    .execute(conn)?;
    diesel::delete(
        login_attempts::table
            .filter(login_attempts::key.eq(crate::repo::login_attempts::account_key(&e.email))),
    )
    .execute(conn)?;
    diesel::update(employees::table.find(id))
        .set((
            employees::name.eq(ERASED_NAME),
            employees::email.eq(erased_email(id)),
            employees::password_hash.eq(None::<String>),
            employees::locale.eq("en"),
            employees::role.eq("member"),
            employees::sessions_valid_after.eq(Some(now)),
            employees::updated_at.eq(now),
        ))
        .execute(conn)?;
    // What an identity provider said (userName, externalId, names): gone, and the
    // erased person is no longer a SCIM User.
    crate::repo::scim::forget(conn, crate::repo::scim::USER, id, now)?;
    diesel::insert_into(erasures::table)
        .values((erasures::employee_id.eq(id), erasures::erased_at.eq(now)))
        .execute(conn)?;
    Ok(out)
}

/// Everything Pulse holds about `e`, as one JSON document. Their private
/// notes are sealed under a key only they can open: counted, not shown.
pub fn export(conn: &mut DbConnection, e: &Employee, now: NaiveDateTime) -> QueryResult<Value> {
    let id = e.id;
    let scim = crate::repo::scim::resource(conn, crate::repo::scim::USER, id)?;
    let stays: Vec<(i32, chrono::NaiveDate, Option<chrono::NaiveDate>)> = team_memberships::table
        .filter(team_memberships::employee_id.eq(id))
        .order(team_memberships::started_on)
        .select((
            team_memberships::team_id,
            team_memberships::started_on,
            team_memberships::ended_on,
        ))
        .load(conn)?;
    let rounds: Vec<i32> = invitations::table
        .filter(invitations::employee_id.eq(id))
        .order(invitations::round_id)
        .select(invitations::round_id)
        .load(conn)?;
    let series: Vec<(i32, i32, i32, String, chrono::NaiveDate, String)> = one_on_ones::table
        .filter(
            one_on_ones::manager_id
                .eq(id)
                .or(one_on_ones::report_id.eq(id)),
        )
        .order(one_on_ones::id)
        .select((
            one_on_ones::id,
            one_on_ones::manager_id,
            one_on_ones::report_id,
            one_on_ones::cadence,
            one_on_ones::starts_on,
            one_on_ones::status,
        ))
        .load(conn)?;
    let series_ids: Vec<i32> = series.iter().map(|s| s.0).collect();
    let meeting_rows: Vec<(i32, i32, NaiveDateTime, String)> = meetings::table
        .filter(meetings::series_id.eq_any(&series_ids))
        .order(meetings::starts_at)
        .select((
            meetings::id,
            meetings::series_id,
            meetings::starts_at,
            meetings::status,
        ))
        .load(conn)?;
    let meeting_ids: Vec<i32> = meeting_rows.iter().map(|m| m.0).collect();
    let agenda: Vec<(i32, i32, String, bool)> = agenda_items::table
        .filter(agenda_items::meeting_id.eq_any(&meeting_ids))
        .order((agenda_items::meeting_id, agenda_items::position))
        .select((
            agenda_items::meeting_id,
            agenda_items::author_id,
            agenda_items::text,
            agenda_items::done,
        ))
        .load(conn)?;
    let notes: Vec<(i32, i32, String, bool, NaiveDateTime)> = meeting_notes::table
        .filter(meeting_notes::meeting_id.eq_any(&meeting_ids))
        .order(meeting_notes::id)
        .select((
            meeting_notes::meeting_id,
            meeting_notes::author_id,
            meeting_notes::body,
            meeting_notes::private,
            meeting_notes::created_at,
        ))
        .load(conn)?;
    let actions: Vec<(i32, i32, String, Option<chrono::NaiveDate>, bool)> = action_items::table
        .filter(
            action_items::series_id
                .eq_any(&series_ids)
                .or(action_items::owner_id.eq(id)),
        )
        .order(action_items::id)
        .select((
            action_items::meeting_id,
            action_items::owner_id,
            action_items::text,
            action_items::due_on,
            action_items::done,
        ))
        .load(conn)?;
    let templates: Vec<(String, String)> = agenda_templates::table
        .filter(agenda_templates::owner_id.eq(id))
        .select((agenda_templates::name, agenda_templates::items))
        .load(conn)?;
    let emails: Vec<(String, String, NaiveDateTime, Option<NaiveDateTime>)> = outbox::table
        .filter(outbox::recipient.eq(&e.email))
        .order(outbox::id)
        .select((
            outbox::subject,
            outbox::status,
            outbox::created_at,
            outbox::sent_at,
        ))
        .load(conn)?;
    let audit: Vec<(NaiveDateTime, String, String)> = audit_log::table
        .filter(audit_log::target.eq(crate::audit::employee_target(id)))
        .order(audit_log::id)
        .select((audit_log::at, audit_log::action, audit_log::detail))
        .load(conn)?;
    let has_notes_key = notes_keys::table
        .find(id)
        .select(notes_keys::employee_id)
        .first::<i32>(conn)
        .optional()?
        .is_some();
    // Private notes are shown to their author only: the other person's are left out.
    let visible_notes: Vec<Value> = notes
        .iter()
        .filter(|n| !n.3 || n.1 == id)
        .map(|(meeting, author, body, private, at)| {
            if *private {
                json!({"meeting_id": meeting, "author_id": author, "private": true, "created_at": at,
                       "text": null, "sealed": "encrypted under your notes key: read it in Pulse while signed in"})
            } else {
                json!({"meeting_id": meeting, "author_id": author, "private": false, "created_at": at, "text": body})
            }
        })
        .collect();
    let lifecycle: Vec<(i32, i32, chrono::NaiveDate)> = lifecycle_sends::table
        .filter(lifecycle_sends::employee_id.eq(id))
        .order((lifecycle_sends::sent_on, lifecycle_sends::survey_id))
        .select((
            lifecycle_sends::survey_id,
            lifecycle_sends::milestone,
            lifecycle_sends::sent_on,
        ))
        .load(conn)?;
    let digest: Option<bool> = digest_preferences::table
        .find(id)
        .select(digest_preferences::enabled)
        .first(conn)
        .optional()?;
    let plans: Vec<(i32, Option<i32>, String, chrono::NaiveDate, String)> = action_plans::table
        .filter(
            action_plans::owner_id
                .eq(id)
                .or(action_plans::created_by.eq(id)),
        )
        .order(action_plans::id)
        .select((
            action_plans::id,
            action_plans::team_id,
            action_plans::text,
            action_plans::due_on,
            action_plans::status,
        ))
        .load(conn)?;
    Ok(json!({
        "exported_at": now,
        "about": "Everything Pulse holds about this person (GDPR article 15). Survey answers are stored without any link to a person, so none can be listed here.",
        "person": {
            "id": e.id, "email": e.email, "name": e.name, "role": e.role, "locale": e.locale,
            "team_id": e.team_id, "manager_id": e.manager_id,
            "hired_on": e.hired_on, "left_on": e.left_on, "leave_reason": e.leave_reason,
            "regretted": e.regretted, "has_password": e.password_hash.is_some(),
            "has_private_notes_key": has_notes_key,
            "created_at": e.created_at, "updated_at": e.updated_at,
        },
        "provisioning": scim.filter(|r| !r.deleted).map(|r| json!({
            "external_id": r.external_id, "user_name": r.user_name,
            "attributes": serde_json::from_str::<Value>(&r.attributes).unwrap_or(Value::Null),
            "updated_at": r.updated_at,
        })),
        "team_history": stays.iter().map(|(team, from, to)| json!({"team_id": team, "from": from, "to": to})).collect::<Vec<_>>(),
        "survey_invitations": rounds.iter().map(|r| json!({"round_id": r})).collect::<Vec<_>>(),
        // Milestone 0 is the exit survey; others are days after the hire date.
        "lifecycle_surveys_sent": lifecycle.iter().map(|(survey, milestone, on)| json!({"survey_id": survey, "milestone": milestone, "sent_on": on})).collect::<Vec<_>>(),
        "weekly_digest": digest.unwrap_or(true),
        "action_plans": plans.iter().map(|(pid, team, text, due, status)| json!({"id": pid, "team_id": team, "text": text, "due_on": due, "status": status})).collect::<Vec<_>>(),
        "one_on_ones": series.iter().map(|(sid, manager, report, cadence, starts, status)| json!({
            "id": sid, "manager_id": manager, "report_id": report, "cadence": cadence,
            "starts_on": starts, "status": status,
            "meetings": meeting_rows.iter().filter(|m| m.1 == *sid).map(|(mid, _, at, st)| json!({
                "id": mid, "starts_at": at, "status": st,
                "agenda": agenda.iter().filter(|a| a.0 == *mid).map(|(_, author, text, done)| json!({"author_id": author, "text": text, "done": done})).collect::<Vec<_>>(),
            })).collect::<Vec<_>>(),
        })).collect::<Vec<_>>(),
        "meeting_notes": visible_notes,
        "action_items": actions.iter().map(|(meeting, owner, text, due, done)| json!({"meeting_id": meeting, "owner_id": owner, "text": text, "due_on": due, "done": done})).collect::<Vec<_>>(),
        "talking_points": templates.iter().map(|(name, items)| json!({"name": name, "items": serde_json::from_str::<Value>(items).unwrap_or(Value::Null)})).collect::<Vec<_>>(),
        "emails": emails.iter().map(|(subject, status, created, sent)| json!({"subject": subject, "status": status, "queued_at": created, "sent_at": sent})).collect::<Vec<_>>(),
        "audit_trail": audit.iter().map(|(at, action, detail)| json!({"at": at, "action": action, "detail": detail})).collect::<Vec<_>>(),
    }))
}
