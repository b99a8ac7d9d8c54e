//! /api/v1/one-on-ones, /meetings, /agenda and /actions: 1:1 series, their meetings and what is written in them.
//!
//! Every lookup goes through `crate::auth::one_on_one`, which decides who sees what.

use crate::auth::one_on_one::{self as policy, Standing};
use crate::auth::Caller;
use crate::db::DbConnection;
use crate::domain::one_on_one::{
    check_duration, check_reminder_hours, check_text, parse_schedule, remind_at, ScheduleFields,
    ACTION_MAX, AGENDA_MAX, DEFAULT_REMINDER_HOURS, NOTE_MAX,
};
use crate::domain::people::parse_date;
use crate::error::{AppError, AppResult};
use crate::jobs::meetings as planner;
use crate::repo::one_on_ones::{
    self as repo, ActionItem, AgendaItem, Meeting, MeetingChanges, NewAction, NewSeries, Note,
    Series, SeriesChanges,
};
use crate::repo::{self as repos};
use crate::routes::api::{paged, Paging};
use crate::state::AppState;
use actix_web::{web, HttpRequest, HttpResponse};
use chrono::{DateTime, NaiveDate, NaiveDateTime, SubsecRound, Utc};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

// What goes in.

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SeriesInput {
    /// Defaults to the caller.
    pub manager_id: Option<i32>,
    pub report_id: Option<i32>,
    /// `weekly`, `biweekly` or `monthly`.
    pub cadence: Option<String>,
    /// The first meeting's date, YYYY-MM-DD.
    pub starts_on: Option<String>,
    /// Local time of day, HH:MM.
    pub time: Option<String>,
    /// IANA zone, e.g. `Europe/Paris`.
    pub timezone: Option<String>,
    /// 5–480; default 30.
    pub duration_minutes: Option<i32>,
    /// How long before each meeting both people get the reminder and invite; default 24.
    pub reminder_hours_before: Option<i32>,
}

impl SeriesInput {
    pub fn schedule_fields(&self) -> ScheduleFields<'_> {
        ScheduleFields {
            cadence: self.cadence.as_deref(),
            starts_on: self.starts_on.as_deref(),
            time: self.time.as_deref(),
            timezone: self.timezone.as_deref(),
        }
    }
}

#[derive(Debug, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SeriesPatch {
    /// `active`, `paused` or `ended` (final).
    pub status: Option<String>,
    pub cadence: Option<String>,
    pub starts_on: Option<String>,
    pub time: Option<String>,
    pub timezone: Option<String>,
    pub duration_minutes: Option<i32>,
    pub reminder_hours_before: Option<i32>,
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MeetingPatch {
    /// Move this one meeting (RFC 3339); it keeps its length.
    #[schema(value_type = Option<String>, format = DateTime)]
    pub starts_at: Option<String>,
    /// `skipped`, or `scheduled` to bring a skipped meeting back.
    pub status: Option<String>,
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AgendaInput {
    /// At most 500 characters.
    pub text: Option<String>,
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DonePatch {
    pub done: Option<bool>,
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NoteInput {
    /// At most 10,000 characters.
    pub body: Option<String>,
    /// Private notes are readable by their author alone. Default false.
    #[serde(default)]
    pub private: bool,
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ActionInput {
    /// At most 500 characters.
    pub text: Option<String>,
    /// The manager or the report.
    pub owner_id: Option<i32>,
    /// YYYY-MM-DD.
    pub due_on: Option<String>,
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
pub struct ListParams {
    /// Admins only: every series, not just those they are part of.
    pub all: Option<bool>,
}

// What comes out.

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct PersonOut {
    pub id: i32,
    pub name: String,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct MeetingSummary {
    pub id: i32,
    pub series_id: i32,
    pub starts_at: DateTime<Utc>,
    pub ends_at: DateTime<Utc>,
    /// `scheduled`, `skipped` or `cancelled`.
    pub status: String,
    /// The iCalendar SEQUENCE: raised each time the meeting changes.
    pub sequence: i32,
    /// The occurrence of the schedule it was made for.
    pub scheduled_for: DateTime<Utc>,
}

impl From<&Meeting> for MeetingSummary {
    fn from(m: &Meeting) -> Self {
        Self {
            id: m.id,
            series_id: m.series_id,
            starts_at: m.starts_at.and_utc(),
            ends_at: m.ends_at.and_utc(),
            status: m.status.clone(),
            sequence: m.sequence,
            // A cancelled meeting gave its occurrence back; it was when it started.
            scheduled_for: if m.status == repo::CANCELLED {
                m.starts_at.and_utc()
            } else {
                m.scheduled_for.and_utc()
            },
        }
    }
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct SeriesOut {
    pub id: i32,
    pub manager_id: i32,
    pub report_id: i32,
    pub manager: PersonOut,
    pub report: PersonOut,
    pub cadence: String,
    pub starts_on: NaiveDate,
    /// Local time of day, HH:MM, in `timezone`.
    pub time: String,
    pub timezone: String,
    pub duration_minutes: i32,
    pub reminder_hours_before: i32,
    /// `active`, `paused` or `ended`.
    pub status: String,
    pub next_meeting: Option<MeetingSummary>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct AgendaOut {
    pub id: i32,
    pub meeting_id: i32,
    pub text: String,
    pub author_id: i32,
    pub done: bool,
    pub created_at: DateTime<Utc>,
    /// When its author last changed the text; null if never.
    pub edited_at: Option<DateTime<Utc>>,
}

impl From<AgendaItem> for AgendaOut {
    fn from(a: AgendaItem) -> Self {
        Self {
            id: a.id,
            meeting_id: a.meeting_id,
            text: a.text,
            author_id: a.author_id,
            done: a.done,
            created_at: a.created_at.and_utc(),
            edited_at: a.edited_at.map(|t| t.and_utc()),
        }
    }
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct NoteOut {
    pub id: i32,
    pub meeting_id: i32,
    pub body: String,
    pub private: bool,
    pub author_id: i32,
    pub created_at: DateTime<Utc>,
    pub edited_at: Option<DateTime<Utc>>,
}

impl From<Note> for NoteOut {
    fn from(n: Note) -> Self {
        Self {
            id: n.id,
            meeting_id: n.meeting_id,
            body: n.body,
            private: n.private,
            author_id: n.author_id,
            created_at: n.created_at.and_utc(),
            edited_at: n.edited_at.map(|t| t.and_utc()),
        }
    }
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ActionOut {
    pub id: i32,
    pub meeting_id: i32,
    pub text: String,
    pub owner_id: i32,
    pub author_id: i32,
    pub due_on: Option<NaiveDate>,
    pub done: bool,
    pub done_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    pub edited_at: Option<DateTime<Utc>>,
}

impl From<ActionItem> for ActionOut {
    fn from(a: ActionItem) -> Self {
        Self {
            id: a.id,
            meeting_id: a.meeting_id,
            text: a.text,
            owner_id: a.owner_id,
            author_id: a.author_id,
            due_on: a.due_on,
            done: a.done,
            done_at: a.done_at.map(|t| t.and_utc()),
            created_at: a.created_at.and_utc(),
            edited_at: a.edited_at.map(|t| t.and_utc()),
        }
    }
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct MeetingOut {
    pub id: i32,
    pub series_id: i32,
    pub manager_id: i32,
    pub report_id: i32,
    pub starts_at: DateTime<Utc>,
    pub ends_at: DateTime<Utc>,
    pub status: String,
    pub sequence: i32,
    pub agenda: Vec<AgendaOut>,
    /// Shared notes, and the caller's own private ones.
    pub notes: Vec<NoteOut>,
    /// How many of the caller's own private notes this session cannot open
    /// (written before their password was reset): unlock them with the
    /// recovery code.
    pub locked_private_notes: usize,
    pub actions: Vec<ActionOut>,
    /// Open action items of the series' earlier meetings.
    pub carried_actions: Vec<ActionOut>,
}

fn person(conn: &mut DbConnection, id: i32) -> AppResult<PersonOut> {
    let e = repos::employees::find(conn, id)?.ok_or_else(|| AppError::not_found("employee"))?;
    Ok(PersonOut {
        id: e.id,
        name: e.name,
    })
}

fn series_out(conn: &mut DbConnection, s: Series, now: DateTime<Utc>) -> AppResult<SeriesOut> {
    let next = repo::next_meeting(conn, s.id, now.naive_utc())?;
    Ok(SeriesOut {
        manager: person(conn, s.manager_id)?,
        report: person(conn, s.report_id)?,
        id: s.id,
        manager_id: s.manager_id,
        report_id: s.report_id,
        cadence: s.cadence,
        starts_on: s.starts_on,
        time: s.local_time,
        timezone: s.timezone,
        duration_minutes: s.duration_minutes,
        reminder_hours_before: s.reminder_hours_before,
        status: s.status,
        next_meeting: next.as_ref().map(MeetingSummary::from),
    })
}

/// The meeting as `caller` may see it: private notes of others left out.
pub fn meeting_out(
    conn: &mut DbConnection,
    caller: &Caller,
    series: &Series,
    m: &Meeting,
) -> AppResult<MeetingOut> {
    let readable = policy::readable_notes(caller, repo::notes_of(conn, m.id)?);
    Ok(MeetingOut {
        id: m.id,
        series_id: m.series_id,
        manager_id: series.manager_id,
        report_id: series.report_id,
        starts_at: m.starts_at.and_utc(),
        ends_at: m.ends_at.and_utc(),
        status: m.status.clone(),
        sequence: m.sequence,
        agenda: repo::agenda_of(conn, m.id)?
            .into_iter()
            .map(Into::into)
            .collect(),
        notes: readable.notes.into_iter().map(Into::into).collect(),
        locked_private_notes: readable.locked,
        actions: repo::actions_of(conn, m.id)?
            .into_iter()
            .map(Into::into)
            .collect(),
        carried_actions: repo::carried_actions(conn, m)?
            .into_iter()
            .map(Into::into)
            .collect(),
    })
}

fn now() -> DateTime<Utc> {
    Utc::now().trunc_subsecs(0)
}

/// A participant who is still employed, for the `field` of a new series.
fn participant(
    conn: &mut DbConnection,
    id: Option<i32>,
    field: &str,
    today: NaiveDate,
    fields: &mut BTreeMap<String, String>,
) -> AppResult<Option<repos::employees::Employee>> {
    let Some(id) = id else {
        fields.insert(field.into(), "is required".into());
        return Ok(None);
    };
    match repos::employees::find(conn, id)? {
        Some(e) if e.is_employed_on(today) => Ok(Some(e)),
        Some(_) => {
            fields.insert(field.into(), format!("employee {id} is not employed today"));
            Ok(None)
        }
        None => {
            fields.insert(field.into(), format!("there is no employee {id}"));
            Ok(None)
        }
    }
}

/// Starts a series as `caller` asks (their own report, or anyone's for HR),
/// with its first meetings made at once; every bad field named together.
pub fn start_series(
    conn: &mut DbConnection,
    caller: &Caller,
    input: &SeriesInput,
    now: DateTime<Utc>,
) -> AppResult<SeriesOut> {
    let manager_id = input.manager_id.unwrap_or(caller.id);
    if !caller.is_admin() && manager_id != caller.id {
        return Err(AppError::Forbidden(
            "you can set up 1:1s with your own reports; HR can set up any".into(),
        ));
    }
    let today = now.date_naive();
    let mut fields = BTreeMap::new();
    let manager = participant(conn, Some(manager_id), "manager_id", today, &mut fields)?;
    let report = participant(conn, input.report_id, "report_id", today, &mut fields)?;
    if let (Some(m), Some(r)) = (&manager, &report) {
        if m.id == r.id {
            fields.insert(
                "report_id".into(),
                "must be someone other than the manager".into(),
            );
        } else if !caller.is_admin() && r.manager_id != Some(caller.id) {
            fields.insert(
                "report_id".into(),
                format!("employee {} does not report to you", r.id),
            );
        }
    }
    let schedule = parse_schedule(&input.schedule_fields(), None, &mut fields);
    let duration = check_duration(input.duration_minutes.unwrap_or(30))
        .map_err(|e| fields.insert("duration_minutes".into(), e))
        .ok();
    let reminder = check_reminder_hours(
        input
            .reminder_hours_before
            .unwrap_or(DEFAULT_REMINDER_HOURS),
    )
    .map_err(|e| fields.insert("reminder_hours_before".into(), e))
    .ok();
    let (Some(manager), Some(report), Some(schedule), Some(duration), Some(reminder), true) = (
        manager,
        report,
        schedule,
        duration,
        reminder,
        fields.is_empty(),
    ) else {
        return Err(AppError::fields(fields));
    };
    crate::db::write_transaction(conn, |conn| {
        let (mine, _) = repo::list_series(conn, Some(manager.id), 0, 10_000)?;
        if mine.iter().any(|s| {
            s.manager_id == manager.id && s.report_id == report.id && s.status != repo::ENDED
        }) {
            return Err(AppError::Conflict {
                code: "series_exists",
                message: "these two already have a 1:1 series: change or end that one".into(),
            });
        }
        let id = repo::insert_series(
            conn,
            &NewSeries {
                manager_id: manager.id,
                report_id: report.id,
                cadence: schedule.cadence.as_str().into(),
                starts_on: schedule.starts_on,
                local_time: schedule.send_time.format("%H:%M").to_string(),
                timezone: schedule.timezone.name().into(),
                duration_minutes: duration,
                reminder_hours_before: reminder,
                status: repo::ACTIVE.into(),
                // Occurrences before the series existed are not meetings.
                materialized_until: now.naive_utc(),
                created_by: caller.id,
                created_at: now.naive_utc(),
                updated_at: now.naive_utc(),
            },
        )?;
        let series =
            repo::find_series(conn, id)?.ok_or_else(|| AppError::not_found("one-on-one"))?;
        if caller.is_admin() {
            let detail = format!(
                "manager employee:{}, report employee:{}, {}",
                manager.id, report.id, series.cadence
            );
            crate::repo::audit::record(
                conn,
                &caller.actor(),
                crate::repo::audit::action::ONE_ON_ONE_CREATE,
                &format!("one_on_one:{id}"),
                &detail,
            )?;
        }
        // The next meetings exist at once, so both can start an agenda.
        planner::materialize(conn, &series, now)?;
        series_out(conn, series, now)
    })
}

#[utoipa::path(post, path = "/api/v1/one-on-ones", tag = "one-on-ones", request_body = SeriesInput,
    responses((status = 201, body = SeriesOut),
              (status = 403, description = "neither HR nor the report's manager", body = crate::error::ErrorBody),
              (status = 409, description = "the two already have a series", body = crate::error::ErrorBody),
              (status = 422, body = crate::error::ErrorBody)))]
pub async fn create(
    state: web::Data<AppState>,
    caller: Caller,
    body: web::Json<SeriesInput>,
) -> AppResult<HttpResponse> {
    let input = body.into_inner();
    let now = now();
    let out = state
        .db(move |conn| start_series(conn, &caller, &input, now))
        .await?;
    Ok(HttpResponse::Created().json(out))
}

#[utoipa::path(get, path = "/api/v1/one-on-ones", tag = "one-on-ones", params(Paging, ListParams),
    responses((status = 200, description = "the series the caller is part of (admins: all with `all=true`)", body = [SeriesOut]),
              (status = 403, body = crate::error::ErrorBody)))]
pub async fn list(
    state: web::Data<AppState>,
    caller: Caller,
    req: HttpRequest,
    paging: web::Query<Paging>,
    params: web::Query<ListParams>,
) -> AppResult<HttpResponse> {
    let (offset, limit) = paging.offset()?;
    let all = params.all.unwrap_or(false);
    if all && !caller.is_admin() {
        return Err(AppError::Forbidden(
            "only HR admins may list every 1:1 series".into(),
        ));
    }
    let now = now();
    let (items, total) = state
        .db(move |conn| {
            let who = (!all).then_some(caller.id);
            let (rows, total) = repo::list_series(conn, who, offset, limit)?;
            let items = rows
                .into_iter()
                .map(|s| series_out(conn, s, now))
                .collect::<AppResult<Vec<_>>>()?;
            Ok((items, total))
        })
        .await?;
    paged(&req, *paging, items, total)
}

#[utoipa::path(get, path = "/api/v1/one-on-ones/{id}", tag = "one-on-ones",
    responses((status = 200, body = SeriesOut), (status = 404, body = crate::error::ErrorBody)))]
pub async fn get(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<i32>,
) -> AppResult<HttpResponse> {
    let id = id.into_inner();
    let now = now();
    let out = state
        .db(move |conn| {
            let (series, _) = policy::series_for(conn, &caller, id)?;
            series_out(conn, series, now)
        })
        .await?;
    Ok(HttpResponse::Ok().json(out))
}

/// Pauses, resumes, ends or reschedules a series (its manager or HR); the
/// meetings to come follow, and calendars get updates or cancellations.
pub fn change_series(
    conn: &mut DbConnection,
    caller: &Caller,
    id: i32,
    patch: &SeriesPatch,
    now: DateTime<Utc>,
) -> AppResult<SeriesOut> {
    let (series, _) = policy::series_for(conn, caller, id)?;
    policy::require_series_manager(caller, &series)?;
    if series.status == repo::ENDED {
        return Err(AppError::Conflict {
            code: "ended",
            message: "an ended 1:1 series cannot change; set up a new one".into(),
        });
    }
    let mut fields = BTreeMap::new();
    let mut c = SeriesChanges {
        updated_at: Some(now.naive_utc()),
        ..Default::default()
    };
    if let Some(status) = &patch.status {
        match status.as_str() {
            repo::ACTIVE | repo::PAUSED | repo::ENDED => c.status = Some(status.clone()),
            other => drop(fields.insert(
                "status".into(),
                format!("`{other}` is not a status: use active, paused or ended"),
            )),
        }
    }
    let schedule_fields = ScheduleFields {
        cadence: patch.cadence.as_deref(),
        starts_on: patch.starts_on.as_deref(),
        time: patch.time.as_deref(),
        timezone: patch.timezone.as_deref(),
    };
    let schedule_changed = patch.cadence.is_some()
        || patch.starts_on.is_some()
        || patch.time.is_some()
        || patch.timezone.is_some()
        || patch.duration_minutes.is_some();
    if schedule_changed {
        let current = series.schedule();
        if let Some(s) = parse_schedule(&schedule_fields, current.as_ref(), &mut fields) {
            c.cadence = Some(s.cadence.as_str().into());
            c.starts_on = Some(s.starts_on);
            c.local_time = Some(s.send_time.format("%H:%M").to_string());
            c.timezone = Some(s.timezone.name().into());
        }
    }
    if let Some(d) = patch.duration_minutes {
        c.duration_minutes = check_duration(d)
            .map_err(|e| fields.insert("duration_minutes".into(), e))
            .ok();
    }
    if let Some(h) = patch.reminder_hours_before {
        c.reminder_hours_before = check_reminder_hours(h)
            .map_err(|e| fields.insert("reminder_hours_before".into(), e))
            .ok();
    }
    if !fields.is_empty() {
        return Err(AppError::fields(fields));
    }
    repo::update_series(conn, id, &c)?;
    let after = repo::find_series(conn, id)?.ok_or_else(|| AppError::not_found("one-on-one"))?;
    let was_active = series.status == repo::ACTIVE;
    let active = after.status == repo::ACTIVE;
    if was_active && !active {
        planner::drop_upcoming(conn, &after, now)?;
    } else if active && (!was_active || schedule_changed) {
        // Resuming does not bring back what fell due while paused.
        planner::reschedule(conn, &after, now)?;
    } else if active && patch.reminder_hours_before.is_some() {
        planner::refresh_reminders(conn, &after, now)?;
    }
    let after = repo::find_series(conn, id)?.ok_or_else(|| AppError::not_found("one-on-one"))?;
    if caller.is_admin() {
        let mut changed = vec![];
        if series.status != after.status {
            changed.push(format!("status {} → {}", series.status, after.status));
        }
        if schedule_changed {
            changed.push("schedule".into());
        }
        if patch.reminder_hours_before.is_some() {
            changed.push("reminder".into());
        }
        crate::repo::audit::record(
            conn,
            &caller.actor(),
            crate::repo::audit::action::ONE_ON_ONE_UPDATE,
            &format!("one_on_one:{id}"),
            &changed.join(", "),
        )?;
    }
    series_out(conn, after, now)
}

#[utoipa::path(patch, path = "/api/v1/one-on-ones/{id}", tag = "one-on-ones", request_body = SeriesPatch,
    responses((status = 200, body = SeriesOut),
              (status = 403, description = "the report, who may move or skip single meetings instead", body = crate::error::ErrorBody),
              (status = 404, body = crate::error::ErrorBody),
              (status = 409, description = "an ended series cannot change", body = crate::error::ErrorBody),
              (status = 422, body = crate::error::ErrorBody)))]
pub async fn update(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<i32>,
    body: web::Json<SeriesPatch>,
) -> AppResult<HttpResponse> {
    let (id, patch) = (id.into_inner(), body.into_inner());
    let now = now();
    let out = state
        .db(move |conn| {
            crate::db::write_transaction(conn, |conn| change_series(conn, &caller, id, &patch, now))
        })
        .await?;
    Ok(HttpResponse::Ok().json(out))
}

#[utoipa::path(get, path = "/api/v1/one-on-ones/{id}/meetings", tag = "one-on-ones", params(Paging),
    responses((status = 200, description = "past and upcoming meetings in time order; times only, no content", body = [MeetingSummary]),
              (status = 404, body = crate::error::ErrorBody)))]
pub async fn meetings(
    state: web::Data<AppState>,
    caller: Caller,
    req: HttpRequest,
    id: web::Path<i32>,
    paging: web::Query<Paging>,
) -> AppResult<HttpResponse> {
    let id = id.into_inner();
    let (offset, limit) = paging.offset()?;
    let (rows, total) = state
        .db(move |conn| {
            policy::series_for(conn, &caller, id)?;
            let (rows, total) = repo::meetings_of(conn, id, offset, limit)?;
            Ok((
                rows.iter().map(MeetingSummary::from).collect::<Vec<_>>(),
                total,
            ))
        })
        .await?;
    paged(&req, *paging, rows, total)
}

#[utoipa::path(get, path = "/api/v1/meetings/{id}", tag = "one-on-ones",
    responses((status = 200, description = "agenda, shared notes and the caller's private notes, action items and carried-over open ones", body = MeetingOut),
              (status = 403, description = "HR: 1:1 content is for the two people only", body = crate::error::ErrorBody),
              (status = 404, body = crate::error::ErrorBody)))]
pub async fn meeting(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<i32>,
) -> AppResult<HttpResponse> {
    let id = id.into_inner();
    let out = state
        .db(move |conn| {
            let (series, meeting, _) = policy::meeting_content_for(conn, &caller, id)?;
            meeting_out(conn, &caller, &series, &meeting)
        })
        .await?;
    Ok(HttpResponse::Ok().json(out))
}

fn parse_instant(s: &str) -> Result<NaiveDateTime, String> {
    DateTime::parse_from_rfc3339(s.trim())
        .map(|t| t.with_timezone(&Utc).trunc_subsecs(0).naive_utc())
        .map_err(|_| {
            format!(
                "`{}` is not an RFC 3339 instant, e.g. 2026-12-07T09:00:00Z",
                s.trim()
            )
        })
}

/// Moves or skips (or restores) one meeting; a change raises its SEQUENCE
/// so calendars take the update, and the next pass emails it.
pub fn change_meeting(
    conn: &mut DbConnection,
    caller: &Caller,
    id: i32,
    patch: &MeetingPatch,
    now: DateTime<Utc>,
) -> AppResult<MeetingSummary> {
    // Moving or skipping one meeting is scheduling: the two people and HR.
    let (series, m, _standing): (Series, Meeting, Standing) =
        policy::meeting_for(conn, caller, id)?;
    if m.status == repo::CANCELLED {
        return Err(AppError::Conflict {
            code: "cancelled",
            message: "this meeting was cancelled with its series' schedule".into(),
        });
    }
    let mut fields = BTreeMap::new();
    let starts_at = match patch.starts_at.as_deref().map(parse_instant) {
        Some(Ok(t)) if t <= now.naive_utc() => {
            fields.insert("starts_at".into(), "must be in the future".into());
            None
        }
        Some(Ok(t)) => Some(t),
        Some(Err(e)) => {
            fields.insert("starts_at".into(), e);
            None
        }
        None => None,
    };
    let status = match patch.status.as_deref() {
        None => None,
        Some(s @ (repo::SKIPPED | repo::SCHEDULED)) => Some(s.to_string()),
        Some(other) => {
            fields.insert(
                "status".into(),
                format!("`{other}` is not a meeting status you can set: use skipped or scheduled"),
            );
            None
        }
    };
    if !fields.is_empty() {
        return Err(AppError::fields(fields));
    }
    let mut c = MeetingChanges {
        updated_at: Some(now.naive_utc()),
        ..Default::default()
    };
    let mut changed = false;
    if let Some(start) = starts_at.filter(|s| *s != m.starts_at) {
        c.starts_at = Some(start);
        c.ends_at = Some(start + (m.ends_at - m.starts_at));
        c.remind_at = Some(remind_at(start, series.reminder_hours_before));
        changed = true;
    }
    if let Some(s) = status.filter(|s| *s != m.status) {
        c.status = Some(s);
        changed = true;
    }
    if changed {
        // Calendars replace the event they hold only for a higher SEQUENCE.
        c.sequence = Some(m.sequence + 1);
        repo::update_meeting(conn, id, &c)?;
    }
    let m = repo::find_meeting(conn, id)?.ok_or_else(|| AppError::not_found("meeting"))?;
    Ok(MeetingSummary::from(&m))
}

#[utoipa::path(patch, path = "/api/v1/meetings/{id}", tag = "one-on-ones", request_body = MeetingPatch,
    responses((status = 200, body = MeetingSummary), (status = 404, body = crate::error::ErrorBody),
              (status = 409, description = "a cancelled meeting cannot change", body = crate::error::ErrorBody),
              (status = 422, body = crate::error::ErrorBody)))]
pub async fn update_meeting(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<i32>,
    body: web::Json<MeetingPatch>,
) -> AppResult<HttpResponse> {
    let (id, patch) = (id.into_inner(), body.into_inner());
    let now = now();
    let out = state
        .db(move |conn| {
            crate::db::write_transaction(conn, |conn| {
                change_meeting(conn, &caller, id, &patch, now)
            })
        })
        .await?;
    Ok(HttpResponse::Ok().json(out))
}

#[utoipa::path(post, path = "/api/v1/meetings/{id}/agenda", tag = "one-on-ones", request_body = AgendaInput,
    responses((status = 201, body = AgendaOut), (status = 403, body = crate::error::ErrorBody),
              (status = 404, body = crate::error::ErrorBody), (status = 422, body = crate::error::ErrorBody)))]
pub async fn add_agenda_item(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<i32>,
    body: web::Json<AgendaInput>,
) -> AppResult<HttpResponse> {
    let (id, input) = (id.into_inner(), body.into_inner());
    let now = now();
    let out = state
        .db(move |conn| {
            policy::meeting_content_for(conn, &caller, id)?;
            let text = check_text(input.text.as_deref().unwrap_or_default(), AGENDA_MAX)
                .map_err(|e| AppError::field("text", e))?;
            Ok(AgendaOut::from(repo::insert_agenda_item(
                conn,
                id,
                caller.id,
                &text,
                now.naive_utc(),
            )?))
        })
        .await?;
    Ok(HttpResponse::Created().json(out))
}

#[utoipa::path(patch, path = "/api/v1/agenda/{id}", tag = "one-on-ones", request_body = DonePatch,
    responses((status = 200, description = "ticked off as discussed, or not", body = AgendaOut),
              (status = 403, body = crate::error::ErrorBody), (status = 404, body = crate::error::ErrorBody),
              (status = 422, body = crate::error::ErrorBody)))]
pub async fn update_agenda_item(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<i32>,
    body: web::Json<DonePatch>,
) -> AppResult<HttpResponse> {
    let (id, patch) = (id.into_inner(), body.into_inner());
    let out = state
        .db(move |conn| {
            policy::agenda_item_for(conn, &caller, id)?;
            let done = patch
                .done
                .ok_or_else(|| AppError::field("done", "is required (true or false)"))?;
            repo::set_agenda_done(conn, id, done)?;
            let item = repo::find_agenda_item(conn, id)?
                .ok_or_else(|| AppError::not_found("agenda item"))?;
            Ok(AgendaOut::from(item))
        })
        .await?;
    Ok(HttpResponse::Ok().json(out))
}

#[utoipa::path(post, path = "/api/v1/meetings/{id}/notes", tag = "one-on-ones", request_body = NoteInput,
    responses((status = 201, body = NoteOut), (status = 403, body = crate::error::ErrorBody),
              (status = 404, body = crate::error::ErrorBody), (status = 422, body = crate::error::ErrorBody)))]
pub async fn add_note(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<i32>,
    body: web::Json<NoteInput>,
) -> AppResult<HttpResponse> {
    let (id, input) = (id.into_inner(), body.into_inner());
    let now = now();
    let out = state
        .db(move |conn| {
            policy::meeting_content_for(conn, &caller, id)?;
            let text = check_text(input.body.as_deref().unwrap_or_default(), NOTE_MAX)
                .map_err(|e| AppError::field("body", e))?;
            let note = crate::meeting_items::add_note(
                conn,
                &caller,
                id,
                text,
                input.private,
                now.naive_utc(),
            )?;
            Ok(NoteOut::from(note))
        })
        .await?;
    Ok(HttpResponse::Created().json(out))
}

#[utoipa::path(post, path = "/api/v1/meetings/{id}/actions", tag = "one-on-ones", request_body = ActionInput,
    responses((status = 201, body = ActionOut), (status = 403, body = crate::error::ErrorBody),
              (status = 404, body = crate::error::ErrorBody),
              (status = 422, description = "e.g. an owner who is not one of the two", body = crate::error::ErrorBody)))]
pub async fn add_action(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<i32>,
    body: web::Json<ActionInput>,
) -> AppResult<HttpResponse> {
    let (id, input) = (id.into_inner(), body.into_inner());
    let now = now();
    let out = state
        .db(move |conn| {
            let (series, meeting, _) = policy::meeting_content_for(conn, &caller, id)?;
            let mut fields = BTreeMap::new();
            let text = check_text(input.text.as_deref().unwrap_or_default(), ACTION_MAX)
                .map_err(|e| fields.insert("text".into(), e))
                .ok();
            let owner = match input.owner_id {
                Some(o) if o == series.manager_id || o == series.report_id => Some(o),
                Some(_) => {
                    fields.insert(
                        "owner_id".into(),
                        "must be the manager or the report of this 1:1".into(),
                    );
                    None
                }
                None => {
                    fields.insert("owner_id".into(), "is required".into());
                    None
                }
            };
            let due_on = match input.due_on.as_deref().map(parse_date).transpose() {
                Ok(d) => d,
                Err(e) => {
                    fields.insert("due_on".into(), e);
                    None
                }
            };
            let (Some(text), Some(owner_id), true) = (text, owner, fields.is_empty()) else {
                return Err(AppError::fields(fields));
            };
            Ok(ActionOut::from(repo::insert_action(
                conn,
                &NewAction {
                    meeting_id: meeting.id,
                    series_id: series.id,
                    author_id: caller.id,
                    owner_id,
                    text: &text,
                    due_on,
                },
                now.naive_utc(),
            )?))
        })
        .await?;
    Ok(HttpResponse::Created().json(out))
}
