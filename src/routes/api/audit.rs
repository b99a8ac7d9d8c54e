//! /api/v1/audit and audit.csv: the admin actions on record, for admins only; nothing here changes them.

use crate::auth::Admin;
use crate::error::{AppError, AppResult};
use crate::repo::audit::{self, action, Actor, Entry, Filter};
use crate::routes::api::reports::{csv_response, safe_cell};
use crate::routes::api::{paged, Paging};
use crate::state::AppState;
use actix_web::{web, HttpRequest, HttpResponse};
use chrono::{DateTime, NaiveDate, NaiveDateTime, Utc};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// Most rows one audit.csv holds; narrow the window for more.
pub const CSV_ROWS: i64 = 200_000;

#[derive(Debug, Clone, Default, Deserialize, utoipa::IntoParams)]
pub struct AuditParams {
    /// Only what this employee did.
    pub actor_id: Option<i32>,
    /// An action such as `employee.password`, or a family such as `employee.*`.
    #[param(pattern = "^[a-z_]+(\\.[a-z_]+)*(\\.\\*)?$")]
    pub action: Option<String>,
    /// From this day (YYYY-MM-DD) or instant (RFC 3339), inclusive.
    pub from: Option<String>,
    /// Up to this day (YYYY-MM-DD) or instant (RFC 3339), inclusive.
    pub to: Option<String>,
}

/// One admin action: who (`actor_id`, null for the command line), what
/// (`action`, `target`, `detail`), when (`at`) and from which address (`ip`).
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct AuditEntryOut {
    pub id: i32,
    #[schema(format = DateTime)]
    pub at: String,
    pub actor_id: Option<i32>,
    /// The actor's email, while they are on record.
    pub actor_email: Option<String>,
    pub action: String,
    /// What was acted on: `employee:12`, `team:3`, `survey:4`, `round:9`, `one_on_one:5`, an export's path…
    pub target: String,
    /// The client address, as the sign-in limits see it (`PULSE_TRUSTED_PROXIES`); `cli` for the command line.
    pub ip: String,
    /// What changed, in words; never a password.
    pub detail: String,
}

impl From<Entry> for AuditEntryOut {
    fn from(e: Entry) -> Self {
        Self {
            id: e.id,
            at: crate::instant::rfc3339(e.at),
            actor_id: e.actor_id,
            actor_email: e.actor_email,
            action: e.action,
            target: e.target,
            ip: e.ip,
            detail: e.detail,
        }
    }
}

/// A day or an instant; a day as `to` reaches its end.
fn bound(raw: &str, end: bool) -> Result<NaiveDateTime, String> {
    let raw = raw.trim();
    if let Ok(day) = NaiveDate::parse_from_str(raw, "%Y-%m-%d") {
        let day = if end { day.succ_opt() } else { Some(day) };
        return day
            .map(|d| d.and_hms_opt(0, 0, 0).unwrap_or_default())
            .ok_or_else(|| format!("`{raw}` is out of range"));
    }
    match DateTime::parse_from_rfc3339(raw) {
        Ok(t) => {
            let t = t.with_timezone(&Utc).naive_utc();
            Ok(if end {
                t + chrono::Duration::microseconds(1)
            } else {
                t
            })
        }
        Err(_) => Err(format!(
            "`{raw}` is neither a date (YYYY-MM-DD) nor an instant (RFC 3339)"
        )),
    }
}

impl AuditParams {
    /// The repository's filter, with every bad parameter named.
    pub fn filter(&self) -> AppResult<Filter> {
        let mut fields = BTreeMap::new();
        let mut f = Filter {
            actor_id: self.actor_id,
            ..Default::default()
        };
        if let Some(a) = self
            .action
            .as_deref()
            .map(str::trim)
            .filter(|a| !a.is_empty())
        {
            let family = a.strip_suffix(".*").unwrap_or(a);
            let well_formed = a.len() <= 100
                && !family.is_empty()
                && family.split('.').all(|part| {
                    !part.is_empty() && part.chars().all(|c| c.is_ascii_lowercase() || c == '_')
                });
            if well_formed {
                f.action = Some(a.to_string());
            } else {
                fields.insert(
                    "action".to_string(),
                    format!("`{a}` is not an action such as employee.password or a family such as employee.*"),
                );
            }
        }
        match self.from.as_deref().map(|r| bound(r, false)).transpose() {
            Ok(v) => f.from = v,
            Err(e) => drop(fields.insert("from".into(), e)),
        }
        match self.to.as_deref().map(|r| bound(r, true)).transpose() {
            Ok(v) => f.to = v,
            Err(e) => drop(fields.insert("to".into(), e)),
        }
        if let (Some(from), Some(to)) = (f.from, f.to) {
            if from >= to {
                fields.insert("from".into(), "must be on or before `to`".into());
            }
        }
        if fields.is_empty() {
            Ok(f)
        } else {
            Err(AppError::fields(fields))
        }
    }
}

#[utoipa::path(get, path = "/api/v1/audit", tag = "audit", params(AuditParams, Paging),
    responses((status = 200, description = "the admin actions on record, newest first", body = [AuditEntryOut]),
              (status = 403, description = "only HR admins read the audit trail", body = crate::error::ErrorBody),
              (status = 422, body = crate::error::ErrorBody)))]
pub async fn list(
    state: web::Data<AppState>,
    _admin: Admin,
    req: HttpRequest,
    q: web::Query<AuditParams>,
    paging: web::Query<Paging>,
) -> AppResult<HttpResponse> {
    let filter = q.filter()?;
    let (offset, limit) = paging.offset()?;
    let (rows, total) = state
        .db(move |conn| Ok(audit::list(conn, &filter, offset, limit)?))
        .await?;
    paged(
        &req,
        *paging,
        rows.into_iter().map(AuditEntryOut::from).collect(),
        total,
    )
}

#[utoipa::path(get, path = "/api/v1/audit.csv", tag = "audit", params(AuditParams),
    responses((status = 200, description = "the same entries as CSV (UTF-8 with BOM, CRLF, newest first); downloading it is itself recorded", content_type = "text/csv", body = String),
              (status = 403, body = crate::error::ErrorBody),
              (status = 422, description = "a bad filter, or more than 200,000 entries: narrow the window", body = crate::error::ErrorBody)))]
pub async fn csv(
    state: web::Data<AppState>,
    Admin(admin): Admin,
    req: HttpRequest,
    q: web::Query<AuditParams>,
) -> AppResult<HttpResponse> {
    let filter = q.filter()?;
    let (rows, total) = state
        .db(move |conn| Ok(audit::list(conn, &filter, 0, CSV_ROWS)?))
        .await?;
    if total > CSV_ROWS {
        return Err(AppError::field(
            "from",
            format!(
                "{total} entries match, more than one file holds ({CSV_ROWS}): narrow the window"
            ),
        ));
    }
    record_export(
        &state,
        &admin.actor(),
        action::EXPORT_AUDIT,
        "audit.csv".into(),
        &req,
    )
    .await?;
    let mut out = vec![[
        "at",
        "actor_id",
        "actor_email",
        "action",
        "target",
        "ip",
        "detail",
    ]
    .map(String::from)
    .to_vec()];
    for e in rows {
        out.push(vec![
            crate::instant::rfc3339(e.at),
            e.actor_id.map(|i| i.to_string()).unwrap_or_default(),
            safe_cell(e.actor_email.as_deref().unwrap_or_default()),
            safe_cell(&e.action),
            safe_cell(&e.target),
            safe_cell(&e.ip),
            safe_cell(&e.detail),
        ]);
    }
    csv_response("audit.csv", out)
}

/// Records that `actor` downloaded an export, with the query that chose it.
pub(crate) async fn record_export(
    state: &AppState,
    actor: &Actor,
    action: &'static str,
    target: String,
    req: &HttpRequest,
) -> AppResult<()> {
    let actor = actor.clone();
    let detail = req.query_string().chars().take(500).collect::<String>();
    state
        .db(move |conn| {
            crate::db::write_transaction(conn, |conn| {
                audit::record(conn, &actor, action, &target, &detail)
            })?;
            Ok(())
        })
        .await
}
