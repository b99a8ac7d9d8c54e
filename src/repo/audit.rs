//! The audit trail: one row per admin action, written in the action's transaction, never changed.

use crate::db::schema::{audit_log, employees};
use crate::db::DbConnection;
use chrono::NaiveDateTime;
use diesel::prelude::*;

/// Who acted and from where: an admin's id and client address, or the
/// command line (no id, address `cli`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Actor {
    pub id: Option<i32>,
    pub ip: String,
}

impl Actor {
    pub fn person(id: i32, ip: impl Into<String>) -> Self {
        Self {
            id: Some(id),
            ip: ip.into(),
        }
    }

    /// `pulse admin create`, `pulse import`: someone with a shell on the server.
    pub fn command_line() -> Self {
        Self {
            id: None,
            ip: "cli".into(),
        }
    }
}

/// The actions recorded, by name: the API's `action` filter takes these.
pub mod action {
    pub const EMPLOYEE_CREATE: &str = "employee.create";
    pub const EMPLOYEE_UPDATE: &str = "employee.update";
    pub const EMPLOYEE_ROLE: &str = "employee.role";
    pub const EMPLOYEE_EMAIL: &str = "employee.email";
    pub const EMPLOYEE_PASSWORD: &str = "employee.password";
    pub const EMPLOYEE_DEPARTURE: &str = "employee.departure";
    pub const EMPLOYEE_IMPORT: &str = "employee.import";
    pub const EMPLOYEE_INVITE: &str = "employee.invite";
    pub const EMPLOYEE_ERASE: &str = "employee.erase";
    pub const TEAM_CREATE: &str = "team.create";
    pub const TEAM_UPDATE: &str = "team.update";
    pub const SURVEY_CREATE: &str = "survey.create";
    pub const SURVEY_UPDATE: &str = "survey.update";
    pub const ROUND_OPEN: &str = "round.open";
    pub const ROUND_CLOSE: &str = "round.close";
    pub const ONE_ON_ONE_CREATE: &str = "one_on_one.create";
    pub const ONE_ON_ONE_UPDATE: &str = "one_on_one.update";
    pub const EXPORT_ENPS: &str = "export.enps";
    pub const EXPORT_TURNOVER: &str = "export.turnover";
    pub const EXPORT_ROUND_ANSWERS: &str = "export.round_answers";
    pub const EXPORT_AUDIT: &str = "export.audit";
    pub const EXPORT_PERSON: &str = "export.person";
    pub const SETTING_CHANGE: &str = "setting.change";
    pub const WEBHOOK_CREATE: &str = "webhook.create";
    pub const WEBHOOK_DELETE: &str = "webhook.delete";
    pub const SCIM_TOKEN_CREATE: &str = "scim_token.create";
    pub const SCIM_TOKEN_REVOKE: &str = "scim_token.revoke";
}

#[derive(Debug, Clone, Insertable)]
#[diesel(table_name = audit_log)]
struct NewEntry<'a> {
    at: NaiveDateTime,
    actor_id: Option<i32>,
    action: &'a str,
    target: &'a str,
    ip: &'a str,
    detail: &'a str,
}

/// Appends one entry in the caller's transaction; returns its id.
pub fn record(
    conn: &mut DbConnection,
    actor: &Actor,
    action: &str,
    target: &str,
    detail: &str,
) -> QueryResult<i32> {
    diesel::insert_into(audit_log::table)
        .values(NewEntry {
            at: crate::repo::now(),
            actor_id: actor.id,
            action,
            target,
            ip: &actor.ip,
            detail,
        })
        .returning(audit_log::id)
        .get_result(conn)
}

/// One entry as listed, with the actor's email when they are still on record.
#[derive(Debug, Clone, PartialEq, Eq, Queryable)]
pub struct Entry {
    pub id: i32,
    pub at: NaiveDateTime,
    pub actor_id: Option<i32>,
    pub actor_email: Option<String>,
    pub action: String,
    pub target: String,
    pub ip: String,
    pub detail: String,
}

/// The list's filters, all optional; `to` is exclusive.
#[derive(Debug, Clone, Default)]
pub struct Filter {
    pub actor_id: Option<i32>,
    /// An exact action, or a family written `employee.*`.
    pub action: Option<String>,
    pub from: Option<NaiveDateTime>,
    pub to: Option<NaiveDateTime>,
}

/// Entries matching `f`, newest first, and how many match in all.
pub fn list(
    conn: &mut DbConnection,
    f: &Filter,
    offset: i64,
    limit: i64,
) -> QueryResult<(Vec<Entry>, i64)> {
    let build = || {
        let mut q = audit_log::table
            .left_join(employees::table.on(audit_log::actor_id.eq(employees::id.nullable())))
            .into_boxed();
        if let Some(id) = f.actor_id {
            q = q.filter(audit_log::actor_id.eq(id));
        }
        match f.action.as_deref().map(|a| (a, a.strip_suffix(".*"))) {
            Some((_, Some(family))) => {
                let escaped = family
                    .replace('\\', "\\\\")
                    .replace('%', "\\%")
                    .replace('_', "\\_");
                q = q.filter(audit_log::action.like(format!("{escaped}.%")).escape('\\'));
            }
            Some((exact, None)) => q = q.filter(audit_log::action.eq(exact.to_string())),
            None => {}
        }
        if let Some(from) = f.from {
            q = q.filter(audit_log::at.ge(from));
        }
        if let Some(to) = f.to {
            q = q.filter(audit_log::at.lt(to));
        }
        q
    };
    let total = build().count().get_result(conn)?;
    let rows = build()
        .select((
            audit_log::id,
            audit_log::at,
            audit_log::actor_id,
            employees::email.nullable(),
            audit_log::action,
            audit_log::target,
            audit_log::ip,
            audit_log::detail,
        ))
        .order((audit_log::at.desc(), audit_log::id.desc()))
        .offset(offset)
        .limit(limit)
        .load(conn)?;
    Ok((rows, total))
}
