//! /api/v1/templates, and filling a new survey from one: library questions, title and schedule defaults.

use crate::auth::Admin;
use crate::db::DbConnection;
use crate::domain::lifecycle::TriggerInput;
use crate::domain::rotation::{is_fixed, RotationInput, MAX_ROTATING_QUESTIONS};
use crate::domain::survey::{QuestionInput, ScheduleInput};
use crate::domain::templates::{self, Template, TemplateTrigger, ALL_DRIVERS};
use crate::error::{AppError, AppResult};
use crate::repo::{self, library::LibraryRow};
use crate::routes::api::surveys::SurveyInput;
use crate::state::AppState;
use actix_web::{web, HttpResponse};
use chrono::{Datelike, NaiveDate};
use serde::{Deserialize, Serialize};

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct TemplateOut {
    pub key: &'static str,
    pub title: &'static str,
    pub intro: &'static str,
    pub cadence: &'static str,
    pub open_days: i32,
    pub reminder_after_days: Option<i32>,
    /// Present when surveys built from it rotate their questions.
    pub rotation: Option<RotationInput>,
    /// For lifecycle templates: when their survey goes out.
    pub trigger: Option<TemplateTrigger>,
    /// The library questions it starts with, in the language asked for.
    pub questions: Vec<TemplateQuestionOut>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct TemplateQuestionOut {
    /// The library question's id.
    pub question_id: i32,
    pub kind: String,
    pub driver: Option<String>,
    pub prompt: String,
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
pub struct LanguageQuery {
    /// `en` (default) or `fr`.
    pub language: Option<String>,
}

#[utoipa::path(get, path = "/api/v1/templates", tag = "questions", params(LanguageQuery),
    responses((status = 200, body = [TemplateOut]), (status = 403, body = crate::error::ErrorBody),
              (status = 422, body = crate::error::ErrorBody)))]
pub async fn list(
    state: web::Data<AppState>,
    _admin: Admin,
    q: web::Query<LanguageQuery>,
) -> AppResult<HttpResponse> {
    let lang = parse_language(q.language.as_deref())?;
    let rows = state.db(|conn| Ok(repo::library::all(conn)?)).await?;
    let out: Vec<TemplateOut> = templates::TEMPLATES
        .iter()
        .map(|t| TemplateOut {
            key: t.key,
            title: t.title(lang),
            intro: t.intro(lang),
            cadence: t.cadence,
            open_days: t.open_days,
            reminder_after_days: t.reminder_after_days,
            rotation: t.per_round.map(|per_round| RotationInput { per_round }),
            trigger: t.trigger,
            questions: questions_of(t, &rows)
                .into_iter()
                .map(|r| {
                    let q = r.question();
                    TemplateQuestionOut {
                        question_id: r.id,
                        kind: r.kind.clone(),
                        driver: r.driver.clone(),
                        prompt: if lang == "fr" {
                            q.prompt.fr
                        } else {
                            q.prompt.en
                        },
                    }
                })
                .collect(),
        })
        .collect();
    Ok(HttpResponse::Ok().json(out))
}

pub fn parse_language(lang: Option<&str>) -> AppResult<&'static str> {
    match lang.map(str::trim) {
        None | Some("") | Some("en") => Ok("en"),
        Some("fr") => Ok("fr"),
        Some(other) => Err(AppError::field(
            "language",
            format!("`{other}` is not a language Pulse speaks: use en or fr"),
        )),
    }
}

/// The template's active library questions, in order. `*` takes each driver
/// question of the library (Pulse's own, filed under their driver, and HR's
/// with a driver), as many as a rotating survey holds.
fn questions_of<'a>(t: &Template, rows: &'a [LibraryRow]) -> Vec<&'a LibraryRow> {
    let active = || rows.iter().filter(|r| !r.retired);
    let fixed = t
        .questions
        .iter()
        .filter(|k| **k != ALL_DRIVERS)
        .filter_map(|k| active().find(|r| r.key.as_deref() == Some(k)))
        .filter(|r| is_fixed(r.question().kind))
        .count();
    let mut out: Vec<&LibraryRow> = vec![];
    for key in t.questions {
        if *key == ALL_DRIVERS {
            let drivers = active().filter(|r| match (&r.driver, &r.key) {
                (Some(d), Some(k)) => k.starts_with(&format!("{d}.")),
                (Some(_), None) => r.kind == "scale",
                _ => false,
            });
            let room = MAX_ROTATING_QUESTIONS.saturating_sub(fixed);
            let new: Vec<&LibraryRow> = drivers
                .filter(|r| !out.iter().any(|o| o.id == r.id))
                .take(room)
                .collect();
            out.extend(new);
        } else if let Some(r) = active().find(|r| r.key.as_deref() == Some(key)) {
            if !out.iter().any(|o| o.id == r.id) {
                out.push(r);
            }
        }
    }
    out
}

/// Next Monday (today if it is one): pulses usually go out at the start of a week.
pub fn next_monday(today: NaiveDate) -> NaiveDate {
    today + chrono::Duration::days((7 - i64::from(today.weekday().num_days_from_monday())) % 7)
}

/// A survey input with what the template gives wherever the input gives
/// nothing: title, intro, questions (from the library, in `language`), the
/// schedule (as a whole), the rotation (`"rotation": null` drops it) and, for
/// the onboarding and exit templates, the lifecycle trigger.
pub(crate) fn apply(
    conn: &mut DbConnection,
    mut input: SurveyInput,
    today: NaiveDate,
) -> AppResult<SurveyInput> {
    let lang = parse_language(input.language.as_deref())?;
    let Some(key) = input.template.as_deref() else {
        return Ok(input);
    };
    let t = templates::parse(key.trim()).map_err(|e| AppError::field("template", e))?;
    if input.questions.is_empty() {
        let rows = repo::library::all(conn)?;
        input.questions = questions_of(t, &rows)
            .into_iter()
            .map(|r| r.question().survey_input(lang))
            .collect::<Vec<QuestionInput>>();
    }
    input.title = input.title.or_else(|| Some(t.title(lang).into()));
    input.intro = input.intro.or_else(|| Some(t.intro(lang).into()));
    input.schedule = input.schedule.or_else(|| {
        Some(ScheduleInput {
            cadence: t.cadence.into(),
            starts_on: next_monday(today).to_string(),
            send_time: "09:00".into(),
            timezone: "UTC".into(),
            open_days: t.open_days,
            reminder_after_days: t.reminder_after_days,
        })
    });
    if input.rotation.is_none() {
        input.rotation = Some(t.per_round.map(|per_round| RotationInput { per_round }));
    }
    // The onboarding and exit templates make lifecycle surveys.
    if input.trigger.is_none() {
        input.trigger = t.trigger.map(|trigger| match trigger {
            TemplateTrigger::Onboarding { days_after_hire } => TriggerInput {
                kind: "onboarding".into(),
                days_after_hire: Some(days_after_hire.iter().map(|&d| d as i32).collect()),
            },
            TemplateTrigger::Exit => TriggerInput {
                kind: "exit".into(),
                days_after_hire: None,
            },
        });
    }
    Ok(input)
}
