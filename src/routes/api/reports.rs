//! /api/v1/reports: eNPS trends, team breakdowns, turnover, round results and their CSV exports.

use crate::auth::{Caller, Scope};
use crate::domain::anonymity::comment_threshold;
use crate::domain::enps::correlation;
use crate::domain::people::parse_date;
use crate::domain::report::{period_of, team_stints, tree_sums, Counter, GroupBy, Shown, COMPANY};
use crate::domain::teams::with_descendants;
use crate::domain::turnover::{self, Grouping, PeriodFigures};
use crate::error::{AppError, AppResult};
use crate::repo;
use crate::startup::AppState;
use actix_web::{http::header, web, HttpResponse};
use chrono::{Duration, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};

#[derive(Debug, Clone, Deserialize, utoipa::IntoParams)]
pub struct EnpsParams {
    pub survey_id: Option<i32>,
    /// A team and its sub-teams; absent: the whole company (admins only).
    pub team_id: Option<i32>,
    /// YYYY-MM-DD, default a year before `to`.
    pub from: Option<String>,
    /// YYYY-MM-DD inclusive, default today.
    pub to: Option<String>,
    /// `round`, `month` (default) or `quarter`.
    pub group_by: Option<String>,
    /// `1-10` or `0-10`: needed only when the range holds surveys of both scales.
    pub scale: Option<String>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct EnpsPoint {
    pub period_start: NaiveDate,
    pub period_end: NaiveDate,
    /// With group_by=round.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub round_id: Option<i32>,
    /// Figures, or `{"suppressed": true}` under the anonymity threshold.
    #[serde(flatten)]
    pub shown: Shown,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct EnpsReport {
    pub scale: Option<String>,
    pub team_id: Option<i32>,
    pub survey_id: Option<i32>,
    pub points: Vec<EnpsPoint>,
}

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

/// Loads what every eNPS report needs, after the access check.
pub(crate) struct EnpsData {
    pub(crate) counters: Vec<Counter>,
    pub(crate) edges: Vec<(i32, Option<i32>)>,
    pub(crate) names: BTreeMap<i32, String>,
    pub(crate) scope: Scope,
    pub(crate) scale: Option<String>,
}

/// What a report shows: one group's figures, or a list of the caller's teams.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Listing {
    Group,
    Teams,
}

pub(crate) async fn enps_data(
    state: &AppState,
    caller: Caller,
    p: &EnpsParams,
    from: NaiveDate,
    to: NaiveDate,
    listing: Listing,
) -> AppResult<EnpsData> {
    let p = p.clone();
    state
        .db(move |conn| {
            let scope = Scope::of(conn, &caller)?;
            load_enps(conn, scope, &p, from, to, listing)
        })
        .await
}

fn check_access(scope: &Scope, team_id: Option<i32>, listing: Listing) -> AppResult<()> {
    match (listing, team_id, scope) {
        // A lead listing teams sees the teams they lead.
        (Listing::Teams, None, Scope::Teams(ids)) if !ids.is_empty() => Ok(()),
        _ => scope.check_report(team_id),
    }
}

/// Everything an eNPS report reads, after the access check: the counters of
/// the window, one scale, and the team tree.
pub(crate) fn load_enps(
    conn: &mut crate::db::DbConnection,
    scope: Scope,
    p: &EnpsParams,
    from: NaiveDate,
    to: NaiveDate,
    listing: Listing,
) -> AppResult<EnpsData> {
    check_access(&scope, p.team_id, listing)?;
    if let Some(t) = p.team_id {
        repo::teams::find(conn, t)?.ok_or_else(|| AppError::not_found("team"))?;
    }
    let start = from.and_hms_opt(0, 0, 0).unwrap_or_default();
    let end = (to + Duration::days(1))
        .and_hms_opt(0, 0, 0)
        .unwrap_or_default();
    let mut counters = repo::reports::counters(conn, p.survey_id, start, end)?;
    let scales: BTreeSet<String> = counters.iter().map(|c| c.scale.clone()).collect();
    // A 0–10 and a 1–10 survey are never mixed in one figure silently.
    let scale = match (&p.scale, scales.len()) {
        (Some(s), _) => {
            crate::domain::survey::EnpsScale::parse(s).map_err(|e| AppError::field("scale", e))?;
            counters.retain(|c| &c.scale == s);
            Some(s.clone())
        }
        (None, 0) => None,
        (None, 1) => scales.into_iter().next(),
        (None, _) => {
            return Err(AppError::field(
                "scale",
                "this range holds surveys on the 1-10 and the 0-10 scale: pass scale=1-10 or scale=0-10, or a survey_id",
            ))
        }
    };
    let teams = repo::teams::all(conn)?;
    Ok(EnpsData {
        edges: teams.iter().map(|t| (t.id, t.parent_id)).collect(),
        names: teams.into_iter().map(|t| (t.id, t.name)).collect(),
        counters,
        scope,
        scale,
    })
}

fn min_group(counters: &[&Counter]) -> u32 {
    counters
        .iter()
        .map(|c| c.min_group_size)
        .max()
        .unwrap_or(crate::domain::survey::DEFAULT_MIN_GROUP)
        .max(3) as u32
}

pub(crate) fn enps_points(d: &EnpsData, team_id: Option<i32>, by: GroupBy) -> Vec<EnpsPoint> {
    let mut periods: BTreeMap<(NaiveDate, NaiveDate, Option<i32>), Vec<&Counter>> = BTreeMap::new();
    for c in &d.counters {
        let (start, end) = period_of(c.day, by);
        let round = (by == GroupBy::Round).then_some(c.round_id);
        periods.entry((start, end, round)).or_default().push(c);
    }
    periods
        .into_iter()
        .map(|((period_start, period_end, round_id), cs)| {
            // Suppression is decided on the whole tree for the period, so a
            // team's figure and its relatives' never give a hidden one away.
            let sums = tree_sums(&cs, &d.edges, min_group(&cs));
            EnpsPoint {
                period_start,
                period_end,
                round_id,
                shown: sums.shown(team_id.unwrap_or(COMPANY)),
            }
        })
        .collect()
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
    let d = enps_data(&state, caller, &q, from, to, Listing::Group).await?;
    let points = enps_points(&d, q.team_id, by);
    Ok(HttpResponse::Ok().json(EnpsReport {
        scale: d.scale,
        team_id: q.team_id,
        survey_id: q.survey_id,
        points,
    }))
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct TeamFigures {
    pub team_id: i32,
    pub name: String,
    pub parent_id: Option<i32>,
    #[serde(flatten)]
    pub shown: Shown,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct TeamsReport {
    pub scale: Option<String>,
    pub from: NaiveDate,
    pub to: NaiveDate,
    /// The whole company, for admins.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub company: Option<Shown>,
    pub teams: Vec<TeamFigures>,
}

pub(crate) fn teams_report(d: &EnpsData, from: NaiveDate, to: NaiveDate) -> TeamsReport {
    let cs: Vec<&Counter> = d.counters.iter().collect();
    let sums = tree_sums(&cs, &d.edges, min_group(&cs));
    let parents: BTreeMap<i32, Option<i32>> = d.edges.iter().copied().collect();
    let teams = d
        .scope
        .report_teams(d.names.keys().copied())
        .into_iter()
        .map(|id| TeamFigures {
            team_id: id,
            name: d.names[&id].clone(),
            parent_id: parents.get(&id).copied().flatten(),
            shown: sums.shown(id),
        })
        .collect();
    let company = matches!(d.scope, Scope::Everything).then(|| sums.shown(COMPANY));
    TeamsReport {
        scale: d.scale.clone(),
        from,
        to,
        company,
        teams,
    }
}

#[utoipa::path(get, path = "/api/v1/reports/enps/teams", tag = "reports", params(EnpsParams),
    responses((status = 200, description = "each team the caller may see, with figures or suppressed (the heat-map data)", body = TeamsReport),
              (status = 403, body = crate::error::ErrorBody)))]
pub async fn enps_teams(
    state: web::Data<AppState>,
    caller: Caller,
    q: web::Query<EnpsParams>,
) -> AppResult<HttpResponse> {
    let (from, to) = window(q.from.as_deref(), q.to.as_deref())?;
    let mut d = enps_data(&state, caller, &q, from, to, Listing::Teams).await?;
    if let Some(t) = q.team_id {
        d.scope = Scope::Teams(with_descendants(&d.edges, [t]));
    }
    Ok(HttpResponse::Ok().json(teams_report(&d, from, to)))
}

#[derive(Debug, Clone, Deserialize, utoipa::IntoParams)]
pub struct TurnoverParams {
    pub team_id: Option<i32>,
    pub from: Option<String>,
    pub to: Option<String>,
    /// `month` (default), `quarter` or `year`.
    pub group_by: Option<String>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct TurnoverReport {
    pub team_id: Option<i32>,
    pub periods: Vec<PeriodFigures>,
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

/// The stints of every group a report may ask for: the company and each team subtree.
pub(crate) struct PeopleData {
    people: Vec<crate::domain::report::PersonDates>,
    memberships: Vec<crate::domain::report::Membership>,
    edges: Vec<(i32, Option<i32>)>,
    pub(crate) names: BTreeMap<i32, String>,
}

pub(crate) async fn people_data(
    state: &AppState,
    caller: Caller,
    team_id: Option<i32>,
    listing: Listing,
) -> AppResult<PeopleData> {
    state
        .db(move |conn| {
            let scope = Scope::of(conn, &caller)?;
            load_people(conn, &scope, team_id, listing)
        })
        .await
}

pub(crate) fn load_people(
    conn: &mut crate::db::DbConnection,
    scope: &Scope,
    team_id: Option<i32>,
    listing: Listing,
) -> AppResult<PeopleData> {
    check_access(scope, team_id, listing)?;
    if let Some(t) = team_id {
        repo::teams::find(conn, t)?.ok_or_else(|| AppError::not_found("team"))?;
    }
    let teams = repo::teams::all(conn)?;
    Ok(PeopleData {
        people: repo::reports::people(conn)?,
        memberships: repo::reports::memberships(conn)?,
        edges: teams.iter().map(|t| (t.id, t.parent_id)).collect(),
        names: teams.into_iter().map(|t| (t.id, t.name)).collect(),
    })
}

impl PeopleData {
    fn stints(&self, team_id: Option<i32>) -> Vec<turnover::Stint> {
        let teams = team_id.map(|t| with_descendants(&self.edges, [t]));
        team_stints(&self.people, &self.memberships, teams.as_ref())
    }
}

pub(crate) fn turnover_periods(
    d: &PeopleData,
    team_id: Option<i32>,
    from: NaiveDate,
    to: NaiveDate,
    g: Grouping,
) -> Vec<PeriodFigures> {
    let stints = d.stints(team_id);
    turnover::periods(from, to, g)
        .into_iter()
        .map(|(s, e)| turnover::figures(&stints, s, e, g))
        .collect()
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
    let d = people_data(&state, caller, q.team_id, Listing::Group).await?;
    Ok(HttpResponse::Ok().json(TurnoverReport {
        team_id: q.team_id,
        periods: turnover_periods(&d, q.team_id, from, to, g),
    }))
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct TeamEnpsTurnover {
    pub team_id: i32,
    pub name: String,
    /// Absent when the team's eNPS is suppressed.
    pub enps: Option<i32>,
    pub suppressed: bool,
    pub turnover_rate: Option<f64>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct EnpsTurnoverReport {
    pub from: NaiveDate,
    pub to: NaiveDate,
    pub teams: Vec<TeamEnpsTurnover>,
    /// Pearson correlation across the teams with both figures; null with fewer than 3.
    pub correlation: Option<f64>,
}

#[utoipa::path(get, path = "/api/v1/reports/enps-turnover", tag = "reports", params(EnpsParams),
    responses((status = 200, description = "each team's eNPS beside its turnover rate for the window, and their correlation", body = EnpsTurnoverReport)))]
pub async fn enps_turnover(
    state: web::Data<AppState>,
    caller: Caller,
    q: web::Query<EnpsParams>,
) -> AppResult<HttpResponse> {
    let (from, to) = window(q.from.as_deref(), q.to.as_deref())?;
    let d = enps_data(&state, caller.clone(), &q, from, to, Listing::Teams).await?;
    let people = people_data(&state, caller, q.team_id, Listing::Teams).await?;
    Ok(HttpResponse::Ok().json(enps_beside_turnover(&d, &people, from, to)))
}

/// Each team's eNPS beside its turnover over one window, and their correlation.
pub(crate) fn enps_beside_turnover(
    d: &EnpsData,
    people: &PeopleData,
    from: NaiveDate,
    to: NaiveDate,
) -> EnpsTurnoverReport {
    let report = teams_report(d, from, to);
    let teams: Vec<TeamEnpsTurnover> = report
        .teams
        .into_iter()
        .map(|t| {
            let stints = people.stints(Some(t.team_id));
            let rate = turnover::figures(&stints, from, to, Grouping::Year).turnover_rate;
            let (enps, suppressed) = match &t.shown {
                Shown::Figures(f) => (f.enps, false),
                Shown::Suppressed { .. } => (None, true),
            };
            TeamEnpsTurnover {
                team_id: t.team_id,
                name: t.name,
                enps,
                suppressed,
                turnover_rate: rate,
            }
        })
        .collect();
    let pairs: Vec<(f64, f64)> = teams
        .iter()
        .filter_map(|t| Some((f64::from(t.enps?), t.turnover_rate?)))
        .collect();
    EnpsTurnoverReport {
        from,
        to,
        correlation: correlation(&pairs).map(|c| (c * 1000.0).round() / 1000.0),
        teams,
    }
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

fn csv_response(name: &str, rows: Vec<Vec<String>>) -> AppResult<HttpResponse> {
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
    q: web::Query<EnpsParams>,
) -> AppResult<HttpResponse> {
    let by = group_by(q.group_by.as_deref())?;
    let (from, to) = window(q.from.as_deref(), q.to.as_deref())?;
    let d = enps_data(&state, caller, &q, from, to, Listing::Group).await?;
    let team = q
        .team_id
        .and_then(|t| d.names.get(&t))
        .map(|n| safe_cell(n))
        .unwrap_or_else(|| "Company".into());
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
    ]
    .map(String::from)
    .to_vec()];
    for p in enps_points(&d, q.team_id, by) {
        let mut row = vec![
            p.period_start.to_string(),
            p.period_end.to_string(),
            team.clone(),
            opt(d.scale.clone()),
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
            ]),
            Shown::Suppressed { .. } => {
                row.extend(std::iter::repeat_n(String::new(), 8).chain(["true".into()]))
            }
        }
        rows.push(row);
    }
    csv_response("enps.csv", rows)
}

#[utoipa::path(get, path = "/api/v1/reports/turnover.csv", tag = "reports", params(TurnoverParams),
    responses((status = 200, description = "the turnover report as CSV", content_type = "text/csv", body = String)))]
pub async fn turnover_csv(
    state: web::Data<AppState>,
    caller: Caller,
    q: web::Query<TurnoverParams>,
) -> AppResult<HttpResponse> {
    let g = grouping(q.group_by.as_deref())?;
    let (from, to) = window(q.from.as_deref(), q.to.as_deref())?;
    let d = people_data(&state, caller, q.team_id, Listing::Group).await?;
    let team = q
        .team_id
        .and_then(|t| d.names.get(&t))
        .map(|n| safe_cell(n))
        .unwrap_or_else(|| "Company".into());
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
    for p in turnover_periods(&d, q.team_id, from, to, g) {
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
    csv_response("turnover.csv", rows)
}

#[derive(Debug, Clone, Deserialize, utoipa::IntoParams)]
pub struct RoundParams {
    /// A team and its sub-teams; absent: everyone invited (admins only).
    pub team_id: Option<i32>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct QuestionResult {
    pub question_id: i32,
    pub kind: String,
    pub prompt: String,
    /// Number of answers to this question.
    pub answers: u32,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub enps: Option<crate::domain::report::Figures>,
    /// Scale questions: the mean, 2 decimals.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub mean: Option<f64>,
    /// Scale questions: counts for 1..5; choice questions: counts per option, in order.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub distribution: Option<Vec<(String, u32)>>,
    /// Text questions: the comments, when the group is large enough for comments.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub comments: Option<Vec<String>>,
    /// Why comments are hidden, when they are.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub comments_suppressed: Option<String>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct RoundReport {
    pub round_id: i32,
    pub survey_id: i32,
    pub team_id: Option<i32>,
    pub scale: String,
    pub min_group_size: i32,
    /// Figures, or `{"suppressed": true}` under the threshold.
    #[serde(flatten)]
    pub shown: Shown,
    /// Present only when the group is not suppressed.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub questions: Vec<QuestionResult>,
}

pub(crate) struct RoundData {
    pub(crate) round: repo::rounds::Round,
    pub(crate) shown: Shown,
    /// When hidden: because the group itself is too small (true), or to
    /// protect a smaller group from subtraction (false).
    pub(crate) too_few: bool,
    questions: Vec<repo::surveys::QuestionRow>,
    answers: Vec<repo::reports::AnswerRow>,
}

pub(crate) async fn round_data(
    state: &AppState,
    caller: Caller,
    round_id: i32,
    team_id: Option<i32>,
) -> AppResult<RoundData> {
    state
        .db(move |conn| {
            Scope::of(conn, &caller)?.check_report(team_id)?;
            let round =
                repo::rounds::find(conn, round_id)?.ok_or_else(|| AppError::not_found("round"))?;
            let edges = repo::teams::edges(conn)?;
            if let Some(t) = team_id {
                repo::teams::find(conn, t)?.ok_or_else(|| AppError::not_found("team"))?;
            }
            let counters = repo::reports::round_counters(conn, round_id)?;
            let refs: Vec<&Counter> = counters.iter().collect();
            let min = round.min_group_size.max(3) as u32;
            let sums = tree_sums(&refs, &edges, min);
            let shown = sums.shown(team_id.unwrap_or(COMPANY));
            let too_few = sums
                .totals
                .get(&team_id.unwrap_or(COMPANY))
                .is_none_or(|t| t.responses < min);
            let (questions, answers) = match shown {
                Shown::Suppressed { .. } => (vec![], vec![]),
                Shown::Figures(_) => {
                    let teams: Option<Vec<i32>> =
                        team_id.map(|t| with_descendants(&edges, [t]).into_iter().collect());
                    (
                        repo::surveys::questions(conn, round.survey_id, round.question_version)?,
                        repo::reports::round_answers(conn, round_id, teams.as_deref())?,
                    )
                }
            };
            Ok(RoundData {
                round,
                shown,
                too_few,
                questions,
                answers,
            })
        })
        .await
}

pub(crate) fn question_results(d: &RoundData) -> Vec<QuestionResult> {
    let respondents = match &d.shown {
        Shown::Figures(f) => f.responses,
        Shown::Suppressed { .. } => return vec![],
    };
    let scale = crate::domain::survey::EnpsScale::parse(&d.round.enps_scale)
        .unwrap_or(crate::domain::survey::EnpsScale::OneToTen);
    let comments_min = comment_threshold(d.round.min_group_size.max(3) as u32);
    d.questions
        .iter()
        .map(|q| {
            let mine: Vec<&repo::reports::AnswerRow> = d.answers.iter().filter(|a| a.question_id == q.id).collect();
            let mut r = QuestionResult {
                question_id: q.id,
                kind: q.kind.clone(),
                prompt: q.prompt.clone(),
                answers: mine.len() as u32,
                enps: None,
                mean: None,
                distribution: None,
                comments: None,
                comments_suppressed: None,
            };
            match q.kind.as_str() {
                "enps" => {
                    let counts = crate::domain::enps::Counts::from_scores(mine.iter().filter_map(|a| a.score), scale);
                    let invited = match &d.shown {
                        Shown::Figures(f) => f.invited,
                        Shown::Suppressed { .. } => 0,
                    };
                    r.enps = Some(crate::domain::report::Figures::of(crate::domain::report::Totals {
                        invited,
                        responses: counts.responses(),
                        counts,
                    }));
                }
                "scale" => {
                    let scores: Vec<i32> = mine.iter().filter_map(|a| a.score).collect();
                    if !scores.is_empty() {
                        let mean = f64::from(scores.iter().sum::<i32>()) / scores.len() as f64;
                        r.mean = Some((mean * 100.0).round() / 100.0);
                    }
                    r.distribution = Some(
                        (1..=5).map(|n| (n.to_string(), scores.iter().filter(|&&s| s == n).count() as u32)).collect(),
                    );
                }
                "choice" => {
                    let options = q.question().options;
                    r.distribution = Some(
                        options
                            .iter()
                            .map(|o| (o.clone(), mine.iter().filter(|a| a.choice.as_deref() == Some(o)).count() as u32))
                            .collect(),
                    );
                }
                _ => {
                    if respondents >= comments_min {
                        r.comments = Some(mine.iter().filter_map(|a| a.text.clone()).collect());
                    } else {
                        r.comments_suppressed = Some(format!(
                            "comments are shown for groups of at least {comments_min} respondents; this one has {respondents}"
                        ));
                    }
                }
            }
            r
        })
        .collect()
}

#[utoipa::path(get, path = "/api/v1/reports/rounds/{id}", tag = "reports", params(RoundParams),
    responses((status = 200, description = "participation, eNPS and per-question results of one round", body = RoundReport),
              (status = 403, body = crate::error::ErrorBody), (status = 404, body = crate::error::ErrorBody)))]
pub async fn round(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<i32>,
    q: web::Query<RoundParams>,
) -> AppResult<HttpResponse> {
    let d = round_data(&state, caller, id.into_inner(), q.team_id).await?;
    let questions = question_results(&d);
    Ok(HttpResponse::Ok().json(RoundReport {
        round_id: d.round.id,
        survey_id: d.round.survey_id,
        team_id: q.team_id,
        scale: d.round.enps_scale.clone(),
        min_group_size: d.round.min_group_size,
        shown: d.shown,
        questions,
    }))
}

#[utoipa::path(get, path = "/api/v1/reports/rounds/{id}/answers.csv", tag = "reports", params(RoundParams),
    responses((status = 200, description = "one row per anonymous response, in random order", content_type = "text/csv", body = String),
              (status = 403, description = "also when the group is too small for its answers to be exported", body = crate::error::ErrorBody)))]
pub async fn round_answers_csv(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<i32>,
    q: web::Query<RoundParams>,
) -> AppResult<HttpResponse> {
    let d = round_data(&state, caller, id.into_inner(), q.team_id).await?;
    let respondents = match &d.shown {
        Shown::Figures(f) => f.responses,
        Shown::Suppressed { .. } => 0,
    };
    // Whole rows can single a person out more easily than counts: they need
    // the comment threshold.
    let min = comment_threshold(d.round.min_group_size.max(3) as u32);
    if respondents < min {
        return Err(AppError::Forbidden(format!(
            "answers are exported for groups of at least {min} respondents; this one has {respondents}"
        )));
    }
    let mut header = vec!["response".to_string()];
    header.extend(d.questions.iter().map(|q| safe_cell(&q.prompt)));
    let mut rows = vec![header];
    let mut by_response: BTreeMap<&str, BTreeMap<i32, String>> = BTreeMap::new();
    for a in &d.answers {
        let value = a
            .score
            .map(|s| s.to_string())
            .or_else(|| a.choice.clone())
            .or_else(|| a.text.clone())
            .unwrap_or_default();
        by_response
            .entry(&a.response_id)
            .or_default()
            .insert(a.question_id, safe_cell(&value));
    }
    for (n, (_, answers)) in by_response.into_iter().enumerate() {
        let mut row = vec![(n + 1).to_string()];
        row.extend(
            d.questions
                .iter()
                .map(|q| answers.get(&q.id).cloned().unwrap_or_default()),
        );
        rows.push(row);
    }
    csv_response(&format!("round-{}-answers.csv", d.round.id), rows)
}
