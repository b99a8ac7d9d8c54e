//! /action-plans: record what will change after a round and mark it done; the
//! same form sits on the round page, "from this round's results".

use crate::action_plans::{self as plans, ActionPlanInput, ActionPlanOut, ActionPlanPatch};
use crate::auth::{Caller, Scope};
use crate::db::DbConnection;
use crate::domain::action_plan::Status;
use crate::domain::driver::Driver;
use crate::error::{AppError, AppResult};
use crate::repo;
use crate::routes::pages::reports::report_teams;
use crate::routes::pages::team_picker::{self, TeamField};
use crate::routes::pages::ui::{redirect_with, FormData, OrPage, PageResult, Session, TeamTree};
use crate::state::AppState;
use actix_web::{web, HttpRequest};
use serde::Deserialize;
use serde_json::{json, Value};

pub fn configure(cfg: &mut web::ServiceConfig) {
    crate::routes::Router::new()
        .route("/action-plans", web::get().to(list))
        .route("/action-plans", web::post().to(create))
        .route("/action-plans/{id:\\d+}", web::post().to(update))
        .register(cfg);
}

#[derive(Deserialize)]
pub struct ListQuery {
    team_id: Option<String>,
    status: Option<String>,
    /// "Find a team", where a reader has too many teams for a select.
    team_q: Option<String>,
}

/// What the "record an action" form offers this caller: the teams they may act
/// for (`teams`, those they may report on; HR also the whole company), the people
/// they may name as owner, the drivers. Past a select's worth of teams the form
/// takes the team the page has chosen (`team_fixed`), which the page's own team
/// search changes.
pub fn form_json(
    conn: &mut DbConnection,
    caller: &Caller,
    tree: &TeamTree,
    round_id: Option<i32>,
    team_id: Option<i32>,
    back: &str,
) -> AppResult<Value> {
    let scope = Scope::of(conn, caller)?;
    let everyone = matches!(scope, Scope::Everything).then_some("Whole company");
    let (teams, team_fixed) = if team_picker::searches(tree) {
        let (id, label) = team_picker::shown(tree, everyone, team_id);
        (vec![], json!({"value": id, "label": label}))
    } else {
        (team_picker::options(tree, everyone, team_id), Value::Null)
    };
    let today = chrono::Utc::now().date_naive();
    let owners: Vec<Value> = repo::employees::employed_on(conn, today)?
        .into_iter()
        .filter(|e| scope.may_see_employee(caller.id, e.id, e.team_id))
        .map(|e| json!({"value": e.id, "label": e.name, "selected": e.id == caller.id}))
        .collect();
    let drivers: Vec<Value> = std::iter::once(json!({"value": "", "label": "—"}))
        .chain(
            Driver::ALL
                .iter()
                .map(|d| json!({"value": d.key(), "label": d.name("en")})),
        )
        .collect();
    Ok(json!({
        "teams": teams,
        "team_fixed": team_fixed,
        "owners": owners,
        "drivers": drivers,
        "round_id": round_id,
        "back": back,
        "due_on": (today + chrono::Duration::days(30)).to_string(),
    }))
}

fn plan_json(p: &ActionPlanOut) -> Value {
    json!({
        "id": p.id, "text": p.text, "team": p.team_name, "owner": p.owner_name,
        "due_on": p.due_on, "done": p.status == "done", "done_on": p.done_on,
        "overdue": p.overdue, "round_id": p.round_id,
        "driver": p.driver.as_deref().and_then(|d| Driver::parse(d).ok()).map(|d| d.name("en")),
    })
}

/// The open actions a dashboard shows to this caller, ready for the template.
pub async fn dashboard_json(state: &AppState, caller: &Caller) -> AppResult<Value> {
    let caller = caller.clone();
    let now = chrono::Utc::now().naive_utc();
    let open = state
        .db(move |conn| plans::open_for_dashboard(conn, &caller, now))
        .await?;
    Ok(Value::Array(open.iter().map(plan_json).collect()))
}

pub async fn list(
    req: HttpRequest,
    session: Session,
    state: web::Data<AppState>,
    q: web::Query<ListQuery>,
) -> PageResult {
    let user = session.require(&req)?;
    if user.caller.role == crate::domain::people::Role::Member {
        return Err(user.forbidden(&req, "Action plans are recorded by HR and team leads."));
    }
    let team_id: Option<i32> = q.team_id.as_deref().and_then(|t| t.parse().ok());
    let status = q.status.as_deref().and_then(|s| Status::parse(s).ok());
    let (teams, _) = report_teams(&state, user.caller.clone())
        .await
        .or_page(&req, &user)?;
    let teams = std::sync::Arc::new(teams);
    let caller = user.caller.clone();
    let now = chrono::Utc::now().naive_utc();
    let form_teams = teams.clone();
    let (actions, form) = state
        .db(move |conn| {
            let actions = plans::list(conn, &caller, team_id, status, now)?;
            let form = form_json(conn, &caller, &form_teams, None, team_id, "/action-plans")?;
            Ok((actions, form))
        })
        .await
        .or_page(&req, &user)?;
    // Past a select's worth of teams, the team is chosen by a search above the lists,
    // which shows that team's actions and records the next one for it.
    let status_v = status.map(|s| s.as_str().to_string());
    let picker = if team_picker::searches(&teams) {
        let mut others = url::form_urlencoded::Serializer::new(String::new());
        if let Some(s) = &status_v {
            others.append_pair("status", s);
        }
        let field = TeamField {
            param: "team_id",
            label: "Team",
            everyone: Some("All teams"),
            chosen: team_id,
            search: q.team_q.clone(),
            link: format!("/action-plans?{}", others.finish()),
        };
        team_picker::choice(&state, &user.caller, &teams, field)
            .await
            .or_page(&req, &user)?
            .picker
    } else {
        Value::Null
    };
    let (open, done): (Vec<_>, Vec<_>) = actions.iter().partition(|a| a.status == "open");
    Ok(user.page(
        &req,
        "action_plans",
        json!({
            "title": "Action plans",
            "open": open.into_iter().map(plan_json).collect::<Vec<_>>(),
            "done": done.into_iter().map(plan_json).collect::<Vec<_>>(),
            "form": form,
            "team_picker": picker,
            "status": status_v,
        }),
    ))
}

/// Only paths of this site are followed back to, so a form cannot send anyone elsewhere.
fn back_to(form: &FormData) -> String {
    let back = form.get("back");
    if back.starts_with('/') && !back.starts_with("//") && !back.contains('\\') {
        back.to_string()
    } else {
        "/action-plans".into()
    }
}

pub async fn create(
    req: HttpRequest,
    session: Session,
    state: web::Data<AppState>,
    form: FormData,
) -> PageResult {
    let user = session.require(&req)?;
    user.check_csrf(&req, &form)?;
    let back = back_to(&form);
    let input = ActionPlanInput {
        team_id: form.get("team_id").parse().ok(),
        text: Some(form.get("text").to_string()),
        owner_id: form.get("owner_id").parse().ok(),
        due_on: Some(form.get("due_on").to_string()),
        driver: Some(form.get("driver").to_string()),
        round_id: form.get("round_id").parse().ok(),
    };
    let caller = user.caller.clone();
    let now = chrono::Utc::now().naive_utc();
    let outcome = state
        .db(move |conn| Ok(plans::create(conn, &caller, &input, now)))
        .await
        .or_page(&req, &user)?;
    Ok(match outcome {
        Ok(_) => redirect_with(&req, &back, true, "Action recorded."),
        Err(AppError::Validation { fields, .. }) => {
            let why: Vec<String> = fields
                .iter()
                .map(|(k, v)| format!("{}: {v}", k.replace('_', " ")))
                .collect();
            redirect_with(
                &req,
                &back,
                false,
                &format!("Action not recorded. {}.", why.join("; ")),
            )
        }
        Err(e) => return Err(e).or_page(&req, &user),
    })
}

pub async fn update(
    req: HttpRequest,
    session: Session,
    state: web::Data<AppState>,
    id: web::Path<i32>,
    form: FormData,
) -> PageResult {
    let user = session.require(&req)?;
    user.check_csrf(&req, &form)?;
    let back = back_to(&form);
    let patch = ActionPlanPatch {
        status: Some(form.get("status").to_string()),
    };
    let caller = user.caller.clone();
    let id = id.into_inner();
    let now = chrono::Utc::now().naive_utc();
    let done = state
        .db(move |conn| plans::set_status(conn, &caller, id, &patch, now))
        .await
        .or_page(&req, &user)?;
    let text = if done.status == "done" {
        "Marked done: people will see it above their next pulse."
    } else {
        "Reopened."
    };
    Ok(redirect_with(&req, &back, true, text))
}
