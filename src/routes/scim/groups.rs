//! SCIM Groups: teams, with membership as each employee's team.

use super::users::{all_users, json_body, text, user_location};
use super::{
    authenticate, base, list_response, rfc3339, search_query, ListQuery, Projection, WithLocation,
};
use crate::db::DbConnection;
use crate::repo::audit::{self, Actor};
use crate::repo::{self, scim::ScimResource, teams::Team};
use crate::routes::api::employees::{update_employee, EmployeeInput};
use crate::routes::api::teams::{create_team, update_team, TeamInput};
use crate::scim::{filter, patch, project, respond, ScimError, ScimResult, GROUP_SCHEMA};
use crate::state::AppState;
use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use serde_json::{json, Value};
use std::collections::BTreeSet;

pub(super) fn render_group(
    base: &str,
    t: &Team,
    members: &[i32],
    row: Option<&ScimResource>,
) -> Value {
    let mut out = json!({
        "schemas": [GROUP_SCHEMA],
        "id": t.id.to_string(),
        "displayName": t.name,
        "meta": {
            "resourceType": "Group",
            "created": rfc3339(t.created_at),
            "lastModified": rfc3339(row.map_or(t.created_at, |r| r.updated_at)),
            "location": format!("{base}/Groups/{}", t.id),
        },
    });
    if !members.is_empty() {
        out["members"] = json!(members
            .iter()
            .map(|m| json!({"value": m.to_string(), "$ref": user_location(base, *m)}))
            .collect::<Vec<_>>());
    }
    if let Some(x) = row.and_then(|r| r.external_id.clone()) {
        out["externalId"] = json!(x);
    }
    out
}

/// Everyone whose team this is, by id.
pub(super) fn members_of(all: &[(i32, Option<i32>)], team: i32) -> Vec<i32> {
    all.iter()
        .filter(|(_, t)| *t == Some(team))
        .map(|(e, _)| *e)
        .collect()
}

pub(super) fn placements(conn: &mut DbConnection) -> ScimResult<Vec<(i32, Option<i32>)>> {
    use crate::db::schema::employees;
    use diesel::prelude::*;
    Ok(employees::table
        .order(employees::id)
        .select((employees::id, employees::team_id))
        .load(conn)?)
}

pub(super) fn all_groups(conn: &mut DbConnection, base: &str) -> ScimResult<Vec<Value>> {
    let rows = repo::scim::resources(conn, repo::scim::GROUP)?;
    let people = placements(conn)?;
    Ok(repo::teams::all(conn)?
        .iter()
        .filter_map(|t| {
            let row = rows.iter().find(|r| r.local_id == t.id);
            (!row.is_some_and(|r| r.deleted))
                .then(|| render_group(base, t, &members_of(&people, t.id), row))
        })
        .collect())
}

pub(super) fn find_group(
    conn: &mut DbConnection,
    base: &str,
    id: &str,
) -> ScimResult<(Team, Vec<i32>, Value)> {
    let missing = || ScimError::not_found(format!("no Group {id}"));
    let id: i32 = id.parse().map_err(|_| missing())?;
    let t = repo::teams::find(conn, id)?.ok_or_else(missing)?;
    let row = repo::scim::resource(conn, repo::scim::GROUP, id)?;
    if row.as_ref().is_some_and(|r| r.deleted) {
        return Err(missing());
    }
    let members = members_of(&placements(conn)?, id);
    let g = render_group(base, &t, &members, row.as_ref());
    Ok((t, members, g))
}

pub(super) async fn groups_list(
    state: web::Data<AppState>,
    req: HttpRequest,
    q: web::Query<ListQuery>,
) -> ScimResult<HttpResponse> {
    authenticate(&state, &req).await?;
    let b = base(&req);
    let all = state.db(move |conn| Ok(all_groups(conn, &b))).await??;
    list_response(all, &q)
}

pub(super) async fn groups_search(
    state: web::Data<AppState>,
    req: HttpRequest,
    body: web::Bytes,
) -> ScimResult<HttpResponse> {
    authenticate(&state, &req).await?;
    let q = search_query(&json_body(&body)?)?;
    let b = base(&req);
    let all = state.db(move |conn| Ok(all_groups(conn, &b))).await??;
    list_response(all, &q)
}

/// POST /.search at the root: Users then Groups.
pub(super) async fn root_search(
    state: web::Data<AppState>,
    req: HttpRequest,
    body: web::Bytes,
) -> ScimResult<HttpResponse> {
    authenticate(&state, &req).await?;
    let q = search_query(&json_body(&body)?)?;
    let b = base(&req);
    let all = state
        .db(move |conn| {
            Ok(all_users(conn, &b).and_then(|mut u| {
                u.extend(all_groups(conn, &b)?);
                Ok(u)
            }))
        })
        .await??;
    list_response(all, &q)
}

pub(super) async fn group_get(
    state: web::Data<AppState>,
    req: HttpRequest,
    id: web::Path<String>,
    p: web::Query<Projection>,
) -> ScimResult<HttpResponse> {
    authenticate(&state, &req).await?;
    let b = base(&req);
    let id = id.into_inner();
    let (_, _, mut g) = state
        .db(move |conn| Ok(find_group(conn, &b, &id)))
        .await??;
    project(
        &mut g,
        p.attributes.as_deref(),
        p.excluded_attributes.as_deref(),
    );
    Ok(respond(StatusCode::OK, &g))
}

/// A Group's name, externalId and member ids, each member a live User.
pub(super) fn group_fields(
    conn: &mut DbConnection,
    v: &Value,
) -> ScimResult<(String, Option<String>, BTreeSet<i32>)> {
    let name = text(v, "displayName")?
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .ok_or_else(|| ScimError::bad("invalidValue", "displayName is required"))?
        .to_string();
    let external = text(v, "externalId")?.map(String::from);
    let members = match filter::get_ci(v, "members") {
        None | Some(Value::Null) => Vec::new(),
        Some(Value::Array(a)) => a.clone(),
        Some(_) => return Err(ScimError::bad("invalidValue", "members must be a list")),
    };
    let mut ids = BTreeSet::new();
    for m in &members {
        let value = filter::get_ci(m, "value")
            .and_then(Value::as_str)
            .ok_or_else(|| {
                ScimError::bad(
                    "invalidValue",
                    "each member needs a value, the id of a User",
                )
            })?;
        let bad = || ScimError::bad("invalidValue", format!("member {value:?} is not a User"));
        let id: i32 = value.parse().map_err(|_| bad())?;
        let live = repo::employees::find(conn, id)?.is_some()
            && !repo::scim::resource(conn, repo::scim::USER, id)?.is_some_and(|r| r.deleted);
        if !live {
            return Err(bad());
        }
        ids.insert(id);
    }
    Ok((name, external, ids))
}

/// Moves people in and out of a team through the employee path (team history is kept).
pub(super) async fn set_members(
    state: &AppState,
    actor: &Actor,
    team: i32,
    now: &[i32],
    want: &BTreeSet<i32>,
) -> ScimResult<()> {
    for gone in now.iter().filter(|m| !want.contains(m)) {
        let input = EmployeeInput {
            team_id: Some(None),
            ..Default::default()
        };
        update_employee(state, actor, *gone, input).await?;
    }
    for new in want.iter().filter(|m| !now.contains(m)) {
        let input = EmployeeInput {
            team_id: Some(Some(team)),
            ..Default::default()
        };
        update_employee(state, actor, *new, input).await?;
    }
    Ok(())
}

pub(super) async fn save_group(
    state: &AppState,
    team: i32,
    external: Option<String>,
) -> ScimResult<()> {
    state
        .db(move |conn| {
            Ok(repo::scim::save_resource(
                conn,
                repo::scim::GROUP,
                team,
                external.as_deref(),
                None,
                "{}",
                repo::now(),
            )?)
        })
        .await?;
    Ok(())
}

pub(super) async fn group_create(
    state: web::Data<AppState>,
    req: HttpRequest,
    body: web::Bytes,
) -> ScimResult<HttpResponse> {
    let actor = authenticate(&state, &req).await?;
    let v = json_body(&body)?;
    let (name, external, members) = state.db(move |conn| Ok(group_fields(conn, &v))).await??;
    let team = create_team(
        &state,
        &actor,
        TeamInput {
            name: Some(name),
            ..Default::default()
        },
    )
    .await?;
    set_members(&state, &actor, team.id, &[], &members).await?;
    save_group(&state, team.id, external).await?;
    let b = base(&req);
    let tid = team.id.to_string();
    let (_, _, g) = state
        .db(move |conn| Ok(find_group(conn, &b, &tid)))
        .await??;
    Ok(respond(StatusCode::CREATED, &g).customize_location(format!(
        "{}/Groups/{}",
        base(&req),
        team.id
    )))
}

pub(super) async fn replace_group(
    state: &AppState,
    req: &HttpRequest,
    actor: &Actor,
    id: &str,
    v: Value,
) -> ScimResult<HttpResponse> {
    let b = base(req);
    let sid = id.to_string();
    let (t, now, _) = state
        .db(move |conn| Ok(find_group(conn, &b, &sid)))
        .await??;
    let (name, external, want) = state.db(move |conn| Ok(group_fields(conn, &v))).await??;
    if name != t.name {
        update_team(
            state,
            actor,
            t.id,
            TeamInput {
                name: Some(name),
                ..Default::default()
            },
        )
        .await?;
    }
    set_members(state, actor, t.id, &now, &want).await?;
    save_group(state, t.id, external).await?;
    let b = base(req);
    let sid = id.to_string();
    let (_, _, g) = state
        .db(move |conn| Ok(find_group(conn, &b, &sid)))
        .await??;
    Ok(respond(StatusCode::OK, &g))
}

pub(super) async fn group_put(
    state: web::Data<AppState>,
    req: HttpRequest,
    id: web::Path<String>,
    body: web::Bytes,
) -> ScimResult<HttpResponse> {
    let actor = authenticate(&state, &req).await?;
    let v = json_body(&body)?;
    replace_group(&state, &req, &actor, &id, v).await
}

pub(super) async fn group_patch(
    state: web::Data<AppState>,
    req: HttpRequest,
    id: web::Path<String>,
    body: web::Bytes,
) -> ScimResult<HttpResponse> {
    let actor = authenticate(&state, &req).await?;
    let ops = patch::parse(&json_body(&body)?)?;
    let b = base(&req);
    let sid = id.to_string();
    let (_, _, mut g) = state
        .db(move |conn| Ok(find_group(conn, &b, &sid)))
        .await??;
    patch::apply(&mut g, &ops)?;
    replace_group(&state, &req, &actor, &id, g).await
}

/// A team with people is refused; an empty one leaves SCIM, and stays in Pulse
/// (its history is in past reports; Pulse does not delete teams).
pub(super) async fn group_delete(
    state: web::Data<AppState>,
    req: HttpRequest,
    id: web::Path<String>,
) -> ScimResult<HttpResponse> {
    let actor = authenticate(&state, &req).await?;
    let b = base(&req);
    let sid = id.to_string();
    let (t, members, _) = state
        .db(move |conn| Ok(find_group(conn, &b, &sid)))
        .await??;
    if !members.is_empty() {
        return Err(ScimError::new(
            409,
            None,
            format!(
                "the team {} still has {} people: move them out first (remove the group's members)",
                t.name,
                members.len()
            ),
        ));
    }
    let tid = t.id;
    state
        .db(move |conn| {
            crate::db::write_transaction(conn, |conn| {
                repo::scim::mark_deleted(conn, repo::scim::GROUP, tid, repo::now())?;
                audit::record(
                    conn,
                    &actor,
                    audit::action::TEAM_UPDATE,
                    &format!("team:{tid}"),
                    "removed from SCIM provisioning",
                )?;
                Ok(())
            })
        })
        .await?;
    Ok(HttpResponse::NoContent().finish())
}
