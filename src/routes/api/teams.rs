//! /api/v1/teams: the team tree with parents and leads.

use crate::auth::{Admin, Caller, Scope};
use crate::db::DbConnection;
use crate::domain::people::{parse_name, Role};
use crate::domain::teams::would_loop;
use crate::error::{AppError, AppResult};
use crate::repo::audit::{self, Actor};
use crate::repo::{self, teams::Team, teams::TeamChanges};
use crate::routes::api::{double_option, paged_vec, Paging};
use crate::state::AppState;
use actix_web::{web, HttpRequest, HttpResponse};
use serde::Deserialize;
use std::collections::BTreeMap;

#[derive(Debug, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TeamInput {
    pub name: Option<String>,
    /// The team this one belongs to; null for a top-level team.
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<i32>)]
    pub parent_id: Option<Option<i32>>,
    /// The employee who leads the team; a member becomes a lead.
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<i32>)]
    pub lead_id: Option<Option<i32>>,
}

/// Checks a create (`existing` None) or an update against the stored tree and
/// returns the changes, with every bad field named.
fn check(
    conn: &mut DbConnection,
    input: &TeamInput,
    existing: Option<&Team>,
) -> AppResult<TeamChanges> {
    let mut fields = BTreeMap::new();
    let mut changes = TeamChanges::default();
    match (&input.name, existing) {
        (Some(n), _) => match parse_name(n) {
            Ok(n) => changes.name = Some(n),
            Err(e) => drop(fields.insert("name".into(), e)),
        },
        (None, None) => drop(fields.insert("name".into(), "is required".into())),
        (None, Some(_)) => {}
    }
    if let Some(Some(parent)) = input.parent_id {
        if repo::teams::find(conn, parent)?.is_none() {
            fields.insert("parent_id".into(), format!("there is no team {parent}"));
        } else if let Some(team) = existing {
            if would_loop(&repo::teams::edges(conn)?, team.id, parent) {
                fields.insert(
                    "parent_id".into(),
                    "a team cannot sit under itself or its own sub-team".into(),
                );
            }
        }
    }
    changes.parent_id = input.parent_id;
    if let Some(Some(lead)) = input.lead_id {
        match repo::employees::find(conn, lead)? {
            None => drop(fields.insert("lead_id".into(), format!("there is no employee {lead}"))),
            Some(e) if e.left_on.is_some() => {
                drop(fields.insert("lead_id".into(), format!("{} has left", e.name)))
            }
            Some(_) => {}
        }
    }
    changes.lead_id = input.lead_id;
    if !fields.is_empty() {
        return Err(AppError::fields(fields));
    }
    let name = changes
        .name
        .clone()
        .or_else(|| existing.map(|t| t.name.clone()))
        .unwrap_or_default();
    let parent = changes
        .parent_id
        .unwrap_or_else(|| existing.and_then(|t| t.parent_id));
    if let Some(twin) = repo::teams::find_by_name(conn, &name, parent)? {
        if existing.is_none_or(|t| t.id != twin.id) {
            return Err(AppError::Conflict {
                code: "duplicate_team",
                message: format!(
                    "there is already a team called {name} at that place (team {})",
                    twin.id
                ),
            });
        }
    }
    Ok(changes)
}

/// Leading a team lets a person read its reports, so a member who is made a
/// lead becomes one; admins keep their wider role.
fn promote_lead(
    conn: &mut DbConnection,
    actor: &Actor,
    lead_id: Option<Option<i32>>,
) -> AppResult<()> {
    if let Some(Some(id)) = lead_id {
        if let Some(e) = repo::employees::find(conn, id)? {
            if e.role == Role::Member.as_str() {
                audit::record(
                    conn,
                    actor,
                    audit::action::EMPLOYEE_ROLE,
                    &crate::audit::employee_target(id),
                    "member → lead (made a team's lead)",
                )?;
                let changes = repo::employees::EmployeeChanges {
                    role: Some(Role::Lead.as_str().into()),
                    updated_at: Some(repo::now()),
                    ..Default::default()
                };
                repo::employees::update(conn, id, &changes)?;
            }
        }
    }
    Ok(())
}

#[utoipa::path(post, path = "/api/v1/teams", tag = "people", request_body = TeamInput,
    responses((status = 201, body = Team), (status = 403, body = crate::error::ErrorBody),
              (status = 409, body = crate::error::ErrorBody), (status = 422, body = crate::error::ErrorBody)))]
pub async fn create(
    state: web::Data<AppState>,
    Admin(admin): Admin,
    body: web::Json<TeamInput>,
) -> AppResult<HttpResponse> {
    let team = create_team(&state, &admin.actor(), body.into_inner()).await?;
    Ok(HttpResponse::Created().json(team))
}

/// Creates a team: the API and the teams page.
pub(crate) async fn create_team(
    state: &AppState,
    actor: &Actor,
    input: TeamInput,
) -> AppResult<Team> {
    let actor = actor.clone();
    state
        .db(move |conn| {
            crate::db::write_transaction(conn, |conn| {
                let changes = check(conn, &input, None)?;
                let name = changes.name.unwrap_or_default();
                let new = repo::teams::NewTeam {
                    name: &name,
                    parent_id: changes.parent_id.flatten(),
                    lead_id: changes.lead_id.flatten(),
                    created_at: repo::now(),
                };
                let id = repo::teams::insert(conn, &new)?;
                promote_lead(conn, &actor, changes.lead_id)?;
                recorded(conn, &actor, id, None)
            })
        })
        .await
}

#[utoipa::path(get, path = "/api/v1/teams", tag = "people", params(Paging),
    responses((status = 200, description = "the teams the caller may see", body = [Team])))]
pub async fn list(
    state: web::Data<AppState>,
    caller: Caller,
    req: HttpRequest,
    paging: web::Query<Paging>,
) -> AppResult<HttpResponse> {
    paging.check()?;
    let teams = state
        .db(move |conn| {
            let scope = Scope::of(conn, &caller)?;
            let all = repo::teams::all(conn)?;
            Ok(all
                .into_iter()
                .filter(|t| scope.may_see_team(t.id, caller.team_id))
                .collect::<Vec<_>>())
        })
        .await?;
    paged_vec(&req, *paging, teams)
}

#[utoipa::path(get, path = "/api/v1/teams/{id}", tag = "people",
    responses((status = 200, body = Team), (status = 403, body = crate::error::ErrorBody), (status = 404, body = crate::error::ErrorBody)))]
pub async fn get(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<i32>,
) -> AppResult<HttpResponse> {
    let id = id.into_inner();
    let team = state
        .db(move |conn| {
            let team = repo::teams::find(conn, id)?.ok_or_else(|| AppError::not_found("team"))?;
            if !Scope::of(conn, &caller)?.may_see_team(id, caller.team_id) {
                return Err(AppError::Forbidden(
                    "you may only see your own teams".into(),
                ));
            }
            Ok(team)
        })
        .await?;
    Ok(HttpResponse::Ok().json(team))
}

#[utoipa::path(patch, path = "/api/v1/teams/{id}", tag = "people", request_body = TeamInput,
    responses((status = 200, body = Team), (status = 404, body = crate::error::ErrorBody),
              (status = 409, body = crate::error::ErrorBody), (status = 422, body = crate::error::ErrorBody)))]
pub async fn update(
    state: web::Data<AppState>,
    Admin(admin): Admin,
    id: web::Path<i32>,
    body: web::Json<TeamInput>,
) -> AppResult<HttpResponse> {
    let team = update_team(&state, &admin.actor(), id.into_inner(), body.into_inner()).await?;
    Ok(HttpResponse::Ok().json(team))
}

/// Changes a team: the API and the teams page.
pub(crate) async fn update_team(
    state: &AppState,
    actor: &Actor,
    id: i32,
    input: TeamInput,
) -> AppResult<Team> {
    let actor = actor.clone();
    state
        .db(move |conn| {
            crate::db::write_transaction(conn, |conn| {
                let existing =
                    repo::teams::find(conn, id)?.ok_or_else(|| AppError::not_found("team"))?;
                let changes = check(conn, &input, Some(&existing))?;
                repo::teams::update(conn, id, &changes)?;
                promote_lead(conn, &actor, changes.lead_id)?;
                recorded(conn, &actor, id, Some(&existing))
            })
        })
        .await
}

/// The team as written, once its creation (`before` None) or change is on the audit trail.
fn recorded(
    conn: &mut DbConnection,
    actor: &Actor,
    id: i32,
    before: Option<&Team>,
) -> AppResult<Team> {
    let team = repo::teams::find(conn, id)?.ok_or_else(|| AppError::not_found("team"))?;
    let action = match before {
        None => audit::action::TEAM_CREATE,
        Some(_) => audit::action::TEAM_UPDATE,
    };
    let detail = team_detail(before, &team);
    audit::record(conn, actor, action, &format!("team:{id}"), &detail)?;
    Ok(team)
}

/// The audit trail's words for a team as created, or for what changed.
fn team_detail(before: Option<&Team>, after: &Team) -> String {
    let parent = |t: &Team| t.parent_id.map_or("none".into(), |p| format!("team:{p}"));
    let lead = |t: &Team| {
        t.lead_id
            .map_or("none".into(), crate::audit::employee_target)
    };
    let mut parts = vec![];
    match before {
        None => {
            parts.push(after.name.clone());
            parts.push(format!("parent {}", parent(after)));
            parts.push(format!("lead {}", lead(after)));
        }
        Some(b) => {
            if b.name != after.name {
                parts.push(format!("name {} → {}", b.name, after.name));
            }
            if b.parent_id != after.parent_id {
                parts.push(format!("parent {} → {}", parent(b), parent(after)));
            }
            if b.lead_id != after.lead_id {
                parts.push(format!("lead {} → {}", lead(b), lead(after)));
            }
        }
    }
    parts.join(", ")
}
