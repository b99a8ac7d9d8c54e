//! /questions: the question library for HR, by driver: add a question, edit one (a new version), retire or restore it.

use crate::domain::driver::Driver;
use crate::domain::library::{Bilingual, LibraryInput};
use crate::repo;
use crate::routes::api::questions::{
    create_question, detail, question_out, update_question, LibraryPatch, LibraryQuestionOut,
    PromptPatch,
};
use crate::routes::pages::ui::{
    field, field_errors, redirect_with, FormData, OrPage, PageResult, Session, User,
};
use crate::state::AppState;
use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest};
use chrono::Utc;
use serde_json::{json, Value};
use std::collections::BTreeMap;

pub fn configure(cfg: &mut web::ServiceConfig) {
    crate::routes::Router::new()
        .route("/questions", web::get().to(list))
        .route("/questions", web::post().to(add))
        .route("/questions/{id:\\d+}", web::get().to(edit_form))
        .route("/questions/{id:\\d+}", web::post().to(edit))
        .register(cfg);
}

const KINDS: [(&str, &str); 4] = [
    ("scale", "Agreement, 1 to 5"),
    ("enps", "eNPS: would you recommend working here?"),
    ("choice", "One choice among options"),
    ("text", "Free comment"),
];

fn driver_options() -> Vec<(&'static str, &'static str)> {
    std::iter::once(("", "No driver"))
        .chain(Driver::ALL.iter().map(|d| (d.key(), d.name("en"))))
        .collect()
}

fn theme(q: &LibraryQuestionOut) -> String {
    match (
        q.driver.as_deref().and_then(|d| Driver::parse(d).ok()),
        q.kind.as_str(),
    ) {
        (Some(d), _) => d.name("en").into(),
        (None, "enps") => "eNPS".into(),
        (None, "text") => "Comments".into(),
        _ => "Other questions".into(),
    }
}

/// The form's fields as the API takes them; options one per line.
fn input_of(form: &FormData, kind: String) -> LibraryInput {
    let lines = |k: &str| -> Vec<String> {
        form.get(k)
            .lines()
            .map(str::trim)
            .filter(|o| !o.is_empty())
            .map(String::from)
            .collect()
    };
    let options = Bilingual {
        en: lines("options_en"),
        fr: lines("options_fr"),
    };
    LibraryInput {
        driver: form.opt("driver").filter(|_| kind == "scale"),
        options: (kind == "choice").then_some(options),
        kind,
        prompt: Bilingual {
            en: form.get("prompt_en").into(),
            fr: form.get("prompt_fr").into(),
        },
    }
}

/// The wording fields, filled from `form`, with `errors` beside them.
fn wording_fields(form: &FormData, errors: &BTreeMap<String, String>) -> Value {
    json!({
        "prompt_en": field("prompt_en", "Question in English").value(form.get("prompt_en")).required().error_from(errors, "prompt.en").json(),
        "prompt_fr": field("prompt_fr", "Question in French").value(form.get("prompt_fr")).required().error_from(errors, "prompt.fr").json(),
        "driver": field("driver", "Driver").hint("For an agreement question: what it measures").value(form.get("driver")).options(driver_options()).error_from(errors, "driver").json(),
        "options_en": field("options_en", "Options in English, one per line").kind("textarea").hint("For a choice question: 2 to 8").value(form.get("options_en")).error_from(errors, "options.en").json(),
        "options_fr": field("options_fr", "Options in French, in the same order").kind("textarea").value(form.get("options_fr")).error_from(errors, "options.fr").json(),
    })
}

async fn render_list(
    req: &HttpRequest,
    user: &User,
    state: &AppState,
    form: &FormData,
    errors: &BTreeMap<String, String>,
) -> PageResult {
    let rows = state
        .db(|conn| Ok(repo::library::all(conn)?))
        .await
        .or_page(req, user)?;
    let mut groups: BTreeMap<(usize, String), Vec<Value>> = BTreeMap::new();
    for r in &rows {
        let q = question_out(r);
        // Drivers in their usual order, then eNPS, comments and the rest.
        let rank = q
            .driver
            .as_deref()
            .and_then(|d| Driver::ALL.iter().position(|x| x.key() == d))
            .unwrap_or(Driver::ALL.len());
        groups.entry((rank, theme(&q))).or_default().push(json!({
            "id": q.id,
            "en": q.prompt.en,
            "fr": q.prompt.fr,
            "kind": q.kind,
            "retired": q.retired,
            "version": q.version,
            "shipped": q.key.is_some(),
        }));
    }
    let groups: Vec<Value> = groups
        .into_iter()
        .map(|((_, name), questions)| json!({"name": name, "questions": questions}))
        .collect();
    let status = if errors.is_empty() {
        StatusCode::OK
    } else {
        StatusCode::UNPROCESSABLE_ENTITY
    };
    let kind = form.opt("kind").unwrap_or_else(|| "scale".into());
    Ok(user.render(
        req,
        status,
        "questions",
        json!({
            "title": "Question library",
            "groups": groups,
            "has_errors": !errors.is_empty(),
            "kind": field("kind", "Kind").value(&kind).options(KINDS).error_from(errors, "kind").json(),
            "wording": wording_fields(form, errors),
        }),
    ))
}

pub async fn list(req: HttpRequest, session: Session, state: web::Data<AppState>) -> PageResult {
    let user = session.require(&req)?;
    user.require_admin(&req)?;
    render_list(&req, &user, &state, &FormData(vec![]), &BTreeMap::new()).await
}

pub async fn add(
    req: HttpRequest,
    session: Session,
    state: web::Data<AppState>,
    form: FormData,
) -> PageResult {
    let user = session.require(&req)?;
    user.require_admin(&req)?;
    user.check_csrf(&req, &form)?;
    let input = input_of(&form, form.get("kind").trim().to_string());
    let actor = user.caller.actor();
    let now = Utc::now();
    match state
        .db(move |conn| create_question(conn, &actor, &input, now))
        .await
    {
        Ok(q) => Ok(redirect_with(
            &req,
            "/questions",
            true,
            &format!("Added to the library: “{}”.", q.prompt.en),
        )),
        Err(e) => match field_errors(&e) {
            Some(errors) => render_list(&req, &user, &state, &form, &errors).await,
            None => Err(user.error(&req, e)),
        },
    }
}

async fn render_edit(
    req: &HttpRequest,
    user: &User,
    state: &AppState,
    id: i32,
    form: Option<&FormData>,
    errors: &BTreeMap<String, String>,
) -> PageResult {
    let found = state
        .db(move |conn| match detail(conn, id) {
            Ok(d) => Ok(Some(d)),
            Err(crate::error::AppError::NotFound(_)) => Ok(None),
            Err(e) => Err(e),
        })
        .await
        .or_page(req, user)?;
    let Some(d) = found else {
        return Err(user.not_found(req, "There is no such question in the library."));
    };
    let q = &d.question;
    let current = FormData(vec![
        ("prompt_en".into(), q.prompt.en.clone()),
        ("prompt_fr".into(), q.prompt.fr.clone()),
        ("driver".into(), q.driver.clone().unwrap_or_default()),
        (
            "options_en".into(),
            q.options
                .as_ref()
                .map(|o| o.en.join("\n"))
                .unwrap_or_default(),
        ),
        (
            "options_fr".into(),
            q.options
                .as_ref()
                .map(|o| o.fr.join("\n"))
                .unwrap_or_default(),
        ),
    ]);
    let status = if errors.is_empty() {
        StatusCode::OK
    } else {
        StatusCode::UNPROCESSABLE_ENTITY
    };
    Ok(user.render(
        req,
        status,
        "question",
        json!({
            "title": "Edit a library question",
            "question": q,
            "theme": theme(q),
            "is_scale": q.kind == "scale",
            "is_choice": q.kind == "choice",
            "has_errors": !errors.is_empty(),
            "wording": wording_fields(form.unwrap_or(&current), errors),
            "history": d.history,
        }),
    ))
}

pub async fn edit_form(
    req: HttpRequest,
    session: Session,
    state: web::Data<AppState>,
    id: web::Path<i32>,
) -> PageResult {
    let user = session.require(&req)?;
    user.require_admin(&req)?;
    render_edit(&req, &user, &state, id.into_inner(), None, &BTreeMap::new()).await
}

/// Saves a new wording (`action=save`), or retires or restores the question.
pub async fn edit(
    req: HttpRequest,
    session: Session,
    state: web::Data<AppState>,
    id: web::Path<i32>,
    form: FormData,
) -> PageResult {
    let user = session.require(&req)?;
    user.require_admin(&req)?;
    user.check_csrf(&req, &form)?;
    let id = id.into_inner();
    let patch = match form.get("action") {
        "retire" => LibraryPatch {
            retired: Some(true),
            ..Default::default()
        },
        "restore" => LibraryPatch {
            retired: Some(false),
            ..Default::default()
        },
        _ => {
            let kind = form.get("kind").to_string();
            let input = input_of(&form, kind.clone());
            LibraryPatch {
                prompt: Some(PromptPatch {
                    en: Some(input.prompt.en),
                    fr: Some(input.prompt.fr),
                }),
                driver: (kind == "scale").then_some(input.driver),
                options: input.options,
                retired: None,
            }
        }
    };
    let (actor, now) = (user.caller.actor(), Utc::now());
    match state
        .db(move |conn| update_question(conn, &actor, id, patch, now))
        .await
    {
        Ok(q) => {
            let text = match (form.get("action"), q.retired) {
                ("retire", _) => "Retired: new surveys and templates no longer offer it; surveys that ask it keep it.".to_string(),
                ("restore", _) => "Restored to the library.".into(),
                _ => format!("Saved as version {}. Surveys built earlier keep the wording they were built with.", q.version),
            };
            Ok(redirect_with(
                &req,
                &format!("/questions/{id}"),
                true,
                &text,
            ))
        }
        Err(crate::error::AppError::NotFound(_)) => {
            Err(user.not_found(&req, "There is no such question in the library."))
        }
        Err(e) => match field_errors(&e) {
            Some(errors) => render_edit(&req, &user, &state, id, Some(&form), &errors).await,
            None => Err(user.error(&req, e)),
        },
    }
}
