//! PATCH and DELETE on /api/v1/agenda-items/{id}, /api/v1/notes/{id} and /api/v1/actions/{id}, and talking-points templates: the rules are in `crate::meeting_items`.

use crate::auth::Caller;
use crate::domain::one_on_one::{parse_talking_points, TalkingPoints};
use crate::domain::people::parse_date;
use crate::error::{AppError, AppResult};
use crate::meeting_items::{self as items, ActionEdit, AgendaEdit};
use crate::repo::one_on_ones as repo;
use crate::routes::api::double_option;
use crate::routes::api::one_on_ones::{ActionOut, AgendaOut, NoteOut};
use crate::state::AppState;
use actix_web::{web, HttpResponse};
use chrono::Utc;
use serde::{Deserialize, Serialize};

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

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct TalkingPointsOut {
    /// `builtin:<name>` for Pulse's own, the id of one's own.
    pub key: String,
    pub title: String,
    pub items: Vec<String>,
    /// The caller's own (deletable) rather than Pulse's.
    pub own: bool,
}

impl From<TalkingPoints> for TalkingPointsOut {
    fn from(t: TalkingPoints) -> Self {
        Self {
            own: !t.key.starts_with("builtin:"),
            key: t.key,
            title: t.title,
            items: t.items,
        }
    }
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct TemplateInput {
    pub name: Option<String>,
    /// 1 to 20 agenda items.
    #[serde(default)]
    pub items: Vec<String>,
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct FromTemplate {
    /// A `key` from GET /api/v1/agenda-templates.
    pub template: Option<String>,
}

#[utoipa::path(get, path = "/api/v1/agenda-templates", tag = "one-on-ones",
    responses((status = 200, description = "Pulse's talking points, then the caller's own", body = [TalkingPointsOut])))]
pub async fn templates(state: web::Data<AppState>, caller: Caller) -> AppResult<HttpResponse> {
    let all = state
        .db(move |conn| items::talking_points(conn, &caller))
        .await?;
    let out: Vec<TalkingPointsOut> = all.into_iter().map(Into::into).collect();
    Ok(HttpResponse::Ok().json(out))
}

#[utoipa::path(post, path = "/api/v1/agenda-templates", tag = "one-on-ones", request_body = TemplateInput,
    responses((status = 201, body = TalkingPointsOut), (status = 422, body = crate::error::ErrorBody)))]
pub async fn create_template(
    state: web::Data<AppState>,
    caller: Caller,
    body: web::Json<TemplateInput>,
) -> AppResult<HttpResponse> {
    let input = body.into_inner();
    let (name, lines) =
        parse_talking_points(input.name.as_deref().unwrap_or_default(), &input.items)
            .map_err(AppError::fields)?;
    let now = Utc::now().naive_utc();
    let (n, l) = (name.clone(), lines.clone());
    let id = state
        .db(move |conn| Ok(repo::insert_template(conn, caller.id, &n, &l, now)?))
        .await?;
    Ok(
        HttpResponse::Created().json(TalkingPointsOut::from(TalkingPoints {
            key: id.to_string(),
            title: name,
            items: lines,
        })),
    )
}

#[utoipa::path(delete, path = "/api/v1/agenda-templates/{id}", tag = "one-on-ones",
    responses((status = 204), (status = 404, body = crate::error::ErrorBody)))]
pub async fn delete_template(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<i32>,
) -> AppResult<HttpResponse> {
    let id = id.into_inner();
    let gone = state
        .db(move |conn| Ok(repo::delete_template(conn, caller.id, id)?))
        .await?;
    if !gone {
        return Err(AppError::not_found("agenda template"));
    }
    Ok(HttpResponse::NoContent().finish())
}

#[utoipa::path(post, path = "/api/v1/meetings/{id}/agenda/from-template", tag = "one-on-ones", request_body = FromTemplate,
    responses((status = 201, description = "the items added; those already on the agenda are left out", body = [AgendaOut]),
              (status = 403, body = crate::error::ErrorBody), (status = 404, body = crate::error::ErrorBody),
              (status = 422, body = crate::error::ErrorBody)))]
pub async fn add_from_template(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<i32>,
    body: web::Json<FromTemplate>,
) -> AppResult<HttpResponse> {
    let id = id.into_inner();
    let key = body.into_inner().template.ok_or_else(|| {
        AppError::field(
            "template",
            "is required: a key from GET /api/v1/agenda-templates",
        )
    })?;
    let now = Utc::now().naive_utc();
    let added = state
        .db(move |conn| {
            crate::db::write_transaction(conn, |c| {
                items::add_talking_points(c, &caller, id, &key, now)
            })
        })
        .await?;
    let out: Vec<AgendaOut> = added.into_iter().map(Into::into).collect();
    Ok(HttpResponse::Created().json(out))
}
