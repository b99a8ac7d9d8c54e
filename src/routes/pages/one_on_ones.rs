//! /one-on-ones and /meetings/{id}: the pages a reminder email links to, on the same rules as the API.

use crate::auth::one_on_one as policy;
use crate::auth::Caller;
use crate::domain::one_on_one::{check_text, ACTION_MAX, AGENDA_MAX, NOTE_MAX};
use crate::domain::people::parse_date;
use crate::error::AppError;
use crate::meeting_items as items;
use crate::repo::one_on_ones::{self as repo, NewAction};
use crate::repo::{self as repos};
use crate::routes::api::one_on_ones::{
    change_meeting, change_series, meeting_out, MeetingPatch, SeriesPatch,
};
use crate::routes::pages::{message_page, redirect, render, user_json};
use crate::state::AppState;
use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use chrono::{NaiveDateTime, Utc};
use serde::Deserialize;
use serde_json::{json, Value};
use std::collections::HashMap;

fn zone(tz: &str) -> chrono_tz::Tz {
    tz.parse().unwrap_or(chrono_tz::UTC)
}

fn local(t: NaiveDateTime, tz: &str) -> String {
    let zone = zone(tz);
    format!(
        "{} ({tz})",
        t.and_utc().with_timezone(&zone).format("%Y-%m-%d %H:%M")
    )
}

/// A `datetime-local` value read in the series' zone, as the API takes it.
fn local_to_rfc3339(value: &str, tz: &str) -> Result<String, AppError> {
    let bad = || AppError::field("starts_at", "choose a date and a time");
    let naive = NaiveDateTime::parse_from_str(value.trim(), "%Y-%m-%dT%H:%M").map_err(|_| bad())?;
    let at = naive
        .and_local_timezone(zone(tz))
        .earliest()
        .ok_or_else(|| {
            AppError::field(
                "starts_at",
                "that time does not exist in this zone (a clock change)",
            )
        })?;
    Ok(at.with_timezone(&Utc).to_rfc3339())
}

/// The page for a form whose token is not this session's, or None when it is.
fn expired_form(req: &HttpRequest, token: Option<&str>) -> Option<HttpResponse> {
    (!crate::routes::pages::ui::form_token_ok(req, token)).then(|| {
        message_page(
            req,
            StatusCode::FORBIDDEN,
            "This form has expired",
            "The form was not sent from this session. Go back, reload the page and try again.",
        )
    })
}

/// The page for a refusal, as the API would refuse.
fn refused(req: &HttpRequest, e: AppError) -> Result<HttpResponse, AppError> {
    Ok(match e {
        AppError::NotFound(_) => message_page(
            req,
            StatusCode::NOT_FOUND,
            "Not found",
            "There is no such 1:1 meeting, or it is not yours.",
        ),
        AppError::Forbidden(m) => message_page(req, StatusCode::FORBIDDEN, "Private", &m),
        other => return Err(other),
    })
}

pub async fn list(
    state: web::Data<AppState>,
    req: HttpRequest,
    caller: Option<Caller>,
) -> Result<HttpResponse, AppError> {
    let Some(caller) = caller else {
        return Ok(redirect("/login"));
    };
    let now = Utc::now().naive_utc();
    let user = user_json(&caller);
    let me = caller.clone();
    let series = state
        .db(move |conn| {
            let (rows, _) = repo::list_series(conn, Some(caller.id), 0, 1000)?;
            let mut out = vec![];
            for s in rows {
                let other = repos::employees::find(conn, s.other_than(caller.id))?;
                let next = repo::next_meeting(conn, s.id, now)?;
                let (meetings, _) = repo::meetings_of(conn, s.id, 0, 1000)?;
                out.push(json!({
                    "other": other.map(|o| o.name).unwrap_or_default(),
                    "id": s.id,
                    "i_manage": s.manager_id == caller.id,
                    "active": s.status == repo::ACTIVE,
                    "paused": s.status == repo::PAUSED,
                    "ended": s.status == repo::ENDED,
                    "cadence": s.cadence,
                    "status": s.status,
                    "next": next.map(|m| json!({"id": m.id, "when": local(m.starts_at, &s.timezone)})),
                    "meetings": meetings.iter().rev().map(|m| json!({
                        "id": m.id, "when": local(m.starts_at, &s.timezone), "status": m.status,
                    })).collect::<Vec<_>>(),
                }));
            }
            Ok(out)
        })
        .await?;
    let can_start = me.role != crate::domain::people::Role::Member;
    let mut data =
        json!({ "title": "1:1s", "user": user, "series": series, "can_start": can_start });
    crate::routes::pages::ui::shell(&req, &me, &mut data);
    Ok(render(&req, StatusCode::OK, "one_on_ones", data))
}

/// The meeting page data for `caller`, or the refusal.
async fn page_data(state: &AppState, caller: Caller, id: i32) -> Result<Value, AppError> {
    state
        .db(move |conn| {
            let (series, meeting, _) = policy::meeting_content_for(conn, &caller, id)?;
            let out = meeting_out(conn, &caller, &series, &meeting)?;
            let mut names = HashMap::new();
            for e in [series.manager_id, series.report_id] {
                if let Some(e) = repos::employees::find(conn, e)? {
                    names.insert(e.id, e.name);
                }
            }
            let name = |id: i32| names.get(&id).cloned().unwrap_or_default();
            let me = caller.id;
            let action = |a: &crate::routes::api::one_on_ones::ActionOut| {
                json!({"id": a.id, "text": a.text, "owner": name(a.owner_id), "owner_id": a.owner_id,
                       "due_on": a.due_on, "done": a.done, "edited": a.edited_at.is_some(),
                       "mine": a.author_id == me || a.owner_id == me})
            };
            let last = out.agenda.len().saturating_sub(1);
            let templates = crate::meeting_items::talking_points(conn, &caller)?;
            Ok(json!({
                "id": out.id,
                "with": name(series.other_than(caller.id)),
                "when": local(meeting.starts_at, &series.timezone),
                "starts_local": meeting.starts_at.and_utc().with_timezone(&zone(&series.timezone)).format("%Y-%m-%dT%H:%M").to_string(),
                "timezone": series.timezone,
                "status": out.status,
                "scheduled": out.status == repo::SCHEDULED,
                "skipped": out.status == repo::SKIPPED,
                "manager": {"id": series.manager_id, "name": name(series.manager_id)},
                "report": {"id": series.report_id, "name": name(series.report_id)},
                "agenda": out.agenda.iter().enumerate().map(|(i, a)| json!({
                    "id": a.id, "text": a.text, "author": name(a.author_id), "done": a.done,
                    "mine": a.author_id == me, "edited": a.edited_at.is_some(),
                    "first": i == 0, "last": i == last,
                })).collect::<Vec<_>>(),
                "notes": out.notes.iter().map(|n| json!({
                    "id": n.id, "body": n.body, "author": name(n.author_id), "private": n.private,
                    "mine": n.author_id == me, "edited": n.edited_at.is_some(),
                })).collect::<Vec<_>>(),
                "locked_private_notes": out.locked_private_notes,
                // Single sign-on brings no notes key: it waits for the passphrase.
                "needs_passphrase": caller.sso && caller.notes_key.is_none(),
                "actions": out.actions.iter().map(action).collect::<Vec<_>>(),
                "carried": out.carried_actions.iter().map(action).collect::<Vec<_>>(),
                "templates": templates.iter().map(|t| json!({"key": t.key, "title": t.title})).collect::<Vec<_>>(),
            }))
        })
        .await
}

fn meeting_page(
    req: &HttpRequest,
    status: StatusCode,
    caller: &Caller,
    meeting: Value,
    error: Option<String>,
) -> HttpResponse {
    let mut data = json!({ "title": "1:1 meeting", "user": user_json(caller), "meeting": meeting, "error": error });
    crate::routes::pages::ui::shell(req, caller, &mut data);
    render(req, status, "meeting", data)
}

pub async fn show(
    state: web::Data<AppState>,
    req: HttpRequest,
    caller: Option<Caller>,
    id: web::Path<i32>,
) -> Result<HttpResponse, AppError> {
    let Some(caller) = caller else {
        return Ok(redirect("/login"));
    };
    match page_data(&state, caller.clone(), id.into_inner()).await {
        Ok(data) => Ok(meeting_page(&req, StatusCode::OK, &caller, data, None)),
        Err(e) => refused(&req, e),
    }
}

/// One form per thing a person adds or ticks on the page; `op` says which.
#[derive(Deserialize)]
pub struct MeetingForm {
    op: String,
    text: Option<String>,
    private: Option<String>,
    owner_id: Option<i32>,
    due_on: Option<String>,
    item: Option<i32>,
    done: Option<String>,
    /// A talking-points key, for `op=template`.
    template: Option<String>,
    /// `YYYY-MM-DDTHH:MM` in the series' zone, for `op=move`.
    starts_at: Option<String>,
    /// The session's form token (see `ui::form_token_ok`).
    csrf: Option<String>,
}

pub async fn act(
    state: web::Data<AppState>,
    req: HttpRequest,
    caller: Option<Caller>,
    id: web::Path<i32>,
    form: web::Form<MeetingForm>,
) -> Result<HttpResponse, AppError> {
    // Without a session, or from another site (the extractor checks Origin).
    let Some(caller) = caller else {
        return Ok(redirect("/login"));
    };
    let id = id.into_inner();
    let form = form.into_inner();
    if let Some(refused) = expired_form(&req, form.csrf.as_deref()) {
        return Ok(refused);
    }
    let now = Utc::now().naive_utc();
    let who = caller.clone();
    let outcome = state
        .db(move |conn| {
            let (series, meeting, _) = policy::meeting_content_for(conn, &who, id)?;
            let text = |max| {
                check_text(form.text.as_deref().unwrap_or_default(), max)
                    .map_err(|e| AppError::field("text", e))
            };
            let done = form.done.as_deref() == Some("true");
            match form.op.as_str() {
                "agenda" => drop(repo::insert_agenda_item(
                    conn,
                    id,
                    who.id,
                    &text(AGENDA_MAX)?,
                    now,
                )?),
                "note" => drop(crate::meeting_items::add_note(
                    conn,
                    &who,
                    id,
                    text(NOTE_MAX)?,
                    form.private.is_some(),
                    now,
                )?),
                "action" => {
                    let owner = form
                        .owner_id
                        .filter(|o| *o == series.manager_id || *o == series.report_id)
                        .ok_or_else(|| {
                            AppError::field("owner_id", "choose the manager or the report")
                        })?;
                    let due_on = form
                        .due_on
                        .as_deref()
                        .filter(|d| !d.trim().is_empty())
                        .map(parse_date)
                        .transpose()
                        .map_err(|e| AppError::field("due_on", e))?;
                    let text = text(ACTION_MAX)?;
                    repo::insert_action(
                        conn,
                        &NewAction {
                            meeting_id: meeting.id,
                            series_id: series.id,
                            author_id: who.id,
                            owner_id: owner,
                            text: &text,
                            due_on,
                        },
                        now,
                    )?;
                }
                "agenda_done" | "agenda_edit" | "agenda_up" | "agenda_down" => {
                    let item = form
                        .item
                        .ok_or_else(|| AppError::not_found("agenda item"))?;
                    let mut edit = items::AgendaEdit::default();
                    match form.op.as_str() {
                        "agenda_done" => edit.done = Some(done),
                        "agenda_edit" => edit.text = Some(text(AGENDA_MAX)?),
                        up_or_down => {
                            let at = repo::agenda_of(conn, id)?
                                .iter()
                                .position(|a| a.id == item)
                                .ok_or_else(|| AppError::not_found("agenda item"))?;
                            edit.position = Some(if up_or_down == "agenda_up" {
                                at.saturating_sub(1)
                            } else {
                                at + 1
                            });
                        }
                    }
                    items::edit_agenda_item(conn, &who, item, &edit, now)?;
                }
                "agenda_delete" => {
                    let item = form
                        .item
                        .ok_or_else(|| AppError::not_found("agenda item"))?;
                    items::delete_agenda_item(conn, &who, item)?;
                }
                "save_template" => {
                    let lines: Vec<String> = repo::agenda_of(conn, id)?
                        .into_iter()
                        .map(|a| a.text)
                        .collect();
                    let (name, lines) = crate::domain::one_on_one::parse_talking_points(
                        form.text.as_deref().unwrap_or_default(),
                        &lines,
                    )
                    .map_err(AppError::fields)?;
                    repo::insert_template(conn, who.id, &name, &lines, now)?;
                }
                "template" => {
                    let key = form.template.clone().unwrap_or_default();
                    items::add_talking_points(conn, &who, id, &key, now)?;
                }
                "note_edit" => {
                    let item = form.item.ok_or_else(|| AppError::not_found("note"))?;
                    let body = form.text.clone().unwrap_or_default();
                    items::edit_note(conn, &who, item, &body, now)?;
                }
                "note_delete" => {
                    let item = form.item.ok_or_else(|| AppError::not_found("note"))?;
                    items::delete_note(conn, &who, item)?;
                }
                "action_done" | "action_edit" => {
                    let item = form
                        .item
                        .ok_or_else(|| AppError::not_found("action item"))?;
                    let mut edit = items::ActionEdit::default();
                    if form.op == "action_done" {
                        edit.done = Some(done);
                    } else {
                        edit.text = Some(text(ACTION_MAX)?);
                        edit.owner_id = form.owner_id;
                        edit.due_on = Some(
                            form.due_on
                                .as_deref()
                                .filter(|d| !d.trim().is_empty())
                                .map(parse_date)
                                .transpose()
                                .map_err(|e| AppError::field("due_on", e))?,
                        );
                    }
                    items::edit_action(conn, &who, item, &edit, now)?;
                }
                "action_delete" => {
                    let item = form
                        .item
                        .ok_or_else(|| AppError::not_found("action item"))?;
                    items::delete_action(conn, &who, item)?;
                }
                "skip" | "unskip" | "move" => {
                    let patch = match form.op.as_str() {
                        "skip" => MeetingPatch {
                            starts_at: None,
                            status: Some(repo::SKIPPED.into()),
                        },
                        "unskip" => MeetingPatch {
                            starts_at: None,
                            status: Some(repo::SCHEDULED.into()),
                        },
                        _ => MeetingPatch {
                            starts_at: Some(local_to_rfc3339(
                                form.starts_at.as_deref().unwrap_or_default(),
                                &series.timezone,
                            )?),
                            status: None,
                        },
                    };
                    change_meeting(conn, &who, id, &patch, now.and_utc())?;
                }
                other => return Err(AppError::BadRequest(format!("unknown action `{other}`"))),
            }
            Ok(())
        })
        .await;
    match outcome {
        Ok(()) => Ok(redirect(&format!("/meetings/{id}"))),
        Err(
            e @ (AppError::Validation { .. } | AppError::BadRequest(_) | AppError::Conflict { .. }),
        ) => {
            let status = if matches!(e, AppError::Conflict { .. }) {
                StatusCode::CONFLICT
            } else {
                StatusCode::UNPROCESSABLE_ENTITY
            };
            let data = page_data(&state, caller.clone(), id).await?;
            Ok(meeting_page(
                &req,
                status,
                &caller,
                data,
                Some(e.to_string()),
            ))
        }
        Err(e) => refused(&req, e),
    }
}

#[derive(Deserialize)]
pub struct SeriesForm {
    op: String,
    cadence: Option<String>,
    csrf: Option<String>,
}

/// The buttons of a series on /one-on-ones: pause, resume, end, change cadence.
pub async fn series_act(
    state: web::Data<AppState>,
    req: HttpRequest,
    caller: Option<Caller>,
    id: web::Path<i32>,
    form: web::Form<SeriesForm>,
) -> Result<HttpResponse, AppError> {
    let Some(caller) = caller else {
        return Ok(redirect("/login"));
    };
    let form = form.into_inner();
    if let Some(refused) = expired_form(&req, form.csrf.as_deref()) {
        return Ok(refused);
    }
    let patch = match form.op.as_str() {
        "pause" => SeriesPatch {
            status: Some(repo::PAUSED.into()),
            ..Default::default()
        },
        "resume" => SeriesPatch {
            status: Some(repo::ACTIVE.into()),
            ..Default::default()
        },
        "end" => SeriesPatch {
            status: Some(repo::ENDED.into()),
            ..Default::default()
        },
        "cadence" => SeriesPatch {
            cadence: form.cadence.clone(),
            ..Default::default()
        },
        other => return Err(AppError::BadRequest(format!("unknown action `{other}`"))),
    };
    let id = id.into_inner();
    let now = Utc::now();
    let done = state
        .db(move |conn| {
            crate::db::write_transaction(conn, |c| change_series(c, &caller, id, &patch, now))
        })
        .await;
    match done {
        Ok(_) => Ok(crate::routes::pages::ui::redirect_with(
            &req,
            "/one-on-ones",
            true,
            "The 1:1 series is updated.",
        )),
        Err(AppError::NotFound(_)) => refused(&req, AppError::NotFound("one-on-one".into())),
        Err(
            e @ (AppError::Validation { .. } | AppError::Conflict { .. } | AppError::Forbidden(_)),
        ) => Ok(crate::routes::pages::ui::redirect_with(
            &req,
            "/one-on-ones",
            false,
            &e.to_string(),
        )),
        Err(e) => Err(e),
    }
}
