//! SCIM Users: employees as an identity provider sees them.

use super::{
    authenticate, base, list_response, rfc3339, search_query, today, ListQuery, Projection,
    WithLocation,
};
use crate::db::DbConnection;
use crate::domain::email::Email;
use crate::repo::audit::Actor;
use crate::repo::{self, employees::Employee, scim::ScimResource};
use crate::routes::api::employees::{create_employee, update_employee, EmployeeInput};
use crate::scim::{filter, patch, project, respond, ScimError, ScimResult, USER_SCHEMA};
use crate::state::AppState;
use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use serde_json::{json, Map, Value};

pub(super) fn user_location(base: &str, id: i32) -> String {
    format!("{base}/Users/{id}")
}

/// The User of an employee: what the provider sent (or, for people who came
/// another way, their email and name), with `active` as Pulse knows it.
pub(super) fn render_user(base: &str, e: &Employee, row: Option<&ScimResource>) -> Value {
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

pub(super) fn all_users(conn: &mut DbConnection, base: &str) -> ScimResult<Vec<Value>> {
    users(conn, base, None)
}

/// The live Users; with a `userName eq` or `externalId eq` filter, only those
/// that may match are read (found by SQL), the rest of the filter is applied after.
pub(super) fn users(
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
pub(super) fn parsed_filter(q: &ListQuery) -> ScimResult<Option<filter::Filter>> {
    match q.filter.as_deref().filter(|f| !f.trim().is_empty()) {
        Some(f) => filter::parse(f)
            .map(Some)
            .map_err(|e| ScimError::bad("invalidFilter", format!("filter {f:?}: {e}"))),
        None => Ok(None),
    }
}

pub(super) fn find_user(
    conn: &mut DbConnection,
    base: &str,
    id: &str,
) -> ScimResult<(Employee, Value)> {
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

pub(super) async fn users_list(
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

pub(super) async fn users_search(
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

pub(super) async fn user_get(
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

pub(super) fn json_body(body: &[u8]) -> ScimResult<Value> {
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
pub(super) struct UserFields {
    user_name: String,
    email: String,
    name: Option<String>,
    active: Option<bool>,
    external_id: Option<String>,
    /// The attributes kept to read back, without id, meta, schemas and externalId.
    attributes: Map<String, Value>,
}

pub(super) fn text<'a>(v: &'a Value, key: &str) -> ScimResult<Option<&'a str>> {
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
pub(super) const USER_ATTRIBUTES: [&str; 5] =
    ["userName", "name", "displayName", "emails", "active"];

pub(super) fn user_fields(v: &Value) -> ScimResult<UserFields> {
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
pub(super) fn user_name_taken(
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

pub(super) fn departure(input: &mut EmployeeInput, e: Option<&Employee>, active: Option<bool>) {
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

pub(super) async fn save_user(state: &AppState, id: i32, f: &UserFields) -> ScimResult<()> {
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

pub(super) async fn user_create(
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

/// Replaces a User with `v`: email, name and departure through the employee path.
pub(super) async fn replace_user(
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

pub(super) async fn user_put(
    state: web::Data<AppState>,
    req: HttpRequest,
    id: web::Path<String>,
    body: web::Bytes,
) -> ScimResult<HttpResponse> {
    let actor = authenticate(&state, &req).await?;
    let v = json_body(&body)?;
    replace_user(&state, &req, &actor, &id, v).await
}

pub(super) async fn user_patch(
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

pub(super) async fn user_delete(
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
