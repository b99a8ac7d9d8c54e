//! /scim/v2: SCIM 2.0 provisioning of people (Users) and teams (Groups) by an
//! identity provider holding a SCIM token.
//!
//! Users are employees: userName (or the primary email) is the email, the name
//! comes from name.formatted, displayName or given and family names, and
//! `active: false` or DELETE records a departure with today as the last day; the
//! employee row is never deleted. Groups are teams; membership is the employee's
//! team, changed through the same path as the API so team history is kept.
//! Writes go through `routes::api::{employees, teams}` and are on the audit trail.

use crate::db::DbConnection;
use crate::domain::email::Email;
use crate::repo::audit::{self, Actor};
use crate::repo::{self, employees::Employee, scim::ScimResource, teams::Team};
use crate::routes::api::employees::{create_employee, update_employee, EmployeeInput};
use crate::routes::api::teams::{create_team, update_team, TeamInput};
use crate::scim::{
    filter, patch, project, respond, schema, ScimError, ScimResult, GROUP_SCHEMA, LIST_SCHEMA,
    MAX_RESULTS, USER_SCHEMA,
};
use crate::state::AppState;
use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use chrono::NaiveDateTime;
use serde::Deserialize;
use serde_json::{json, Map, Value};
use std::collections::BTreeSet;

pub fn configure(cfg: &mut web::ServiceConfig) {
    crate::routes::Router::new()
        .route(
            "/scim/v2/ServiceProviderConfig",
            web::get().to(service_provider_config),
        )
        .route("/scim/v2/Schemas", web::get().to(schemas))
        .route("/scim/v2/Schemas/{id}", web::get().to(schema_one))
        .route("/scim/v2/ResourceTypes", web::get().to(resource_types))
        .route(
            "/scim/v2/ResourceTypes/{id}",
            web::get().to(resource_type_one),
        )
        .route("/scim/v2/Users", web::get().to(users_list))
        .route("/scim/v2/Users", web::post().to(user_create))
        .route("/scim/v2/Users/.search", web::post().to(users_search))
        .route("/scim/v2/Users/{id}", web::get().to(user_get))
        .route("/scim/v2/Users/{id}", web::put().to(user_put))
        .route("/scim/v2/Users/{id}", web::patch().to(user_patch))
        .route("/scim/v2/Users/{id}", web::delete().to(user_delete))
        .route("/scim/v2/Groups", web::get().to(groups_list))
        .route("/scim/v2/Groups", web::post().to(group_create))
        .route("/scim/v2/Groups/.search", web::post().to(groups_search))
        .route("/scim/v2/Groups/{id}", web::get().to(group_get))
        .route("/scim/v2/Groups/{id}", web::put().to(group_put))
        .route("/scim/v2/Groups/{id}", web::patch().to(group_patch))
        .route("/scim/v2/Groups/{id}", web::delete().to(group_delete))
        .route("/scim/v2/.search", web::post().to(root_search))
        .register(cfg);
}

/// Anything else under /scim/v2: a SCIM 404 (registered after the routes above).
pub async fn not_found(req: HttpRequest) -> HttpResponse {
    let e = ScimError::not_found(format!("no SCIM endpoint {} {}", req.method(), req.path()));
    actix_web::ResponseError::error_response(&e)
}

/// The token's holder, as the audit trail names it: no person, the client
/// address and the token.
async fn authenticate(state: &AppState, req: &HttpRequest) -> ScimResult<Actor> {
    let unauthorized = || {
        ScimError::new(
            401,
            None,
            "send a SCIM token as Authorization: Bearer <token>",
        )
    };
    let token = req
        .headers()
        .get(actix_web::http::header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split_once(' '))
        .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("bearer"))
        .map(|(_, t)| t.trim().to_string())
        .ok_or_else(unauthorized)?;
    let hash = crate::tokens::sha256_hex(&token);
    let found = state
        .db(move |conn| Ok(repo::scim::use_token(conn, &hash, repo::now())?))
        .await?;
    let t = found
        .ok_or_else(|| ScimError::new(401, None, "this SCIM token is unknown or was revoked"))?;
    let ip = crate::auth::session::client_ip(req, &state.settings.trusted_proxies);
    Ok(Actor {
        id: None,
        ip: format!("{ip} (SCIM token {} {})", t.id, t.name),
    })
}

/// `<PULSE_BASE_URL>/scim/v2`: locations are never taken from the Host header.
fn base(req: &HttpRequest) -> String {
    let configured = req
        .app_data::<web::Data<AppState>>()
        .map(|s| {
            s.settings
                .base_url
                .as_str()
                .trim_end_matches('/')
                .to_string()
        })
        .unwrap_or_default();
    format!("{configured}/scim/v2")
}

fn rfc3339(at: NaiveDateTime) -> String {
    at.and_utc()
        .to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

fn today() -> chrono::NaiveDate {
    chrono::Utc::now().date_naive()
}

// ---------------------------------------------------------------- discovery

async fn service_provider_config(
    state: web::Data<AppState>,
    req: HttpRequest,
) -> ScimResult<HttpResponse> {
    authenticate(&state, &req).await?;
    Ok(respond(
        StatusCode::OK,
        &schema::service_provider_config(&base(&req)),
    ))
}

fn list_of(resources: Vec<Value>, total: usize, start: usize) -> Value {
    json!({
        "schemas": [LIST_SCHEMA],
        "totalResults": total,
        "startIndex": start,
        "itemsPerPage": resources.len(),
        "Resources": resources,
    })
}

async fn schemas(state: web::Data<AppState>, req: HttpRequest) -> ScimResult<HttpResponse> {
    authenticate(&state, &req).await?;
    let all = schema::schemas(&base(&req));
    let n = all.len();
    Ok(respond(StatusCode::OK, &list_of(all, n, 1)))
}

async fn schema_one(
    state: web::Data<AppState>,
    req: HttpRequest,
    id: web::Path<String>,
) -> ScimResult<HttpResponse> {
    authenticate(&state, &req).await?;
    schema::schemas(&base(&req))
        .into_iter()
        .find(|s| s["id"] == json!(id.as_str()))
        .map(|s| respond(StatusCode::OK, &s))
        .ok_or_else(|| ScimError::not_found(format!("no schema {id}")))
}

async fn resource_types(state: web::Data<AppState>, req: HttpRequest) -> ScimResult<HttpResponse> {
    authenticate(&state, &req).await?;
    let all = schema::resource_types(&base(&req));
    let n = all.len();
    Ok(respond(StatusCode::OK, &list_of(all, n, 1)))
}

async fn resource_type_one(
    state: web::Data<AppState>,
    req: HttpRequest,
    id: web::Path<String>,
) -> ScimResult<HttpResponse> {
    authenticate(&state, &req).await?;
    schema::resource_types(&base(&req))
        .into_iter()
        .find(|s| s["id"] == json!(id.as_str()))
        .map(|s| respond(StatusCode::OK, &s))
        .ok_or_else(|| ScimError::not_found(format!("no resource type {id}")))
}

// ---------------------------------------------------------------- listing

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ListQuery {
    filter: Option<String>,
    start_index: Option<String>,
    count: Option<String>,
    attributes: Option<String>,
    excluded_attributes: Option<String>,
}

/// A SearchRequest body (POST …/.search): the query's fields, attribute lists as arrays.
fn search_query(body: &Value) -> ScimResult<ListQuery> {
    let list = |k: &str| -> Option<String> {
        match filter::get_ci(body, k)? {
            Value::Array(a) => Some(
                a.iter()
                    .filter_map(Value::as_str)
                    .collect::<Vec<_>>()
                    .join(","),
            ),
            Value::String(s) => Some(s.clone()),
            _ => None,
        }
    };
    let num = |k: &str| match filter::get_ci(body, k) {
        Some(Value::Number(n)) => Some(n.to_string()),
        Some(Value::String(s)) => Some(s.clone()),
        _ => None,
    };
    Ok(ListQuery {
        filter: filter::get_ci(body, "filter")
            .and_then(Value::as_str)
            .map(String::from),
        start_index: num("startIndex"),
        count: num("count"),
        attributes: list("attributes"),
        excluded_attributes: list("excludedAttributes"),
    })
}

/// Filters, pages (1-based `startIndex`, `count` up to `MAX_RESULTS`) and projects.
fn list_response(all: Vec<Value>, q: &ListQuery) -> ScimResult<HttpResponse> {
    let f = match q.filter.as_deref().filter(|f| !f.trim().is_empty()) {
        Some(f) => Some(
            filter::parse(f)
                .map_err(|e| ScimError::bad("invalidFilter", format!("filter {f:?}: {e}")))?,
        ),
        None => None,
    };
    let matching: Vec<Value> = all
        .into_iter()
        .filter(|r| f.as_ref().is_none_or(|f| f.matches(r)))
        .collect();
    let number = |name: &str, v: &Option<String>, default: f64| -> ScimResult<f64> {
        match v.as_deref().map(str::trim) {
            None | Some("") => Ok(default),
            Some(n) => n
                .parse::<f64>()
                .ok()
                .filter(|n| n.is_finite())
                .ok_or_else(|| {
                    ScimError::bad("invalidValue", format!("{name} {n:?} is not a number"))
                }),
        }
    };
    let start = number("startIndex", &q.start_index, 1.0)?;
    let start = if start < 1.0 {
        1
    } else {
        start.min(1e9) as usize
    };
    let count = number("count", &q.count, MAX_RESULTS as f64)?;
    let count = if count < 0.0 {
        0
    } else {
        (count.min(MAX_RESULTS as f64)) as usize
    };
    let total = matching.len();
    let page: Vec<Value> = matching
        .into_iter()
        .skip(start - 1)
        .take(count)
        .map(|mut r| {
            project(
                &mut r,
                q.attributes.as_deref(),
                q.excluded_attributes.as_deref(),
            );
            r
        })
        .collect();
    Ok(respond(StatusCode::OK, &list_of(page, total, start)))
}

// ---------------------------------------------------------------- users

fn user_location(base: &str, id: i32) -> String {
    format!("{base}/Users/{id}")
}

/// The User of an employee: what the provider sent (or, for people who came
/// another way, their email and name), with `active` as Pulse knows it.
fn render_user(base: &str, e: &Employee, row: Option<&ScimResource>) -> Value {
    let mut out = Map::new();
    out.insert("schemas".into(), json!([USER_SCHEMA]));
    out.insert("id".into(), json!(e.id.to_string()));
    let stored: Option<Map<String, Value>> =
        row.and_then(|r| serde_json::from_str(&r.attributes).ok());
    match stored {
        Some(attrs) => {
            for (k, v) in attrs {
                out.insert(k, v);
            }
            // HR changed the email or name in Pulse since: the User says so.
            if let Ok(said) = user_fields(&Value::Object(out.clone())) {
                if said.email != e.email {
                    if out["userName"].as_str().is_some_and(|u| u.contains('@')) {
                        out.insert("userName".into(), json!(e.email));
                    }
                    if let Some(Value::Array(emails)) = out.get_mut("emails") {
                        let at = emails
                            .iter()
                            .position(|m| m.get("primary") == Some(&json!(true)))
                            .unwrap_or(0);
                        if let Some(Value::Object(m)) = emails.get_mut(at) {
                            m.insert("value".into(), json!(e.email));
                        }
                    }
                }
                if said.name.is_some_and(|n| n != e.name) {
                    out.insert("name".into(), json!({"formatted": e.name}));
                    out.insert("displayName".into(), json!(e.name));
                }
            }
            // Shown when the provider speaks of it (a removed `active` stays unassigned).
            if out.contains_key("active") {
                out.insert("active".into(), json!(e.left_on.is_none()));
            }
        }
        None => {
            out.insert("userName".into(), json!(e.email));
            out.insert("name".into(), json!({"formatted": e.name}));
            out.insert("displayName".into(), json!(e.name));
            out.insert(
                "emails".into(),
                json!([{"value": e.email, "primary": true}]),
            );
            out.insert("active".into(), json!(e.left_on.is_none()));
        }
    }
    if let Some(x) = row.and_then(|r| r.external_id.clone()) {
        out.insert("externalId".into(), json!(x));
    }
    out.insert(
        "meta".into(),
        json!({
            "resourceType": "User",
            "created": rfc3339(row.map_or(e.created_at, |r| r.created_at.min(e.created_at))),
            "lastModified": rfc3339(row.map_or(e.updated_at, |r| r.updated_at.max(e.updated_at))),
            "location": user_location(base, e.id),
        }),
    );
    Value::Object(out)
}

fn all_users(conn: &mut DbConnection, base: &str) -> ScimResult<Vec<Value>> {
    users(conn, base, None)
}

/// The live Users; with a `userName eq` or `externalId eq` filter, only those
/// that may match are read (found by SQL), the rest of the filter is applied after.
fn users(
    conn: &mut DbConnection,
    base: &str,
    narrow: Option<&filter::Filter>,
) -> ScimResult<Vec<Value>> {
    use crate::db::schema::employees;
    use diesel::prelude::*;
    let candidates = match narrow.and_then(filter::Filter::simple_eq) {
        Some((a, v)) if a.eq_ignore_ascii_case("userName") => {
            Some(repo::scim::user_ids_named(conn, v)?)
        }
        Some((a, v)) if a.eq_ignore_ascii_case("externalId") => {
            Some(repo::scim::user_ids_external(conn, v)?)
        }
        _ => None,
    };
    let mut all: Vec<Employee> = match candidates {
        Some(ids) => employees::table
            .filter(employees::id.eq_any(ids))
            .select(Employee::as_select())
            .load(conn)?,
        None => employees::table.select(Employee::as_select()).load(conn)?,
    };
    all.sort_by_key(|e| e.id);
    let rows = repo::scim::resources(conn, repo::scim::USER)?;
    let erased = repo::scim::erased_ids(conn)?;
    all.retain(|e| !erased.contains(&e.id));
    Ok(all
        .iter()
        .filter_map(|e| {
            let row = rows.iter().find(|r| r.local_id == e.id);
            (!row.is_some_and(|r| r.deleted)).then(|| render_user(base, e, row))
        })
        .collect())
}

/// The filter of a list, parsed once: a SCIM 400 when it does not parse.
fn parsed_filter(q: &ListQuery) -> ScimResult<Option<filter::Filter>> {
    match q.filter.as_deref().filter(|f| !f.trim().is_empty()) {
        Some(f) => filter::parse(f)
            .map(Some)
            .map_err(|e| ScimError::bad("invalidFilter", format!("filter {f:?}: {e}"))),
        None => Ok(None),
    }
}

fn find_user(conn: &mut DbConnection, base: &str, id: &str) -> ScimResult<(Employee, Value)> {
    let missing = || ScimError::not_found(format!("no User {id}"));
    let id: i32 = id.parse().map_err(|_| missing())?;
    let e = repo::employees::find(conn, id)?.ok_or_else(missing)?;
    let row = repo::scim::resource(conn, repo::scim::USER, id)?;
    if row.as_ref().is_some_and(|r| r.deleted) || repo::scim::erased_ids(conn)?.contains(&id) {
        return Err(missing());
    }
    let user = render_user(base, &e, row.as_ref());
    Ok((e, user))
}

async fn users_list(
    state: web::Data<AppState>,
    req: HttpRequest,
    q: web::Query<ListQuery>,
) -> ScimResult<HttpResponse> {
    authenticate(&state, &req).await?;
    let b = base(&req);
    let narrow = parsed_filter(&q)?;
    let all = state
        .db(move |conn| Ok(users(conn, &b, narrow.as_ref())))
        .await?;
    list_response(all?, &q)
}

async fn users_search(
    state: web::Data<AppState>,
    req: HttpRequest,
    body: web::Bytes,
) -> ScimResult<HttpResponse> {
    authenticate(&state, &req).await?;
    let q = search_query(&json_body(&body)?)?;
    let b = base(&req);
    let narrow = parsed_filter(&q)?;
    let all = state
        .db(move |conn| Ok(users(conn, &b, narrow.as_ref())))
        .await?;
    list_response(all?, &q)
}

/// `?attributes=` / `?excludedAttributes=` on a single resource.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Projection {
    attributes: Option<String>,
    excluded_attributes: Option<String>,
}

async fn user_get(
    state: web::Data<AppState>,
    req: HttpRequest,
    id: web::Path<String>,
    p: web::Query<Projection>,
) -> ScimResult<HttpResponse> {
    authenticate(&state, &req).await?;
    let b = base(&req);
    let id = id.into_inner();
    let found = state.db(move |conn| Ok(find_user(conn, &b, &id))).await?;
    let (_, mut user) = found?;
    project(
        &mut user,
        p.attributes.as_deref(),
        p.excluded_attributes.as_deref(),
    );
    Ok(respond(StatusCode::OK, &user))
}

fn json_body(body: &[u8]) -> ScimResult<Value> {
    let v: Value = serde_json::from_slice(body)
        .map_err(|e| ScimError::bad("invalidSyntax", format!("the body is not JSON: {e}")))?;
    if !v.is_object() {
        return Err(ScimError::bad(
            "invalidSyntax",
            "the body must be a JSON object",
        ));
    }
    Ok(v)
}

/// What Pulse takes from a User.
#[derive(Debug, Clone, PartialEq)]
struct UserFields {
    user_name: String,
    email: String,
    name: Option<String>,
    active: Option<bool>,
    external_id: Option<String>,
    /// The attributes kept to read back, without id, meta, schemas and externalId.
    attributes: Map<String, Value>,
}

fn text<'a>(v: &'a Value, key: &str) -> ScimResult<Option<&'a str>> {
    match filter::get_ci(v, key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.as_str())),
        Some(_) => Err(ScimError::bad(
            "invalidValue",
            format!("{key} must be a string"),
        )),
    }
}

/// The attributes Pulse publishes, under their canonical names.
const USER_ATTRIBUTES: [&str; 5] = ["userName", "name", "displayName", "emails", "active"];

fn user_fields(v: &Value) -> ScimResult<UserFields> {
    let user_name = text(v, "userName")?
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .ok_or_else(|| ScimError::bad("invalidValue", "userName is required"))?
        .to_string();
    let emails = match filter::get_ci(v, "emails") {
        None | Some(Value::Null) => Vec::new(),
        Some(Value::Array(a)) => a.clone(),
        Some(_) => return Err(ScimError::bad("invalidValue", "emails must be a list")),
    };
    let primary = emails
        .iter()
        .find(|m| filter::get_ci(m, "primary") == Some(&json!(true)))
        .or(emails.first())
        .and_then(|m| filter::get_ci(m, "value"))
        .and_then(Value::as_str);
    let email = match (Email::parse(&user_name), primary.map(Email::parse)) {
        (Ok(e), _) if user_name.contains('@') => e.to_string(),
        (_, Some(Ok(e))) => e.to_string(),
        (_, Some(Err(why))) => {
            return Err(ScimError::bad(
                "invalidValue",
                format!("userName {user_name:?} is not an email, and the primary email {:?} {why}", primary.unwrap_or("")),
            ))
        }
        (_, None) => {
            return Err(ScimError::bad(
                "invalidValue",
                format!("userName {user_name:?} is not an email and there is no email in emails: Pulse needs an email for each person"),
            ))
        }
    };
    let name_obj = filter::get_ci(v, "name").cloned().unwrap_or(Value::Null);
    if !(name_obj.is_null() || name_obj.is_object()) {
        return Err(ScimError::bad("invalidValue", "name must be an object"));
    }
    let given = text(&name_obj, "givenName")?.unwrap_or("").trim();
    let family = text(&name_obj, "familyName")?.unwrap_or("").trim();
    let joined = format!("{given} {family}").trim().to_string();
    let name = text(&name_obj, "formatted")?
        .or(text(v, "displayName")?)
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(String::from)
        .or((!joined.is_empty()).then_some(joined));
    if let Some(n) = &name {
        crate::domain::people::parse_name(n)
            .map_err(|e| ScimError::bad("invalidValue", format!("the name {e}")))?;
    }
    let active = match filter::get_ci(v, "active") {
        None | Some(Value::Null) => None,
        Some(Value::Bool(b)) => Some(*b),
        // Entra ID sends "True" and "False" as strings.
        Some(Value::String(s)) if s.eq_ignore_ascii_case("true") => Some(true),
        Some(Value::String(s)) if s.eq_ignore_ascii_case("false") => Some(false),
        Some(_) => {
            return Err(ScimError::bad(
                "invalidValue",
                "active must be true or false",
            ))
        }
    };
    let external_id = text(v, "externalId")?.map(String::from);
    let mut attributes = Map::new();
    for a in USER_ATTRIBUTES {
        if let Some(x) = filter::get_ci(v, a).filter(|x| !x.is_null()) {
            let x = if a == "active" {
                json!(active)
            } else {
                x.clone()
            };
            attributes.insert(a.to_string(), x);
        }
    }
    Ok(UserFields {
        user_name,
        email,
        name,
        active,
        external_id,
        attributes,
    })
}

/// Another live User already has this userName (case-insensitively).
fn user_name_taken(
    conn: &mut DbConnection,
    user_name: &str,
    except: Option<i32>,
) -> ScimResult<bool> {
    let all = users(
        conn,
        "",
        Some(&filter::Filter::Compare(
            "userName".into(),
            filter::Op::Eq,
            json!(user_name),
        )),
    )?;
    Ok(all.iter().any(|u| {
        u["id"] != json!(except.map(|i| i.to_string()))
            && u["userName"]
                .as_str()
                .is_some_and(|n| n.eq_ignore_ascii_case(user_name))
    }))
}

fn departure(input: &mut EmployeeInput, e: Option<&Employee>, active: Option<bool>) {
    let left = e.is_some_and(|e| e.left_on.is_some());
    match active {
        Some(false) if !left => {
            input.left_on = Some(Some(today().to_string()));
            input.leave_reason = Some(Some("other".into()));
        }
        Some(true) if left => input.left_on = Some(None),
        _ => {}
    }
}

async fn save_user(state: &AppState, id: i32, f: &UserFields) -> ScimResult<()> {
    let (external, user_name, attrs) = (
        f.external_id.clone(),
        f.user_name.clone(),
        Value::Object(f.attributes.clone()).to_string(),
    );
    state
        .db(move |conn| {
            Ok(repo::scim::save_resource(
                conn,
                repo::scim::USER,
                id,
                external.as_deref(),
                Some(&user_name),
                &attrs,
                repo::now(),
            )?)
        })
        .await?;
    Ok(())
}

async fn user_create(
    state: web::Data<AppState>,
    req: HttpRequest,
    body: web::Bytes,
) -> ScimResult<HttpResponse> {
    let actor = authenticate(&state, &req).await?;
    let f = user_fields(&json_body(&body)?)?;
    let (email, user_name) = (f.email.clone(), f.user_name.clone());
    // A person whose User was deleted comes back under the same employee.
    let (taken, returning) = state
        .db(move |conn| {
            let taken = user_name_taken(conn, &user_name, None)
                .map_err(|e| crate::error::AppError::BadRequest(e.detail))?;
            let existing = repo::employees::find_by_email(conn, &email)?;
            let returning = match existing {
                Some(e) => repo::scim::resource(conn, repo::scim::USER, e.id)?
                    .filter(|r| r.deleted)
                    .map(|_| e),
                None => None,
            };
            Ok((taken, returning))
        })
        .await?;
    if taken {
        return Err(ScimError::new(
            409,
            Some("uniqueness"),
            format!("userName {:?} is taken", f.user_name),
        ));
    }
    let id = match returning {
        Some(e) => {
            let mut input = EmployeeInput {
                name: f.name.clone(),
                ..Default::default()
            };
            departure(&mut input, Some(&e), Some(f.active.unwrap_or(true)));
            update_employee(&state, &actor, e.id, input).await?.id
        }
        None => {
            let mut input = EmployeeInput {
                email: Some(f.email.clone()),
                name: Some(f.name.clone().unwrap_or_else(|| f.email.clone())),
                hired_on: Some(today().to_string()),
                ..Default::default()
            };
            departure(&mut input, None, f.active);
            create_employee(&state, &actor, input).await?.id
        }
    };
    save_user(&state, id, &f).await?;
    let b = base(&req);
    let user = state
        .db(move |conn| Ok(find_user(conn, &b, &id.to_string())))
        .await??
        .1;
    Ok(respond(StatusCode::CREATED, &user)
        .map_into_boxed_body()
        .customize_location(user_location(&base(&req), id)))
}

trait WithLocation {
    fn customize_location(self, location: String) -> HttpResponse;
}

impl WithLocation for HttpResponse {
    fn customize_location(mut self, location: String) -> HttpResponse {
        if let Ok(v) = actix_web::http::header::HeaderValue::from_str(&location) {
            self.headers_mut()
                .insert(actix_web::http::header::LOCATION, v);
        }
        self
    }
}

/// Replaces a User with `v`: email, name and departure through the employee path.
async fn replace_user(
    state: &AppState,
    req: &HttpRequest,
    actor: &Actor,
    id: &str,
    v: Value,
) -> ScimResult<HttpResponse> {
    let b = base(req);
    let sid = id.to_string();
    let (e, _) = state
        .db(move |conn| Ok(find_user(conn, &b, &sid)))
        .await??;
    let f = user_fields(&v)?;
    let (user_name, eid) = (f.user_name.clone(), e.id);
    let taken = state
        .db(move |conn| {
            user_name_taken(conn, &user_name, Some(eid))
                .map_err(|e| crate::error::AppError::BadRequest(e.detail))
        })
        .await?;
    if taken {
        return Err(ScimError::new(
            409,
            Some("uniqueness"),
            format!("userName {:?} is taken", f.user_name),
        ));
    }
    let mut input = EmployeeInput::default();
    if f.email != e.email {
        input.email = Some(f.email.clone());
    }
    if let Some(n) = f.name.clone().filter(|n| *n != e.name) {
        input.name = Some(n);
    }
    departure(&mut input, Some(&e), f.active);
    update_employee(state, actor, e.id, input).await?;
    save_user(state, e.id, &f).await?;
    let b = base(req);
    let user = state
        .db(move |conn| Ok(find_user(conn, &b, &eid.to_string())))
        .await??
        .1;
    Ok(respond(StatusCode::OK, &user))
}

async fn user_put(
    state: web::Data<AppState>,
    req: HttpRequest,
    id: web::Path<String>,
    body: web::Bytes,
) -> ScimResult<HttpResponse> {
    let actor = authenticate(&state, &req).await?;
    let v = json_body(&body)?;
    replace_user(&state, &req, &actor, &id, v).await
}

async fn user_patch(
    state: web::Data<AppState>,
    req: HttpRequest,
    id: web::Path<String>,
    body: web::Bytes,
) -> ScimResult<HttpResponse> {
    let actor = authenticate(&state, &req).await?;
    let ops = patch::parse(&json_body(&body)?)?;
    let b = base(&req);
    let sid = id.to_string();
    let (_, mut user) = state
        .db(move |conn| Ok(find_user(conn, &b, &sid)))
        .await??;
    patch::apply(&mut user, &ops)?;
    replace_user(&state, &req, &actor, &id, user).await
}

async fn user_delete(
    state: web::Data<AppState>,
    req: HttpRequest,
    id: web::Path<String>,
) -> ScimResult<HttpResponse> {
    let actor = authenticate(&state, &req).await?;
    let b = base(&req);
    let sid = id.to_string();
    let (e, _) = state
        .db(move |conn| Ok(find_user(conn, &b, &sid)))
        .await??;
    let mut input = EmployeeInput::default();
    departure(&mut input, Some(&e), Some(false));
    update_employee(&state, &actor, e.id, input).await?;
    let eid = e.id;
    state
        .db(move |conn| {
            Ok(repo::scim::mark_deleted(
                conn,
                repo::scim::USER,
                eid,
                repo::now(),
            )?)
        })
        .await?;
    Ok(HttpResponse::NoContent().finish())
}

// ---------------------------------------------------------------- groups

fn render_group(base: &str, t: &Team, members: &[i32], row: Option<&ScimResource>) -> Value {
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
fn members_of(all: &[(i32, Option<i32>)], team: i32) -> Vec<i32> {
    all.iter()
        .filter(|(_, t)| *t == Some(team))
        .map(|(e, _)| *e)
        .collect()
}

fn placements(conn: &mut DbConnection) -> ScimResult<Vec<(i32, Option<i32>)>> {
    use crate::db::schema::employees;
    use diesel::prelude::*;
    Ok(employees::table
        .order(employees::id)
        .select((employees::id, employees::team_id))
        .load(conn)?)
}

fn all_groups(conn: &mut DbConnection, base: &str) -> ScimResult<Vec<Value>> {
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

fn find_group(
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

async fn groups_list(
    state: web::Data<AppState>,
    req: HttpRequest,
    q: web::Query<ListQuery>,
) -> ScimResult<HttpResponse> {
    authenticate(&state, &req).await?;
    let b = base(&req);
    let all = state.db(move |conn| Ok(all_groups(conn, &b))).await??;
    list_response(all, &q)
}

async fn groups_search(
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
async fn root_search(
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

async fn group_get(
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
fn group_fields(
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
async fn set_members(
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

async fn save_group(state: &AppState, team: i32, external: Option<String>) -> ScimResult<()> {
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

async fn group_create(
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

async fn replace_group(
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

async fn group_put(
    state: web::Data<AppState>,
    req: HttpRequest,
    id: web::Path<String>,
    body: web::Bytes,
) -> ScimResult<HttpResponse> {
    let actor = authenticate(&state, &req).await?;
    let v = json_body(&body)?;
    replace_group(&state, &req, &actor, &id, v).await
}

async fn group_patch(
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
async fn group_delete(
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
