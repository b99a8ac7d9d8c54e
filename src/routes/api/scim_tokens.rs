//! /api/v1/scim-tokens: bearer tokens HR makes for an identity provider's SCIM
//! client (/scim/v2), shown once, kept as SHA-256, revocable.

use crate::auth::Admin;
use crate::error::{AppError, AppResult};
use crate::instant::rfc3339;
use crate::repo::audit::{self, Actor};
use crate::repo::{self, scim::ScimToken};
use crate::routes::api::{paged_vec, Paging};
use crate::state::AppState;
use actix_web::{web, HttpRequest, HttpResponse};
use serde::{Deserialize, Serialize};

#[derive(Debug, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ScimTokenInput {
    /// What the token is for, e.g. `Okta` (1 to 100 characters).
    pub name: Option<String>,
}

/// A SCIM token; the secret shows only in the answer that creates it.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ScimTokenOut {
    pub id: i32,
    pub name: String,
    #[schema(format = DateTime)]
    pub created_at: String,
    #[schema(format = DateTime)]
    pub last_used_at: Option<String>,
    #[schema(format = DateTime)]
    pub revoked_at: Option<String>,
    pub revoked: bool,
    /// The bearer token for /scim/v2; shown once, when the token is made.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub token: Option<String>,
}

impl From<ScimToken> for ScimTokenOut {
    fn from(t: ScimToken) -> Self {
        Self {
            id: t.id,
            name: t.name,
            created_at: rfc3339(t.created_at),
            last_used_at: t.last_used_at.map(rfc3339),
            revoked: t.revoked_at.is_some(),
            revoked_at: t.revoked_at.map(rfc3339),
            token: None,
        }
    }
}

pub(crate) async fn create_token(
    state: &AppState,
    actor: &Actor,
    input: ScimTokenInput,
) -> AppResult<ScimTokenOut> {
    let name = input.name.as_deref().map(str::trim).unwrap_or("");
    if name.is_empty() || name.chars().count() > 100 || name.chars().any(char::is_control) {
        return Err(AppError::fields(
            [(
                "name".to_string(),
                "name the token (1 to 100 characters), e.g. Okta".to_string(),
            )]
            .into(),
        ));
    }
    let (name, actor) = (name.to_string(), actor.clone());
    state
        .db(move |conn| {
            crate::db::write_transaction(conn, |conn| -> AppResult<ScimTokenOut> {
                let secret = crate::tokens::random_token();
                let id = repo::scim::insert_token(
                    conn,
                    &name,
                    &crate::tokens::sha256_hex(&secret),
                    actor.id,
                    repo::now(),
                )?;
                audit::record(
                    conn,
                    &actor,
                    audit::action::SCIM_TOKEN_CREATE,
                    &format!("scim_token:{id}"),
                    &name,
                )?;
                let t = repo::scim::find_token(conn, id)?
                    .ok_or_else(|| AppError::not_found("SCIM token"))?;
                let mut out = ScimTokenOut::from(t);
                out.token = Some(secret);
                Ok(out)
            })
        })
        .await
}

#[utoipa::path(post, path = "/api/v1/scim-tokens", tag = "integrations", request_body = ScimTokenInput,
    responses((status = 201, description = "the token, with its secret `token`: shown this once", body = ScimTokenOut),
              (status = 403, description = "only HR admins manage SCIM tokens", body = crate::error::ErrorBody),
              (status = 422, description = "no name", body = crate::error::ErrorBody)))]
pub async fn create(
    state: web::Data<AppState>,
    Admin(admin): Admin,
    body: web::Json<ScimTokenInput>,
) -> AppResult<HttpResponse> {
    let out = create_token(&state, &admin.actor(), body.into_inner()).await?;
    Ok(HttpResponse::Created().json(out))
}

#[utoipa::path(get, path = "/api/v1/scim-tokens", tag = "integrations", params(Paging),
    responses((status = 200, description = "every SCIM token, oldest first, revoked ones too; never a secret", body = [ScimTokenOut]),
              (status = 403, body = crate::error::ErrorBody)))]
pub async fn list(
    state: web::Data<AppState>,
    _admin: Admin,
    req: HttpRequest,
    paging: web::Query<Paging>,
) -> AppResult<HttpResponse> {
    let tokens = list_tokens(&state).await?;
    paged_vec(&req, *paging, tokens)
}

#[utoipa::path(delete, path = "/api/v1/scim-tokens/{id}", tag = "integrations",
    params(("id" = i32, Path, description = "the token")),
    responses((status = 204, description = "revoked: /scim/v2 answers 401 to it from now on"),
              (status = 403, body = crate::error::ErrorBody),
              (status = 404, description = "no such token, or revoked already", body = crate::error::ErrorBody)))]
pub async fn delete(
    state: web::Data<AppState>,
    Admin(admin): Admin,
    id: web::Path<i32>,
) -> AppResult<HttpResponse> {
    revoke_token(&state, &admin.actor(), id.into_inner()).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// Revokes a token; a revoked or unknown one is not found.
pub(crate) async fn revoke_token(state: &AppState, actor: &Actor, id: i32) -> AppResult<()> {
    let actor = actor.clone();
    state
        .db(move |conn| {
            crate::db::write_transaction(conn, |conn| -> AppResult<()> {
                if !repo::scim::revoke_token(conn, id, repo::now())? {
                    return Err(AppError::not_found("SCIM token"));
                }
                audit::record(
                    conn,
                    &actor,
                    audit::action::SCIM_TOKEN_REVOKE,
                    &format!("scim_token:{id}"),
                    "",
                )?;
                Ok(())
            })
        })
        .await
}

/// Every token, oldest first, revoked ones too; never a secret.
pub(crate) async fn list_tokens(state: &AppState) -> AppResult<Vec<ScimTokenOut>> {
    state
        .db(|conn| {
            Ok(repo::scim::list_tokens(conn)?
                .into_iter()
                .map(ScimTokenOut::from)
                .collect::<Vec<_>>())
        })
        .await
}
