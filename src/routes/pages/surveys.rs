//! /surveys: the list, the builder (at most ten questions, a schedule with a
//! timezone picker and a preview of the next five send dates), and each
//! survey's page with pause, resume, archive, "send now" and its rounds. HR only.

use crate::domain::driver::Driver;
use crate::domain::lifecycle::TriggerInput;
use crate::domain::rotation::{self, RotationInput, MAX_ROTATING_QUESTIONS};
use crate::domain::schedule::Cadence;
use crate::domain::survey::{
    parse_questions_up_to, parse_schedule, QuestionInput, QuestionKind, ScheduleInput,
    MAX_QUESTIONS,
};
use crate::domain::templates::TEMPLATES;
use crate::repo::library::LibraryRow;
use crate::repo::{self, rounds::Round};
use crate::reports::round::Live;
use crate::routes::api::surveys::RotationOut;
use crate::routes::api::surveys::{
    create_survey, send_round_now, survey_out, update_survey, AudienceInput, SurveyInput,
    SurveyOut, SurveyPatch,
};
use crate::routes::api::templates::next_monday;
use crate::routes::pages::ui::{
    field, field_errors, local_time, percent, redirect_with, FormData, OrPage, PageResult, Session,
    TeamTree, User,
};
use crate::state::AppState;
use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use chrono::{DateTime, SubsecRound, Utc};
use serde_json::{json, Value};
use std::collections::BTreeMap;

pub fn configure(cfg: &mut web::ServiceConfig) {
    crate::routes::Router::new()
        .route("/surveys", web::get().to(list))
        .route("/surveys/new", web::get().to(new_form))
        .route("/surveys/new", web::post().to(build))
        .route("/surveys/{id}", web::get().to(detail))
        .route("/surveys/{id}/status", web::post().to(set_status))
        .route("/surveys/{id}/rounds", web::post().to(send_now))
        .register(cfg);
}

fn tz_of(name: &str) -> chrono_tz::Tz {
    name.parse().unwrap_or(chrono_tz::UTC)
}

fn cadence_label(c: &str) -> &'static str {
    match c {
        "once" => "Once",
        "weekly" => "Every week",
        "biweekly" => "Every two weeks",
        "monthly" => "Every month",
        "quarterly" => "Every quarter",
        _ => "Unknown",
    }
}

/// A round's participation, responded of invited, where the disclosure rule shows it.
pub(crate) fn participation(r: &Round, live: Option<&Live>) -> Value {
    match live {
        Some(Live::Shown {
            invited,
            responded,
            participation,
        }) => json!({
            "responded": responded,
            "invited": invited,
            "percent": percent(*participation),
            "width": participation.unwrap_or(0.0).round() as i64,
        }),
        _ => json!({
            "responded": "–",
            "invited": r.invited,
            "percent": format!("hidden (under {})", r.min_group_size.max(3)),
            "width": 0,
        }),
    }
}

fn round_json(r: &Round, live: &BTreeMap<i32, Live>, tz: chrono_tz::Tz) -> Value {
    json!({
        "id": r.id,
        "when": local_time(r.scheduled_for.and_utc(), tz),
        "closes": local_time(r.closes_at.and_utc(), tz),
        "status": r.status,
        "sent": r.status != "skipped",
        "participation": participation(r, live.get(&r.id)),
    })
}

pub async fn list(req: HttpRequest, session: Session, state: web::Data<AppState>) -> PageResult {
    let user = session.require(&req)?;
    user.require_admin(&req)?;
    let rows = state
        .db(|conn| {
            let (surveys, _) = repo::surveys::list(conn, 0, 1000)?;
            let mut out = vec![];
            let mut lasts = vec![];
            for s in surveys {
                let (last, _) = repo::rounds::for_survey(conn, s.id, 0, 1)?;
                lasts.extend(last.iter().cloned());
                out.push((survey_out(conn, s)?, last.into_iter().next()));
            }
            let live = crate::reports::participation::of_rounds(conn, &lasts)?;
            Ok((out, live))
        })
        .await
        .or_page(&req, &user)?;
    let (rows, live) = rows;
    let surveys: Vec<Value> = rows
        .iter()
        .map(|(s, last)| {
            let tz = tz_of(&s.schedule.timezone);
            json!({
                "id": s.id,
                "title": s.title,
                "status": s.status,
                "cadence": cadence_label(&s.schedule.cadence),
                "questions": s.questions.len(),
                "next": s.next_round_at.map(|t| local_time(t, tz)),
                "timezone": s.schedule.timezone,
                "last": last.as_ref().map(|r| round_json(r, &live, tz)),
            })
        })
        .collect();
    Ok(user.page(
        &req,
        "surveys",
        json!({ "title": "Surveys", "surveys": surveys }),
    ))
}

/// One question slot of the builder, as sent or as first offered.
#[derive(Clone)]
struct Slot {
    kind: String,
    prompt: String,
    options: String,
    required: bool,
    /// A driver key, or "" for none.
    driver: String,
}

impl Slot {
    fn of(q: &QuestionInput) -> Self {
        Slot {
            kind: q.kind.clone(),
            prompt: q.prompt.clone(),
            options: q.options.clone().unwrap_or_default().join("\n"),
            required: q.required.unwrap_or(q.kind != "text"),
            driver: q.driver.clone().unwrap_or_default(),
        }
    }
}

impl Slot {
    fn input(&self) -> QuestionInput {
        QuestionInput {
            kind: self.kind.clone(),
            prompt: self.prompt.clone(),
            options: (self.kind == "choice").then(|| {
                self.options
                    .lines()
                    .map(str::trim)
                    .filter(|o| !o.is_empty())
                    .map(String::from)
                    .collect()
            }),
            required: Some(self.required),
            // Only scale questions measure a driver; a driver left on a slot
            // whose kind changed is dropped rather than refused.
            driver: Some(self.driver.clone()).filter(|d| !d.is_empty() && self.kind == "scale"),
        }
    }
}

/// The builder's state, read back from its own form.
struct Draft {
    form: FormData,
    slots: Vec<Slot>,
}

impl Draft {
    fn blank() -> Self {
        let monday = next_monday(chrono::Utc::now().date_naive());
        let form = FormData(
            [
                ("title", "Weekly pulse".to_string()),
                ("enps_scale", "1-10".into()),
                ("cadence", "weekly".into()),
                ("starts_on", monday.to_string()),
                ("send_time", "09:00".into()),
                ("timezone", "UTC".into()),
                ("open_days", "5".into()),
                ("reminder_after_days", "2".into()),
                ("min_group_size", "5".into()),
            ]
            .into_iter()
            .map(|(k, v)| (k.to_string(), v))
            .collect(),
        );
        let slot = |kind: &str, prompt: &str, required| Slot {
            kind: kind.into(),
            prompt: prompt.into(),
            options: String::new(),
            required,
            driver: String::new(),
        };
        Self {
            form,
            slots: vec![
                slot(
                    "enps",
                    "How likely are you to recommend working here to a friend?",
                    true,
                ),
                slot("scale", "I have what I need to do my job well.", true),
                slot("text", "Anything else you would like to tell us?", false),
            ],
        }
    }

    /// Slots are numbered q0_…, q1_…; every numbered slot sent is read, so a
    /// hand-made form with an eleventh question meets the server's rule.
    fn read(form: FormData) -> Self {
        let mut indices: Vec<usize> = form
            .0
            .iter()
            .filter_map(|(k, _)| k.strip_prefix('q')?.strip_suffix("_kind")?.parse().ok())
            .collect();
        indices.sort_unstable();
        indices.dedup();
        let slots = indices
            .into_iter()
            .map(|i| Slot {
                kind: form.get(&format!("q{i}_kind")).to_string(),
                prompt: form.get(&format!("q{i}_prompt")).to_string(),
                options: form.get(&format!("q{i}_options")).to_string(),
                required: form.has(&format!("q{i}_required")),
                driver: form.get(&format!("q{i}_driver")).trim().to_string(),
            })
            .collect();
        Self { form, slots }
    }

    /// Fills the draft from a template, keeping its audience and threshold.
    fn fill_from_template(&mut self, filled: SurveyInput) {
        let keep = ["audience", "min_group_size", "csrf", "template_language"];
        self.form.0.retain(|(k, _)| keep.contains(&k.as_str()));
        let mut set = |k: &str, v: String| self.form.0.push((k.into(), v));
        set("title", filled.title.unwrap_or_default());
        set("intro", filled.intro.unwrap_or_default());
        set("enps_scale", "1-10".into());
        if let Some(s) = filled.schedule {
            set("cadence", s.cadence);
            set("starts_on", s.starts_on);
            set("send_time", s.send_time);
            set("timezone", s.timezone);
            set("open_days", s.open_days.to_string());
            set(
                "reminder_after_days",
                s.reminder_after_days
                    .map(|d| d.to_string())
                    .unwrap_or_default(),
            );
        }
        if let Some(r) = filled.rotation.flatten() {
            set("per_round", r.per_round.to_string());
        }
        if let Some(t) = filled.trigger {
            let days: Vec<String> = t
                .days_after_hire
                .iter()
                .flatten()
                .map(i32::to_string)
                .collect();
            set("trigger", t.kind);
            set("days_after_hire", days.join(", "));
        }
        self.slots = filled.questions.iter().map(Slot::of).collect();
    }

    /// The rotation as typed: None for none, Err for what is not a number.
    fn per_round(&self) -> Result<Option<RotationInput>, String> {
        match self.form.opt("per_round") {
            None => Ok(None),
            Some(v) => v
                .parse()
                .map(|per_round| Some(RotationInput { per_round }))
                .map_err(|_| format!("`{v}` is not a whole number")),
        }
    }

    /// How many questions the builder holds: more when the survey rotates.
    fn max_slots(&self) -> usize {
        match self.per_round() {
            Ok(Some(_)) => MAX_ROTATING_QUESTIONS,
            _ => MAX_QUESTIONS,
        }
    }

    /// The coverage plan of the rotation as typed, when it is valid.
    fn plan(&self) -> Option<String> {
        let rotation = self.per_round().ok()??;
        let mut errors = BTreeMap::new();
        let inputs: Vec<QuestionInput> = self.slots.iter().map(Slot::input).collect();
        let qs = parse_questions_up_to(&inputs, MAX_ROTATING_QUESTIONS, &mut errors);
        let k = rotation::parse(&rotation, &qs, &mut errors)?;
        Some(RotationOut::of(&qs, k, self.form.get("cadence")).summary)
    }

    fn schedule(&self) -> ScheduleInput {
        let f = &self.form;
        ScheduleInput {
            cadence: f.get("cadence").trim().into(),
            starts_on: f.get("starts_on").trim().into(),
            send_time: f.get("send_time").trim().into(),
            timezone: f.get("timezone").trim().into(),
            open_days: f.get("open_days").trim().parse().unwrap_or(0),
            reminder_after_days: f.opt("reminder_after_days").and_then(|d| d.parse().ok()),
        }
    }

    fn input(&self, errors: &mut BTreeMap<String, String>) -> SurveyInput {
        let f = &self.form;
        let questions = self.slots.iter().map(Slot::input).collect();
        let rotation = self
            .per_round()
            .map_err(|e| errors.insert("rotation.per_round".into(), e))
            .ok()
            .flatten();
        let mut team_ids = vec![];
        for t in f.all("audience") {
            match t.parse() {
                Ok(id) => team_ids.push(id),
                Err(_) => {
                    drop(errors.insert("audience.team_ids".into(), format!("`{t}` is not a team")))
                }
            }
        }
        let number = |key: &str, errors: &mut BTreeMap<String, String>| -> Option<i32> {
            let v = f.get(key).trim();
            match v.parse() {
                Ok(n) => Some(n),
                Err(_) if v.is_empty() => None,
                Err(_) => {
                    errors.insert(key.into(), format!("`{v}` is not a whole number"));
                    None
                }
            }
        };
        if f.get("open_days").trim().parse::<i32>().is_err() {
            errors.insert(
                "schedule.open_days".into(),
                "write a number of days, e.g. 5".into(),
            );
        }
        let reminder = f.get("reminder_after_days").trim();
        if !reminder.is_empty() && reminder.parse::<i32>().is_err() {
            errors.insert(
                "schedule.reminder_after_days".into(),
                "write a number of days, or leave it empty for no reminder".into(),
            );
        }
        SurveyInput {
            title: Some(f.get("title").into()),
            intro: f.opt("intro"),
            questions,
            enps_scale: f.opt("enps_scale"),
            audience: Some(AudienceInput { team_ids }),
            schedule: Some(self.schedule()),
            min_group_size: number("min_group_size", errors),
            template: None,
            language: None,
            // Explicit: an empty field means no rotation.
            rotation: Some(rotation),
            trigger: self.trigger(errors),
        }
    }

    /// What sends the survey when it is not the schedule: hire dates
    /// (onboarding milestones, "30, 60, 90") or a recorded departure.
    fn trigger(&self, errors: &mut BTreeMap<String, String>) -> Option<TriggerInput> {
        let kind = self.form.get("trigger").trim().to_string();
        if kind.is_empty() {
            return None;
        }
        let days = self.form.get("days_after_hire");
        let days_after_hire = if kind != "onboarding" || days.trim().is_empty() {
            None
        } else {
            let parsed: Result<Vec<i32>, _> =
                days.split(',').map(|d| d.trim().parse::<i32>()).collect();
            match parsed {
                Ok(d) => Some(d),
                Err(_) => {
                    errors.insert(
                        "trigger.days_after_hire".into(),
                        "write whole numbers of days separated by commas, e.g. 30, 60, 90".into(),
                    );
                    None
                }
            }
        };
        Some(TriggerInput {
            kind,
            days_after_hire,
        })
    }

    /// The next five send instants, when the schedule as typed is valid.
    fn preview(&self, now: DateTime<Utc>) -> Option<Vec<String>> {
        let mut errors = BTreeMap::new();
        let s = parse_schedule(&self.schedule(), &mut errors)?.schedule;
        let first = s.next_after(now)?;
        Some(
            s.upcoming(first, 5)
                .into_iter()
                .map(|t| local_time(t, s.timezone))
                .collect(),
        )
    }
}

/// What the builder offers besides the draft: teams, and library questions to add.
struct Choices {
    teams: TeamTree,
    library: Vec<LibraryRow>,
}

fn render_builder(
    req: &HttpRequest,
    user: &User,
    choices: &Choices,
    draft: &Draft,
    errors: &BTreeMap<String, String>,
    status: StatusCode,
) -> HttpResponse {
    let teams = &choices.teams;
    let f = &draft.form;
    let drivers: Vec<(&str, &str)> = std::iter::once(("", "No driver"))
        .chain(Driver::ALL.iter().map(|d| (d.key(), d.name("en"))))
        .collect();
    let lang = if f.get("template_language") == "fr" {
        "fr"
    } else {
        "en"
    };
    let mut library: Vec<(String, String)> = choices
        .library
        .iter()
        .filter(|r| !r.retired)
        .map(|r| {
            let q = r.question();
            let theme = match (q.driver, q.kind) {
                (Some(d), _) => d.name("en").to_string(),
                (None, QuestionKind::Enps) => "eNPS".into(),
                (None, QuestionKind::Text) => "Comment".into(),
                (None, _) => "Other".into(),
            };
            let prompt = if lang == "fr" {
                q.prompt.fr
            } else {
                q.prompt.en
            };
            (r.id.to_string(), format!("{theme} — {prompt}"))
        })
        .collect();
    library.sort_by(|a, b| a.1.cmp(&b.1));
    let max_slots = draft.max_slots();
    let chosen: Vec<i32> = f.all("audience").filter_map(|t| t.parse().ok()).collect();
    let audience: Vec<Value> = teams
        .rows
        .iter()
        .map(|(t, depth, _)| {
            json!({ "id": t.id, "name": t.name, "indent": depth * 20, "checked": chosen.contains(&t.id) })
        })
        .collect();
    let kinds = [
        ("enps", "eNPS: would you recommend working here?"),
        ("scale", "Agreement, 1 to 5"),
        ("choice", "One choice among options"),
        ("text", "Free comment"),
    ];
    let slots: Vec<Value> = draft
        .slots
        .iter()
        .enumerate()
        .map(|(i, s)| {
            let key = |f: &str| format!("questions[{i}].{f}");
            json!({
                "index": i,
                "number": i + 1,
                "kind": field(&format!("q{i}_kind"), "Kind").value(&s.kind).options(kinds).error_from(errors, &key("kind")).json(),
                "prompt": field(&format!("q{i}_prompt"), "Question").value(&s.prompt).required().error_from(errors, &key("prompt")).json(),
                "options": field(&format!("q{i}_options"), "Options, one per line")
                    .kind("textarea")
                    .hint("For a choice question: 2 to 8 options")
                    .value(&s.options)
                    .error_from(errors, &key("options"))
                    .json(),
                "driver": field(&format!("q{i}_driver"), "Driver").value(&s.driver).options(drivers.clone())
                    .hint("For an agreement question: what it measures, for key-driver reports")
                    .error_from(errors, &key("driver")).json(),
                "required": s.required,
                "is_choice": s.kind == "choice",
                "is_scale": s.kind == "scale",
            })
        })
        .collect();
    let cadences = [
        Cadence::Once,
        Cadence::Weekly,
        Cadence::Biweekly,
        Cadence::Monthly,
        Cadence::Quarterly,
    ]
    .map(|c| (c.as_str(), cadence_label(c.as_str())));
    let preview = draft.preview(Utc::now());
    let sched = |k: &str| format!("schedule.{k}");
    user.render(
        req,
        status,
        "survey_new",
        json!({
            "title": "New survey",
            "has_errors": !errors.is_empty(),
            "questions_error": errors.get("questions"),
            "general": [
                field("title", "Title").value(f.get("title")).required().errors(errors).json(),
                field("intro", "Introduction").kind("textarea").hint("Optional: shown above the questions").value(f.get("intro")).errors(errors).json(),
            ],
            "scale_1_10": f.get("enps_scale") != "0-10",
            "scale_error": errors.get("enps_scale"),
            "audience": audience,
            "audience_error": errors.get("audience.team_ids"),
            "slots": slots,
            "can_add": draft.slots.len() < max_slots,
            "max": max_slots,
            "templates": TEMPLATES.iter().map(|t| json!({
                "key": t.key,
                "title": t.title(lang),
                "rotates": t.per_round.is_some(),
            })).collect::<Vec<_>>(),
            "template_language": field("template_language", "Wording").value(lang).options([("en", "English"), ("fr", "Français")]).json(),
            "library": field("library_pick", "From the library").value("").options(library).json(),
            "has_library": !choices.library.is_empty(),
            "per_round": field("per_round", "Questions per person and round").kind("number").range(1, 9)
                .hint("Empty: everyone answers every question (at most 10). A number: the survey rotates: up to 50 questions, and each person gets this many of the agreement and choice questions each round, plus eNPS and comments")
                .value(f.get("per_round")).error_from(errors, "rotation.per_round").json(),
            "plan": draft.plan(),
            "count": draft.slots.len(),
            "schedule": [
                field("cadence", "How often").value(f.get("cadence")).options(cadences).error_from(errors, &sched("cadence")).json(),
                field("starts_on", "First send date").kind("date").value(f.get("starts_on")).required().error_from(errors, &sched("starts_on")).json(),
                field("send_time", "Send time").kind("time").value(f.get("send_time")).required().error_from(errors, &sched("send_time")).json(),
                field("timezone", "Timezone").hint("An IANA name, e.g. Europe/Paris").value(f.get("timezone")).list("timezones").required().autocomplete("off").error_from(errors, &sched("timezone")).json(),
                field("open_days", "Open for (days)").kind("number").range(1, 90).value(f.get("open_days")).required().error_from(errors, &sched("open_days")).json(),
                field("reminder_after_days", "Reminder after (days)").kind("number").range(1, 89).hint("Empty: no reminder").value(f.get("reminder_after_days")).error_from(errors, &sched("reminder_after_days")).json(),
                field("trigger", "Sent by").value(f.get("trigger"))
                    .options([("", "The schedule"), ("onboarding", "Hire dates: onboarding milestones"), ("exit", "A recorded departure: exit survey")])
                    .hint("Onboarding and exit surveys go to each person on their own dates; the schedule then gives only the send time, time zone and days open")
                    .error_from(errors, "trigger.kind").json(),
                field("days_after_hire", "Onboarding milestones (days after hire)").value(f.get("days_after_hire"))
                    .hint("e.g. 30, 60, 90 (the default when empty)").error_from(errors, "trigger.days_after_hire").json(),
            ],
            "schedule_error": errors.get("schedule"),
            "min_group": field("min_group_size", "Smallest group shown").kind("number").range(3, 1000).hint("Results of fewer respondents stay hidden; at least 3").value(f.get("min_group_size")).errors(errors).json(),
            "timezones": chrono_tz::TZ_VARIANTS.iter().map(|t| t.name()).collect::<Vec<_>>(),
            "preview": preview,
        }),
    )
}

async fn choices(state: &AppState) -> Result<Choices, crate::error::AppError> {
    state
        .db(|conn| {
            Ok(Choices {
                teams: TeamTree::new(repo::teams::all(conn)?),
                library: repo::library::all(conn)?,
            })
        })
        .await
}

pub async fn new_form(
    req: HttpRequest,
    session: Session,
    state: web::Data<AppState>,
) -> PageResult {
    let user = session.require(&req)?;
    user.require_admin(&req)?;
    let teams = choices(&state).await.or_page(&req, &user)?;
    Ok(render_builder(
        &req,
        &user,
        &teams,
        &Draft::blank(),
        &BTreeMap::new(),
        StatusCode::OK,
    ))
}

/// Every button of the builder posts here: start from a template, add a
/// question (blank or from the library) or remove one, preview the dates and
/// the coverage plan, or create the survey.
pub async fn build(
    req: HttpRequest,
    session: Session,
    state: web::Data<AppState>,
    form: FormData,
) -> PageResult {
    let user = session.require(&req)?;
    user.require_admin(&req)?;
    user.check_csrf(&req, &form)?;
    let action = form.get("action").to_string();
    let mut draft = Draft::read(form);
    let choices = choices(&state).await.or_page(&req, &user)?;
    let mut errors = BTreeMap::new();
    let mut status = StatusCode::OK;
    if let Some(key) = action.strip_prefix("template-") {
        let input = SurveyInput {
            template: Some(key.to_string()),
            language: draft.form.opt("template_language"),
            ..Default::default()
        };
        let today = Utc::now().date_naive();
        match state
            .db(move |conn| crate::routes::api::templates::apply(conn, input, today))
            .await
        {
            Ok(filled) => draft.fill_from_template(filled),
            Err(e) => errors = field_errors(&e).ok_or_else(|| user.error(&req, e))?,
        }
    } else if action == "add-library" || action == "add" {
        let lang = draft.form.get("template_language").to_string();
        let picked = draft.form.get("library_pick").parse::<i32>().ok();
        let slot = match choices.library.iter().find(|r| Some(r.id) == picked) {
            Some(row) if action == "add-library" => {
                Some(Slot::of(&row.question().survey_input(&lang)))
            }
            _ if action == "add" => Some(Slot {
                kind: QuestionKind::Scale.as_str().into(),
                prompt: String::new(),
                options: String::new(),
                required: true,
                driver: String::new(),
            }),
            _ => None,
        };
        if draft.slots.len() < draft.max_slots() {
            draft.slots.extend(slot);
        }
    } else if let Some(i) = action
        .strip_prefix("remove-")
        .and_then(|i| i.parse::<usize>().ok())
    {
        if i < draft.slots.len() {
            draft.slots.remove(i);
        }
    } else if action == "create" {
        let input = draft.input(&mut errors);
        if errors.is_empty() {
            let now = Utc::now();
            let actor = user.caller.actor();
            match state
                .db(move |conn| create_survey(conn, &actor, input, now))
                .await
            {
                Ok(s) => {
                    let text = match s.next_round_at {
                        Some(t) => format!(
                            "Survey created. The first round goes out {} ({}).",
                            local_time(t, tz_of(&s.schedule.timezone)),
                            s.schedule.timezone
                        ),
                        None => "Survey created.".into(),
                    };
                    return Ok(redirect_with(
                        &req,
                        &format!("/surveys/{}", s.id),
                        true,
                        &text,
                    ));
                }
                Err(e) => errors = field_errors(&e).ok_or_else(|| user.error(&req, e))?,
            }
        }
        status = StatusCode::UNPROCESSABLE_ENTITY;
    }
    Ok(render_builder(
        &req, &user, &choices, &draft, &errors, status,
    ))
}

fn parse_id(req: &HttpRequest, user: &User, raw: &str) -> Result<i32, actix_web::Error> {
    raw.parse()
        .map_err(|_| user.not_found(req, "There is no such survey."))
}

pub async fn detail(
    req: HttpRequest,
    session: Session,
    state: web::Data<AppState>,
    id: web::Path<String>,
) -> PageResult {
    let user = session.require(&req)?;
    user.require_admin(&req)?;
    let id = parse_id(&req, &user, &id)?;
    type Loaded = (SurveyOut, Vec<Round>, i64, TeamTree, BTreeMap<i32, Live>);
    let loaded: Option<Loaded> = state
        .db(move |conn| {
            let Some(s) = repo::surveys::find(conn, id)? else {
                return Ok(None);
            };
            let (rounds, total) = repo::rounds::for_survey(conn, id, 0, 100)?;
            let live = crate::reports::participation::of_rounds(conn, &rounds)?;
            Ok(Some((
                survey_out(conn, s)?,
                rounds,
                total,
                TeamTree::new(repo::teams::all(conn)?),
                live,
            )))
        })
        .await
        .or_page(&req, &user)?;
    let Some((s, rounds, total, teams, live)) = loaded else {
        return Err(user.not_found(&req, "There is no such survey."));
    };
    let tz = tz_of(&s.schedule.timezone);
    let audience: Vec<&str> = s
        .audience
        .team_ids
        .iter()
        .filter_map(|t| teams.name(*t))
        .collect();
    let questions: Vec<Value> = s
        .questions
        .iter()
        .map(|q| {
            json!({
                "prompt": q.prompt,
                "kind": match q.kind.as_str() {
                    "enps" => format!("eNPS, {}", s.enps_scale),
                    "scale" => "agreement 1–5".into(),
                    "choice" => format!("choice: {}", q.options.join(" · ")),
                    _ => "free comment".into(),
                },
                "required": q.required,
                "driver": q.driver.as_deref().and_then(|d| Driver::parse(d).ok()).map(|d| d.name("en")),
            })
        })
        .collect();
    Ok(user.page(
        &req,
        "survey",
        json!({
            "title": s.title,
            "survey": {
                "id": s.id,
                "title": s.title,
                "intro": s.intro,
                "status": s.status,
                "active": s.status == "active",
                "paused": s.status == "paused",
                "archived": s.status == "archived",
                "cadence": cadence_label(&s.schedule.cadence),
                "send_time": s.schedule.send_time,
                "timezone": s.schedule.timezone,
                "starts_on": s.schedule.starts_on,
                "open_days": s.schedule.open_days,
                "reminder": s.schedule.reminder_after_days,
                "min_group_size": s.min_group_size,
                "audience": if audience.is_empty() { "Everyone".to_string() } else { audience.join(", ") },
                "lifecycle": s.trigger.as_ref().map(crate::routes::pages::lifecycle::trigger_text),
            },
            "questions": questions,
            "rotation": s.rotation.as_ref().map(|r| json!({"per_round": r.per_round, "summary": r.summary})),
            "upcoming": s.upcoming.iter().map(|t| local_time(*t, tz)).collect::<Vec<_>>(),
            "rounds": rounds.iter().map(|r| round_json(r, &live, tz)).collect::<Vec<_>>(),
            "more_rounds": total > rounds.len() as i64,
        }),
    ))
}

pub async fn set_status(
    req: HttpRequest,
    session: Session,
    state: web::Data<AppState>,
    id: web::Path<String>,
    form: FormData,
) -> PageResult {
    let user = session.require(&req)?;
    user.require_admin(&req)?;
    user.check_csrf(&req, &form)?;
    let id = parse_id(&req, &user, &id)?;
    let status = form.get("status").to_string();
    let patch = SurveyPatch {
        status: Some(status.clone()),
        title: None,
        intro: None,
        questions: None,
        min_group_size: None,
        rotation: None,
    };
    let now = Utc::now();
    let back = format!("/surveys/{id}");
    let actor = user.caller.actor();
    match state
        .db(move |conn| update_survey(conn, &actor, id, patch, now))
        .await
    {
        Ok(s) => {
            let text = match status.as_str() {
                "paused" => "Paused: no rounds go out until you resume it.".to_string(),
                "active" => match s.next_round_at {
                    Some(t) => format!(
                        "Resumed. The next round goes out {}.",
                        local_time(t, tz_of(&s.schedule.timezone))
                    ),
                    None => "Resumed.".into(),
                },
                _ => "Archived: it sends nothing more; its results stay.".into(),
            };
            Ok(redirect_with(&req, &back, true, &text))
        }
        Err(e) => match field_errors(&e) {
            Some(f) => Ok(redirect_with(
                &req,
                &back,
                false,
                &f.into_values().collect::<Vec<_>>().join(" "),
            )),
            None => Err(user.error(&req, e)),
        },
    }
}

pub async fn send_now(
    req: HttpRequest,
    session: Session,
    state: web::Data<AppState>,
    id: web::Path<String>,
    form: FormData,
) -> PageResult {
    let user = session.require(&req)?;
    user.require_admin(&req)?;
    user.check_csrf(&req, &form)?;
    let id = parse_id(&req, &user, &id)?;
    let (mailing, pool) = (state.mailing.clone(), state.pool.clone());
    let now = Utc::now().trunc_subsecs(0);
    let back = format!("/surveys/{id}");
    let actor = user.caller.actor();
    match state
        .db(move |conn| send_round_now(conn, &actor, id, now, &mailing, pool))
        .await
    {
        Ok(r) => Ok(redirect_with(
            &req,
            &back,
            true,
            &format!(
                "Round sent: {} {} invited by email.",
                r.invited,
                if r.invited == 1 { "person" } else { "people" }
            ),
        )),
        Err(e) => match field_errors(&e) {
            Some(f) => Ok(redirect_with(
                &req,
                &back,
                false,
                &f.into_values().collect::<Vec<_>>().join(" "),
            )),
            None => Err(user.error(&req, e)),
        },
    }
}
