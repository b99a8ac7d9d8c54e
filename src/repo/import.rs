//! Applying an employee spreadsheet: all rows in one transaction, or nothing.

use crate::db::DbConnection;
use crate::domain::people::{chain_reaches, Role};
use crate::domain::people_csv::{ImportRow, LineError};
use crate::error::AppError;
use crate::repo::{self, employees::EmployeeChanges, employees::NewEmployee};
use chrono::NaiveDate;
use diesel::prelude::*;
use std::collections::HashMap;

/// What an import did, per employee row.
#[derive(Debug, PartialEq, Eq, serde::Serialize, utoipa::ToSchema)]
pub struct ImportSummary {
    pub created: usize,
    pub updated: usize,
    pub unchanged: usize,
}

#[derive(Debug)]
pub enum ImportError {
    Lines(Vec<LineError>),
    Db(diesel::result::Error),
}

impl From<diesel::result::Error> for ImportError {
    fn from(e: diesel::result::Error) -> Self {
        Self::Db(e)
    }
}

impl From<ImportError> for AppError {
    fn from(e: ImportError) -> Self {
        match e {
            ImportError::Lines(lines) => AppError::InvalidCsv(lines),
            ImportError::Db(e) => e.into(),
        }
    }
}

/// Teams already found or made during one import, by parent and name.
pub type TeamCache = HashMap<(Option<i32>, String), i32>;

/// Finds the team at a path such as ["Engineering", "Platform"], creating
/// whatever part of the path does not exist yet. Each level is looked up by
/// its parent and its own name, so the work grows with the path, not its square.
pub fn team_for_path(
    conn: &mut DbConnection,
    path: &[String],
    cache: &mut TeamCache,
) -> QueryResult<i32> {
    let mut parent = None;
    for name in path {
        let key = (parent, name.clone());
        let id = match cache.get(&key) {
            Some(&id) => id,
            None => {
                let id = match repo::teams::find_by_name(conn, name, parent)? {
                    Some(t) => t.id,
                    None => repo::teams::insert(
                        conn,
                        &repo::teams::NewTeam {
                            name,
                            parent_id: parent,
                            lead_id: None,
                            created_at: repo::now(),
                        },
                    )?,
                };
                cache.insert(key, id);
                id
            }
        };
        parent = Some(id);
    }
    Ok(parent.expect("team paths have at least one part"))
}

/// As `apply`, with the audit trail's entry for the whole file written in the
/// same transaction: the API, the import page and `pulse import`.
pub fn apply_audited(
    conn: &mut DbConnection,
    rows: &[ImportRow],
    today: NaiveDate,
    actor: &repo::audit::Actor,
    progress: &mut dyn FnMut(usize, usize),
) -> Result<ImportSummary, ImportError> {
    crate::db::write_transaction(conn, |conn| {
        let summary = apply(conn, rows, today, progress)?;
        let detail = format!(
            "{} rows: {} created, {} updated, {} unchanged",
            rows.len(),
            summary.created,
            summary.updated,
            summary.unchanged
        );
        repo::audit::record(
            conn,
            actor,
            repo::audit::action::EMPLOYEE_IMPORT,
            "employees",
            &detail,
        )?;
        Ok(summary)
    })
}

/// Creates or updates every row; managers are set after everyone exists, so a
/// manager may appear below their reports. `progress(done, total)` is called
/// as rows are applied.
pub fn apply(
    conn: &mut DbConnection,
    rows: &[ImportRow],
    today: NaiveDate,
    progress: &mut dyn FnMut(usize, usize),
) -> Result<ImportSummary, ImportError> {
    crate::db::write_transaction(conn, |conn| {
        let mut errors = Vec::new();
        let emails: Vec<&str> = rows.iter().map(|r| r.email.as_str()).collect();
        let mut found = repo::employees::find_by_emails(conn, &emails)?;
        let existing: HashMap<_, _> = rows
            .iter()
            .filter_map(|r| found.remove(r.email.as_str()).map(|e| (r.email.clone(), e)))
            .collect();
        // Managers must be known before anything is written, so the whole
        // file can be refused with every unknown one listed.
        let in_file: std::collections::HashSet<_> = rows.iter().map(|r| &r.email).collect();
        let outside: Vec<&str> = rows
            .iter()
            .filter_map(|r| r.manager_email.as_ref())
            .filter(|m| !in_file.contains(*m))
            .map(|m| m.as_str())
            .collect();
        let known = repo::employees::find_by_emails(conn, &outside)?;
        let mut manager_ids = HashMap::new();
        for row in rows {
            let Some(m) = &row.manager_email else {
                continue;
            };
            if in_file.contains(m) {
                continue;
            }
            match known.get(m.as_str()) {
                Some(e) => drop(manager_ids.insert(m.clone(), e.id)),
                None => errors.push(LineError::new(
                    row.line,
                    "manager_email",
                    format!("{m} is neither in this file nor an existing employee"),
                )),
            }
        }
        for row in rows {
            let old = existing.get(&row.email);
            let hired_on = row.hired_on.or(old.map(|e| e.hired_on)).unwrap_or(today);
            let left_on = row.left_on.or(old.and_then(|e| e.left_on));
            if let Some(l) = left_on.filter(|l| *l < hired_on) {
                errors.push(LineError::new(
                    row.line,
                    "left_on",
                    format!("{l} is before hired_on {hired_on}"),
                ));
            }
            if row.leave_reason.is_some() && left_on.is_none() {
                errors.push(LineError::new(
                    row.line,
                    "leave_reason",
                    "a leave reason needs a left_on date",
                ));
            }
        }
        if !errors.is_empty() {
            return Err(ImportError::Lines(errors));
        }

        let admins_before = repo::employees::active_admin_count(conn)?;
        let mut summary = ImportSummary {
            created: 0,
            updated: 0,
            unchanged: 0,
        };
        let mut teams = TeamCache::new();
        let mut ids = HashMap::new();
        let mut changed = HashMap::new();
        let mut new_rows = Vec::new();
        let now = repo::now();
        for (done, row) in rows.iter().enumerate() {
            let team_id = row
                .team_path
                .as_ref()
                .map(|p| team_for_path(conn, p, &mut teams))
                .transpose()?;
            match existing.get(&row.email) {
                Some(old) => {
                    let differs = |new: bool| new.then_some(());
                    let c = EmployeeChanges {
                        name: differs(row.name != old.name).map(|_| row.name.clone()),
                        team_id: team_id.filter(|t| old.team_id != Some(*t)).map(Some),
                        role: row
                            .role
                            .map(|r| r.as_str().to_string())
                            .filter(|r| *r != old.role),
                        hired_on: row.hired_on.filter(|d| *d != old.hired_on),
                        left_on: row.left_on.filter(|d| old.left_on != Some(*d)).map(Some),
                        leave_reason: row
                            .leave_reason
                            .map(|r| r.as_str().to_string())
                            .filter(|r| old.leave_reason.as_deref() != Some(r.as_str()))
                            .map(Some),
                        regretted: row.regretted.filter(|r| *r != old.regretted),
                        updated_at: Some(now),
                        ..Default::default()
                    };
                    changed.insert(old.id, !c.is_empty());
                    repo::employees::update(conn, old.id, &c)?;
                    if let Some(Some(left_on)) = c.left_on {
                        crate::webhooks::events::employee_left(conn, old.id, left_on, now)?;
                    }
                    ids.insert(row.email.clone(), old.id);
                }
                None => {
                    new_rows.push((row, team_id));
                    summary.created += 1;
                }
            }
            if done % 500 == 0 {
                progress(done, rows.len());
            }
        }
        let managed_at_insert = insert_new(conn, new_rows, today, now, &mut ids, &manager_ids)?;
        for row in rows {
            let id = ids[&row.email];
            let Some(m) = &row.manager_email else {
                continue;
            };
            let manager = ids.get(m).or(manager_ids.get(m)).copied();
            let old_manager = match existing.get(&row.email) {
                Some(e) => e.manager_id,
                None => managed_at_insert.get(&id).copied(),
            };
            if manager != old_manager {
                let c = EmployeeChanges {
                    manager_id: Some(manager),
                    updated_at: Some(now),
                    ..Default::default()
                };
                repo::employees::update(conn, id, &c)?;
                changed.insert(id, true);
            }
        }
        for row in rows {
            if let Some(old) = existing.get(&row.email) {
                if changed.get(&old.id).copied().unwrap_or(false) {
                    summary.updated += 1;
                } else {
                    summary.unchanged += 1;
                }
            }
        }
        check_manager_loops(conn, rows, &ids)?;
        keep_an_admin(conn, rows, &existing, admins_before)?;
        progress(rows.len(), rows.len());
        Ok(summary)
    })
}

/// Inserts the new people (each row with its team) in multi-row
/// statements, managers first: each wave holds those whose manager (if any)
/// already has an id, so most people get their manager with the insert
/// rather than by a later update. Those left in a loop of new managers are
/// inserted last without one (the caller sets it, and the loop check refuses
/// the file). Rows become `NewEmployee`s 500 at a time, to keep memory low.
/// Returns the manager each person was inserted with.
fn insert_new(
    conn: &mut DbConnection,
    mut pending: Vec<(&ImportRow, Option<i32>)>,
    today: NaiveDate,
    now: chrono::NaiveDateTime,
    ids: &mut HashMap<crate::domain::email::Email, i32>,
    manager_ids: &HashMap<crate::domain::email::Email, i32>,
) -> QueryResult<HashMap<i32, i32>> {
    let mut managed = HashMap::new();
    while !pending.is_empty() {
        let manager_of = |row: &ImportRow, ids: &HashMap<_, i32>| {
            row.manager_email
                .as_ref()
                .map(|m| ids.get(m).or(manager_ids.get(m)).copied())
        };
        let (ready, waiting): (Vec<_>, Vec<_>) = pending
            .into_iter()
            .partition(|(row, _)| !matches!(manager_of(row, ids), Some(None)));
        let ready = if ready.is_empty() {
            // A loop among new people: no wave can start it.
            pending = Vec::new();
            waiting
        } else {
            pending = waiting;
            ready
        };
        for chunk in ready.chunks(500) {
            let news: Vec<NewEmployee> = chunk
                .iter()
                .map(|(row, team_id)| NewEmployee {
                    email: row.email.to_string(),
                    name: row.name.clone(),
                    team_id: *team_id,
                    manager_id: manager_of(row, ids).flatten(),
                    role: row.role.map_or("member", |r| r.as_str()).to_string(),
                    hired_on: row.hired_on.unwrap_or(today),
                    left_on: row.left_on,
                    leave_reason: row.leave_reason.map(|r| r.as_str().to_string()),
                    regretted: row.regretted.unwrap_or(false),
                    locale: "en".into(),
                    password_hash: None,
                    created_at: now,
                    updated_at: now,
                })
                .collect();
            let new_ids = repo::employees::insert_many(conn, &news)?;
            for (((row, _), new), id) in chunk.iter().zip(&news).zip(new_ids) {
                ids.insert(row.email.clone(), id);
                if let Some(m) = new.manager_id {
                    managed.insert(id, m);
                }
            }
        }
    }
    Ok(managed)
}

/// After the import Pulse must still have an admin, by the same rule as the
/// API (`repo::employees::lost_last_admin`); the lines that demoted or ended
/// an admin are named, and the transaction rolls back.
fn keep_an_admin(
    conn: &mut DbConnection,
    rows: &[ImportRow],
    existing: &HashMap<crate::domain::email::Email, repo::employees::Employee>,
    admins_before: i64,
) -> Result<(), ImportError> {
    if !repo::employees::lost_last_admin(conn, admins_before)? {
        return Ok(());
    }
    let mut errors = Vec::new();
    for row in rows {
        let Some(old) = existing.get(&row.email) else {
            continue;
        };
        if old.role != Role::Admin.as_str() || old.left_on.is_some() {
            continue;
        }
        if row.role.is_some_and(|r| r != Role::Admin) {
            errors.push(LineError::new(
                row.line,
                "role",
                repo::employees::LAST_ADMIN,
            ));
        }
        if row.left_on.is_some() {
            errors.push(LineError::new(
                row.line,
                "left_on",
                repo::employees::LAST_ADMIN,
            ));
        }
    }
    if errors.is_empty() {
        errors.push(LineError::new(1, "", repo::employees::LAST_ADMIN));
    }
    Err(ImportError::Lines(errors))
}

/// After the import, no one may be their own (indirect) manager.
fn check_manager_loops(
    conn: &mut DbConnection,
    rows: &[ImportRow],
    ids: &HashMap<crate::domain::email::Email, i32>,
) -> Result<(), ImportError> {
    let managers = crate::repo::employees::managers(conn)?;
    let mut errors = Vec::new();
    for row in rows.iter().filter(|r| r.manager_email.is_some()) {
        let start = ids[&row.email];
        if chain_reaches(&managers, managers.get(&start).copied().flatten(), start) {
            errors.push(LineError::new(
                row.line,
                "manager_email",
                "this makes a loop of managers",
            ));
        }
    }
    if errors.is_empty() {
        Ok(())
    } else {
        Err(ImportError::Lines(errors))
    }
}
