//! PATCH and DELETE on /api/v1/agenda-items/{id}, /api/v1/notes/{id} and /api/v1/actions/{id}: the rules are in `crate::meeting_items`.

use crate::auth::Caller;
use crate::domain::people::parse_date;
use crate::error::{AppError, AppResult};
use crate::meeting_items::{self as items, ActionEdit, AgendaEdit};
use crate::routes::api::double_option;
use crate::routes::api::one_on_ones::{ActionOut, AgendaOut, NoteOut};
use crate::state::AppState;
use actix_web::{web, HttpResponse};
use chrono::Utc;
use serde::Deserialize;

#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct AgendaPatch {
    /// New text (its author only).
    pub text: Option<String>,
    /// Where it goes on the agenda, from 0 (either person).
    #[schema(minimum = 0)]
    pub position: Option<usize>,
    /// Discussed or not (either person).
    pub done: Option<bool>,
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct NotePatch {
    /// New text; a note stays shared or private as it was written.
    pub body: Option<String>,
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct ActionPatch {
    /// Text, owner and due date: its author or owner only.
    pub text: Option<String>,
    pub owner_id: Option<i32>,
    /// `YYYY-MM-DD`, or null to clear it.
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<String>, format = Date)]
    pub due_on: Option<Option<String>>,
    /// Done or open again (either person).
    pub done: Option<bool>,
}

#[utoipa::path(patch, path = "/api/v1/agenda-items/{id}", tag = "one-on-ones", request_body = AgendaPatch,
    responses((status = 200, body = AgendaOut),
              (status = 403, description = "someone else's text", body = crate::error::ErrorBody),
              (status = 404, body = crate::error::ErrorBody), (status = 422, body = crate::error::ErrorBody)))]
pub async fn patch_agenda_item(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<i32>,
    body: web::Json<AgendaPatch>,
) -> AppResult<HttpResponse> {
    let (id, p) = (id.into_inner(), body.into_inner());
    let edit = AgendaEdit {
        text: p.text,
        position: p.position,
        done: p.done,
    };
    let now = Utc::now().naive_utc();
    let item = state
        .db(move |conn| {
            crate::db::write_transaction(conn, |c| {
                items::edit_agenda_item(c, &caller, id, &edit, now)
            })
        })
        .await?;
    Ok(HttpResponse::Ok().json(AgendaOut::from(item)))
}

#[utoipa::path(delete, path = "/api/v1/agenda-items/{id}", tag = "one-on-ones",
    responses((status = 204), (status = 403, body = crate::error::ErrorBody), (status = 404, body = crate::error::ErrorBody)))]
pub async fn delete_agenda_item(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<i32>,
) -> AppResult<HttpResponse> {
    let id = id.into_inner();
    state
        .db(move |conn| items::delete_agenda_item(conn, &caller, id))
        .await?;
    Ok(HttpResponse::NoContent().finish())
}

#[utoipa::path(patch, path = "/api/v1/notes/{id}", tag = "one-on-ones", request_body = NotePatch,
    responses((status = 200, body = NoteOut),
              (status = 403, body = crate::error::ErrorBody), (status = 404, body = crate::error::ErrorBody),
              (status = 409, description = "notes_locked: a private note needs the key this session lacks", body = crate::error::ErrorBody),
              (status = 422, body = crate::error::ErrorBody)))]
pub async fn patch_note(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<i32>,
    body: web::Json<NotePatch>,
) -> AppResult<HttpResponse> {
    let (id, p) = (id.into_inner(), body.into_inner());
    let raw = p
        .body
        .ok_or_else(|| AppError::field("body", "is required: the note's new text"))?;
    let now = Utc::now().naive_utc();
    let note = state
        .db(move |conn| items::edit_note(conn, &caller, id, &raw, now))
        .await?;
    Ok(HttpResponse::Ok().json(NoteOut::from(note)))
}

#[utoipa::path(delete, path = "/api/v1/notes/{id}", tag = "one-on-ones",
    responses((status = 204), (status = 403, body = crate::error::ErrorBody), (status = 404, body = crate::error::ErrorBody)))]
pub async fn delete_note(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<i32>,
) -> AppResult<HttpResponse> {
    let id = id.into_inner();
    state
        .db(move |conn| items::delete_note(conn, &caller, id))
        .await?;
    Ok(HttpResponse::NoContent().finish())
}

#[utoipa::path(patch, path = "/api/v1/actions/{id}", tag = "one-on-ones", request_body = ActionPatch,
    responses((status = 200, body = ActionOut), (status = 403, body = crate::error::ErrorBody),
              (status = 404, body = crate::error::ErrorBody), (status = 422, body = crate::error::ErrorBody)))]
pub async fn patch_action(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<i32>,
    body: web::Json<ActionPatch>,
) -> AppResult<HttpResponse> {
    let (id, p) = (id.into_inner(), body.into_inner());
    if p.text.is_none() && p.owner_id.is_none() && p.due_on.is_none() && p.done.is_none() {
        return Err(AppError::field(
            "done",
            "send at least one of text, owner_id, due_on or done",
        ));
    }
    let due_on = p
        .due_on
        .map(|d| d.as_deref().map(parse_date).transpose())
        .transpose()
        .map_err(|e| AppError::field("due_on", e))?;
    let edit = ActionEdit {
        text: p.text,
        owner_id: p.owner_id,
        due_on,
        done: p.done,
    };
    let now = Utc::now().naive_utc();
    let item = state
        .db(move |conn| {
            crate::db::write_transaction(conn, |c| items::edit_action(c, &caller, id, &edit, now))
        })
        .await?;
    Ok(HttpResponse::Ok().json(ActionOut::from(item)))
}

#[utoipa::path(delete, path = "/api/v1/actions/{id}", tag = "one-on-ones",
    responses((status = 204), (status = 403, body = crate::error::ErrorBody), (status = 404, body = crate::error::ErrorBody)))]
pub async fn delete_action(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<i32>,
) -> AppResult<HttpResponse> {
    let id = id.into_inner();
    state
        .db(move |conn| items::delete_action(conn, &caller, id))
        .await?;
    Ok(HttpResponse::NoContent().finish())
}
