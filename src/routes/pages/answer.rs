//! /s/<token>: the answering form, for a phone, without an account or JavaScript.

use crate::answering::{self, OpenForm, SubmitError};
use crate::domain::survey::{EnpsScale, QuestionKind, RawAnswer};
use crate::error::AppError;
use crate::routes::pages::{message_page, render};
use crate::state::AppState;
use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use serde::Deserialize;
use serde_json::{json, Value};
use std::collections::{BTreeMap, HashMap};

#[derive(Deserialize)]
pub struct Prefill {
    /// A score chosen by clicking it in the email.
    score: Option<String>,
}

const AGREEMENT: [&str; 5] = [
    "Strongly disagree",
    "Disagree",
    "Neutral",
    "Agree",
    "Strongly agree",
];

/// Every refusal looks the same, so a link tells nothing about why.
fn gone(req: &HttpRequest) -> HttpResponse {
    message_page(
        req,
        StatusCode::GONE,
        "This link no longer works",
        "It may have been used already, or the survey has closed. Thank you for your time.",
    )
}

/// The form with `values` filled in (question id → raw value) and `errors` beside their questions.
fn form_page(
    req: &HttpRequest,
    status: StatusCode,
    f: &OpenForm,
    values: &HashMap<i32, String>,
    errors: &BTreeMap<i32, String>,
) -> HttpResponse {
    let scale = EnpsScale::parse(&f.round.enps_scale).unwrap_or(EnpsScale::OneToTen);
    let questions: Vec<Value> = f
        .questions
        .iter()
        .enumerate()
        .map(|(i, row)| {
            let q = row.question();
            let value = values.get(&row.id).cloned().unwrap_or_default();
            let option = |v: String, label: String| json!({"value": v, "label": label, "checked": v == value});
            let (choices, low, high): (Vec<Value>, Option<&str>, Option<&str>) = match q.kind {
                QuestionKind::Enps => (
                    scale.range().map(|n| option(n.to_string(), n.to_string())).collect(),
                    Some("not at all likely"),
                    Some("extremely likely"),
                ),
                QuestionKind::Scale => (
                    (1..=5).map(|n| option(n.to_string(), format!("{n} · {}", AGREEMENT[n as usize - 1]))).collect(),
                    None,
                    None,
                ),
                QuestionKind::Choice => (q.options.iter().map(|o| option(o.clone(), o.clone())).collect(), None, None),
                QuestionKind::Text => (vec![], None, None),
            };
            json!({
                "id": row.id,
                "number": i + 1,
                "prompt": q.prompt,
                "required": q.required,
                "text": q.kind == QuestionKind::Text,
                "numeric": q.kind == QuestionKind::Enps,
                "choices": choices,
                "low": low,
                "high": high,
                "value": value,
                "error": errors.get(&row.id),
            })
        })
        .collect();
    let tz = f.survey.tz();
    let closes = f
        .round
        .closes_at
        .and_utc()
        .with_timezone(&tz)
        .format("%Y-%m-%d %H:%M")
        .to_string();
    render(
        req,
        status,
        "answer",
        json!({
            "title": f.survey.title,
            "user": null,
            "survey": {"title": f.survey.title, "intro": f.survey.intro},
            "min_group": f.round.min_group_size,
            "closes": format!("{closes} ({})", f.survey.timezone),
            "questions": questions,
            "has_errors": !errors.is_empty(),
            "changes": f.changes,
        }),
    )
}

/// The form's fields named `q<question id>`, by question id; any other field is ignored.
pub fn form_values(fields: Vec<(String, String)>) -> HashMap<i32, String> {
    fields
        .into_iter()
        .filter_map(|(k, v)| Some((k.strip_prefix('q')?.parse().ok()?, v)))
        .collect()
}

/// The answers a submitted form gives to `questions` (id and kind), as the API
/// would receive them; a blank field is no answer. Fails with the numeric
/// questions whose value is not a number, which only a hand-made request sends.
pub fn form_answers(
    questions: &[(i32, &str)],
    values: &HashMap<i32, String>,
) -> Result<Vec<RawAnswer>, BTreeMap<i32, String>> {
    let mut errors = BTreeMap::new();
    let mut answers = Vec::new();
    for &(id, kind) in questions {
        let Some(v) = values.get(&id).filter(|v| !v.trim().is_empty()) else {
            continue;
        };
        let mut a = RawAnswer {
            question_id: id,
            ..Default::default()
        };
        match kind {
            "enps" | "scale" => match v.trim().parse() {
                Ok(n) => a.score = Some(n),
                Err(_) => drop(errors.insert(id, "choose one of the numbers".to_string())),
            },
            "choice" => a.choice = Some(v.clone()),
            _ => a.text = Some(v.clone()),
        }
        answers.push(a);
    }
    if errors.is_empty() {
        Ok(answers)
    } else {
        Err(errors)
    }
}

pub async fn form(
    state: web::Data<AppState>,
    req: HttpRequest,
    token: web::Path<String>,
    q: web::Query<Prefill>,
) -> Result<HttpResponse, AppError> {
    let token = token.into_inner();
    let now = chrono::Utc::now();
    let opened = state
        .db(move |conn| answering::open(conn, &token, now))
        .await?;
    Ok(match opened {
        Err(_) => gone(&req),
        Ok(f) => {
            let mut values = HashMap::new();
            // The score clicked in the email pre-selects the first (eNPS) question.
            if let (Some(score), Some(first)) = (q.score.as_deref(), f.questions.first()) {
                if first.kind == QuestionKind::Enps.as_str() && score.parse::<i32>().is_ok() {
                    values.insert(first.id, score.to_string());
                }
            }
            form_page(&req, StatusCode::OK, &f, &values, &BTreeMap::new())
        }
    })
}

pub async fn submit(
    state: web::Data<AppState>,
    req: HttpRequest,
    token: web::Path<String>,
    body: web::Form<Vec<(String, String)>>,
) -> Result<HttpResponse, AppError> {
    let token = token.into_inner();
    let now = chrono::Utc::now();
    let values = form_values(body.into_inner());
    let form = {
        let token = token.clone();
        state
            .db(move |conn| answering::open(conn, &token, now))
            .await?
    };
    let mut conversation = None;
    let outcome = match &form {
        Err(refusal) => Err(SubmitError::Refused(*refusal)),
        Ok(f) => {
            let kinds: Vec<(i32, &str)> = f
                .questions
                .iter()
                .map(|q| (q.id, q.kind.as_str()))
                .collect();
            match form_answers(&kinds, &values) {
                Ok(answers) => {
                    let (submission, link) = crate::conversations::with_link(
                        &state.settings.base(),
                        &token,
                        answers,
                        now,
                    );
                    conversation = link;
                    state.answers.submit(submission).await
                }
                Err(errors) => Err(SubmitError::Invalid(errors)),
            }
        }
    };
    Ok(match (outcome, form) {
        (Ok(()), Ok(_)) => crate::routes::pages::conversation::thank_you(&req, conversation),
        (Err(SubmitError::Invalid(errors)), Ok(f)) => {
            form_page(&req, StatusCode::UNPROCESSABLE_ENTITY, &f, &values, &errors)
        }
        (Err(SubmitError::Failed(e)), _) => return Err(e),
        _ => gone(&req),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn form_fields_become_raw_answers() {
        let fields = [
            ("q3", "x"),
            ("q3", " 7 "),
            ("q5", "B"),
            ("q8", " "),
            ("csrf", "t"),
        ];
        let values = form_values(
            fields
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
        );
        assert_eq!(values.len(), 3);
        let answers = form_answers(&[(3, "enps"), (5, "choice"), (8, "text")], &values).unwrap();
        assert_eq!(answers.len(), 2, "a blank field is no answer");
        assert_eq!((answers[0].question_id, answers[0].score), (3, Some(7)));
        assert_eq!(answers[1].choice.as_deref(), Some("B"));
        let errors = form_answers(&[(5, "scale")], &values).unwrap_err();
        assert_eq!(errors[&5], "choose one of the numbers");
    }
}
