//! /api/v1/reports: eNPS trends, team breakdowns, turnover, round results and their CSV
//! exports. Thin: parse the request, call `crate::reports`, render.

use crate::auth::{Admin, Caller, Scope};
use crate::domain::disclosure::{Reason, Shown};
use crate::domain::people::parse_date;
use crate::domain::report::GroupBy;
use crate::domain::turnover::{Grouping, PeriodFigures};
use crate::error::{AppError, AppResult};
use crate::repo::audit::action;
use crate::reports::enps::{self, EnpsParams, EnpsReport, TeamsReport};
use crate::reports::round::{self as round_report, Live, QuestionResult, Stage};
use crate::reports::{turnover, Listing};
use crate::routes::api::audit::record_export;
use crate::routes::api::{next_page_link, Paging};
use crate::state::AppState;
use actix_web::{http::header, web, HttpRequest, HttpResponse};
use chrono::{Duration, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

pub(crate) fn window(from: Option<&str>, to: Option<&str>) -> AppResult<(NaiveDate, NaiveDate)> {
    let mut fields = BTreeMap::new();
    let to = match to {
        Some(t) => parse_date(t)
            .map_err(|e| fields.insert("to".to_string(), e))
            .ok(),
        None => Some(Utc::now().date_naive()),
    };
    let from = match from {
        Some(f) => parse_date(f)
            .map_err(|e| fields.insert("from".to_string(), e))
            .ok(),
        None => to.map(|t| t - Duration::days(365)),
    };
    match (from, to) {
        (Some(f), Some(t)) if f <= t && (t - f).num_days() <= 366 * 20 => Ok((f, t)),
        (Some(_), Some(_)) => Err(AppError::field(
            "from",
            "must be on or before `to`, at most 20 years apart",
        )),
        _ => Err(AppError::fields(fields)),
    }
}

pub(crate) fn group_by(raw: Option<&str>) -> AppResult<GroupBy> {
    GroupBy::parse(raw.unwrap_or("month")).map_err(|e| AppError::field("group_by", e))
}

#[utoipa::path(get, path = "/api/v1/reports/enps", tag = "reports", params(EnpsParams),
    responses((status = 200, body = EnpsReport), (status = 403, body = crate::error::ErrorBody), (status = 422, body = crate::error::ErrorBody)))]
pub async fn enps(
    state: web::Data<AppState>,
    caller: Caller,
    q: web::Query<EnpsParams>,
) -> AppResult<HttpResponse> {
    let by = group_by(q.group_by.as_deref())?;
    let (from, to) = window(q.from.as_deref(), q.to.as_deref())?;
    let team_id = q.team_id;
    let (scale, points) = enps::with_data(&state, caller, &q, from, to, Listing::Group, move |d| {
        Ok((d.scale.clone(), enps::points(&d, team_id, by)))
    })
    .await?;
    Ok(HttpResponse::Ok().json(EnpsReport {
        scale,
        team_id: q.team_id,
        survey_id: q.survey_id,
        points,
    }))
}

#[utoipa::path(get, path = "/api/v1/reports/enps/teams", tag = "reports", params(EnpsParams, Paging),
    responses((status = 200, description = "each team the caller may see, with figures or suppressed (the heat-map data); over 500 teams without page or per_page, the first 100; with page or per_page, one page of teams; when paged, X-Total-Count and a Link rel=next header while more remain", body = TeamsReport),
              (status = 403, body = crate::error::ErrorBody)))]
pub async fn enps_teams(
    req: HttpRequest,
    state: web::Data<AppState>,
    caller: Caller,
    q: web::Query<EnpsParams>,
    paging: web::Query<Paging>,
) -> AppResult<HttpResponse> {
    let (from, to) = window(q.from.as_deref(), q.to.as_deref())?;
    let paging = paging.into_inner();
    let page = team_page(&paging)?;
    let p = q.into_inner();
    let enps::Paged {
        report,
        total,
        page,
    } = crate::reports::run(&state, move |conn| {
        let scope = Scope::of(conn, &caller)?;
        enps::heat_map(conn, scope, &p, from, to, page)
    })
    .await?;
    paged_teams(&req, paging, page, total, report)
}

/// With `page` or `per_page`, one page of teams; without, the whole tree up to
/// `WHOLE_TREE_AT_MOST` teams, else its first page (`enps::TeamsPage`).
fn team_page(paging: &Paging) -> AppResult<enps::TeamsPage> {
    Ok(match (paging.page, paging.per_page) {
        (None, None) => enps::TeamsPage::Default,
        _ => {
            let (offset, count) = paging.offset()?;
            enps::TeamsPage::Page(offset as usize, count as usize)
        }
    })
}

/// A list of teams as JSON; when paged, with `X-Total-Count` and a Link to the next page.
fn paged_teams(
    req: &HttpRequest,
    paging: Paging,
    page: Option<(usize, usize)>,
    total: usize,
    body: impl serde::Serialize,
) -> AppResult<HttpResponse> {
    let mut res = HttpResponse::Ok();
    if page.is_some() {
        let (number, per_page) = paging.check()?;
        res.insert_header(("X-Total-Count", total.to_string()));
        if let Some(link) = next_page_link(req, number, per_page, total as i64) {
            res.insert_header((header::LINK, link));
        }
    }
    Ok(res.json(body))
}

#[derive(Debug, Clone, Deserialize, utoipa::IntoParams)]
pub struct TurnoverParams {
    pub team_id: Option<i32>,
    /// YYYY-MM-DD.
    #[param(format = Date)]
    pub from: Option<String>,
    /// YYYY-MM-DD inclusive.
    #[param(format = Date)]
    pub to: Option<String>,
    /// `month` (default), `quarter` or `year`.
    #[param(pattern = "^(month|quarter|year)$")]
    pub group_by: Option<String>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct TurnoverReport {
    pub team_id: Option<i32>,
    pub periods: Vec<PeriodFigures>,
    /// Company-wide (HR): the answers of the exit-survey cohorts of the
    /// window that closed and reached their threshold, beside the recorded
    /// leave reasons.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub exit_reasons: Option<Vec<crate::reports::lifecycle::ExitReasons>>,
}

pub(crate) fn grouping(raw: Option<&str>) -> AppResult<Grouping> {
    match raw.unwrap_or("month") {
        "month" => Ok(Grouping::Month),
        "quarter" => Ok(Grouping::Quarter),
        "year" => Ok(Grouping::Year),
        other => Err(AppError::field(
            "group_by",
            format!("`{other}` is not a grouping: use month, quarter or year"),
        )),
    }
}

#[utoipa::path(get, path = "/api/v1/reports/turnover", tag = "reports", params(TurnoverParams),
    responses((status = 200, body = TurnoverReport), (status = 403, body = crate::error::ErrorBody), (status = 422, body = crate::error::ErrorBody)))]
pub async fn turnover_report(
    state: web::Data<AppState>,
    caller: Caller,
    q: web::Query<TurnoverParams>,
) -> AppResult<HttpResponse> {
    let g = grouping(q.group_by.as_deref())?;
    let (from, to) = window(q.from.as_deref(), q.to.as_deref())?;
    let team_id = q.team_id;
    let reader = caller.clone();
    let periods = turnover::with_facts(&state, caller, team_id, (from, to), move |d| {
        Ok(turnover::stored_periods(&d, from, to, g))
    })
    .await?;
    let exit_reasons =
        crate::reports::lifecycle::beside_turnover(&state, &reader, team_id, from, to).await?;
    Ok(HttpResponse::Ok().json(TurnoverReport {
        team_id,
        periods,
        exit_reasons,
    }))
}

#[utoipa::path(get, path = "/api/v1/reports/enps-turnover", tag = "reports", params(EnpsParams, Paging),
    responses((status = 200, description = "each team's eNPS beside its turnover rate for the window, and their correlation; over 500 teams without page or per_page, the first 100; with page or per_page, one page of teams; when paged, the correlation is over that page, with X-Total-Count and a Link rel=next header while more remain", body = crate::reports::enps::EnpsTurnoverReport)))]
pub async fn enps_turnover(
    req: HttpRequest,
    state: web::Data<AppState>,
    caller: Caller,
    q: web::Query<EnpsParams>,
    paging: web::Query<Paging>,
) -> AppResult<HttpResponse> {
    let (from, to) = window(q.from.as_deref(), q.to.as_deref())?;
    let paging = paging.into_inner();
    let page = team_page(&paging)?;
    let p = q.into_inner();
    let enps::Paged {
        report,
        total,
        page,
    } = crate::reports::run(&state, move |conn| {
        let scope = Scope::of(conn, &caller)?;
        enps::beside_turnover_page(conn, scope, &p, from, to, None, page)
    })
    .await?;
    paged_teams(&req, paging, page, total, report)
}

/// Spreadsheets run a cell that starts with = + - @ as a formula; a leading
/// apostrophe keeps such text as text.
pub fn safe_cell(s: &str) -> String {
    if s.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        format!("'{s}")
    } else {
        s.to_string()
    }
}

fn opt<T: ToString>(v: Option<T>) -> String {
    v.map(|v| v.to_string()).unwrap_or_default()
}

pub(crate) fn csv_response(name: &str, rows: Vec<Vec<String>>) -> AppResult<HttpResponse> {
    let mut w = csv::WriterBuilder::new()
        .terminator(csv::Terminator::CRLF)
        .from_writer(Vec::new());
    for r in rows {
        w.write_record(r)
            .map_err(|e| AppError::Internal(e.into()))?;
    }
    let body = w
        .into_inner()
        .map_err(|e| AppError::Internal(anyhow::anyhow!("{e}")))?;
    // A BOM makes spreadsheets read the file as UTF-8.
    let mut bytes = b"\xEF\xBB\xBF".to_vec();
    bytes.extend(body);
    Ok(HttpResponse::Ok()
        .content_type("text/csv; charset=utf-8")
        .insert_header((
            header::CONTENT_DISPOSITION,
            format!("attachment; filename=\"{name}\""),
        ))
        .body(bytes))
}

#[utoipa::path(get, path = "/api/v1/reports/enps.csv", tag = "reports", params(EnpsParams),
    responses((status = 200, description = "the eNPS report as CSV; suppressed periods have empty figures", content_type = "text/csv", body = String)))]
pub async fn enps_csv(
    state: web::Data<AppState>,
    caller: Caller,
    req: HttpRequest,
    q: web::Query<EnpsParams>,
) -> AppResult<HttpResponse> {
    let actor = caller.actor();
    let by = group_by(q.group_by.as_deref())?;
    let (from, to) = window(q.from.as_deref(), q.to.as_deref())?;
    let team_id = q.team_id;
    let (scale, team, points) =
        enps::with_data(&state, caller, &q, from, to, Listing::Group, move |d| {
            let team = team_id
                .and_then(|t| d.names.get(&t))
                .map(|n| safe_cell(n))
                .unwrap_or_else(|| "Company".into());
            Ok((d.scale.clone(), team, enps::points(&d, team_id, by)))
        })
        .await?;
    let mut rows = vec![[
        "period_start",
        "period_end",
        "group",
        "scale",
        "invited",
        "responses",
        "participation",
        "promoters",
        "passives",
        "detractors",
        "enps",
        "margin_of_error",
        "suppressed",
        "reason",
        "rounds",
        "rounds_left_out_too_few",
        "rounds_left_out_derivable",
    ]
    .map(String::from)
    .to_vec()];
    for p in points {
        let mut row = vec![
            p.period_start.to_string(),
            p.period_end.to_string(),
            team.clone(),
            opt(scale.clone()),
        ];
        match p.shown {
            Shown::Figures(f) => row.extend([
                f.invited.to_string(),
                f.responses.to_string(),
                opt(f.participation),
                f.promoters.to_string(),
                f.passives.to_string(),
                f.detractors.to_string(),
                opt(f.enps),
                opt(f.margin_of_error),
                "false".into(),
                String::new(),
                f.rounds.to_string(),
                f.left_out.unwrap_or_default().too_few.to_string(),
                f.left_out.unwrap_or_default().derivable.to_string(),
            ]),
            Shown::Suppressed {
                reason, left_out, ..
            } => row.extend(
                std::iter::repeat_n(String::new(), 8).chain([
                    "true".into(),
                    match reason {
                        Reason::TooFew => "too_few",
                        Reason::Derivable => "derivable",
                    }
                    .into(),
                    "0".into(),
                    left_out.too_few.to_string(),
                    left_out.derivable.to_string(),
                ]),
            ),
        }
        rows.push(row);
    }
    record_export(&state, &actor, action::EXPORT_ENPS, "enps.csv".into(), &req).await?;
    csv_response("enps.csv", rows)
}

#[utoipa::path(get, path = "/api/v1/reports/turnover.csv", tag = "reports", params(TurnoverParams),
    responses((status = 200, description = "the turnover report as CSV", content_type = "text/csv", body = String)))]
pub async fn turnover_csv(
    state: web::Data<AppState>,
    caller: Caller,
    req: HttpRequest,
    q: web::Query<TurnoverParams>,
) -> AppResult<HttpResponse> {
    let actor = caller.actor();
    let g = grouping(q.group_by.as_deref())?;
    let (from, to) = window(q.from.as_deref(), q.to.as_deref())?;
    let team_id = q.team_id;
    let (team, periods) = turnover::with_facts(&state, caller, team_id, (from, to), move |d| {
        let team = team_id
            .and_then(|t| d.names.get(&t))
            .map(|n| safe_cell(n))
            .unwrap_or_else(|| "Company".into());
        Ok((team, turnover::stored_periods(&d, from, to, g)))
    })
    .await?;
    let mut rows = vec![[
        "period_start",
        "period_end",
        "group",
        "headcount_start",
        "headcount_end",
        "average_headcount",
        "separations",
        "voluntary",
        "involuntary",
        "other",
        "regretted",
        "first_year_separations",
        "turnover_rate",
        "voluntary_rate",
        "first_year_rate",
        "retention_rate",
    ]
    .map(String::from)
    .to_vec()];
    for p in periods {
        rows.push(vec![
            p.period_start.to_string(),
            p.period_end.to_string(),
            team.clone(),
            p.headcount_start.to_string(),
            p.headcount_end.to_string(),
            format!("{:.2}", p.average_headcount),
            p.separations.to_string(),
            p.voluntary.to_string(),
            p.involuntary.to_string(),
            p.other.to_string(),
            p.regretted.to_string(),
            p.first_year_separations.to_string(),
            opt(p.turnover_rate.map(|r| format!("{r:.2}"))),
            opt(p.voluntary_rate.map(|r| format!("{r:.2}"))),
            opt(p.first_year_rate.map(|r| format!("{r:.2}"))),
            opt(p.retention_rate.map(|r| format!("{r:.2}"))),
        ]);
    }
    record_export(
        &state,
        &actor,
        action::EXPORT_TURNOVER,
        "turnover.csv".into(),
        &req,
    )
    .await?;
    csv_response("turnover.csv", rows)
}

#[derive(Debug, Clone, Deserialize, utoipa::IntoParams)]
pub struct RoundParams {
    /// A team and its sub-teams; absent: everyone invited (admins only).
    pub team_id: Option<i32>,
}

/// One round's report: an open round shows when its figures appear and, where the
/// rule allows, participation so far; a closed one its cell and its questions.
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[serde(untagged)]
pub enum RoundReport {
    Open(OpenRound),
    Closed(ClosedRound),
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct OpenRound {
    pub round_id: i32,
    pub survey_id: i32,
    pub team_id: Option<i32>,
    /// `open`: no figures until `available_at`.
    pub status: String,
    /// The round's close, when its figures appear.
    #[schema(format = DateTime)]
    pub available_at: String,
    /// Participation so far, where the disclosure rule shows it.
    pub live: Live,
    pub scale: String,
    pub min_group_size: i32,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ClosedRound {
    pub round_id: i32,
    pub survey_id: i32,
    pub team_id: Option<i32>,
    /// `closed`.
    pub status: String,
    pub scale: String,
    pub min_group_size: i32,
    /// The group's figures, or `{"suppressed": true, "reason"}`.
    #[serde(flatten)]
    pub shown: Shown,
    /// Present only when the group is not suppressed and the answers are kept.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub questions: Vec<QuestionResult>,
    /// When the retention setting deleted the round's answers (comments,
    /// distributions, the export); its eNPS and participation stay.
    #[serde(
        skip_serializing_if = "Option::is_none",
        serialize_with = "crate::instant::serialize_opt"
    )]
    #[schema(value_type = Option<String>, format = DateTime)]
    pub answers_removed_at: Option<chrono::NaiveDateTime>,
}

#[utoipa::path(get, path = "/api/v1/reports/rounds/{id}", tag = "reports", params(RoundParams),
    responses((status = 200, description = "an open round: when its figures appear and participation so far where the rule allows; a closed one: participation, eNPS and per-question results", body = RoundReport),
              (status = 403, body = crate::error::ErrorBody), (status = 404, body = crate::error::ErrorBody)))]
pub async fn round(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<i32>,
    q: web::Query<RoundParams>,
) -> AppResult<HttpResponse> {
    let d = round_report::data(&state, caller, id.into_inner(), q.team_id).await?;
    let report = match d.stage {
        Stage::Open { participation } => RoundReport::Open(OpenRound {
            round_id: d.round.id,
            survey_id: d.round.survey_id,
            team_id: q.team_id,
            status: "open".into(),
            available_at: crate::instant::rfc3339(d.round.closes_at),
            live: participation,
            scale: d.round.enps_scale.clone(),
            min_group_size: d.round.min_group_size,
        }),
        Stage::Closed(c) => RoundReport::Closed(ClosedRound {
            round_id: d.round.id,
            survey_id: d.round.survey_id,
            team_id: q.team_id,
            status: "closed".into(),
            scale: d.round.enps_scale.clone(),
            min_group_size: d.round.min_group_size,
            shown: c.shown,
            questions: c.questions,
            answers_removed_at: c.answers_removed_at,
        }),
    };
    Ok(HttpResponse::Ok().json(report))
}

#[utoipa::path(get, path = "/api/v1/reports/rounds/{id}/answers.csv", tag = "reports", params(RoundParams),
    responses((status = 200, description = "one row per anonymous response, in random order", content_type = "text/csv", body = String),
              (status = 403, description = "also when the group is too small for its answers to be exported, or would give a smaller group away", body = crate::error::ErrorBody),
              (status = 409, description = "the round is still open", body = crate::error::ErrorBody),
              (status = 410, description = "answers_removed: deleted under the retention setting", body = crate::error::ErrorBody)))]
pub async fn round_answers_csv(
    state: web::Data<AppState>,
    caller: Caller,
    req: HttpRequest,
    id: web::Path<i32>,
    q: web::Query<RoundParams>,
) -> AppResult<HttpResponse> {
    let actor = caller.actor();
    let d = round_report::data(&state, caller, id.into_inner(), q.team_id).await?;
    let c = match &d.stage {
        Stage::Open { .. } => {
            return Err(AppError::Conflict {
                code: "round_open",
                message: "this round is still open: its answers can be exported once it closes"
                    .into(),
            })
        }
        Stage::Closed(c) => c,
    };
    if let Some(at) = c.answers_removed_at {
        return Err(AppError::Gone {
            code: "answers_removed",
            message: format!(
                "this round's answers were deleted on {} under the retention setting; its eNPS and participation are kept",
                at.date()
            ),
        });
    }
    if let Err(reason) = c.export {
        let min = c.comment_min;
        return Err(AppError::Forbidden(match reason {
            Reason::TooFew => format!(
                "answers are exported for groups of at least {min} respondents; this one has fewer"
            ),
            Reason::Derivable => "this group's answers are not exported: beside the other groups' exports they would give a smaller group's answers away".into(),
        }));
    }
    let questions = c.question_rows();
    let mut header = vec!["response".to_string()];
    header.extend(questions.iter().map(|q| safe_cell(&q.prompt)));
    let mut rows = vec![header];
    for (n, (_, answers)) in c.responses_of().into_iter().enumerate() {
        let mut row = vec![(n + 1).to_string()];
        row.extend(questions.iter().map(|q| {
            answers
                .get(&q.id)
                .and_then(|a| {
                    a.score
                        .map(|s| s.to_string())
                        .or_else(|| a.choice.clone())
                        .or_else(|| a.text.clone())
                })
                .map(|v| safe_cell(&v))
                .unwrap_or_default()
        }));
        rows.push(row);
    }
    record_export(
        &state,
        &actor,
        action::EXPORT_ROUND_ANSWERS,
        format!("round:{}", d.round.id),
        &req,
    )
    .await?;
    csv_response(&format!("round-{}-answers.csv", d.round.id), rows)
}

#[utoipa::path(post, path = "/api/v1/rounds/{id}/close", tag = "surveys",
    responses((status = 200, description = "the round, closed now: its figures appear and per-person traces go", body = crate::repo::rounds::Round),
              (status = 404, body = crate::error::ErrorBody), (status = 409, description = "the round was skipped and never sent", body = crate::error::ErrorBody)))]
pub async fn close_round(
    state: web::Data<AppState>,
    Admin(admin): Admin,
    id: web::Path<i32>,
) -> AppResult<HttpResponse> {
    let round =
        crate::jobs::closing::close_now(&state, &admin.actor(), id.into_inner(), Utc::now())
            .await?;
    Ok(HttpResponse::Ok().json(round))
}
