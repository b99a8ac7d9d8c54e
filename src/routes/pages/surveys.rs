//! /surveys: the list, the builder (at most ten questions, a schedule with a
//! timezone picker and a preview of the next five send dates), and each
//! survey's page with pause, resume, archive, "send now" and its rounds. HR only.

use crate::domain::schedule::Cadence;
use crate::domain::survey::{
    parse_schedule, QuestionInput, QuestionKind, ScheduleInput, MAX_QUESTIONS,
};
use crate::repo::{self, rounds::Round};
use crate::reports::round::Live;
use crate::routes::api::surveys::{
    create_survey, send_round_now, survey_out, update_survey, AudienceInput, SurveyInput,
    SurveyOut, SurveyPatch,
};
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
}

/// The builder's state, read back from its own form.
struct Draft {
    form: FormData,
    slots: Vec<Slot>,
}

impl Draft {
    fn blank() -> Self {
        let today = chrono::Utc::now().date_naive();
        // Next Monday: pulses usually go out at the start of a week.
        let monday = today
            + chrono::Duration::days(
                (7 - i64::from(chrono::Datelike::weekday(&today).num_days_from_monday())) % 7,
            );
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
            })
            .collect();
        Self { form, slots }
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
        let questions = self
            .slots
            .iter()
            .map(|s| QuestionInput {
                kind: s.kind.clone(),
                prompt: s.prompt.clone(),
                options: (s.kind == "choice").then(|| {
                    s.options
                        .lines()
                        .map(str::trim)
                        .filter(|o| !o.is_empty())
                        .map(String::from)
                        .collect()
                }),
                required: Some(s.required),
                // The builder does not offer drivers yet; the API does.
                driver: None,
            })
            .collect();
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
            trigger: None,
        }
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

fn render_builder(
    req: &HttpRequest,
    user: &User,
    teams: &TeamTree,
    draft: &Draft,
    errors: &BTreeMap<String, String>,
    status: StatusCode,
) -> HttpResponse {
    let f = &draft.form;
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
                "required": s.required,
                "is_choice": s.kind == "choice",
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
            "can_add": draft.slots.len() < MAX_QUESTIONS,
            "max": MAX_QUESTIONS,
            "count": draft.slots.len(),
            "schedule": [
                field("cadence", "How often").value(f.get("cadence")).options(cadences).error_from(errors, &sched("cadence")).json(),
                field("starts_on", "First send date").kind("date").value(f.get("starts_on")).required().error_from(errors, &sched("starts_on")).json(),
                field("send_time", "Send time").kind("time").value(f.get("send_time")).required().error_from(errors, &sched("send_time")).json(),
                field("timezone", "Timezone").hint("An IANA name, e.g. Europe/Paris").value(f.get("timezone")).list("timezones").required().autocomplete("off").error_from(errors, &sched("timezone")).json(),
                field("open_days", "Open for (days)").kind("number").range(1, 90).value(f.get("open_days")).required().error_from(errors, &sched("open_days")).json(),
                field("reminder_after_days", "Reminder after (days)").kind("number").range(1, 89).hint("Empty: no reminder").value(f.get("reminder_after_days")).error_from(errors, &sched("reminder_after_days")).json(),
            ],
            "schedule_error": errors.get("schedule"),
            "min_group": field("min_group_size", "Smallest group shown").kind("number").range(3, 1000).hint("Results of fewer respondents stay hidden; at least 3").value(f.get("min_group_size")).errors(errors).json(),
            "timezones": chrono_tz::TZ_VARIANTS.iter().map(|t| t.name()).collect::<Vec<_>>(),
            "preview": preview,
        }),
    )
}

async fn teams(state: &AppState) -> Result<TeamTree, crate::error::AppError> {
    state
        .db(|conn| Ok(TeamTree::new(repo::teams::all(conn)?)))
        .await
}

pub async fn new_form(
    req: HttpRequest,
    session: Session,
    state: web::Data<AppState>,
) -> PageResult {
    let user = session.require(&req)?;
    user.require_admin(&req)?;
    let teams = teams(&state).await.or_page(&req, &user)?;
    Ok(render_builder(
        &req,
        &user,
        &teams,
        &Draft::blank(),
        &BTreeMap::new(),
        StatusCode::OK,
    ))
}

/// Every button of the builder posts here: add or remove a question, preview
/// the dates, or create the survey.
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
    let teams = teams(&state).await.or_page(&req, &user)?;
    let none = BTreeMap::new();
    if action == "add" {
        if draft.slots.len() < MAX_QUESTIONS {
            draft.slots.push(Slot {
                kind: QuestionKind::Scale.as_str().into(),
                prompt: String::new(),
                options: String::new(),
                required: true,
            });
        }
        return Ok(render_builder(
            &req,
            &user,
            &teams,
            &draft,
            &none,
            StatusCode::OK,
        ));
    }
    if let Some(i) = action
        .strip_prefix("remove-")
        .and_then(|i| i.parse::<usize>().ok())
    {
        if i < draft.slots.len() {
            draft.slots.remove(i);
        }
        return Ok(render_builder(
            &req,
            &user,
            &teams,
            &draft,
            &none,
            StatusCode::OK,
        ));
    }
    if action != "create" {
        return Ok(render_builder(
            &req,
            &user,
            &teams,
            &draft,
            &none,
            StatusCode::OK,
        ));
    }
    let mut errors = BTreeMap::new();
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
            Err(e) => match field_errors(&e) {
                Some(f) => errors = f,
                None => return Err(user.error(&req, e)),
            },
        }
    }
    Ok(render_builder(
        &req,
        &user,
        &teams,
        &draft,
        &errors,
        StatusCode::UNPROCESSABLE_ENTITY,
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
