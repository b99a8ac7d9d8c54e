//! POST /api/v1/responses: answering with a link token, no account needed.

use crate::domain::survey::RawAnswer;
use crate::error::AppResult;
use crate::state::AppState;
use actix_web::{web, HttpResponse};
use serde::Deserialize;

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ResponseInput {
    /// The token of the emailed link `/s/<token>`.
    pub token: String,
    pub answers: Vec<RawAnswer>,
}

#[utoipa::path(post, path = "/api/v1/responses", tag = "surveys", request_body = ResponseInput, security(()),
    responses((status = 201, description = "stored anonymously; with a comment, `conversation_url`: the respondent's private link to replies on it, shown this once"),
              (status = 410, description = "already_answered, round_closed or invalid_token", body = crate::error::ErrorBody),
              (status = 422, description = "`answers.<question id>`: an out-of-range score or a missing required answer; nothing stored", body = crate::error::ErrorBody)))]
pub async fn submit(
    state: web::Data<AppState>,
    body: web::Json<ResponseInput>,
) -> AppResult<HttpResponse> {
    let input = body.into_inner();
    let (submission, conversation_url) = crate::conversations::with_link(
        &state.settings.base(),
        &input.token,
        input.answers,
        chrono::Utc::now(),
    );
    state.answers.submit(submission).await?;
    // The private conversation link is shown this once and stored only as a hash.
    Ok(HttpResponse::Created().json(match conversation_url {
        Some(url) => serde_json::json!({"status": "recorded", "conversation_url": url}),
        None => serde_json::json!({"status": "recorded"}),
    }))
}
