//! /one-on-ones and /meetings/{id}: the pages a reminder email links to, on the same rules as the API.

use crate::auth::one_on_one as policy;
use crate::auth::Caller;
use crate::domain::one_on_one::{check_text, ACTION_MAX, AGENDA_MAX, NOTE_MAX};
use crate::domain::people::parse_date;
use crate::error::AppError;
use crate::repo::one_on_ones::{self as repo, NewAction};
use crate::repo::{self as repos};
use crate::routes::api::one_on_ones::meeting_out;
use crate::routes::pages::{message_page, redirect, render, user_json};
use crate::state::AppState;
use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use chrono::{NaiveDateTime, Utc};
use serde::Deserialize;
use serde_json::{json, Value};
use std::collections::HashMap;

fn local(t: NaiveDateTime, tz: &str) -> String {
    let zone: chrono_tz::Tz = tz.parse().unwrap_or(chrono_tz::UTC);
    format!(
        "{} ({tz})",
        t.and_utc().with_timezone(&zone).format("%Y-%m-%d %H:%M")
    )
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
                    "i_manage": s.manager_id == caller.id,
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
    let mut data = json!({ "title": "1:1s", "user": user, "series": series });
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
            let action = |a: &crate::routes::api::one_on_ones::ActionOut| {
                json!({"id": a.id, "text": a.text, "owner": name(a.owner_id), "due_on": a.due_on, "done": a.done})
            };
            Ok(json!({
                "id": out.id,
                "with": name(series.other_than(caller.id)),
                "when": local(meeting.starts_at, &series.timezone),
                "status": out.status,
                "manager": {"id": series.manager_id, "name": name(series.manager_id)},
                "report": {"id": series.report_id, "name": name(series.report_id)},
                "agenda": out.agenda.iter().map(|a| json!({"id": a.id, "text": a.text, "author": name(a.author_id), "done": a.done})).collect::<Vec<_>>(),
                "notes": out.notes.iter().map(|n| json!({"body": n.body, "author": name(n.author_id), "private": n.private})).collect::<Vec<_>>(),
                "actions": out.actions.iter().map(action).collect::<Vec<_>>(),
                "carried": out.carried_actions.iter().map(action).collect::<Vec<_>>(),
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
    if !crate::routes::pages::ui::form_token_ok(&req, form.csrf.as_deref()) {
        return Ok(message_page(
            &req,
            StatusCode::FORBIDDEN,
            "This form has expired",
            "The form was not sent from this session. Go back, reload the page and try again.",
        ));
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
                "agenda_done" => {
                    let item = form
                        .item
                        .ok_or_else(|| AppError::not_found("agenda item"))?;
                    policy::agenda_item_for(conn, &who, item)?;
                    repo::set_agenda_done(conn, item, done)?;
                }
                "action_done" => {
                    let item = form
                        .item
                        .ok_or_else(|| AppError::not_found("action item"))?;
                    policy::action_for(conn, &who, item)?;
                    repo::set_action_done(conn, item, done, now)?;
                }
                other => return Err(AppError::BadRequest(format!("unknown action `{other}`"))),
            }
            Ok(())
        })
        .await;
    match outcome {
        Ok(()) => Ok(redirect(&format!("/meetings/{id}"))),
        Err(e @ (AppError::Validation { .. } | AppError::BadRequest(_))) => {
            let data = page_data(&state, caller.clone(), id).await?;
            Ok(meeting_page(
                &req,
                StatusCode::UNPROCESSABLE_ENTITY,
                &caller,
                data,
                Some(e.to_string()),
            ))
        }
        Err(e) => refused(&req, e),
    }
}
