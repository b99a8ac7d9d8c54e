//! What the audit trail records of a change to a person, and the emails that tell them.
//!
//! Entries name people by id only, never by name or address: the trail is
//! append-only, so it must hold nothing an erasure would have to remove.

use crate::db::DbConnection;
use crate::error::{AppError, AppResult};
use crate::jobs::Mailing;
use crate::repo::audit::{action, record, Actor};
use crate::repo::{self, employees::Employee};
use chrono::{DateTime, Utc};
use serde_json::json;

/// `employee:<id>`: how entries name a person.
pub fn employee_target(id: i32) -> String {
    format!("employee:{id}")
}

/// Records a new person (never their password).
pub fn employee_created(conn: &mut DbConnection, actor: &Actor, e: &Employee) -> AppResult<()> {
    let detail = format!(
        "{}{}",
        e.role,
        if e.password_hash.is_some() {
            ", can sign in"
        } else {
            ""
        }
    );
    record(
        conn,
        actor,
        action::EMPLOYEE_CREATE,
        &employee_target(e.id),
        &detail,
    )?;
    Ok(())
}

/// Records what an admin changed about a person, one entry per kind of
/// change so each can be filtered on, in the caller's transaction; and, when
/// the password or the email address changed, queues an email telling the
/// person (at the old address as well as the new one for an email change),
/// so a change they did not ask for does not go unnoticed.
pub fn employee_changed(
    conn: &mut DbConnection,
    mailing: &Mailing,
    actor: &Actor,
    before: &Employee,
    after: &Employee,
    password_set: bool,
    now: DateTime<Utc>,
) -> AppResult<()> {
    let target = employee_target(after.id);
    let mut fields = vec![];
    if before.name != after.name {
        fields.push("name");
    }
    if before.team_id != after.team_id {
        fields.push("team_id");
    }
    if before.manager_id != after.manager_id {
        fields.push("manager_id");
    }
    if before.hired_on != after.hired_on {
        fields.push("hired_on");
    }
    if before.locale != after.locale {
        fields.push("locale");
    }
    if !fields.is_empty() {
        record(
            conn,
            actor,
            action::EMPLOYEE_UPDATE,
            &target,
            &fields.join(", "),
        )?;
    }
    if before.role != after.role {
        let detail = format!("{} → {}", before.role, after.role);
        record(conn, actor, action::EMPLOYEE_ROLE, &target, &detail)?;
    }
    if (&before.left_on, &before.leave_reason, before.regretted)
        != (&after.left_on, &after.leave_reason, after.regretted)
    {
        let detail = match after.left_on {
            None => "departure undone".to_string(),
            Some(l) => format!(
                "left on {l}, {}{}",
                after.leave_reason.as_deref().unwrap_or("no reason given"),
                if after.regretted { ", regretted" } else { "" }
            ),
        };
        record(conn, actor, action::EMPLOYEE_DEPARTURE, &target, &detail)?;
        if let Some(left_on) = after.left_on.filter(|l| before.left_on != Some(*l)) {
            crate::webhooks::events::employee_left(conn, after.id, left_on, now.naive_utc())?;
        }
    }
    let admin = match actor.id {
        Some(id) => repo::employees::find(conn, id)?.map(|a| a.name),
        None => None,
    }
    .unwrap_or_else(|| "an administrator".into());
    let at = now.format("%Y-%m-%d %H:%M UTC").to_string();
    if before.email != after.email {
        let detail = "told at the old and the new address";
        let id = record(conn, actor, action::EMPLOYEE_EMAIL, &target, detail)?;
        let data = json!({"name": after.name, "admin": admin, "at": at,
                          "old_email": before.email, "new_email": after.email});
        let old_address = Employee {
            email: before.email.clone(),
            ..after.clone()
        };
        for (to, which) in [(&old_address, "old"), (after, "new")] {
            notify(
                conn,
                mailing,
                "email_changed",
                &format!("email-changed:{id}:{which}"),
                to,
                &data,
                now,
            )?;
        }
    }
    if password_set {
        let id = record(
            conn,
            actor,
            action::EMPLOYEE_PASSWORD,
            &target,
            "told by email",
        )?;
        let data = json!({"name": after.name, "admin": admin, "at": at});
        notify(
            conn,
            mailing,
            "password_changed",
            &format!("password-changed:{id}"),
            after,
            &data,
            now,
        )?;
    }
    Ok(())
}

fn notify(
    conn: &mut DbConnection,
    mailing: &Mailing,
    template: &str,
    dedupe_key: &str,
    to: &Employee,
    data: &serde_json::Value,
    now: DateTime<Utc>,
) -> AppResult<()> {
    mailing
        .enqueue(conn, template, dedupe_key, to, data, None, now)
        .map_err(AppError::Internal)?;
    Ok(())
}
