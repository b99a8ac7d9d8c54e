//! /rounds/{id}: one round's results — participation, eNPS with its margin,
//! the promoter/passive/detractor split, each question and the comments —
//! hidden exactly as the API hides them, with the reason said.

use crate::auth::Scope;
use crate::domain::disclosure::{Reason, Shown};
use crate::domain::report::Figures;
use crate::repo;
use crate::reports::round::{self as round_report, Live, QuestionResult, Stage};
use crate::routes::pages::reports::report_teams;
use crate::routes::pages::team_picker::{self, TeamField};
use crate::routes::pages::ui::{
    local_time, percent, redirect_with, signed, FormData, OrPage, PageResult, Session,
};
use crate::state::AppState;
use actix_web::{web, HttpRequest};
use serde::Deserialize;
use serde_json::{json, Value};

pub fn configure(cfg: &mut web::ServiceConfig) {
    crate::routes::Router::new()
        .route("/rounds/{id}", web::get().to(results))
        .route("/rounds/{id}/close", web::post().to(close))
        .register(cfg);
}

#[derive(Deserialize)]
pub struct RoundQuery {
    team_id: Option<String>,
    /// "Find a team", where a reader has too many teams for a select.
    team_q: Option<String>,
}

/// Promoters, passives and detractors as shares of those who gave a score.
pub(crate) fn split(f: &Figures) -> Value {
    let scored = f.promoters + f.passives + f.detractors;
    let share = |n: u32| {
        if scored == 0 {
            0.0
        } else {
            f64::from(n) * 100.0 / f64::from(scored)
        }
    };
    json!({
        "scored": scored,
        "promoters": f.promoters, "passives": f.passives, "detractors": f.detractors,
        "promoters_pct": format!("{:.0}", share(f.promoters)),
        "passives_pct": format!("{:.0}", share(f.passives)),
        "detractors_pct": format!("{:.0}", share(f.detractors)),
    })
}

/// eNPS ± margin as shown everywhere: "+23 ± 9".
pub(crate) fn enps_text(f: &Figures) -> Value {
    json!({
        "value": f.enps.map(signed),
        "margin": f.margin_of_error.map(|m| format!("{m:.0}")),
    })
}

fn question_json(q: &QuestionResult) -> Value {
    let distribution = q.distribution.as_ref().map(|d| {
        let total: u32 = d.iter().map(|(_, n)| n).sum();
        d.iter()
            .map(|(label, n)| {
                let pct = if total == 0 {
                    0.0
                } else {
                    f64::from(*n) * 100.0 / f64::from(total)
                };
                let label = match (q.kind.as_str(), label.as_str()) {
                    ("scale", "1") => "1 · Strongly disagree".to_string(),
                    ("scale", "2") => "2 · Disagree".to_string(),
                    ("scale", "3") => "3 · Neutral".to_string(),
                    ("scale", "4") => "4 · Agree".to_string(),
                    ("scale", "5") => "5 · Strongly agree".to_string(),
                    _ => label.clone(),
                };
                json!({"label": label, "count": n, "percent": format!("{pct:.0}%"), "width": pct.round() as i64})
            })
            .collect::<Vec<_>>()
    });
    json!({
        "prompt": q.prompt,
        "kind": q.kind,
        "answers": q.answers,
        "hidden": q.suppressed.is_some(),
        "hidden_why": match q.reason {
            Some(Reason::Derivable) => "hidden so that a smaller group's answers cannot be worked out by subtraction",
            _ => "too few people answered this question to show its figures",
        },
        "enps": q.enps.as_ref().map(|f| json!({"text": enps_text(f), "split": split(f)})),
        "mean": q.mean.map(|m| format!("{m:.2}")),
        "distribution": distribution,
        "comments": q.comments,
        "comments_shown": q.comments.is_some(),
        "comments_suppressed": q.comments_suppressed,
        "threads": null,
    })
}

pub async fn results(
    req: HttpRequest,
    session: Session,
    state: web::Data<AppState>,
    id: web::Path<String>,
    q: web::Query<RoundQuery>,
) -> PageResult {
    let user = session.require(&req)?;
    user.require_reports(&req)?;
    let Ok(round_id) = id.parse::<i32>() else {
        return Err(user.not_found(&req, "There is no such round."));
    };
    let asked: Option<i32> = q.team_id.as_deref().and_then(|t| t.parse().ok());
    // The groups this reader may choose: the company for HR, else the teams they lead.
    let (teams, admin) = report_teams(&state, user.caller.clone())
        .await
        .or_page(&req, &user)?;
    let teams = std::sync::Arc::new(teams);
    let team_id = asked.or_else(|| {
        (!admin)
            .then(|| teams.rows.first().map(|(t, _, _)| t.id))
            .flatten()
    });
    let d = round_report::data(&state, user.caller.clone(), round_id, team_id)
        .await
        .or_page(&req, &user)?;
    let survey_id = d.round.survey_id;
    let survey = state
        .db(move |conn| Ok(repo::surveys::find(conn, survey_id)?))
        .await
        .or_page(&req, &user)?;
    let tz: chrono_tz::Tz = survey
        .as_ref()
        .and_then(|s| s.timezone.parse().ok())
        .unwrap_or(chrono_tz::UTC);
    let min = d.round.min_group_size.max(3);
    let team_name = team_id.and_then(|t| teams.name(t).map(String::from));
    let group = team_name
        .clone()
        .unwrap_or_else(|| "Everyone invited".into());
    let in_group = team_name
        .as_ref()
        .map(|n| format!(" in {n}"))
        .unwrap_or_default();
    let too_few = format!(
        "Fewer than {min} people{in_group} answered this round, so no figure is shown: with so few answers, someone could tell who said what."
    );
    let derivable = format!(
        "These results are hidden to protect a smaller group: shown beside the other figures, they would let someone work out, by subtraction, the answers of fewer than {min} people."
    );
    let mut live = Value::Null;
    let (figures, hidden, questions) = match &d.stage {
        Stage::Open { participation } => {
            live = match participation {
                Live::Shown {
                    invited,
                    responded,
                    participation,
                } => json!({
                    "shown": true, "invited": invited, "responded": responded,
                    "percent": percent(*participation),
                }),
                Live::Suppressed { .. } => json!({"shown": false}),
            };
            (None, None, vec![])
        }
        Stage::Closed(c) => match &c.shown {
            Shown::Figures(f) => (
                Some(json!({
                    "invited": f.invited,
                    "responses": f.responses,
                    "participation": percent(f.participation),
                    "enps": enps_text(f),
                    "split": split(f),
                    "csv": c.export.is_ok() && c.answers_removed_at.is_none(),
                    "answers_removed_on": c.answers_removed_at.map(|at| at.date().to_string()),
                })),
                None,
                c.questions.iter().map(question_json).collect(),
            ),
            Shown::Suppressed {
                reason: Reason::Derivable,
                ..
            } => (None, Some(derivable), vec![]),
            Shown::Suppressed { .. } => (None, Some(too_few), vec![]),
        },
    };
    let back = format!(
        "/rounds/{}{}",
        d.round.id,
        team_id.map(|t| format!("?team_id={t}")).unwrap_or_default()
    );
    let (questions, action_form) = match &d.stage {
        Stage::Closed(c) => {
            let (caller, round_id) = (user.caller.clone(), d.round.id);
            let back = back.clone();
            let form_teams = teams.clone();
            let (threads, form) = state
                .db(move |conn| {
                    let scope = Scope::of(conn, &caller)?;
                    let threads =
                        crate::conversations::group_comments(conn, &scope, round_id, team_id)?;
                    let form = crate::routes::pages::action_plans::form_json(
                        conn,
                        &caller,
                        &form_teams,
                        Some(round_id),
                        team_id,
                        &back,
                    )?;
                    Ok((threads, form))
                })
                .await
                .or_page(&req, &user)?;
            (with_threads(questions, &c.questions, threads), form)
        }
        Stage::Open { .. } => (questions, Value::Null),
    };
    let field = TeamField {
        param: "team_id",
        label: "Group",
        everyone: admin.then_some("Everyone invited"),
        chosen: team_id,
        search: q.team_q.clone(),
        link: format!("/rounds/{}", d.round.id),
    };
    let choice = team_picker::choice(&state, &user.caller, &teams, field)
        .await
        .or_page(&req, &user)?;
    let csv_query = team_id.map(|t| format!("?team_id={t}")).unwrap_or_default();
    Ok(user.page(
        &req,
        "round",
        json!({
            "title": format!("Results: {}", survey.as_ref().map(|s| s.title.as_str()).unwrap_or("round")),
            "admin": admin,
            "survey": survey.as_ref().map(|s| json!({"id": s.id, "title": s.title})),
            "round": {
                "id": d.round.id,
                "sent": local_time(d.round.opens_at.and_utc(), tz),
                "closes": local_time(d.round.closes_at.and_utc(), tz),
                "status": d.round.status,
                "scale": d.round.enps_scale,
                "min": min,
            },
            "group": group,
            "choices": choice.options,
            "team_picker": choice.picker,
            "figures": figures,
            "hidden": hidden,
            "open": matches!(d.stage, Stage::Open { .. }),
            "live": live,
            "questions": questions,
            "action_form": action_form,
            "team_id": team_id,
            "csv_href": format!("/api/v1/reports/rounds/{}/answers.csv{csv_query}", d.round.id),
        }),
    ))
}

/// Each shown comment with its id and reply thread, under its question.
fn with_threads(
    mut questions: Vec<Value>,
    results: &[QuestionResult],
    threads: Vec<crate::conversations::CommentOut>,
) -> Vec<Value> {
    for (json, q) in questions.iter_mut().zip(results) {
        if q.comments.is_some() {
            let mine: Vec<&crate::conversations::CommentOut> = threads
                .iter()
                .filter(|c| c.question_id == q.question_id)
                .collect();
            json["threads"] = json!(mine);
        }
    }
    questions
}

/// HR closes a round before its time: its figures appear, and who answered is forgotten.
pub async fn close(
    req: HttpRequest,
    session: Session,
    state: web::Data<AppState>,
    id: web::Path<String>,
    form: FormData,
) -> PageResult {
    let user = session.require(&req)?;
    user.require_admin(&req)?;
    user.check_csrf(&req, &form)?;
    let Ok(round_id) = id.parse::<i32>() else {
        return Err(user.not_found(&req, "There is no such round."));
    };
    crate::jobs::closing::close_now(&state, &user.caller.actor(), round_id, chrono::Utc::now())
        .await
        .or_page(&req, &user)?;
    Ok(redirect_with(
        &req,
        &format!("/rounds/{round_id}"),
        true,
        "Round closed: its results are shown below, and who answered has been forgotten.",
    ))
}
