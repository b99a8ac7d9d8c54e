//! /api/v1/teams: the team tree with parents and leads.

use crate::auth::{Admin, Caller, Scope};
use crate::db::DbConnection;
use crate::domain::people::{parse_name, Role};
use crate::domain::teams::would_loop;
use crate::error::{AppError, AppResult};
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
fn promote_lead(conn: &mut DbConnection, lead_id: Option<Option<i32>>) -> AppResult<()> {
    if let Some(Some(id)) = lead_id {
        if let Some(e) = repo::employees::find(conn, id)? {
            if e.role == Role::Member.as_str() {
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
    _admin: Admin,
    body: web::Json<TeamInput>,
) -> AppResult<HttpResponse> {
    let team = create_team(&state, body.into_inner()).await?;
    Ok(HttpResponse::Created().json(team))
}

/// Creates a team: the API and the teams page.
pub(crate) async fn create_team(state: &AppState, input: TeamInput) -> AppResult<Team> {
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
                promote_lead(conn, changes.lead_id)?;
                repo::teams::find(conn, id)?.ok_or_else(|| AppError::not_found("team"))
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
    _admin: Admin,
    id: web::Path<i32>,
    body: web::Json<TeamInput>,
) -> AppResult<HttpResponse> {
    let team = update_team(&state, id.into_inner(), body.into_inner()).await?;
    Ok(HttpResponse::Ok().json(team))
}

/// Changes a team: the API and the teams page.
pub(crate) async fn update_team(state: &AppState, id: i32, input: TeamInput) -> AppResult<Team> {
    state
        .db(move |conn| {
            crate::db::write_transaction(conn, |conn| {
                let existing =
                    repo::teams::find(conn, id)?.ok_or_else(|| AppError::not_found("team"))?;
                let changes = check(conn, &input, Some(&existing))?;
                repo::teams::update(conn, id, &changes)?;
                promote_lead(conn, changes.lead_id)?;
                repo::teams::find(conn, id)?.ok_or_else(|| AppError::not_found("team"))
            })
        })
        .await
}
