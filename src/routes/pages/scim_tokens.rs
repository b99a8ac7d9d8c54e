//! /scim-tokens: HR makes the bearer tokens identity providers provision people with, and revokes them.

use crate::routes::api::scim_tokens::{
    create_token, list_tokens, revoke_token, ScimTokenInput, ScimTokenOut,
};
use crate::routes::pages::ui::{
    field_errors, redirect_with, FormData, OrPage, PageResult, Session, User,
};
use crate::state::AppState;
use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use serde_json::json;
use std::collections::BTreeMap;

pub fn configure(cfg: &mut web::ServiceConfig) {
    crate::routes::Router::new()
        .route("/scim-tokens", web::get().to(list))
        .route("/scim-tokens", web::post().to(create))
        .route("/scim-tokens/{id}/revoke", web::post().to(revoke))
        .register(cfg);
}

fn render(
    req: &HttpRequest,
    user: &User,
    state: &AppState,
    tokens: Vec<ScimTokenOut>,
    name: &str,
    errors: &BTreeMap<String, String>,
    created: Option<&ScimTokenOut>,
) -> HttpResponse {
    let status = match (created, errors.is_empty()) {
        (Some(_), _) => StatusCode::CREATED,
        (None, true) => StatusCode::OK,
        (None, false) => StatusCode::UNPROCESSABLE_ENTITY,
    };
    user.render(
        req,
        status,
        "scim_tokens",
        json!({
            "title": "SCIM provisioning",
            "endpoint": format!("{}/scim/v2", state.settings.base()),
            "tokens": tokens,
            "name": name,
            "errors": errors,
            "has_errors": !errors.is_empty(),
            "created": created,
        }),
    )
}

pub async fn list(req: HttpRequest, session: Session, state: web::Data<AppState>) -> PageResult {
    let user = session.require(&req)?;
    user.require_admin(&req)?;
    let tokens = list_tokens(&state).await.or_page(&req, &user)?;
    let none = BTreeMap::new();
    Ok(render(&req, &user, &state, tokens, "", &none, None))
}

/// Makes a token and shows it on the page that answers, this once: it is not
/// put in a redirect's cookie.
pub async fn create(
    req: HttpRequest,
    session: Session,
    state: web::Data<AppState>,
    form: FormData,
) -> PageResult {
    let user = session.require(&req)?;
    user.require_admin(&req)?;
    user.check_csrf(&req, &form)?;
    let input = ScimTokenInput {
        name: Some(form.get("name").to_string()),
    };
    let (errors, created) = match create_token(&state, &user.caller.actor(), input).await {
        Ok(out) => (BTreeMap::new(), Some(out)),
        Err(e) => match field_errors(&e) {
            Some(f) => (f, None),
            None => return Err(user.error(&req, e)),
        },
    };
    let tokens = list_tokens(&state).await.or_page(&req, &user)?;
    let name = if created.is_some() {
        ""
    } else {
        form.get("name")
    };
    Ok(render(
        &req,
        &user,
        &state,
        tokens,
        name,
        &errors,
        created.as_ref(),
    ))
}

pub async fn revoke(
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
        return Err(user.not_found(&req, "There is no such token."));
    };
    match revoke_token(&state, &user.caller.actor(), id).await {
        Ok(()) => Ok(redirect_with(
            &req,
            "/scim-tokens",
            true,
            "The token was revoked: the identity provider using it can no longer change anyone.",
        )),
        Err(crate::error::AppError::NotFound(_)) => {
            Err(user.not_found(&req, "There is no such token, or it was revoked already."))
        }
        Err(e) => Err(user.error(&req, e)),
    }
}
