//! /webhooks: HR lists the webhooks with how their deliveries went, adds and removes them.

use crate::routes::api::webhooks::{
    create_webhook, delete_webhook, list_webhooks, WebhookInput, WebhookOut,
};
use crate::routes::pages::ui::{
    field_errors, redirect_with, FormData, OrPage, PageResult, Session, User,
};
use crate::state::AppState;
use crate::webhooks::EVENTS;
use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use serde_json::json;
use std::collections::BTreeMap;

pub fn configure(cfg: &mut web::ServiceConfig) {
    crate::routes::Router::new()
        .route("/webhooks", web::get().to(list))
        .route("/webhooks", web::post().to(create))
        .route("/webhooks/{id}/delete", web::post().to(delete))
        .register(cfg);
}

/// What each event is, in words, for the form.
fn event_label(event: &str) -> &'static str {
    match event {
        "round.opened" => "A round opens",
        "round.closed" => "A round closes, with its results as the reports show them",
        "action.due" => "A 1:1 action item falls due (ids only, never its text)",
        _ => "Someone leaves (id and last day only)",
    }
}

fn render(
    req: &HttpRequest,
    user: &User,
    status: StatusCode,
    hooks: Vec<WebhookOut>,
    form: Option<&FormData>,
    errors: &BTreeMap<String, String>,
    created: Option<&WebhookOut>,
) -> HttpResponse {
    let picked = |e: &str| form.is_some_and(|f| f.0.iter().any(|(k, v)| k == "events" && v == e));
    let events: Vec<_> = EVENTS
        .iter()
        .enumerate()
        .map(|(i, e)| json!({"i": i, "name": e, "label": event_label(e), "checked": picked(e)}))
        .collect();
    let format = form.map_or("json", |f| f.get("format"));
    let formats: Vec<_> = [
        ("json", "JSON, signed: for your own receiver"),
        ("slack", "Slack incoming webhook"),
        ("teams", "Microsoft Teams incoming webhook"),
    ]
    .iter()
    .map(|(v, l)| json!({"value": v, "label": l, "selected": *v == format}))
    .collect();
    user.render(
        req,
        status,
        "webhooks",
        json!({
            "title": "Webhooks",
            "hooks": hooks,
            "events": events,
            "formats": formats,
            "url": form.map_or("", |f| f.get("url")),
            "errors": errors,
            "has_errors": !errors.is_empty(),
            "created": created,
        }),
    )
}

pub async fn list(req: HttpRequest, session: Session, state: web::Data<AppState>) -> PageResult {
    let user = session.require(&req)?;
    user.require_admin(&req)?;
    let hooks = list_webhooks(&state).await.or_page(&req, &user)?;
    Ok(render(
        &req,
        &user,
        StatusCode::OK,
        hooks,
        None,
        &BTreeMap::new(),
        None,
    ))
}

/// Adds a webhook and shows its secret on the page that answers, this once: it is
/// not put in a redirect's cookie.
pub async fn create(
    req: HttpRequest,
    session: Session,
    state: web::Data<AppState>,
    form: FormData,
) -> PageResult {
    let user = session.require(&req)?;
    user.require_admin(&req)?;
    user.check_csrf(&req, &form)?;
    let input = WebhookInput {
        url: Some(form.get("url").to_string()),
        events: Some(
            form.0
                .iter()
                .filter(|(k, _)| k == "events")
                .map(|(_, v)| v.clone())
                .collect(),
        ),
        format: Some(form.get("format").to_string()),
    };
    let (status, errors, created) = match create_webhook(&state, &user.caller.actor(), input).await
    {
        Ok(out) => (StatusCode::CREATED, BTreeMap::new(), Some(out)),
        Err(e) => match field_errors(&e) {
            Some(f) => (StatusCode::UNPROCESSABLE_ENTITY, f, None),
            None => return Err(user.error(&req, e)),
        },
    };
    let hooks = list_webhooks(&state).await.or_page(&req, &user)?;
    let form = created.is_none().then_some(&form);
    Ok(render(
        &req,
        &user,
        status,
        hooks,
        form,
        &errors,
        created.as_ref(),
    ))
}

pub async fn delete(
    req: HttpRequest,
    session: Session,
    state: web::Data<AppState>,
    id: web::Path<String>,
    form: FormData,
) -> PageResult {
    let user = session.require(&req)?;
    user.require_admin(&req)?;
    user.check_csrf(&req, &form)?;
    let Ok(id) = id.parse::<i32>() else {
        return Err(user.not_found(&req, "There is no such webhook."));
    };
    match delete_webhook(&state, &user.caller.actor(), id).await {
        Ok(()) => Ok(redirect_with(
            &req,
            "/webhooks",
            true,
            "The webhook was removed.",
        )),
        Err(crate::error::AppError::NotFound(_)) => {
            Err(user.not_found(&req, "There is no such webhook."))
        }
        Err(e) => Err(user.error(&req, e)),
    }
}
