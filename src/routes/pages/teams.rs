//! /teams: the team tree with leads and headcounts; adding and editing teams. HR only.

use crate::repo::{self, employees::Employee, teams::Team};
use crate::routes::api::teams::{create_team, update_team, TeamInput};
use crate::routes::pages::ui::{
    field, field_errors, redirect_with, FormData, OrPage, PageResult, Session, TeamTree, User,
};
use crate::state::AppState;
use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use serde_json::{json, Value};
use std::collections::{BTreeMap, HashMap};

pub fn configure(cfg: &mut web::ServiceConfig) {
    crate::routes::Router::new()
        .route("/teams", web::get().to(list))
        .route("/teams", web::post().to(create))
        .route("/teams/{id}", web::get().to(edit_form))
        .route("/teams/{id}", web::post().to(update))
        .register(cfg);
}

struct Data {
    teams: Vec<Team>,
    people: Vec<Employee>,
}

async fn data(state: &AppState) -> Result<Data, crate::error::AppError> {
    state
        .db(|conn| {
            let today = chrono::Utc::now().date_naive();
            Ok(Data {
                teams: repo::teams::all(conn)?,
                people: repo::employees::employed_on(conn, today)?,
            })
        })
        .await
}

/// Name, parent and lead controls, filled with `values` (name, parent_id, lead_id).
fn team_fields(
    d: &Data,
    editing: Option<i32>,
    values: [&str; 3],
    errors: &BTreeMap<String, String>,
) -> Vec<Value> {
    let tree = TeamTree::new(d.teams.clone());
    let below: std::collections::BTreeSet<i32> = match editing {
        Some(id) => crate::domain::teams::with_descendants(
            &d.teams
                .iter()
                .map(|t| (t.id, t.parent_id))
                .collect::<Vec<_>>(),
            [id],
        ),
        None => Default::default(),
    };
    let mut parents = vec![(String::new(), "None: a top-level team".to_string())];
    parents.extend(
        tree.rows
            .iter()
            .filter(|(t, _, _)| !below.contains(&t.id))
            .map(|(t, _, p)| (t.id.to_string(), p.clone())),
    );
    let mut leads = vec![(String::new(), "No lead".to_string())];
    leads.extend(
        d.people
            .iter()
            .map(|e| (e.id.to_string(), format!("{} ({})", e.name, e.email))),
    );
    vec![
        field("name", "Name")
            .value(values[0])
            .required()
            .errors(errors)
            .json(),
        field("parent_id", "Part of")
            .value(values[1])
            .options(parents)
            .errors(errors)
            .json(),
        field("lead_id", "Lead")
            .hint("A member who leads a team becomes a lead and reads its reports")
            .value(values[2])
            .options(leads)
            .errors(errors)
            .json(),
    ]
}

fn tree_json(d: &Data) -> Vec<Value> {
    let names: HashMap<i32, &Employee> = d.people.iter().map(|e| (e.id, e)).collect();
    let mut headcount: HashMap<i32, usize> = HashMap::new();
    for e in &d.people {
        if let Some(t) = e.team_id {
            *headcount.entry(t).or_default() += 1;
        }
    }
    let mut children: HashMap<Option<i32>, Vec<&Team>> = HashMap::new();
    for t in &d.teams {
        children.entry(t.parent_id).or_default().push(t);
    }
    fn build(
        parent: Option<i32>,
        children: &HashMap<Option<i32>, Vec<&Team>>,
        names: &HashMap<i32, &Employee>,
        headcount: &HashMap<i32, usize>,
        depth: usize,
    ) -> Vec<Value> {
        let mut list = children.get(&parent).cloned().unwrap_or_default();
        list.sort_by_key(|t| t.name.to_lowercase());
        list.into_iter()
            .map(|t| {
                // Corrupt data with a loop must not recurse for ever.
                let kids = if depth < 50 {
                    build(Some(t.id), children, names, headcount, depth + 1)
                } else {
                    vec![]
                };
                json!({
                    "id": t.id,
                    "name": t.name,
                    "lead": t.lead_id.and_then(|l| names.get(&l)).map(|e| e.name.clone()),
                    "headcount": headcount.get(&t.id).copied().unwrap_or(0),
                    "children": kids,
                })
            })
            .collect()
    }
    build(None, &children, &names, &headcount, 0)
}

fn render_list(
    req: &HttpRequest,
    user: &User,
    d: &Data,
    form: Option<&FormData>,
    errors: &BTreeMap<String, String>,
) -> HttpResponse {
    let values = match form {
        Some(f) => [f.get("name"), f.get("parent_id"), f.get("lead_id")],
        None => ["", "", ""],
    };
    let status = if errors.is_empty() {
        StatusCode::OK
    } else {
        StatusCode::UNPROCESSABLE_ENTITY
    };
    user.render(
        req,
        status,
        "teams",
        json!({
            "title": "Teams",
            "tree": tree_json(d),
            "count": d.teams.len(),
            "fields": team_fields(d, None, values, errors),
            "has_errors": !errors.is_empty(),
            "form_error": errors.get("form"),
        }),
    )
}

pub async fn list(req: HttpRequest, session: Session, state: web::Data<AppState>) -> PageResult {
    let user = session.require(&req)?;
    user.require_admin(&req)?;
    let d = data(&state).await.or_page(&req, &user)?;
    Ok(render_list(&req, &user, &d, None, &BTreeMap::new()))
}

fn input_from(f: &FormData, errors: &mut BTreeMap<String, String>) -> TeamInput {
    let mut id = |key: &str| match f.id(key) {
        Ok(v) => Some(v),
        Err(e) => {
            errors.insert(key.into(), e);
            None
        }
    };
    TeamInput {
        name: Some(f.get("name").into()),
        parent_id: id("parent_id"),
        lead_id: id("lead_id"),
    }
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
        match create_team(&state, &user.caller.actor(), input).await {
            Ok(t) => {
                return Ok(redirect_with(
                    &req,
                    "/teams",
                    true,
                    &format!("Team {} was added.", t.name),
                ))
            }
            Err(e) => match field_errors(&e) {
                Some(f) => errors = f,
                None => return Err(user.error(&req, e)),
            },
        }
    }
    let d = data(&state).await.or_page(&req, &user)?;
    Ok(render_list(&req, &user, &d, Some(&form), &errors))
}

fn render_edit(
    req: &HttpRequest,
    user: &User,
    d: &Data,
    team: &Team,
    values: [&str; 3],
    errors: &BTreeMap<String, String>,
) -> HttpResponse {
    let status = if errors.is_empty() {
        StatusCode::OK
    } else {
        StatusCode::UNPROCESSABLE_ENTITY
    };
    user.render(
        req,
        status,
        "team",
        json!({
            "title": format!("Team {}", team.name),
            "narrow": true,
            "team": {"id": team.id, "name": team.name},
            "fields": team_fields(d, Some(team.id), values, errors),
            "has_errors": !errors.is_empty(),
            "form_error": errors.get("form"),
        }),
    )
}

async fn load(
    req: &HttpRequest,
    user: &User,
    d: &Data,
    raw: &str,
) -> Result<Team, actix_web::Error> {
    raw.parse::<i32>()
        .ok()
        .and_then(|id| d.teams.iter().find(|t| t.id == id).cloned())
        .ok_or_else(|| user.not_found(req, "There is no such team."))
}

pub async fn edit_form(
    req: HttpRequest,
    session: Session,
    state: web::Data<AppState>,
    id: web::Path<String>,
) -> PageResult {
    let user = session.require(&req)?;
    user.require_admin(&req)?;
    let d = data(&state).await.or_page(&req, &user)?;
    let team = load(&req, &user, &d, &id).await?;
    let (parent, lead) = (
        team.parent_id.map(|p| p.to_string()).unwrap_or_default(),
        team.lead_id.map(|p| p.to_string()).unwrap_or_default(),
    );
    Ok(render_edit(
        &req,
        &user,
        &d,
        &team,
        [&team.name, &parent, &lead],
        &BTreeMap::new(),
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
    let d = data(&state).await.or_page(&req, &user)?;
    let team = load(&req, &user, &d, &id).await?;
    let mut errors = BTreeMap::new();
    let input = input_from(&form, &mut errors);
    if errors.is_empty() {
        match update_team(&state, &user.caller.actor(), team.id, input).await {
            Ok(t) => {
                return Ok(redirect_with(
                    &req,
                    "/teams",
                    true,
                    &format!("Saved team {}.", t.name),
                ))
            }
            Err(e) => match field_errors(&e) {
                Some(f) => errors = f,
                None => return Err(user.error(&req, e)),
            },
        }
    }
    Ok(render_edit(
        &req,
        &user,
        &d,
        &team,
        [form.get("name"), form.get("parent_id"), form.get("lead_id")],
        &errors,
    ))
}
