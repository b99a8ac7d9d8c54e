//! /audit: HR reads the audit trail with the API's filters, and downloads it as CSV.

use crate::repo::audit;
use crate::routes::api::audit::{AuditEntryOut, AuditParams};
use crate::routes::pages::ui::{field_errors, page_number, pager, OrPage, PageResult, Session};
use crate::state::AppState;
use actix_web::{web, HttpRequest};
use serde::Deserialize;
use serde_json::json;

const PER_PAGE: i64 = 100;

pub fn configure(cfg: &mut web::ServiceConfig) {
    crate::routes::Router::new()
        .route("/audit", web::get().to(page))
        .register(cfg);
}

#[derive(Deserialize)]
pub struct Query {
    actor_id: Option<String>,
    action: Option<String>,
    from: Option<String>,
    to: Option<String>,
    page: Option<String>,
}

pub async fn page(
    req: HttpRequest,
    session: Session,
    state: web::Data<AppState>,
    q: web::Query<Query>,
) -> PageResult {
    let user = session.require(&req)?;
    user.require_admin(&req)?;
    let blank = |v: &Option<String>| {
        v.as_deref()
            .map(str::trim)
            .filter(|v| !v.is_empty())
            .map(str::to_string)
    };
    let mut errors = std::collections::BTreeMap::new();
    let actor_id = match blank(&q.actor_id) {
        None => None,
        Some(v) => match v.parse::<i32>() {
            Ok(id) => Some(id),
            Err(_) => {
                errors.insert(
                    "actor_id".to_string(),
                    format!("`{v}` is not an employee id"),
                );
                None
            }
        },
    };
    let params = AuditParams {
        actor_id,
        action: blank(&q.action),
        from: blank(&q.from),
        to: blank(&q.to),
    };
    let filter = match params.filter() {
        Ok(f) => Some(f),
        Err(e) => {
            errors.extend(field_errors(&e).unwrap_or_default());
            None
        }
    };
    let page = page_number(q.page.as_deref());
    let (rows, total) = match filter {
        Some(f) if errors.is_empty() => state
            .db(move |conn| Ok(audit::list(conn, &f, (page - 1) * PER_PAGE, PER_PAGE)?))
            .await
            .or_page(&req, &user)?,
        _ => (vec![], 0),
    };
    let query: Vec<(&str, String)> = [
        ("actor_id", blank(&q.actor_id)),
        ("action", params.action.clone()),
        ("from", params.from.clone()),
        ("to", params.to.clone()),
    ]
    .into_iter()
    .filter_map(|(k, v)| v.map(|v| (k, v)))
    .collect();
    let qs = url::form_urlencoded::Serializer::new(String::new())
        .extend_pairs(&query)
        .finish();
    let sep = if qs.is_empty() { "" } else { "&" };
    let mut data = pager(page, total, PER_PAGE, |p| {
        format!("/audit?{qs}{sep}page={p}")
    });
    let entries: Vec<AuditEntryOut> = rows.into_iter().map(AuditEntryOut::from).collect();
    data["title"] = json!("Audit trail");
    data["entries"] = json!(entries);
    data["total"] = json!(total);
    data["errors"] = json!(errors);
    data["has_errors"] = json!(!errors.is_empty());
    data["values"] = json!({
        "actor_id": q.actor_id.clone().unwrap_or_default(),
        "action": q.action.clone().unwrap_or_default(),
        "from": q.from.clone().unwrap_or_default(),
        "to": q.to.clone().unwrap_or_default(),
    });
    data["csv"] = json!(format!(
        "/api/v1/audit.csv{}{qs}",
        if qs.is_empty() { "" } else { "?" }
    ));
    let status = if errors.is_empty() {
        actix_web::http::StatusCode::OK
    } else {
        actix_web::http::StatusCode::UNPROCESSABLE_ENTITY
    };
    Ok(user.render(&req, status, "audit", data))
}
