//! Conversations on comments, as pages: the respondent's private link `/c/<token>`
//! (no account, no name on either side) and the replies leads and HR write from
//! the round page. The token is never logged (see `routes::loggable_path`).

use crate::conversations::{self, CommentOut, RespondentView};
use crate::error::AppError;
use crate::routes::pages::ui::{redirect_with, FormData, OrPage, PageResult, Session};
use crate::routes::pages::{message_page, redirect, render};
use crate::state::AppState;
use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use serde_json::{json, Value};

/// The pages of conversations and action plans, registered with the others.
pub const TEMPLATES: &[(&str, &str)] = &[
    (
        "answered",
        include_str!("../../../templates/pages/answered.hbs"),
    ),
    (
        "conversation",
        include_str!("../../../templates/pages/conversation.hbs"),
    ),
    (
        "action_plans",
        include_str!("../../../templates/pages/action_plans.hbs"),
    ),
    (
        "action_plan_form",
        include_str!("../../../templates/pages/partials/action_plan_form.hbs"),
    ),
];

pub fn configure(cfg: &mut web::ServiceConfig) {
    crate::routes::Router::new()
        .route("/c/{token}", web::get().to(show))
        .route("/c/{token}", web::post().to(answer))
        .route("/comments/{id:\\d+}/replies", web::post().to(reply))
        .register(cfg);
}

/// The thank-you page after answering, with the private conversation link when
/// the answers held a comment: shown here once, never again.
pub fn thank_you(req: &HttpRequest, link: Option<String>) -> HttpResponse {
    render(
        req,
        StatusCode::OK,
        "answered",
        json!({"title": "Thank you", "user": null, "link": link}),
    )
}

fn gone(req: &HttpRequest) -> HttpResponse {
    message_page(
        req,
        StatusCode::GONE,
        "This conversation link no longer works",
        "It may be mistyped, or the survey's answers have been deleted under the retention policy, and the conversation with them.",
    )
}

fn comments_json(v: &RespondentView, errors: &[(i32, String, String)]) -> Vec<Value> {
    v.comments
        .iter()
        .map(|c: &CommentOut| {
            let error = errors.iter().find(|e| e.0 == c.id);
            json!({
                "id": c.id,
                "prompt": c.prompt,
                "text": c.text,
                "messages": c.messages,
                "may_write": v.may_write.get(&c.id).copied().unwrap_or(false),
                "error": error.map(|e| e.1.clone()),
                "draft": error.map(|e| e.2.clone()).unwrap_or_default(),
            })
        })
        .collect()
}

fn conversation_page(
    req: &HttpRequest,
    status: StatusCode,
    v: &RespondentView,
    errors: &[(i32, String, String)],
) -> HttpResponse {
    render(
        req,
        status,
        "conversation",
        json!({
            "title": "Your conversation",
            "user": null,
            "survey_title": v.survey_title,
            "open": v.open,
            "readable": v.readable,
            "comments": comments_json(v, errors),
            "max": crate::domain::conversation::MAX_MESSAGE_CHARS,
        }),
    )
}

pub async fn show(
    state: web::Data<AppState>,
    req: HttpRequest,
    token: web::Path<String>,
) -> Result<HttpResponse, AppError> {
    let token = token.into_inner();
    let view = state
        .db(move |conn| conversations::respondent_view(conn, &token))
        .await?;
    Ok(match view {
        None => gone(&req),
        Some(v) => conversation_page(&req, StatusCode::OK, &v, &[]),
    })
}

/// The respondent answers a thread; a refusal re-shows the page with the reason
/// beside the thread and the draft kept.
pub async fn answer(
    state: web::Data<AppState>,
    req: HttpRequest,
    token: web::Path<String>,
    form: FormData,
) -> Result<HttpResponse, AppError> {
    let token = token.into_inner();
    let text = form.get("text").to_string();
    let Ok(answer_id) = form.get("comment_id").parse::<i32>() else {
        return Err(AppError::field(
            "comment_id",
            "choose the comment you answer",
        ));
    };
    let now = chrono::Utc::now().naive_utc();
    let outcome = {
        let (token, text) = (token.clone(), text.clone());
        state
            .db(move |conn| Ok(conversations::respond(conn, &token, answer_id, &text, now)))
            .await?
    };
    let refusal = match outcome {
        Ok(()) => return Ok(redirect(&format!("/c/{token}#comment-{answer_id}"))),
        Err(AppError::Gone { .. }) => return Ok(gone(&req)),
        Err(AppError::Validation { fields, .. }) => fields.into_values().next().unwrap_or_default(),
        Err(AppError::Conflict { message, .. }) => message,
        Err(AppError::NotFound(_)) => "this comment is not part of your conversation".to_string(),
        Err(e) => return Err(e),
    };
    let view = state
        .db(move |conn| conversations::respondent_view(conn, &token))
        .await?;
    Ok(match view {
        None => gone(&req),
        Some(v) => conversation_page(
            &req,
            StatusCode::UNPROCESSABLE_ENTITY,
            &v,
            &[(answer_id, refusal, text)],
        ),
    })
}

/// A lead or HR replies from the round page; back to the comment, with the group kept.
pub async fn reply(
    req: HttpRequest,
    session: Session,
    state: web::Data<AppState>,
    id: web::Path<i32>,
    form: FormData,
) -> PageResult {
    let user = session.require(&req)?;
    user.require_reports(&req)?;
    user.check_csrf(&req, &form)?;
    let answer_id = id.into_inner();
    let text = form.get("text").to_string();
    let team = form
        .get("team_id")
        .parse::<i32>()
        .ok()
        .map(|t| format!("?team_id={t}"))
        .unwrap_or_default();
    let caller = user.caller.clone();
    let now = chrono::Utc::now().naive_utc();
    let outcome = state
        .db(move |conn| Ok(conversations::reply(conn, &caller, answer_id, &text, now)))
        .await
        .or_page(&req, &user)?;
    Ok(match outcome {
        Ok(c) => redirect_with(
            &req,
            &format!("/rounds/{}{team}#comment-{answer_id}", c.round_id),
            true,
            "Reply sent. The respondent reads it through their private link; neither of you is named.",
        ),
        Err(AppError::Validation { fields, .. }) => {
            let round = form.get("round_id").parse::<i32>().unwrap_or_default();
            redirect_with(
                &req,
                &format!("/rounds/{round}{team}#comment-{answer_id}"),
                false,
                &format!("Reply not sent: {}.", fields.into_values().next().unwrap_or_default()),
            )
        }
        Err(e) => return Err(e).or_page(&req, &user),
    })
}
