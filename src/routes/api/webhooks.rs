//! /api/v1/webhooks: URLs HR registers for events, with how their deliveries went.

use crate::auth::Admin;
use crate::error::{AppError, AppResult};
use crate::instant::rfc3339;
use crate::repo::audit::{self, Actor};
use crate::repo::{self, webhooks::NewWebhook, webhooks::Webhook};
use crate::routes::api::{paged_vec, Paging};
use crate::state::AppState;
use crate::webhooks::{parse_url, Format, EVENTS};
use actix_web::{web, HttpRequest, HttpResponse};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

#[derive(Debug, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct WebhookInput {
    /// Where deliveries are POSTed: an http or https URL.
    pub url: Option<String>,
    /// Any of `round.opened`, `round.closed`, `action.due`, `employee.left`.
    pub events: Option<Vec<String>>,
    /// `json` (default), `slack` or `teams`: how the body is written.
    pub format: Option<String>,
}

/// A webhook and how its deliveries went; the secret shows only in the answer that creates it.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct WebhookOut {
    pub id: i32,
    pub url: String,
    pub events: Vec<String>,
    pub format: String,
    #[schema(format = DateTime)]
    pub created_at: String,
    /// The key of every delivery's `Pulse-Signature`; shown once, when the webhook is made.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub secret: Option<String>,
    /// How the last attempt went: `200 OK`, `503 Service Unavailable`, `Connection refused (os error 111)`…
    pub last_status: Option<String>,
    #[schema(format = DateTime)]
    pub last_attempt_at: Option<String>,
    #[schema(format = DateTime)]
    pub last_delivered_at: Option<String>,
    /// Deliveries given up on: refused for good (a 4xx other than 408 and 429) or out of attempts.
    pub failures: i32,
    /// Deliveries waiting for their first attempt or a retry.
    pub pending: i64,
}

impl WebhookOut {
    fn of(h: Webhook, pending: i64) -> Self {
        Self {
            id: h.id,
            url: h.url,
            events: h.events.split(',').map(String::from).collect(),
            format: h.format,
            created_at: rfc3339(h.created_at),
            secret: None,
            last_status: h.last_status,
            last_attempt_at: h.last_attempt_at.map(rfc3339),
            last_delivered_at: h.last_delivered_at.map(rfc3339),
            failures: h.failures,
            pending,
        }
    }
}

/// The checked input: URL, events in a fixed order, format; every bad field named.
fn check(input: &WebhookInput) -> AppResult<(String, String, Format)> {
    let mut fields = BTreeMap::new();
    let url = match input.url.as_deref().map(parse_url) {
        Some(Ok(u)) => u.to_string(),
        Some(Err(e)) => {
            fields.insert("url".into(), e);
            String::new()
        }
        None => {
            fields.insert("url".into(), "is required".into());
            String::new()
        }
    };
    let events = input.events.clone().unwrap_or_default();
    let unknown: Vec<&str> = events
        .iter()
        .map(String::as_str)
        .filter(|e| !EVENTS.contains(e))
        .collect();
    if events.is_empty() {
        fields.insert(
            "events".into(),
            format!("name at least one of {}", EVENTS.join(", ")),
        );
    } else if !unknown.is_empty() {
        fields.insert(
            "events".into(),
            format!(
                "unknown event {}: choose among {}",
                unknown.join(", "),
                EVENTS.join(", ")
            ),
        );
    }
    let events: Vec<&str> = EVENTS
        .iter()
        .copied()
        .filter(|e| events.iter().any(|x| x == e))
        .collect();
    let format = match input.format.as_deref().map(str::trim) {
        None | Some("") => Some(Format::Json),
        Some(f) => Format::parse(f),
    };
    if format.is_none() {
        fields.insert("format".into(), "must be json, slack or teams".into());
    }
    match format {
        Some(format) if fields.is_empty() => Ok((url, events.join(","), format)),
        _ => Err(AppError::fields(fields)),
    }
}

/// Registers a webhook, on record in the audit trail (its host, not its URL:
/// chat webhook URLs are secrets of their own): the API and the webhooks page.
pub(crate) async fn create_webhook(
    state: &AppState,
    actor: &Actor,
    input: WebhookInput,
) -> AppResult<WebhookOut> {
    let (url, events, format) = check(&input)?;
    let actor = actor.clone();
    state
        .db(move |conn| {
            crate::db::write_transaction(conn, |conn| -> AppResult<WebhookOut> {
                let secret = crate::tokens::random_token();
                let id = repo::webhooks::insert(
                    conn,
                    &NewWebhook {
                        url: &url,
                        events: &events,
                        format: format.as_str(),
                        secret: &secret,
                        created_by: actor.id,
                        created_at: repo::now(),
                    },
                )?;
                let host = url::Url::parse(&url)
                    .ok()
                    .and_then(|u| u.host_str().map(String::from))
                    .unwrap_or_default();
                audit::record(
                    conn,
                    &actor,
                    audit::action::WEBHOOK_CREATE,
                    &format!("webhook:{id}"),
                    &format!("{} to {host}: {events}", format.as_str()),
                )?;
                let hook = repo::webhooks::find(conn, id)?
                    .ok_or_else(|| AppError::not_found("webhook"))?;
                let mut out = WebhookOut::of(hook, 0);
                out.secret = Some(secret);
                Ok(out)
            })
        })
        .await
}

/// Removes a webhook and whatever it had still to receive: the API and the page.
pub(crate) async fn delete_webhook(state: &AppState, actor: &Actor, id: i32) -> AppResult<()> {
    let actor = actor.clone();
    state
        .db(move |conn| {
            crate::db::write_transaction(conn, |conn| -> AppResult<()> {
                if !repo::webhooks::delete(conn, id)? {
                    return Err(AppError::not_found("webhook"));
                }
                audit::record(
                    conn,
                    &actor,
                    audit::action::WEBHOOK_DELETE,
                    &format!("webhook:{id}"),
                    "",
                )?;
                Ok(())
            })
        })
        .await
}

/// Every webhook with how its deliveries went: the API and the page.
pub(crate) async fn list_webhooks(state: &AppState) -> AppResult<Vec<WebhookOut>> {
    state
        .db(|conn| {
            Ok(repo::webhooks::list(conn)?
                .into_iter()
                .map(|(h, pending)| WebhookOut::of(h, pending))
                .collect())
        })
        .await
}

#[utoipa::path(post, path = "/api/v1/webhooks", tag = "integrations", request_body = WebhookInput,
    responses((status = 201, description = "the webhook, with its `secret`: shown this once", body = WebhookOut),
              (status = 403, description = "only HR admins manage webhooks", body = crate::error::ErrorBody),
              (status = 422, description = "a URL that is not http(s), an unknown event or format", body = crate::error::ErrorBody)))]
pub async fn create(
    state: web::Data<AppState>,
    Admin(admin): Admin,
    body: web::Json<WebhookInput>,
) -> AppResult<HttpResponse> {
    let out = create_webhook(&state, &admin.actor(), body.into_inner()).await?;
    Ok(HttpResponse::Created().json(out))
}

#[utoipa::path(get, path = "/api/v1/webhooks", tag = "integrations", params(Paging),
    responses((status = 200, description = "the webhooks, oldest first, with their last status; never a secret", body = [WebhookOut]),
              (status = 403, body = crate::error::ErrorBody)))]
pub async fn list(
    state: web::Data<AppState>,
    _admin: Admin,
    req: HttpRequest,
    paging: web::Query<Paging>,
) -> AppResult<HttpResponse> {
    let hooks = list_webhooks(&state).await?;
    paged_vec(&req, *paging, hooks)
}

#[utoipa::path(delete, path = "/api/v1/webhooks/{id}", tag = "integrations",
    params(("id" = i32, Path, description = "the webhook")),
    responses((status = 204, description = "removed, with the deliveries it had still to receive"),
              (status = 403, body = crate::error::ErrorBody),
              (status = 404, body = crate::error::ErrorBody)))]
pub async fn delete(
    state: web::Data<AppState>,
    Admin(admin): Admin,
    id: web::Path<i32>,
) -> AppResult<HttpResponse> {
    delete_webhook(&state, &admin.actor(), id.into_inner()).await?;
    Ok(HttpResponse::NoContent().finish())
}
