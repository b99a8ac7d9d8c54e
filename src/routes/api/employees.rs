//! /api/v1/employees: people, their teams, managers and departures, and CSV import.

use crate::auth::{password, Admin, Caller, Scope};
use crate::db::DbConnection;
use crate::domain::email::Email;
use crate::domain::people::{
    chain_reaches, check_password, parse_date, parse_locale, parse_name, LeaveReason, Role,
};
use crate::error::{AppError, AppResult};
use crate::repo::audit::Actor;
use crate::repo::{self, employees::Employee, employees::EmployeeChanges};
use crate::routes::api::{double_option, paged, Paging};
use crate::state::AppState;
use actix_web::{web, HttpRequest, HttpResponse};
use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct EmployeeOut {
    pub id: i32,
    pub email: String,
    pub name: String,
    pub team_id: Option<i32>,
    pub manager_id: Option<i32>,
    pub role: String,
    pub hired_on: NaiveDate,
    pub left_on: Option<NaiveDate>,
    pub leave_reason: Option<String>,
    pub regretted: bool,
    pub locale: String,
    /// Whether the person can sign in.
    pub has_password: bool,
}

impl From<Employee> for EmployeeOut {
    fn from(e: Employee) -> Self {
        Self {
            id: e.id,
            email: e.email,
            name: e.name,
            team_id: e.team_id,
            manager_id: e.manager_id,
            role: e.role,
            hired_on: e.hired_on,
            left_on: e.left_on,
            leave_reason: e.leave_reason,
            regretted: e.regretted,
            locale: e.locale,
            has_password: e.password_hash.is_some(),
        }
    }
}

/// The body of POST (email, name and hired_on required) and PATCH (any field).
#[derive(Debug, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct EmployeeInput {
    pub email: Option<String>,
    pub name: Option<String>,
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<i32>)]
    pub team_id: Option<Option<i32>>,
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<i32>)]
    pub manager_id: Option<Option<i32>>,
    /// `admin`, `lead` or `member` (default).
    #[schema(pattern = "^(admin|lead|member)$")]
    pub role: Option<String>,
    /// YYYY-MM-DD.
    #[schema(format = Date)]
    pub hired_on: Option<String>,
    /// Last day employed, YYYY-MM-DD; null to undo a departure.
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<String>, format = Date)]
    pub left_on: Option<Option<String>>,
    /// `voluntary`, `involuntary` or `other`.
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<String>, pattern = "^(voluntary|involuntary|other)$")]
    pub leave_reason: Option<Option<String>>,
    pub regretted: Option<bool>,
    /// `en` or `fr`: the language of their emails.
    pub locale: Option<String>,
    /// Lets the person sign in (at least 10 characters).
    pub password: Option<String>,
}

/// Checks a create (`existing` None) or a change and returns what to store,
/// naming every bad field at once. `password_hash` is computed by the caller.
fn check(
    conn: &mut DbConnection,
    input: &EmployeeInput,
    existing: Option<&Employee>,
) -> AppResult<EmployeeChanges> {
    let mut fields = BTreeMap::new();
    let mut bad = |f: &str, why: String| drop(fields.insert(f.to_string(), why));
    let mut c = EmployeeChanges {
        updated_at: Some(repo::now()),
        ..Default::default()
    };
    let creating = existing.is_none();

    match &input.email {
        Some(raw) => match Email::parse(raw) {
            Ok(email) => {
                if let Some(other) = repo::employees::find_by_email(conn, email.as_str())? {
                    if existing.is_none_or(|e| e.id != other.id) {
                        return Err(AppError::Conflict {
                            code: "duplicate_email",
                            message: format!("{email} already belongs to employee {}", other.id),
                        });
                    }
                }
                c.email = Some(email.to_string());
            }
            Err(e) => bad("email", e),
        },
        None if creating => bad("email", "is required".into()),
        None => {}
    }
    match &input.name {
        Some(n) => parse_name(n)
            .map(|n| c.name = Some(n))
            .unwrap_or_else(|e| bad("name", e)),
        None if creating => bad("name", "is required".into()),
        None => {}
    }
    match &input.hired_on {
        Some(d) => parse_date(d)
            .map(|d| c.hired_on = Some(d))
            .unwrap_or_else(|e| bad("hired_on", e)),
        None if creating => bad("hired_on", "is required (YYYY-MM-DD)".into()),
        None => {}
    }
    if let Some(role) = &input.role {
        Role::parse(role)
            .map(|r| c.role = Some(r.as_str().into()))
            .unwrap_or_else(|e| bad("role", e));
    }
    if let Some(locale) = &input.locale {
        parse_locale(locale)
            .map(|l| c.locale = Some(l))
            .unwrap_or_else(|e| bad("locale", e));
    }
    if let Some(team) = input.team_id {
        if let Some(t) = team {
            if repo::teams::find(conn, t)?.is_none() {
                bad("team_id", format!("there is no team {t}"));
            }
        }
        c.team_id = Some(team);
    }
    if let Some(manager) = input.manager_id {
        if let Some(m) = manager {
            if repo::employees::find(conn, m)?.is_none() {
                bad("manager_id", format!("there is no employee {m}"));
            } else if let Some(e) = existing {
                if chain_reaches(&repo::employees::managers(conn)?, Some(m), e.id) {
                    bad(
                        "manager_id",
                        "this would make the person their own (indirect) manager".into(),
                    );
                }
            }
        }
        c.manager_id = Some(manager);
    }
    if let Some(left) = &input.left_on {
        match left.as_deref().map(parse_date).transpose() {
            Ok(d) => c.left_on = Some(d),
            Err(e) => bad("left_on", e),
        }
    }
    if let Some(reason) = &input.leave_reason {
        match reason.as_deref().map(LeaveReason::parse).transpose() {
            Ok(r) => c.leave_reason = Some(r.map(|r| r.as_str().to_string())),
            Err(e) => bad("leave_reason", e),
        }
    }
    c.regretted = input.regretted;
    if let Some(p) = &input.password {
        if let Err(e) = check_password(p) {
            bad("password", e);
        }
    }

    // Rules across fields, on the record as it would be after the change.
    let hired_on = c.hired_on.or(existing.map(|e| e.hired_on));
    let left_on = c
        .left_on
        .unwrap_or_else(|| existing.and_then(|e| e.left_on));
    if let (Some(h), Some(l)) = (hired_on, left_on) {
        if l < h {
            bad("left_on", format!("{l} is before hired_on {h}"));
        }
    }
    if left_on.is_none() {
        if matches!(c.leave_reason, Some(Some(_))) {
            bad("leave_reason", "a leave reason needs a left_on date".into());
        }
        if c.regretted == Some(true) {
            bad(
                "regretted",
                "only a person who left can be a regretted leaver".into(),
            );
        }
        // Undoing a departure also undoes what described it.
        if matches!(c.left_on, Some(None)) {
            c.leave_reason = Some(None);
            c.regretted = Some(false);
        }
    }
    if let (Some(e), Some(Some(m))) = (existing, c.manager_id) {
        if e.id == m {
            bad("manager_id", "a person cannot be their own manager".into());
        }
    }
    if !fields.is_empty() {
        return Err(AppError::fields(fields));
    }
    Ok(c)
}

/// HR must never lock itself out: the rule is `repo::employees::lost_last_admin`,
/// checked after the change is written and before it commits.
fn keep_an_admin(conn: &mut DbConnection, admins_before: i64) -> AppResult<()> {
    if repo::employees::lost_last_admin(conn, admins_before)? {
        return Err(AppError::Conflict {
            code: "last_admin",
            message: repo::employees::LAST_ADMIN.into(),
        });
    }
    Ok(())
}

async fn hash_password(input: &EmployeeInput) -> AppResult<Option<String>> {
    match input.password.clone().filter(|p| check_password(p).is_ok()) {
        Some(p) => Ok(Some(web::block(move || password::hash(&p)).await?)),
        None => Ok(None),
    }
}

#[utoipa::path(post, path = "/api/v1/employees", tag = "people", request_body = EmployeeInput,
    responses((status = 201, body = EmployeeOut), (status = 403, body = crate::error::ErrorBody),
              (status = 409, description = "duplicate email", body = crate::error::ErrorBody),
              (status = 422, body = crate::error::ErrorBody)))]
pub async fn create(
    state: web::Data<AppState>,
    Admin(admin): Admin,
    body: web::Json<EmployeeInput>,
) -> AppResult<HttpResponse> {
    let employee = create_employee(&state, &admin.actor(), body.into_inner()).await?;
    Ok(HttpResponse::Created().json(EmployeeOut::from(employee)))
}

/// Creates an employee from checked input: the API and the people page.
pub(crate) async fn create_employee(
    state: &AppState,
    actor: &Actor,
    input: EmployeeInput,
) -> AppResult<Employee> {
    let hash = hash_password(&input).await?;
    let actor = actor.clone();
    let employee = state
        .db(move |conn| {
            crate::db::write_transaction(conn, |conn| {
                let c = check(conn, &input, None)?;
                let now = repo::now();
                let new = repo::employees::NewEmployee {
                    email: c.email.unwrap_or_default(),
                    name: c.name.unwrap_or_default(),
                    team_id: c.team_id.flatten(),
                    manager_id: c.manager_id.flatten(),
                    role: c.role.unwrap_or_else(|| Role::Member.as_str().into()),
                    hired_on: c.hired_on.unwrap_or_default(),
                    left_on: c.left_on.flatten(),
                    leave_reason: c.leave_reason.flatten(),
                    regretted: c.regretted.unwrap_or(false),
                    locale: c.locale.unwrap_or_else(|| "en".into()),
                    password_hash: hash,
                    created_at: now,
                    updated_at: now,
                };
                let id = match repo::employees::insert(conn, &new) {
                    Err(e) if repo::is_unique_violation(&e) => {
                        return Err(AppError::Conflict {
                            code: "duplicate_email",
                            message: format!("{} already belongs to another employee", new.email),
                        })
                    }
                    other => other?,
                };
                let e = repo::employees::find(conn, id)?
                    .ok_or_else(|| AppError::not_found("employee"))?;
                crate::audit::employee_created(conn, &actor, &e)?;
                Ok(e)
            })
        })
        .await?;
    Ok(employee)
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
pub struct ListParams {
    /// Only people in this team (not its sub-teams).
    pub team_id: Option<i32>,
    /// Part of a name or email.
    pub q: Option<String>,
}

#[utoipa::path(get, path = "/api/v1/employees", tag = "people", params(Paging, ListParams),
    responses((status = 200, description = "admins: everyone; leads: their teams; members: themselves", body = [EmployeeOut])))]
pub async fn list(
    state: web::Data<AppState>,
    caller: Caller,
    req: HttpRequest,
    paging: web::Query<Paging>,
    params: web::Query<ListParams>,
) -> AppResult<HttpResponse> {
    let (offset, limit) = paging.offset()?;
    let params = params.into_inner();
    let (rows, total) = state
        .db(move |conn| {
            let scope = Scope::of(conn, &caller)?;
            let filter = match &scope {
                Scope::Everything => repo::employees::Filter::All,
                Scope::Teams(ids) => repo::employees::Filter::InTeams(ids),
                Scope::Own(id) => repo::employees::Filter::Only(*id),
            };
            let q = repo::employees::ListQuery {
                filter,
                team_id: params.team_id,
                search: params.q.as_deref(),
                offset,
                limit,
            };
            Ok(repo::employees::list(conn, &q)?)
        })
        .await?;
    paged(
        &req,
        *paging,
        rows.into_iter().map(EmployeeOut::from).collect(),
        total,
    )
}

#[utoipa::path(get, path = "/api/v1/employees/{id}", tag = "people",
    responses((status = 200, body = EmployeeOut), (status = 403, body = crate::error::ErrorBody), (status = 404, body = crate::error::ErrorBody)))]
pub async fn get(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<i32>,
) -> AppResult<HttpResponse> {
    let id = id.into_inner();
    let employee = state
        .db(move |conn| {
            let e =
                repo::employees::find(conn, id)?.ok_or_else(|| AppError::not_found("employee"))?;
            if !Scope::of(conn, &caller)?.may_see_employee(caller.id, e.id, e.team_id) {
                return Err(AppError::Forbidden(
                    "you may only see people in the teams you lead".into(),
                ));
            }
            Ok(e)
        })
        .await?;
    Ok(HttpResponse::Ok().json(EmployeeOut::from(employee)))
}

#[utoipa::path(patch, path = "/api/v1/employees/{id}", tag = "people", request_body = EmployeeInput,
    responses((status = 200, body = EmployeeOut), (status = 404, body = crate::error::ErrorBody),
              (status = 409, body = crate::error::ErrorBody), (status = 422, body = crate::error::ErrorBody)))]
pub async fn update(
    state: web::Data<AppState>,
    Admin(admin): Admin,
    id: web::Path<i32>,
    body: web::Json<EmployeeInput>,
) -> AppResult<HttpResponse> {
    let employee =
        update_employee(&state, &admin.actor(), id.into_inner(), body.into_inner()).await?;
    Ok(HttpResponse::Ok().json(EmployeeOut::from(employee)))
}

/// Changes an employee: the API and the people page.
pub(crate) async fn update_employee(
    state: &AppState,
    actor: &Actor,
    id: i32,
    input: EmployeeInput,
) -> AppResult<Employee> {
    let hash = hash_password(&input).await?;
    let (actor, mailing) = (actor.clone(), state.mailing.clone());
    let employee = state
        .db(move |conn| {
            crate::db::write_transaction(conn, |conn| {
                let existing = repo::employees::find(conn, id)?
                    .ok_or_else(|| AppError::not_found("employee"))?;
                let mut c = check(conn, &input, Some(&existing))?;
                let password_set = hash.is_some();
                if password_set {
                    c.password_hash = Some(hash);
                }
                let admins_before = repo::employees::active_admin_count(conn)?;
                repo::employees::update(conn, id, &c)?;
                keep_an_admin(conn, admins_before)?;
                let after = repo::employees::find(conn, id)?
                    .ok_or_else(|| AppError::not_found("employee"))?;
                crate::audit::employee_changed(
                    conn,
                    &mailing,
                    &actor,
                    &existing,
                    &after,
                    password_set,
                    chrono::Utc::now(),
                )?;
                Ok(after)
            })
        })
        .await?;
    Ok(employee)
}

#[utoipa::path(post, path = "/api/v1/employees/import", tag = "people",
    request_body(content = String, content_type = "text/csv",
        description = "Header-named columns in any order: email,name,team,manager_email,role,hired_on,left_on,leave_reason,regretted. Comma or semicolon separated, UTF-8 with or without BOM."),
    responses((status = 200, body = crate::repo::import::ImportSummary),
              (status = 422, description = "invalid_csv: every bad line; nothing was written", body = crate::error::ErrorBody)))]
pub async fn import(
    state: web::Data<AppState>,
    Admin(admin): Admin,
    payload: web::Payload,
) -> AppResult<HttpResponse> {
    let body = read_body(payload, crate::routes::CSV_LIMIT).await?;
    let summary = import_csv(&state, &admin.actor(), body.freeze()).await?;
    Ok(HttpResponse::Ok().json(summary))
}

/// Imports a CSV file of people, all or nothing: the API and the import page.
pub(crate) async fn import_csv(
    state: &AppState,
    actor: &Actor,
    body: web::Bytes,
) -> AppResult<crate::repo::import::ImportSummary> {
    let today = chrono::Utc::now().date_naive();
    let actor = actor.clone();
    state
        .db(move |conn| {
            let rows = crate::domain::people_csv::parse(&body).map_err(AppError::InvalidCsv)?;
            let summary = repo::import::apply_audited(conn, &rows, today, &actor, &mut |_, _| {});
            drop((rows, body));
            crate::memory::give_back();
            Ok(summary?)
        })
        .await
}

/// Reads a raw body up to `limit` bytes, answering 413 in the API's own error shape.
async fn read_body(mut payload: web::Payload, limit: usize) -> AppResult<web::BytesMut> {
    use futures_util::StreamExt;
    let mut body = web::BytesMut::new();
    while let Some(chunk) = payload.next().await {
        let chunk =
            chunk.map_err(|e| AppError::BadRequest(format!("cannot read the body: {e}")))?;
        if body.len() + chunk.len() > limit {
            return Err(AppError::PayloadTooLarge(format!(
                "the file is larger than {} MiB",
                limit >> 20
            )));
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body)
}
