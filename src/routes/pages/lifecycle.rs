//! /surveys/{id}/cohorts: a lifecycle survey's results, one cohort (milestone × quarter) at a time. HR only.

use crate::domain::disclosure::Reason;
use crate::domain::lifecycle::TriggerInput;
use crate::reports::lifecycle::CohortResult;
use crate::routes::pages::ui::{percent, OrPage, PageResult, Session};
use crate::state::AppState;
use actix_web::{web, HttpRequest};
use serde_json::{json, Value};

pub fn configure(cfg: &mut web::ServiceConfig) {
    crate::routes::Router::new()
        .route(r"/surveys/{id:\d+}/cohorts", web::get().to(cohorts))
        .register(cfg);
}

/// How the survey page says what sends a lifecycle survey.
pub fn trigger_text(t: &TriggerInput) -> String {
    match t.days_after_hire.as_deref() {
        Some(days) => format!(
            "Sent to each person {} days after their hire date.",
            days.iter()
                .map(i32::to_string)
                .collect::<Vec<_>>()
                .join(", ")
        ),
        None => "Sent to each person whose departure is recorded, before their last day.".into(),
    }
}

fn reason_text(r: Option<Reason>) -> &'static str {
    match r {
        Some(Reason::Derivable) => {
            "hidden: shown beside other figures it would give a smaller group away"
        }
        _ => "hidden: fewer respondents than the survey's minimum group size",
    }
}

/// One question's result as these pages show it.
fn question_json(q: &crate::reports::round::QuestionResult) -> Value {
    json!({
        "prompt": q.prompt,
        "mean": q.mean.map(|m| format!("{m:.2}")),
        "distribution": q.distribution.as_ref().map(|d| d.iter().map(|(k, n)| json!({"label": k, "n": n})).collect::<Vec<_>>()),
        "comments": q.comments,
        "hidden": q.suppressed.is_some().then(|| reason_text(q.reason)),
        "comments_hidden": q.comments_suppressed,
    })
}

/// The turnover page's exit answers: null when there are none to show.
pub fn exit_reasons_json(exits: Option<Vec<crate::reports::lifecycle::ExitReasons>>) -> Value {
    match exits {
        Some(list) if !list.is_empty() => Value::Array(
            list.iter()
                .map(|e| {
                    json!({
                        "period": e.period,
                        "title": e.survey_title,
                        "respondents": e.respondents,
                        "questions": e.questions.iter().map(question_json).collect::<Vec<_>>(),
                    })
                })
                .collect(),
        ),
        _ => Value::Null,
    }
}

fn cohort_json(c: &CohortResult) -> Value {
    let milestone = match c.days_after_hire {
        Some(d) => format!("{d} days"),
        None => "Leavers".into(),
    };
    json!({
        "round_id": c.round_id,
        "milestone": milestone,
        "period": c.period,
        "open": c.status == "open",
        "available": c.available_at.map(|t| t.date_naive().to_string()),
        "figures": c.figures.as_ref().map(|f| json!({
            "responses": f.responses,
            "invited": f.invited,
            "participation": percent(f.participation),
        })),
        "hidden": (c.status == "closed" && c.figures.is_none()).then(|| reason_text(c.reason)),
        "questions": c.questions.iter().map(question_json).collect::<Vec<_>>(),
    })
}

async fn cohorts(
    req: HttpRequest,
    session: Session,
    state: web::Data<AppState>,
    id: web::Path<i32>,
) -> PageResult {
    let user = session.require(&req)?;
    user.require_admin(&req)?;
    let (caller, survey_id) = (user.caller.clone(), id.into_inner());
    let loaded = state
        .db(move |conn| {
            let Some(survey) = crate::repo::surveys::find(conn, survey_id)? else {
                return Ok(None);
            };
            let scope = crate::auth::Scope::of(conn, &caller)?;
            match crate::reports::lifecycle::load(conn, &scope, survey_id) {
                Ok(r) => Ok(Some((survey.title, r))),
                Err(crate::error::AppError::Validation { .. }) => Ok(None),
                Err(e) => Err(e),
            }
        })
        .await
        .or_page(&req, &user)?;
    let Some((title, report)) = loaded else {
        return Err(user.not_found(&req, "There is no such lifecycle survey."));
    };
    Ok(user.page(
        &req,
        "lifecycle_cohorts",
        json!({
            "title": format!("{title}: cohorts"),
            "survey": {"id": survey_id, "title": title, "exit": report.kind == "exit"},
            "cohorts": report.cohorts.iter().map(cohort_json).collect::<Vec<_>>(),
        }),
    ))
}
