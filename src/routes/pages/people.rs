//! /people: the list with search, team filter and paging; adding, editing and
//! recording departures; CSV upload showing every bad line. HR only.

use crate::domain::people::LOCALES;
use crate::error::AppError;
use crate::repo::{self, employees::Employee};
use crate::routes::api::employees::{create_employee, import_csv, update_employee, EmployeeInput};
use crate::routes::pages::team_picker::{self, TeamField};
use crate::routes::pages::ui::{
    field, field_errors, page_number, pager, redirect_with, FormData, OrPage, PageResult, Session,
    TeamTree, User,
};
use crate::state::AppState;
use actix_multipart::Multipart;
use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest};
use futures_util::StreamExt;
use serde::Deserialize;
use serde_json::{json, Value};
use std::collections::BTreeMap;

const PER_PAGE: i64 = 50;

pub fn configure(cfg: &mut web::ServiceConfig) {
    crate::routes::Router::new()
        .route("/people", web::get().to(list))
        .route("/people", web::post().to(create))
        .route("/people/new", web::get().to(new_form))
        .route("/people/import", web::get().to(import_form))
        .route("/people/import", web::post().to(import))
        .route("/people/{id}", web::get().to(edit_form))
        .route("/people/{id}", web::post().to(update))
        .route("/people/{id}/departure", web::post().to(departure))
        .route("/people/{id}/export.json", web::get().to(export))
        .route("/people/{id}/erase", web::post().to(erase))
        .register(cfg);
}

#[derive(Deserialize)]
pub struct ListQuery {
    q: Option<String>,
    team: Option<String>,
    page: Option<String>,
    /// "Find a team", where there are too many teams for a select.
    team_q: Option<String>,
}

/// Everyone, for team and manager choices.
struct Directory {
    teams: TeamTree,
    people: Vec<Employee>,
}

async fn directory(state: &AppState) -> Result<Directory, AppError> {
    state
        .db(|conn| {
            let teams = TeamTree::new(repo::teams::all(conn)?);
            let (people, _) = repo::employees::list(
                conn,
                &repo::employees::ListQuery {
                    filter: repo::employees::Filter::All,
                    team_id: None,
                    search: None,
                    offset: 0,
                    limit: 100_000,
                },
            )?;
            Ok(Directory { teams, people })
        })
        .await
}

fn status_of(e: &Employee, today: chrono::NaiveDate) -> Value {
    match e.left_on {
        Some(l) if l < today => json!({"class": "left", "text": format!("Left {l}")}),
        Some(l) => json!({"class": "paused", "text": format!("Leaving {l}")}),
        None if e.hired_on > today => {
            json!({"class": "paused", "text": format!("Starts {}", e.hired_on)})
        }
        None => json!({"class": "active", "text": "Employed"}),
    }
}

pub async fn list(
    req: HttpRequest,
    session: Session,
    state: web::Data<AppState>,
    q: web::Query<ListQuery>,
) -> PageResult {
    let user = session.require(&req)?;
    user.require_admin(&req)?;
    let search = q.q.clone().unwrap_or_default();
    let team: Option<i32> = q.team.as_deref().and_then(|t| t.parse().ok());
    let page = page_number(q.page.as_deref());
    let (rows, total, teams) = {
        let search = search.clone();
        state
            .db(move |conn| {
                let (rows, total) = repo::employees::list(
                    conn,
                    &repo::employees::ListQuery {
                        filter: repo::employees::Filter::All,
                        team_id: team,
                        search: Some(&search),
                        offset: (page - 1) * PER_PAGE,
                        limit: PER_PAGE,
                    },
                )?;
                Ok((rows, total, TeamTree::new(repo::teams::all(conn)?)))
            })
            .await
            .or_page(&req, &user)?
    };
    let today = chrono::Utc::now().date_naive();
    let people: Vec<Value> = rows
        .iter()
        .map(|e| {
            json!({
                "id": e.id, "name": e.name, "email": e.email,
                "team": e.team_id.and_then(|t| teams.name(t)).unwrap_or("—"),
                "role": e.role, "hired_on": e.hired_on.to_string(),
                "status": status_of(e, today),
            })
        })
        .collect();
    let link = |p: i64| {
        let mut qs = url::form_urlencoded::Serializer::new(String::new());
        if !search.is_empty() {
            qs.append_pair("q", &search);
        }
        if let Some(t) = team {
            qs.append_pair("team", &t.to_string());
        }
        qs.append_pair("page", &p.to_string());
        format!("/people?{}", qs.finish())
    };
    let mut others = url::form_urlencoded::Serializer::new(String::new());
    if !search.is_empty() {
        others.append_pair("q", &search);
    }
    let field = TeamField {
        param: "team",
        label: "Team",
        everyone: Some("All teams"),
        chosen: team,
        search: q.team_q.clone(),
        link: format!("/people?{}", others.finish()),
    };
    let team_field = team_picker::choice(&state, &user.caller, &teams, field)
        .await
        .or_page(&req, &user)?;
    let mut data = pager(page, total, PER_PAGE, link);
    data["title"] = json!("People");
    data["q"] = json!(search);
    data["team_options"] = json!(team_field.options);
    data["team_picker"] = team_field.picker;
    data["people"] = json!(people);
    data["total"] = json!(total);
    Ok(user.page(&req, "people", data))
}

/// What the person form shows: stored values, or what was just sent.
struct PersonValues {
    email: String,
    name: String,
    team_id: String,
    manager_id: String,
    role: String,
    hired_on: String,
    locale: String,
}

impl PersonValues {
    fn of(e: &Employee) -> Self {
        Self {
            email: e.email.clone(),
            name: e.name.clone(),
            team_id: e.team_id.map(|t| t.to_string()).unwrap_or_default(),
            manager_id: e.manager_id.map(|t| t.to_string()).unwrap_or_default(),
            role: e.role.clone(),
            hired_on: e.hired_on.to_string(),
            locale: e.locale.clone(),
        }
    }

    fn sent(f: &FormData) -> Self {
        Self {
            email: f.get("email").into(),
            name: f.get("name").into(),
            team_id: f.get("team_id").into(),
            manager_id: f.get("manager_id").into(),
            role: f.get("role").into(),
            hired_on: f.get("hired_on").into(),
            locale: f.get("locale").into(),
        }
    }

    fn blank() -> Self {
        Self {
            email: String::new(),
            name: String::new(),
            team_id: String::new(),
            manager_id: String::new(),
            role: "member".into(),
            hired_on: chrono::Utc::now().date_naive().to_string(),
            locale: "en".into(),
        }
    }
}

/// The details form's controls.
fn person_fields(
    dir: &Directory,
    v: &PersonValues,
    errors: &BTreeMap<String, String>,
    self_id: Option<i32>,
    creating: bool,
) -> Vec<Value> {
    let today = chrono::Utc::now().date_naive();
    let mut teams = vec![(String::new(), "No team".to_string())];
    teams.extend(
        dir.teams
            .rows
            .iter()
            .map(|(t, _, p)| (t.id.to_string(), p.clone())),
    );
    let mut managers = vec![(String::new(), "No manager".to_string())];
    managers.extend(
        dir.people
            .iter()
            .filter(|e| Some(e.id) != self_id)
            .filter(|e| e.left_on.is_none_or(|l| l >= today) || v.manager_id == e.id.to_string())
            .map(|e| (e.id.to_string(), format!("{} ({})", e.name, e.email))),
    );
    vec![
        field("name", "Name")
            .value(&v.name)
            .required()
            .autocomplete("off")
            .errors(errors)
            .json(),
        field("email", "Work email")
            .kind("email")
            .value(&v.email)
            .required()
            .errors(errors)
            .json(),
        field("team_id", "Team")
            .value(&v.team_id)
            .options(teams)
            .errors(errors)
            .json(),
        field("manager_id", "Manager")
            .value(&v.manager_id)
            .options(managers)
            .errors(errors)
            .json(),
        field("role", "Role")
            .hint("Admins are HR; leads read their teams' reports")
            .value(&v.role)
            .options([
                ("member", "Member"),
                ("lead", "Team lead"),
                ("admin", "HR admin"),
            ])
            .errors(errors)
            .json(),
        field("hired_on", "Hired on")
            .kind("date")
            .value(&v.hired_on)
            .required()
            .errors(errors)
            .json(),
        field("locale", "Language of emails")
            .value(&v.locale)
            .options(
                LOCALES
                    .iter()
                    .map(|l| (*l, if *l == "fr" { "Français" } else { "English" })),
            )
            .errors(errors)
            .json(),
        field(
            "password",
            if creating { "Password" } else { "New password" },
        )
        .kind("password")
        .autocomplete("new-password")
        .hint(if creating {
            "Optional: lets the person sign in; at least 10 characters"
        } else {
            "Leave empty to keep the current one"
        })
        .errors(errors)
        .json(),
    ]
}

/// The form as sent, as the API's input.
fn input_from(f: &FormData, errors: &mut BTreeMap<String, String>) -> EmployeeInput {
    let mut id = |key: &str| match f.id(key) {
        Ok(v) => Some(v),
        Err(e) => {
            errors.insert(key.into(), e);
            None
        }
    };
    EmployeeInput {
        email: Some(f.get("email").into()),
        name: Some(f.get("name").into()),
        team_id: id("team_id"),
        manager_id: id("manager_id"),
        role: f.opt("role"),
        hired_on: Some(f.get("hired_on").into()),
        locale: f.opt("locale"),
        password: f.opt("password").map(|_| f.get("password").to_string()),
        ..Default::default()
    }
}

fn render_new(
    req: &HttpRequest,
    user: &User,
    dir: &Directory,
    v: &PersonValues,
    errors: &BTreeMap<String, String>,
) -> actix_web::HttpResponse {
    let status = if errors.is_empty() {
        StatusCode::OK
    } else {
        StatusCode::UNPROCESSABLE_ENTITY
    };
    user.render(
        req,
        status,
        "person",
        json!({
            "title": "Add a person",
            "narrow": true,
            "person": null,
            "action": "/people",
            "fields": person_fields(dir, v, errors, None, true),
            "form_error": errors.get("form"),
            "has_errors": !errors.is_empty(),
            "departure": null,
        }),
    )
}

pub async fn new_form(
    req: HttpRequest,
    session: Session,
    state: web::Data<AppState>,
) -> PageResult {
    let user = session.require(&req)?;
    user.require_admin(&req)?;
    let dir = directory(&state).await.or_page(&req, &user)?;
    Ok(render_new(
        &req,
        &user,
        &dir,
        &PersonValues::blank(),
        &BTreeMap::new(),
    ))
}

pub async fn create(
    req: HttpRequest,
    session: Session,
    state: web::Data<AppState>,
    form: FormData,
) -> PageResult {
    let user = session.require(&req)?;
    user.require_admin(&req)?;
    user.check_csrf(&req, &form)?;
    let mut errors = BTreeMap::new();
    let input = input_from(&form, &mut errors);
    if errors.is_empty() {
        match create_employee(&state, &user.caller.actor(), input).await {
            Ok(e) => {
                return Ok(redirect_with(
                    &req,
                    &format!("/people/{}", e.id),
                    true,
                    &format!("{} was added.", e.name),
                ))
            }
            Err(e) => match field_errors(&e) {
                Some(f) => errors = f,
                None => return Err(user.error(&req, e)),
            },
        }
    }
    let dir = directory(&state).await.or_page(&req, &user)?;
    Ok(render_new(
        &req,
        &user,
        &dir,
        &PersonValues::sent(&form),
        &errors,
    ))
}

async fn load(
    req: &HttpRequest,
    user: &User,
    state: &AppState,
    raw: &str,
) -> Result<Employee, actix_web::Error> {
    let Ok(id) = raw.parse::<i32>() else {
        return Err(user.not_found(req, "There is no such person."));
    };
    state
        .db(move |conn| Ok(repo::employees::find(conn, id)?))
        .await
        .or_page(req, user)?
        .ok_or_else(|| user.not_found(req, "There is no such person."))
}

/// The departure form's values and refusals.
struct Departure<'a> {
    left_on: String,
    reason: String,
    regretted: bool,
    errors: &'a BTreeMap<String, String>,
}

#[allow(clippy::too_many_arguments)]
fn render_edit(
    req: &HttpRequest,
    user: &User,
    dir: &Directory,
    e: &Employee,
    v: &PersonValues,
    errors: &BTreeMap<String, String>,
    d: &Departure,
) -> actix_web::HttpResponse {
    let status = if errors.is_empty() && d.errors.is_empty() {
        StatusCode::OK
    } else {
        StatusCode::UNPROCESSABLE_ENTITY
    };
    let departure = json!({
        "left": e.left_on.map(|l| l.to_string()),
        "reason": e.leave_reason,
        "regretted": e.regretted,
        "form_error": d.errors.get("form"),
        "fields": [
            field("left_on", "Last day employed").kind("date").value(&d.left_on).required().errors(d.errors).json(),
            field("leave_reason", "Reason")
                .value(&d.reason)
                .options([("voluntary", "Voluntary (resigned)"), ("involuntary", "Involuntary (let go)"), ("other", "Other (retired, end of contract…)")])
                .errors(d.errors)
                .json(),
        ],
        "regretted_checked": d.regretted,
        "regretted_error": d.errors.get("regretted"),
    });
    user.render(
        req,
        status,
        "person",
        json!({
            "title": e.name,
            "narrow": true,
            "person": {"id": e.id, "name": e.name, "has_password": e.password_hash.is_some()},
            "action": format!("/people/{}", e.id),
            "fields": person_fields(dir, v, errors, Some(e.id), false),
            "form_error": errors.get("form"),
            "has_errors": !errors.is_empty(),
            "departure": departure,
            // Erasure is for people whose last day has passed.
            "erasable": e.left_on.is_some_and(|l| l < chrono::Utc::now().date_naive())
                && e.email != crate::repo::erasure::erased_email(e.id),
            "erase_fields": [
                field("confirm_email", "Type their email address to confirm").id("confirm_email")
                    .kind("email").required().autocomplete("off").json(),
            ],
        }),
    )
}

fn departure_of<'a>(e: &Employee, errors: &'a BTreeMap<String, String>) -> Departure<'a> {
    Departure {
        left_on: e.left_on.map(|l| l.to_string()).unwrap_or_default(),
        reason: e.leave_reason.clone().unwrap_or_else(|| "voluntary".into()),
        regretted: e.regretted,
        errors,
    }
}

pub async fn edit_form(
    req: HttpRequest,
    session: Session,
    state: web::Data<AppState>,
    id: web::Path<String>,
) -> PageResult {
    let user = session.require(&req)?;
    user.require_admin(&req)?;
    let e = load(&req, &user, &state, &id).await?;
    let dir = directory(&state).await.or_page(&req, &user)?;
    let none = BTreeMap::new();
    Ok(render_edit(
        &req,
        &user,
        &dir,
        &e,
        &PersonValues::of(&e),
        &none,
        &departure_of(&e, &none),
    ))
}

pub async fn update(
    req: HttpRequest,
    session: Session,
    state: web::Data<AppState>,
    id: web::Path<String>,
    form: FormData,
) -> PageResult {
    let user = session.require(&req)?;
    user.require_admin(&req)?;
    user.check_csrf(&req, &form)?;
    let e = load(&req, &user, &state, &id).await?;
    let mut errors = BTreeMap::new();
    let input = input_from(&form, &mut errors);
    if errors.is_empty() {
        match update_employee(&state, &user.caller.actor(), e.id, input).await {
            Ok(saved) => {
                return Ok(redirect_with(
                    &req,
                    &format!("/people/{}", saved.id),
                    true,
                    &format!("Saved the changes to {}.", saved.name),
                ))
            }
            Err(err) => match field_errors(&err) {
                Some(f) => errors = f,
                None => return Err(user.error(&req, err)),
            },
        }
    }
    let dir = directory(&state).await.or_page(&req, &user)?;
    let none = BTreeMap::new();
    Ok(render_edit(
        &req,
        &user,
        &dir,
        &e,
        &PersonValues::sent(&form),
        &errors,
        &departure_of(&e, &none),
    ))
}

/// Records that someone left (last day, reason, regretted), or undoes it.
pub async fn departure(
    req: HttpRequest,
    session: Session,
    state: web::Data<AppState>,
    id: web::Path<String>,
    form: FormData,
) -> PageResult {
    let user = session.require(&req)?;
    user.require_admin(&req)?;
    user.check_csrf(&req, &form)?;
    let e = load(&req, &user, &state, &id).await?;
    let undo = form.get("action") == "undo";
    let mut errors = BTreeMap::new();
    let input = if undo {
        EmployeeInput {
            left_on: Some(None),
            ..Default::default()
        }
    } else {
        if form.opt("left_on").is_none() {
            errors.insert(
                "left_on".to_string(),
                "is required (YYYY-MM-DD)".to_string(),
            );
        }
        EmployeeInput {
            left_on: Some(form.opt("left_on")),
            leave_reason: Some(form.opt("leave_reason")),
            regretted: Some(form.has("regretted")),
            ..Default::default()
        }
    };
    if errors.is_empty() {
        match update_employee(&state, &user.caller.actor(), e.id, input).await {
            Ok(saved) => {
                let text = if undo {
                    format!("{}'s departure was undone.", saved.name)
                } else {
                    format!("Recorded {}'s departure.", saved.name)
                };
                return Ok(redirect_with(
                    &req,
                    &format!("/people/{}", saved.id),
                    true,
                    &text,
                ));
            }
            Err(err) => match field_errors(&err) {
                Some(f) => errors = f,
                None => return Err(user.error(&req, err)),
            },
        }
    }
    let dir = directory(&state).await.or_page(&req, &user)?;
    let d = Departure {
        left_on: form.get("left_on").into(),
        reason: form.get("leave_reason").into(),
        regretted: form.has("regretted"),
        errors: &errors,
    };
    Ok(render_edit(
        &req,
        &user,
        &dir,
        &e,
        &PersonValues::of(&e),
        &BTreeMap::new(),
        &d,
    ))
}

/// Everything Pulse holds about the person, as a JSON file (GDPR article 15).
pub async fn export(
    req: HttpRequest,
    session: Session,
    state: web::Data<AppState>,
    id: web::Path<String>,
) -> PageResult {
    let user = session.require(&req)?;
    user.require_admin(&req)?;
    let e = load(&req, &user, &state, &id).await?;
    let doc = crate::routes::api::erasure::export_person(&state, &user.caller.actor(), e.id)
        .await
        .or_page(&req, &user)?;
    Ok(crate::routes::api::erasure::export_file(e.id, doc))
}

/// Erases a person who has left (GDPR article 17), after their email is typed again.
pub async fn erase(
    req: HttpRequest,
    session: Session,
    state: web::Data<AppState>,
    id: web::Path<String>,
    form: FormData,
) -> PageResult {
    let user = session.require(&req)?;
    user.require_admin(&req)?;
    user.check_csrf(&req, &form)?;
    let e = load(&req, &user, &state, &id).await?;
    let here = format!("/people/{}", e.id);
    match crate::routes::api::erasure::erase_person(
        &state,
        &user.caller.actor(),
        e.id,
        form.get("confirm_email"),
    )
    .await
    {
        Ok(gone) => Ok(redirect_with(
            &req,
            &here,
            true,
            &format!(
                "Erased {}: {} 1:1 series, {} notes, {} survey invitations and {} emails removed. \
                 Their departure stays in turnover, without a name.",
                e.name, gone.one_on_ones, gone.notes, gone.invitations, gone.emails
            ),
        )),
        Err(err @ (AppError::Validation { .. } | AppError::Conflict { .. })) => {
            Ok(redirect_with(&req, &here, false, &err.to_string()))
        }
        Err(err) => Err(user.error(&req, err)),
    }
}

const EXAMPLE: &str = "email,name,team,manager_email,role,hired_on,left_on,leave_reason,regretted\nana@example.com,Ana Lima,Engineering/Platform,zoe@example.com,member,2024-03-01,,,";

fn import_page(
    req: &HttpRequest,
    user: &User,
    status: StatusCode,
    text: &str,
    error: Option<String>,
    lines: Vec<Value>,
) -> actix_web::HttpResponse {
    user.render(
        req,
        status,
        "people_import",
        json!({
            "title": "Import people",
            "narrow": true,
            "example": EXAMPLE,
            "text": text,
            "error": error,
            "lines": lines,
        }),
    )
}

pub async fn import_form(req: HttpRequest, session: Session) -> PageResult {
    let user = session.require(&req)?;
    user.require_admin(&req)?;
    Ok(import_page(&req, &user, StatusCode::OK, "", None, vec![]))
}

/// The file (or pasted text) of a multipart upload, with its form token.
async fn read_upload(mut parts: Multipart) -> Result<(FormData, Vec<u8>, bool), String> {
    let mut fields = vec![];
    let mut file = vec![];
    let mut pasted = vec![];
    while let Some(part) = parts.next().await {
        let mut part = part.map_err(|e| format!("the upload could not be read: {e}"))?;
        let name = part.name().unwrap_or_default().to_string();
        let mut data = vec![];
        while let Some(chunk) = part.next().await {
            let chunk = chunk.map_err(|e| format!("the upload could not be read: {e}"))?;
            if data.len() + chunk.len() > crate::routes::CSV_LIMIT {
                return Err(format!(
                    "the file is larger than {} MiB",
                    crate::routes::CSV_LIMIT >> 20
                ));
            }
            data.extend_from_slice(&chunk);
        }
        match name.as_str() {
            "file" => file = data,
            "text" => pasted = data,
            _ => fields.push((name, String::from_utf8_lossy(&data).into_owned())),
        }
    }
    let from_file = file.iter().any(|b| !b.is_ascii_whitespace());
    Ok((
        FormData(fields),
        if from_file { file } else { pasted },
        from_file,
    ))
}

pub async fn import(
    req: HttpRequest,
    session: Session,
    state: web::Data<AppState>,
    parts: Multipart,
) -> PageResult {
    let user = session.require(&req)?;
    user.require_admin(&req)?;
    let (form, csv, from_file) = match read_upload(parts).await {
        Ok(r) => r,
        Err(e) => {
            return Ok(import_page(
                &req,
                &user,
                StatusCode::BAD_REQUEST,
                "",
                Some(e),
                vec![],
            ))
        }
    };
    user.check_csrf(&req, &form)?;
    if csv.iter().all(|b| b.is_ascii_whitespace()) {
        return Ok(import_page(
            &req,
            &user,
            StatusCode::UNPROCESSABLE_ENTITY,
            "",
            Some("Choose a CSV file or paste its lines.".into()),
            vec![],
        ));
    }
    let text = String::from_utf8_lossy(&csv).into_owned();
    match import_csv(&state, &user.caller.actor(), web::Bytes::from(csv)).await {
        Ok(s) => Ok(redirect_with(
            &req,
            "/people",
            true,
            &format!(
                "Import done: {} created, {} updated, {} unchanged.",
                s.created, s.updated, s.unchanged
            ),
        )),
        Err(AppError::InvalidCsv(lines)) => {
            let n = lines.len();
            let lines = lines
                .into_iter()
                .map(|l| json!({"line": l.line, "column": l.column, "message": l.message}))
                .collect();
            Ok(import_page(
                &req,
                &user,
                StatusCode::UNPROCESSABLE_ENTITY,
                // Pasted text comes back into the box; a file is chosen again.
                if from_file { "" } else { &text },
                Some(format!(
                    "Nothing was imported: {n} line{} need{} fixing.",
                    if n == 1 { "" } else { "s" },
                    if n == 1 { "s" } else { "" }
                )),
                lines,
            ))
        }
        Err(e) => Err(user.error(&req, e)),
    }
}
