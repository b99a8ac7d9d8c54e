//! /api/v1/comments/{id}/replies and a round's comments with their threads: leads
//! and HR answer comments without learning who wrote them.

use crate::auth::{Caller, Scope};
use crate::conversations::{self, CommentOut, MessageOut};
use crate::error::AppResult;
use crate::routes::api::{paged_vec, Paging};
use crate::state::AppState;
use actix_web::{web, HttpRequest, HttpResponse};
use serde::Deserialize;

#[derive(Debug, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReplyInput {
    /// Plain text, at most 2,000 characters.
    pub text: Option<String>,
}

#[derive(Debug, Clone, Deserialize, utoipa::IntoParams)]
pub struct CommentsParams {
    /// A team and its sub-teams; absent: everyone invited (admins only).
    pub team_id: Option<i32>,
    #[param(minimum = 1)]
    pub page: Option<i64>,
    #[param(minimum = 1, maximum = 1000)]
    pub per_page: Option<i64>,
}

#[utoipa::path(get, path = "/api/v1/reports/rounds/{id}/comments", tag = "reports",
    params(("id" = i32, Path, description = "the round"), CommentsParams),
    responses((status = 200, description = "the comments the round report shows for this group, with their threads; empty while the round is open or when the comment rule hides them", body = [CommentOut]),
              (status = 403, body = crate::error::ErrorBody), (status = 404, body = crate::error::ErrorBody)))]
pub async fn round_comments(
    state: web::Data<AppState>,
    caller: Caller,
    req: HttpRequest,
    id: web::Path<i32>,
    q: web::Query<CommentsParams>,
) -> AppResult<HttpResponse> {
    let (round_id, team_id) = (id.into_inner(), q.team_id);
    let paging = Paging {
        page: q.page,
        per_page: q.per_page,
    };
    paging.check()?;
    let comments = state
        .db(move |conn| {
            let scope = Scope::of(conn, &caller)?;
            conversations::group_comments(conn, &scope, round_id, team_id)
        })
        .await?;
    paged_vec(&req, paging, comments)
}

#[utoipa::path(get, path = "/api/v1/comments/{id}/replies", tag = "reports",
    params(("id" = i32, Path, description = "the comment (an answer id from the round's comments)"), Paging),
    responses((status = 200, description = "the thread, oldest first: sides and days, no names", body = [MessageOut]),
              (status = 404, description = "no such comment, or one the caller may not see", body = crate::error::ErrorBody)))]
pub async fn replies(
    state: web::Data<AppState>,
    caller: Caller,
    req: HttpRequest,
    id: web::Path<i32>,
    paging: web::Query<Paging>,
) -> AppResult<HttpResponse> {
    let id = id.into_inner();
    paging.check()?;
    let thread = state
        .db(move |conn| conversations::thread(conn, &caller, id))
        .await?;
    paged_vec(&req, *paging, thread.messages)
}

#[utoipa::path(post, path = "/api/v1/comments/{id}/replies", tag = "reports", request_body = ReplyInput,
    params(("id" = i32, Path, description = "the comment")),
    responses((status = 201, description = "the comment with its thread; the respondent reads it through their private link", body = CommentOut),
              (status = 404, description = "no such comment, or one the caller may not see (an open round, a group under the comment threshold)", body = crate::error::ErrorBody)))]
pub async fn reply(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<i32>,
    body: web::Json<ReplyInput>,
) -> AppResult<HttpResponse> {
    let id = id.into_inner();
    let text = body.into_inner().text.unwrap_or_default();
    let now = chrono::Utc::now().naive_utc();
    let out = state
        .db(move |conn| conversations::reply(conn, &caller, id, &text, now))
        .await?;
    Ok(HttpResponse::Created().json(out))
}
