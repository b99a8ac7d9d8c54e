//! /scim/v2: SCIM 2.0 provisioning of people (Users) and teams (Groups) by an
//! identity provider holding a SCIM token.
//!
//! Users are employees: userName (or the primary email) is the email, the name
//! comes from name.formatted, displayName or given and family names, and
//! `active: false` or DELETE records a departure with today as the last day; the
//! employee row is never deleted. Groups are teams; membership is the employee's
//! team, changed through the same path as the API so team history is kept.
//! Writes go through `routes::api::{employees, teams}` and are on the audit trail.

use crate::instant::rfc3339;
use crate::repo::audit::Actor;
use crate::repo::{self};
use crate::scim::{
    filter, project, respond, schema, ScimError, ScimResult, LIST_SCHEMA, MAX_RESULTS,
};
use crate::state::AppState;
use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use serde::Deserialize;
use serde_json::{json, Value};

mod groups;
mod users;

use groups::{
    group_create, group_delete, group_get, group_patch, group_put, groups_list, groups_search,
    root_search,
};
use users::{user_create, user_delete, user_get, user_patch, user_put, users_list, users_search};

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

/// `?attributes=` / `?excludedAttributes=` on a single resource.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Projection {
    attributes: Option<String>,
    excluded_attributes: Option<String>,
}

/// A created resource answers with its Location.
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
