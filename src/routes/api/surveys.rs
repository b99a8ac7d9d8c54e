//! /api/v1/surveys: building, scheduling, pausing surveys and sending rounds.

use crate::auth::Admin;
use crate::db::DbConnection;
use crate::domain::rotation::{self, Plan, RotationInput, MAX_ROTATING_QUESTIONS};
use crate::domain::survey::{
    parse_min_group_size, parse_questions_up_to, parse_schedule, EnpsScale, Question,
    QuestionInput, ScheduleInput, MAX_QUESTIONS,
};
use crate::error::{AppError, AppResult};
use crate::jobs::scheduler::{self, RoundOutcome};
use crate::repo::audit::{self, Actor};
use crate::repo::{self, surveys::NewSurvey, surveys::Survey, surveys::SurveyChanges};
use crate::routes::api::{double_option, paged, Paging};
use crate::state::AppState;
use actix_web::{web, HttpRequest, HttpResponse};
use chrono::{DateTime, SubsecRound, Utc};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

#[derive(Debug, Default, Deserialize, Serialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AudienceInput {
    /// These teams and their sub-teams; empty means everyone.
    #[serde(default)]
    pub team_ids: Vec<i32>,
}

#[derive(Debug, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SurveyInput {
    pub title: Option<String>,
    pub intro: Option<String>,
    #[serde(default)]
    pub questions: Vec<QuestionInput>,
    /// `1-10` (default) or `0-10`.
    #[schema(pattern = "^(1-10|0-10)$")]
    pub enps_scale: Option<String>,
    /// Omitted: the whole company.
    pub audience: Option<AudienceInput>,
    pub schedule: Option<ScheduleInput>,
    /// Results for smaller groups are never shown; at least 3, default 5.
    #[schema(minimum = 3)]
    pub min_group_size: Option<i32>,
    /// Start from a template (`GET /api/v1/templates`): every field given here overrides it.
    pub template: Option<String>,
    /// `en` (default) or `fr`: the language of the template's wording.
    #[schema(pattern = "^(en|fr)$")]
    pub language: Option<String>,
    /// Each person is asked `per_round` of the scale and choice questions a
    /// round (eNPS and comments always); up to 50 questions then. Null: every
    /// question every round, at most 10.
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<RotationInput>)]
    pub rotation: Option<Option<RotationInput>>,
    /// Makes it a lifecycle survey, sent by hire dates or departures instead
    /// of a cadence: `schedule` is then optional (see `domain::lifecycle`).
    pub trigger: Option<crate::domain::lifecycle::TriggerInput>,
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SurveyPatch {
    /// `active`, `paused` or `archived` (final).
    #[schema(pattern = "^(active|paused|archived)$")]
    pub status: Option<String>,
    pub title: Option<String>,
    pub intro: Option<String>,
    /// A new question list: later rounds use it, earlier answers keep theirs.
    pub questions: Option<Vec<QuestionInput>>,
    pub min_group_size: Option<i32>,
    /// A new rotation (null: none) for later rounds, with the questions given or the current ones.
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<RotationInput>)]
    pub rotation: Option<Option<RotationInput>>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct QuestionOut {
    pub id: i32,
    pub kind: String,
    pub prompt: String,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub options: Vec<String>,
    pub required: bool,
    /// The engagement driver a scale question measures.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub driver: Option<String>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct SurveyOut {
    pub id: i32,
    pub title: String,
    pub intro: Option<String>,
    pub enps_scale: String,
    pub audience: AudienceInput,
    pub schedule: ScheduleInput,
    pub min_group_size: i32,
    pub status: String,
    pub questions: Vec<QuestionOut>,
    /// The next instant a round goes out; null when paused, archived or done.
    pub next_round_at: Option<DateTime<Utc>>,
    /// The next five send instants, for previews.
    pub upcoming: Vec<DateTime<Utc>>,
    /// Present when the survey rotates its questions.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rotation: Option<RotationOut>,
    /// Present on lifecycle surveys.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub trigger: Option<crate::domain::lifecycle::TriggerInput>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct RotationOut {
    pub per_round: usize,
    /// The coverage plan: how often each driver and question comes round.
    pub plan: Plan,
    /// The plan in a sentence.
    pub summary: String,
}

impl RotationOut {
    pub fn of(questions: &[Question], per_round: usize, cadence: &str) -> Self {
        let plan = Plan::of(questions, per_round);
        Self {
            summary: plan.summary(rotation::unit(cadence)),
            per_round,
            plan,
        }
    }
}

/// Checks the question list and its rotation together: a rotating survey may
/// hold up to 50 questions, each form still at most 10.
fn parse_questions_and_rotation(
    questions: &[QuestionInput],
    rotation: Option<&RotationInput>,
    fields: &mut BTreeMap<String, String>,
) -> (Vec<Question>, Option<usize>) {
    let max = match rotation {
        Some(_) => MAX_ROTATING_QUESTIONS,
        None => MAX_QUESTIONS,
    };
    let qs = parse_questions_up_to(questions, max, fields);
    let per_round = rotation.and_then(|r| rotation::parse(r, &qs, fields));
    (qs, per_round)
}

pub(crate) fn survey_out(conn: &mut DbConnection, s: Survey) -> AppResult<SurveyOut> {
    let rows = repo::surveys::questions(conn, s.id, s.question_version)?;
    let rotation = repo::rotations::per_round(conn, s.id, s.question_version)?.map(|k| {
        let qs: Vec<Question> = rows.iter().map(|q| q.question()).collect();
        RotationOut::of(&qs, k, &s.cadence)
    });
    let questions = rows
        .into_iter()
        .map(|q| {
            let d = q.question();
            QuestionOut {
                id: q.id,
                kind: q.kind,
                prompt: q.prompt,
                options: d.options,
                required: q.required,
                driver: q.driver,
            }
        })
        .collect();
    let trigger = repo::lifecycle::trigger_of(conn, s.id)?;
    let upcoming = match (s.status.as_str(), s.schedule()) {
        // A lifecycle survey goes out with people's milestones, not on a calendar.
        _ if trigger.is_some() => vec![],
        ("active", Some(schedule)) => {
            let after = s.scheduled_until.and_utc();
            schedule
                .next_after(after)
                .map(|first| schedule.upcoming(first, 5))
                .unwrap_or_default()
        }
        _ => vec![],
    };
    Ok(SurveyOut {
        audience: AudienceInput {
            team_ids: repo::surveys::audience(conn, s.id)?,
        },
        schedule: ScheduleInput {
            cadence: s.cadence,
            starts_on: s.starts_on.to_string(),
            send_time: s.send_time,
            timezone: s.timezone,
            open_days: s.open_days,
            reminder_after_days: s.reminder_after_days,
        },
        id: s.id,
        title: s.title,
        intro: s.intro,
        enps_scale: s.enps_scale,
        min_group_size: s.min_group_size,
        status: s.status,
        questions,
        next_round_at: upcoming.first().copied(),
        upcoming,
        rotation,
        trigger: trigger.map(|t| t.input()),
    })
}

fn parse_title(title: Option<&str>, fields: &mut BTreeMap<String, String>) -> Option<String> {
    let t = title.unwrap_or_default().trim();
    if t.is_empty() {
        fields.insert("title".into(), "is required".into());
    } else if t.chars().count() > 200 {
        fields.insert("title".into(), "is longer than 200 characters".into());
    } else {
        return Some(t.to_string());
    }
    None
}

fn parse_intro(intro: Option<&str>, fields: &mut BTreeMap<String, String>) -> Option<String> {
    let i = intro.map(str::trim).filter(|i| !i.is_empty())?;
    if i.chars().count() > 2000 {
        fields.insert("intro".into(), "is longer than 2000 characters".into());
    }
    Some(i.to_string())
}

#[utoipa::path(post, path = "/api/v1/surveys", tag = "surveys", request_body = SurveyInput,
    responses((status = 201, body = SurveyOut), (status = 403, body = crate::error::ErrorBody),
              (status = 422, description = "every bad field, e.g. `questions[2].options`, `schedule.timezone`", body = crate::error::ErrorBody)))]
pub async fn create(
    state: web::Data<AppState>,
    Admin(admin): Admin,
    body: web::Json<SurveyInput>,
) -> AppResult<HttpResponse> {
    let input = body.into_inner();
    let now = Utc::now();
    let out = state
        .db(move |conn| create_survey(conn, &admin.actor(), input, now))
        .await?;
    Ok(HttpResponse::Created().json(out))
}

/// Checks and stores a new survey, naming every bad field: the API and the builder page.
pub(crate) fn create_survey(
    conn: &mut DbConnection,
    actor: &Actor,
    input: SurveyInput,
    now: DateTime<Utc>,
) -> AppResult<SurveyOut> {
    let input = crate::routes::api::templates::apply(conn, input, now.date_naive())?;
    let mut fields = BTreeMap::new();
    let title = parse_title(input.title.as_deref(), &mut fields);
    let intro = parse_intro(input.intro.as_deref(), &mut fields);
    let (questions, per_round) = parse_questions_and_rotation(
        &input.questions,
        input.rotation.flatten().as_ref(),
        &mut fields,
    );
    let scale = EnpsScale::parse(input.enps_scale.as_deref().unwrap_or("1-10"))
        .map_err(|e| fields.insert("enps_scale".into(), e))
        .ok();
    let trigger = input
        .trigger
        .as_ref()
        .and_then(|t| crate::domain::lifecycle::Trigger::parse(t, &mut fields));
    let schedule = match &input.schedule {
        Some(s) => parse_schedule(s, &mut fields),
        None if input.trigger.is_some() => parse_schedule(
            &crate::domain::lifecycle::default_schedule(now.date_naive()),
            &mut fields,
        ),
        None => {
            fields.insert(
                "schedule".into(),
                "is required: cadence, starts_on, send_time, timezone, open_days".into(),
            );
            None
        }
    };
    let min_group_size = parse_min_group_size(input.min_group_size)
        .map_err(|e| fields.insert("min_group_size".into(), e))
        .ok();
    let team_ids = input.audience.map(|a| a.team_ids).unwrap_or_default();
    for t in &team_ids {
        if repo::teams::find(conn, *t)?.is_none() {
            fields.insert("audience.team_ids".into(), format!("there is no team {t}"));
        }
    }
    let (Some(title), Some(scale), Some(schedule), Some(min_group_size), true) = (
        title,
        scale,
        schedule,
        min_group_size,
        fields.is_empty() && trigger.is_some() == input.trigger.is_some(),
    ) else {
        return Err(AppError::fields(fields));
    };
    crate::db::write_transaction(conn, |conn| {
        let s = &schedule.schedule;
        let id = repo::surveys::insert(
            conn,
            &NewSurvey {
                title,
                intro,
                enps_scale: scale.as_str().into(),
                cadence: s.cadence.as_str().into(),
                starts_on: s.starts_on,
                send_time: s.send_time.format("%H:%M").to_string(),
                timezone: s.timezone.name().into(),
                open_days: schedule.open_days,
                reminder_after_days: schedule.reminder_after_days,
                min_group_size,
                status: "active".into(),
                question_version: 1,
                // Occurrences before the survey existed are not due.
                scheduled_until: now.naive_utc(),
                created_at: now.naive_utc(),
                updated_at: now.naive_utc(),
            },
        )?;
        repo::surveys::insert_questions(conn, id, 1, &questions)?;
        if let Some(k) = per_round {
            repo::rotations::set(conn, id, 1, k)?;
        }
        repo::surveys::set_audience(conn, id, &team_ids)?;
        if let Some(t) = &trigger {
            repo::lifecycle::set_trigger(conn, id, t)?;
        }
        let survey = repo::surveys::find(conn, id)?.ok_or_else(|| AppError::not_found("survey"))?;
        let detail = format!(
            "{}, {}, {} questions{}, min_group_size {}",
            survey.title,
            survey.cadence,
            questions.len(),
            per_round.map_or(String::new(), |k| format!(" ({k} a round)")),
            survey.min_group_size
        );
        audit::record(
            conn,
            actor,
            audit::action::SURVEY_CREATE,
            &survey_target(id),
            &detail,
        )?;
        survey_out(conn, survey)
    })
}

#[utoipa::path(get, path = "/api/v1/surveys", tag = "surveys", params(Paging),
    responses((status = 200, body = [SurveyOut]), (status = 403, body = crate::error::ErrorBody)))]
pub async fn list(
    state: web::Data<AppState>,
    _admin: Admin,
    req: HttpRequest,
    paging: web::Query<Paging>,
) -> AppResult<HttpResponse> {
    let (offset, limit) = paging.offset()?;
    let (items, total) = state
        .db(move |conn| {
            let (rows, total) = repo::surveys::list(conn, offset, limit)?;
            let items = rows
                .into_iter()
                .map(|s| survey_out(conn, s))
                .collect::<AppResult<Vec<_>>>()?;
            Ok((items, total))
        })
        .await?;
    paged(&req, *paging, items, total)
}

#[utoipa::path(get, path = "/api/v1/surveys/{id}", tag = "surveys",
    responses((status = 200, body = SurveyOut), (status = 404, body = crate::error::ErrorBody)))]
pub async fn get(
    state: web::Data<AppState>,
    _admin: Admin,
    id: web::Path<i32>,
) -> AppResult<HttpResponse> {
    let id = id.into_inner();
    let out = state
        .db(move |conn| {
            let s = repo::surveys::find(conn, id)?.ok_or_else(|| AppError::not_found("survey"))?;
            survey_out(conn, s)
        })
        .await?;
    Ok(HttpResponse::Ok().json(out))
}

#[utoipa::path(patch, path = "/api/v1/surveys/{id}", tag = "surveys", request_body = SurveyPatch,
    responses((status = 200, body = SurveyOut), (status = 404, body = crate::error::ErrorBody),
              (status = 409, description = "an archived survey cannot change", body = crate::error::ErrorBody),
              (status = 422, body = crate::error::ErrorBody)))]
pub async fn update(
    state: web::Data<AppState>,
    Admin(admin): Admin,
    id: web::Path<i32>,
    body: web::Json<SurveyPatch>,
) -> AppResult<HttpResponse> {
    let (id, patch) = (id.into_inner(), body.into_inner());
    let now = Utc::now();
    let out = state
        .db(move |conn| update_survey(conn, &admin.actor(), id, patch, now))
        .await?;
    Ok(HttpResponse::Ok().json(out))
}

/// Pauses, resumes, archives or edits a survey: the API and the survey page.
pub(crate) fn update_survey(
    conn: &mut DbConnection,
    actor: &Actor,
    id: i32,
    patch: SurveyPatch,
    now: DateTime<Utc>,
) -> AppResult<SurveyOut> {
    crate::db::write_transaction(conn, |conn| {
        let s = repo::surveys::find(conn, id)?.ok_or_else(|| AppError::not_found("survey"))?;
        if s.status == "archived" {
            return Err(AppError::Conflict {
                code: "archived",
                message: "an archived survey cannot change".into(),
            });
        }
        let mut fields = BTreeMap::new();
        let mut c = SurveyChanges {
            updated_at: Some(now.naive_utc()),
            ..Default::default()
        };
        if let Some(status) = &patch.status {
            match status.as_str() {
                "active" | "paused" | "archived" => c.status = Some(status.clone()),
                other => drop(fields.insert(
                    "status".into(),
                    format!("`{other}` is not a status: use active, paused or archived"),
                )),
            }
        }
        if patch.title.is_some() {
            c.title = parse_title(patch.title.as_deref(), &mut fields);
        }
        if patch.intro.is_some() {
            c.intro = Some(parse_intro(patch.intro.as_deref(), &mut fields));
        }
        if let Some(m) = patch.min_group_size {
            c.min_group_size = parse_min_group_size(Some(m))
                .map_err(|e| fields.insert("min_group_size".into(), e))
                .ok();
        }
        // New questions or a new rotation make a new version of the list.
        let revised = match (&patch.questions, &patch.rotation) {
            (None, None) => None,
            (questions, rotation) => {
                let current = repo::rotations::per_round(conn, id, s.question_version)?;
                let questions = match questions {
                    Some(q) => q.clone(),
                    None => repo::surveys::questions(conn, id, s.question_version)?
                        .iter()
                        .map(|q| as_input(&q.question()))
                        .collect(),
                };
                let rotation = match rotation {
                    Some(r) => *r,
                    None => current.map(|k| RotationInput {
                        per_round: k as i32,
                    }),
                };
                Some(parse_questions_and_rotation(
                    &questions,
                    rotation.as_ref(),
                    &mut fields,
                ))
            }
        };
        if !fields.is_empty() {
            return Err(AppError::fields(fields));
        }
        if let Some((qs, per_round)) = revised {
            // Rounds already sent keep the version they were sent with.
            let version = s.question_version + 1;
            repo::surveys::insert_questions(conn, id, version, &qs)?;
            if let Some(k) = per_round {
                repo::rotations::set(conn, id, version, k)?;
            }
            c.question_version = Some(version);
        }
        repo::surveys::update(conn, id, &c)?;
        // Resuming does not send, or record as skipped, what fell due while paused.
        if s.status == "paused" && c.status.as_deref() == Some("active") {
            repo::surveys::advance_scheduled_until(conn, id, now.naive_utc())?;
        }
        let after = repo::surveys::find(conn, id)?.ok_or_else(|| AppError::not_found("survey"))?;
        let mut changed = vec![];
        if s.status != after.status {
            changed.push(format!("status {} → {}", s.status, after.status));
        }
        if s.title != after.title {
            changed.push("title".into());
        }
        if s.intro != after.intro {
            changed.push("intro".into());
        }
        if s.min_group_size != after.min_group_size {
            changed.push(format!(
                "min_group_size {} → {}",
                s.min_group_size, after.min_group_size
            ));
        }
        if s.question_version != after.question_version {
            changed.push(format!("questions (version {})", after.question_version));
        }
        audit::record(
            conn,
            actor,
            audit::action::SURVEY_UPDATE,
            &survey_target(id),
            &changed.join(", "),
        )?;
        survey_out(conn, after)
    })
}

/// A stored question as the client would send it, to carry it into a new version.
fn as_input(q: &Question) -> QuestionInput {
    QuestionInput {
        kind: q.kind.as_str().into(),
        prompt: q.prompt.clone(),
        options: (!q.options.is_empty()).then(|| q.options.clone()),
        required: Some(q.required),
        driver: q.driver.map(|d| d.key().into()),
    }
}

fn survey_target(id: i32) -> String {
    format!("survey:{id}")
}

#[utoipa::path(post, path = "/api/v1/surveys/{id}/rounds", tag = "surveys",
    responses((status = 201, description = "a round sent now, outside the schedule", body = crate::repo::rounds::Round),
              (status = 404, body = crate::error::ErrorBody), (status = 409, body = crate::error::ErrorBody)))]
pub async fn send_round(
    state: web::Data<AppState>,
    Admin(admin): Admin,
    id: web::Path<i32>,
) -> AppResult<HttpResponse> {
    let id = id.into_inner();
    let (mailing, pool) = (state.mailing.clone(), state.pool.clone());
    let now = Utc::now().trunc_subsecs(0);
    let round = state
        .db(move |conn| send_round_now(conn, &admin.actor(), id, now, &mailing, pool))
        .await?;
    Ok(HttpResponse::Created().json(round))
}

/// Sends a round of a survey now, outside its schedule: the API and the survey page.
///
/// The caller waits for the first chunk of invitations only (everyone, in a
/// company of up to `OPENING_CHUNK` people); a thread of its own writes the
/// rest, while the round lists show `invited` growing towards `to_invite`.
pub(crate) fn send_round_now(
    conn: &mut DbConnection,
    actor: &Actor,
    id: i32,
    now: DateTime<Utc>,
    mailing: &std::sync::Arc<crate::jobs::Mailing>,
    pool: crate::db::Pool,
) -> AppResult<repo::rounds::Round> {
    let s = repo::surveys::find(conn, id)?.ok_or_else(|| AppError::not_found("survey"))?;
    if s.status == "archived" {
        return Err(AppError::Conflict {
            code: "archived",
            message: "an archived survey sends no rounds".into(),
        });
    }
    if repo::lifecycle::trigger_of(conn, id)?.is_some() {
        return Err(AppError::Conflict {
            code: "lifecycle_survey",
            message: "a lifecycle survey goes to each person at their milestone or departure: it has no round to send by hand".into(),
        });
    }
    match scheduler::open_round_within(conn, &s, now, now, mailing, 1, Some(actor))? {
        RoundOutcome::Sent {
            round_id,
            opening: true,
            ..
        } => {
            crate::jobs::carry_on_in_background(pool, mailing.clone(), round_id);
            repo::rounds::find(conn, round_id)?.ok_or_else(|| AppError::not_found("round"))
        }
        RoundOutcome::Sent { round_id, .. } | RoundOutcome::Skipped { round_id } => {
            repo::rounds::find(conn, round_id)?.ok_or_else(|| AppError::not_found("round"))
        }
        RoundOutcome::AlreadyThere => Err(AppError::Conflict {
            code: "round_exists",
            message: "a round of this survey was sent this very second".into(),
        }),
    }
}

#[utoipa::path(get, path = "/api/v1/surveys/{id}/rounds", tag = "surveys", params(Paging),
    responses((status = 200, body = [crate::repo::rounds::Round]), (status = 404, body = crate::error::ErrorBody)))]
pub async fn rounds(
    state: web::Data<AppState>,
    _admin: Admin,
    req: HttpRequest,
    id: web::Path<i32>,
    paging: web::Query<Paging>,
) -> AppResult<HttpResponse> {
    let id = id.into_inner();
    let (offset, limit) = paging.offset()?;
    let (rows, total, live, opening) = state
        .db(move |conn| {
            repo::surveys::find(conn, id)?.ok_or_else(|| AppError::not_found("survey"))?;
            let (rows, total) = repo::rounds::for_survey(conn, id, offset, limit)?;
            let live = crate::reports::participation::of_rounds(conn, &rows)?;
            let ids: Vec<i32> = rows.iter().map(|r| r.id).collect();
            let opening = repo::openings::in_progress(conn, &ids)?;
            Ok((rows, total, live, opening))
        })
        .await?;
    // `responded` only where the disclosure rule shows the company's figures: a
    // count under the threshold would tell who has answered an open round.
    let rows: Vec<serde_json::Value> = rows
        .into_iter()
        .map(|r| {
            let mut v = serde_json::to_value(&r).unwrap_or_default();
            if let Some(crate::reports::round::Live::Suppressed { reason, .. }) = live.get(&r.id) {
                v["responded"] = serde_json::Value::Null;
                v["participation_suppressed"] = serde_json::json!(reason);
            }
            // While invitations are still being written: `invited` grows to `to_invite`.
            if let Some(to_invite) = opening.get(&r.id) {
                v["opening"] = serde_json::json!(true);
                v["to_invite"] = serde_json::json!(to_invite);
            }
            v
        })
        .collect();
    paged(&req, *paging, rows, total)
}
