//! /reports/enps (trend, participation, team heat-map) and /reports/turnover
//! (by month with the voluntary/involuntary split, eNPS beside turnover), with
//! CSV downloads. HR sees the company; a lead the teams they lead.

use crate::auth::{Caller, Scope};
use crate::domain::disclosure::Shown;
use crate::domain::report::GroupBy;
use crate::domain::teams::fold;
use crate::error::AppError;
use crate::repo;
use crate::reports::enps::{
    self as enps_report, EnpsData, EnpsParams, EnpsPoint, EnpsTurnoverReport, Paged, TeamsPage,
};
use crate::reports::turnover as turnover_report;
use crate::routes::api::reports::{group_by, grouping, window};
use crate::routes::pages::charts::{self, Series, TrendPoint};
use crate::routes::pages::team_picker::{self, TeamChoice, TeamField};
use crate::routes::pages::ui::{
    page_number, pager, percent, signed, OrPage, PageResult, Session, TeamTree, User,
};
use crate::state::AppState;
use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest};
use chrono::{Datelike, NaiveDate};
use serde::Deserialize;
use serde_json::{json, Value};
use std::collections::BTreeMap;

pub fn configure(cfg: &mut web::ServiceConfig) {
    crate::routes::Router::new()
        .route("/reports", web::get().to(index))
        .route("/reports/enps", web::get().to(enps))
        .route("/reports/turnover", web::get().to(turnover))
        .register(cfg);
}

pub async fn index() -> actix_web::HttpResponse {
    crate::routes::pages::redirect("/reports/enps")
}

/// Every filter as typed, so a bad one comes back with its message.
#[derive(Deserialize, Default, Clone)]
pub struct Filters {
    survey_id: Option<String>,
    team_id: Option<String>,
    from: Option<String>,
    to: Option<String>,
    group_by: Option<String>,
    scale: Option<String>,
    /// Which page of the heat map's teams, from 1.
    heat_page: Option<String>,
    /// Which page of eNPS beside turnover, from 1, where it has too many teams for one.
    beside_page: Option<String>,
    /// "Find a team", where a reader has too many teams for a select.
    team_q: Option<String>,
}

pub(crate) fn nonempty(v: &Option<String>) -> Option<String> {
    v.as_deref()
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(String::from)
}

/// The teams a reader may report on, and whether they see the whole company.
pub(crate) async fn report_teams(
    state: &AppState,
    caller: Caller,
) -> Result<(TeamTree, bool), AppError> {
    state
        .db(move |conn| {
            let scope = Scope::of(conn, &caller)?;
            let all = repo::teams::all(conn)?;
            // A set: looking each of thousands of teams up in a list took half of the page's time.
            let visible: std::collections::BTreeSet<i32> = scope
                .report_teams(all.iter().map(|t| t.id))
                .into_iter()
                .collect();
            Ok((
                TeamTree::new(
                    all.into_iter()
                        .filter(|t| visible.contains(&t.id))
                        .collect(),
                ),
                matches!(scope, Scope::Everything),
            ))
        })
        .await
}

/// "Jan 26", "Q1 26" or "12 Jan 26": short enough for an axis.
pub(crate) fn period_label(start: NaiveDate, by: GroupBy) -> String {
    match by {
        GroupBy::Month => start.format("%b %y").to_string(),
        GroupBy::Quarter => format!("Q{} {}", start.month0() / 3 + 1, start.format("%y")),
        GroupBy::Round => start.format("%-d %b %y").to_string(),
    }
}

/// The trend chart, the participation bars and the rows of their table.
/// "2 rounds left out (too few answers)": what a period's figure does not include.
pub(crate) fn left_out_text(too_few: u32, derivable: u32) -> String {
    let rounds = |n: u32| {
        if n == 1 {
            "1 round".to_string()
        } else {
            format!("{n} rounds")
        }
    };
    let mut parts = vec![];
    if too_few > 0 {
        parts.push(format!("{} with too few answers", rounds(too_few)));
    }
    if derivable > 0 {
        parts.push(format!(
            "{} hidden to protect a smaller group",
            rounds(derivable)
        ));
    }
    parts.join(" and ")
}

pub(crate) fn trend_parts(points: &[EnpsPoint], by: GroupBy) -> (String, String, Vec<Value>) {
    let labels: Vec<String> = points
        .iter()
        .map(|p| period_label(p.period_start, by))
        .collect();
    let trend: Vec<TrendPoint> = points
        .iter()
        .zip(&labels)
        .map(|(p, label)| TrendPoint {
            label: label.clone(),
            value: match &p.shown {
                Shown::Figures(f) => f
                    .enps
                    .map(|e| (f64::from(e), f.margin_of_error.unwrap_or(0.0))),
                Shown::Suppressed { .. } => None,
            },
        })
        .collect();
    let participation: Vec<f64> = points
        .iter()
        .map(|p| match &p.shown {
            Shown::Figures(f) => f.participation.unwrap_or(0.0),
            Shown::Suppressed { .. } => 0.0,
        })
        .collect();
    let rows = points
        .iter()
        .zip(&labels)
        .map(|(p, label)| {
            let period = if p.period_start == p.period_end {
                p.period_start.to_string()
            } else {
                format!("{} to {}", p.period_start, p.period_end)
            };
            match &p.shown {
                Shown::Figures(f) => json!({
                    "label": label, "period": period, "hidden": false,
                    "left_out": f.left_out.map(|l| left_out_text(l.too_few, l.derivable)),
                    "invited": f.invited, "responses": f.responses,
                    "participation": percent(f.participation),
                    "enps": f.enps.map(signed).unwrap_or_else(|| "–".into()),
                    "margin": f.margin_of_error.map(|m| format!("± {m:.0}")).unwrap_or_default(),
                    "promoters": f.promoters, "passives": f.passives, "detractors": f.detractors,
                }),
                Shown::Suppressed {
                    reason, left_out, ..
                } => {
                    let why = match reason {
                        crate::domain::disclosure::Reason::TooFew => {
                            "too few people answered to show without risking anonymity"
                        }
                        crate::domain::disclosure::Reason::Derivable => {
                            "shown beside other figures, this would let someone work out a smaller group's answers"
                        }
                    };
                    json!({"label": label, "period": period, "hidden": true, "why": why,
                           "left_out": left_out_text(left_out.too_few, left_out.derivable)})
                }
            }
        })
        .collect();
    let svg_trend = charts::enps_trend(&trend);
    let svg_participation = charts::stacked_bars(
        &labels,
        &[Series {
            color: charts::ACCENT,
            values: &participation,
        }],
        Some(100.0),
        "%",
    );
    (svg_trend, svg_participation, rows)
}

/// A light background for an eNPS cell, red through yellow to green; text stays dark.
fn heat(enps: i32) -> String {
    let hue = (f64::from(enps.clamp(-100, 100)) + 100.0) / 200.0 * 130.0;
    format!("hsl({hue:.0}, 70%, 84%)")
}

/// The group a report page shows, by name for its heading, and the field that
/// chooses it (HR may also choose the whole company). `link` is the page with its
/// other filters, which choosing a team from a search keeps.
pub(crate) async fn group_field(
    state: &AppState,
    user: &User,
    (teams, admin, chosen): (&TeamTree, bool, Option<i32>),
    search: Option<String>,
    link: String,
) -> Result<(String, TeamChoice), AppError> {
    let name = chosen
        .and_then(|t| teams.name(t).map(String::from))
        .unwrap_or_else(|| "Whole company".into());
    let field = TeamField {
        param: "team_id",
        label: "Group",
        everyone: admin.then_some("Whole company"),
        chosen,
        search,
        link,
    };
    Ok((
        name,
        team_picker::choice(state, &user.caller, teams, field).await?,
    ))
}

/// The team a page reports on: the one asked for, else the company for HR
/// or the first team a lead leads.
fn chosen_team(f: &Filters, teams: &TeamTree, admin: bool) -> Option<i32> {
    nonempty(&f.team_id)
        .and_then(|t| t.parse().ok())
        .or_else(|| {
            (!admin)
                .then(|| teams.rows.first().map(|(t, _, _)| t.id))
                .flatten()
        })
}

fn choices(opts: &[(&str, &str)], selected: &str) -> Vec<Value> {
    opts.iter()
        .map(|(v, l)| json!({"value": v, "label": l, "selected": *v == selected}))
        .collect()
}

pub(crate) fn query_string(pairs: &[(&str, Option<String>)]) -> String {
    let mut qs = url::form_urlencoded::Serializer::new(String::new());
    for (k, v) in pairs {
        if let Some(v) = v {
            qs.append_pair(k, v);
        }
    }
    qs.finish()
}

pub(crate) fn bad_filter(e: &AppError) -> Option<BTreeMap<String, String>> {
    match e {
        AppError::Validation { fields, .. } => Some(fields.clone()),
        _ => None,
    }
}

/// Teams the heat map shows on one page at most: a longer listing folds to whole
/// levels (see `teams::fold`), and a level longer than this goes on several pages.
const HEAT_ROWS: usize = 60;

/// One row of the heat map: a team, its depth in the listing, and how many teams
/// below it the fold leaves out.
struct HeatRow {
    id: i32,
    name: String,
    depth: usize,
    folded: usize,
}

/// The heat map's rows on page `page` (from 0): the chosen team then its sub-teams,
/// or every team the reader may see, folded; and whether another page follows.
/// A company of thousands of teams shows its top levels, not a megabyte of rows.
fn heat_rows(teams: &TeamTree, team_id: Option<i32>, page: usize) -> (Vec<HeatRow>, bool) {
    let all = teams.rows.as_slice();
    // Under a chosen team: the team, then the rows below it (tree order keeps them together).
    let (head, rest) = match team_id.and_then(|t| all.iter().position(|r| r.0.id == t)) {
        Some(i) => {
            let depth = all[i].1;
            let below = all[i + 1..].iter().take_while(|r| r.1 > depth).count();
            (Some(&all[i]), &all[i + 1..=i + below])
        }
        None => (None, all),
    };
    let depths: Vec<usize> = rest.iter().map(|r| r.1).collect();
    let top = depths.iter().min().copied().unwrap_or(0);
    let kept = fold(&depths, HEAT_ROWS);
    let more = kept.len() > (page + 1) * HEAT_ROWS;
    let shift = usize::from(head.is_some());
    let row = |r: &(crate::repo::teams::Team, usize, String), depth, folded| HeatRow {
        id: r.0.id,
        name: r.0.name.clone(),
        depth,
        folded,
    };
    let rows = head
        .filter(|_| page == 0)
        .map(|h| row(h, 0, 0))
        .into_iter()
        .chain(
            kept.chunks(HEAT_ROWS)
                .nth(page)
                .unwrap_or_default()
                .iter()
                .map(|k| row(&rest[k.index], rest[k.index].1 - top + shift, k.folded)),
        )
        .collect();
    (rows, more)
}

/// Rows of the heat-map: the listed teams over the last periods.
fn heat_map(d: &EnpsData, team_id: Option<i32>, by: GroupBy, listed: &[HeatRow]) -> Value {
    let company = enps_report::points(d, team_id, by);
    let columns: Vec<NaiveDate> = company
        .iter()
        .rev()
        .take(12)
        .rev()
        .map(|p| p.period_start)
        .collect();
    let rows: Vec<Value> = listed
        .iter()
        .map(|t| {
            let depth = t.depth;
            let by_period: BTreeMap<NaiveDate, Shown> = enps_report::points(d, Some(t.id), by)
                .into_iter()
                .map(|p| (p.period_start, p.shown))
                .collect();
            let cells: Vec<Value> = columns
                .iter()
                .map(|c| match by_period.get(c) {
                    Some(Shown::Figures(f)) if f.enps.is_some() => {
                        let e = f.enps.unwrap_or_default();
                        json!({"text": signed(e), "style": format!("background:{}", heat(e)), "title": format!("{} answers", f.responses)})
                    }
                    Some(Shown::Figures(_)) => json!({"text": "–", "style": "", "title": "no eNPS answers"}),
                    Some(Shown::Suppressed { reason: crate::domain::disclosure::Reason::Derivable, .. }) => json!({"text": "hidden", "style": "", "title": "hidden so that a smaller group cannot be worked out by subtraction"}),
                    _ => json!({"text": "hidden", "style": "", "title": "too few people answered to show"}),
                })
                .collect();
            let folded = match t.folded {
                0 => None,
                1 => Some("1 sub-team".to_string()),
                n => Some(format!("{n} sub-teams")),
            };
            json!({"name": t.name, "id": t.id, "folded": folded, "indent": depth, "pad": format!("padding-left:{}rem", 0.6 + depth as f64), "cells": cells})
        })
        .collect();
    json!({
        "columns": columns.iter().map(|c| period_label(*c, by)).collect::<Vec<_>>(),
        "rows": rows,
    })
}

pub async fn enps(
    req: HttpRequest,
    session: Session,
    state: web::Data<AppState>,
    q: web::Query<Filters>,
) -> PageResult {
    let user = session.require(&req)?;
    user.require_reports(&req)?;
    let f = q.into_inner();
    let (teams, admin) = report_teams(&state, user.caller.clone())
        .await
        .or_page(&req, &user)?;
    if !admin && teams.rows.is_empty() {
        return Err(user.forbidden(
            &req,
            "Reports show the teams you lead, and you lead none yet.",
        ));
    }
    let teams = std::sync::Arc::new(teams);
    let team_id = chosen_team(&f, &teams, admin);
    let surveys = if admin {
        state
            .db(|conn| Ok(repo::surveys::list(conn, 0, 1000)?.0))
            .await
            .or_page(&req, &user)?
    } else {
        vec![]
    };
    let survey_id: Option<i32> = nonempty(&f.survey_id).and_then(|s| s.parse().ok());
    let by_raw = nonempty(&f.group_by).unwrap_or_else(|| "month".into());
    let mut errors = BTreeMap::new();
    let by = group_by(Some(&by_raw))
        .map_err(|e| bad_filter(&e).map(|b| errors.extend(b)))
        .ok();
    let win = window(nonempty(&f.from).as_deref(), nonempty(&f.to).as_deref())
        .map_err(|e| bad_filter(&e).map(|b| errors.extend(b)))
        .ok();
    let params = EnpsParams {
        survey_id,
        team_id,
        from: None,
        to: None,
        group_by: Some(by_raw.clone()),
        scale: nonempty(&f.scale),
    };
    let heat_page = nonempty(&f.heat_page)
        .and_then(|p| p.parse::<usize>().ok())
        .unwrap_or(1)
        .max(1);
    let (listed, heat_more) = heat_rows(&teams, team_id, heat_page - 1);
    let mut report = Value::Null;
    let mut status = StatusCode::OK;
    if let (Some(by), Some((from, to))) = (by, win) {
        let ids = listed.iter().map(|r| r.id).collect();
        match enps_report::with_listed(
            &state,
            user.caller.clone(),
            &params,
            (from, to),
            ids,
            move |d| {
                let points = enps_report::points(&d, team_id, by);
                let (trend, participation, rows) = trend_parts(&points, by);
                Ok(json!({
                    "scale": d.scale,
                    "empty": points.is_empty(),
                    "trend": trend,
                    "participation": participation,
                    "rows": rows,
                    "heat": heat_map(&d, team_id, by, &listed),
                    "from": from.to_string(),
                    "to": to.to_string(),
                }))
            },
        )
        .await
        {
            Ok(r) => {
                report = r;
            }
            Err(e) => match bad_filter(&e) {
                Some(b) => errors.extend(b),
                None => return Err(user.error(&req, e)),
            },
        }
    }
    if !errors.is_empty() {
        status = StatusCode::UNPROCESSABLE_ENTITY;
    }
    let (from_v, to_v) = match win {
        Some((a, b)) => (a.to_string(), b.to_string()),
        None => (
            f.from.clone().unwrap_or_default(),
            f.to.clone().unwrap_or_default(),
        ),
    };
    let csv = query_string(&[
        ("survey_id", survey_id.map(|s| s.to_string())),
        ("team_id", team_id.map(|t| t.to_string())),
        ("from", Some(from_v.clone())),
        ("to", Some(to_v.clone())),
        ("group_by", Some(by_raw.clone())),
        ("scale", nonempty(&f.scale)),
    ]);
    // The heat map's links keep every filter but the team and the page.
    let heat_query = query_string(&[
        ("survey_id", survey_id.map(|s| s.to_string())),
        ("from", Some(from_v.clone())),
        ("to", Some(to_v.clone())),
        ("group_by", Some(by_raw.clone())),
        ("scale", nonempty(&f.scale)),
    ]);
    let heat_pages = |n: usize| {
        let team = team_id.map(|t| format!("&team_id={t}")).unwrap_or_default();
        format!("/reports/enps?{heat_query}{team}&heat_page={n}#h-heat")
    };
    let mut survey_choices =
        vec![json!({"value": "", "label": "All surveys", "selected": survey_id.is_none()})];
    survey_choices.extend(
        surveys
            .iter()
            .map(|s| json!({"value": s.id, "label": s.title, "selected": Some(s.id) == survey_id})),
    );
    let link = format!("/reports/enps?{heat_query}");
    let (group_name, field) = group_field(&state, &user, (&teams, admin, team_id), f.team_q, link)
        .await
        .or_page(&req, &user)?;
    Ok(user.render(
        &req,
        status,
        "report_enps",
        json!({
            "title": "eNPS report",
            "tab_enps": true,
            "admin": admin,
            "group": group_name,
            "teams": field.options,
            "team_picker": field.picker,
            "surveys": survey_choices,
            "from": from_v,
            "to": to_v,
            "group_by": choices(&[("month", "Month"), ("quarter", "Quarter"), ("round", "Round")], &by_raw),
            "scales": choices(&[("", "The only one in range"), ("1-10", "1 to 10"), ("0-10", "0 to 10")], &nonempty(&f.scale).unwrap_or_default()),
            "errors": errors,
            "has_errors": !errors.is_empty(),
            "report": report,
            "csv_enps": format!("/api/v1/reports/enps.csv?{csv}"),
            "heat_query": heat_query,
            "heat_next": heat_more.then(|| heat_pages(heat_page + 1)),
            "heat_previous": (heat_page > 1).then(|| heat_pages(heat_page - 1)),
            "turnover_link": format!("/reports/turnover?{}", query_string(&[("team_id", team_id.map(|t| t.to_string())), ("from", Some(from_v.clone())), ("to", Some(to_v.clone()))])),
        }),
    ))
}

/// The rows of eNPS beside turnover, indented as in the team tree, and their correlation.
fn beside_table(r: &EnpsTurnoverReport, teams: &TeamTree) -> Value {
    let depth: BTreeMap<i32, usize> = teams.rows.iter().map(|(t, d, _)| (t.id, *d)).collect();
    json!({
        "teams": r.teams.iter().map(|t| json!({
            "name": t.name,
            "pad": format!("padding-left:{}rem", 0.6 + depth.get(&t.team_id).copied().unwrap_or(0) as f64),
            "enps": if t.suppressed { "hidden".to_string() } else { t.enps.map(signed).unwrap_or_else(|| "–".into()) },
            "turnover": turnover_rate(t.turnover_rate),
        })).collect::<Vec<_>>(),
        "correlation": r.correlation.map(|c| format!("{c:.2}")),
        "reading": r.correlation.map(|c| match c {
            c if c <= -0.5 => "a strong tendency: teams with a higher eNPS lose fewer people",
            c if c < -0.2 => "a weak tendency: teams with a higher eNPS lose somewhat fewer people",
            c if c < 0.2 => "no clear relation between eNPS and turnover",
            _ => "teams with a higher eNPS lost more people in this window",
        }),
    })
}

/// "4.17%", or "–" where there is no rate.
fn turnover_rate(r: Option<f64>) -> String {
    r.map(|r| format!("{r:.2}%")).unwrap_or_else(|| "–".into())
}

pub async fn turnover(
    req: HttpRequest,
    session: Session,
    state: web::Data<AppState>,
    q: web::Query<Filters>,
) -> PageResult {
    let user = session.require(&req)?;
    user.require_reports(&req)?;
    let f = q.into_inner();
    let (teams, admin) = report_teams(&state, user.caller.clone())
        .await
        .or_page(&req, &user)?;
    if !admin && teams.rows.is_empty() {
        return Err(user.forbidden(
            &req,
            "Reports show the teams you lead, and you lead none yet.",
        ));
    }
    let team_id = chosen_team(&f, &teams, admin);
    let g_raw = nonempty(&f.group_by).unwrap_or_else(|| "month".into());
    let mut errors = BTreeMap::new();
    let g = grouping(Some(&g_raw))
        .map_err(|e| bad_filter(&e).map(|b| errors.extend(b)))
        .ok();
    let win = window(nonempty(&f.from).as_deref(), nonempty(&f.to).as_deref())
        .map_err(|e| bad_filter(&e).map(|b| errors.extend(b)))
        .ok();
    let mut report = Value::Null;
    let mut beside = Value::Null;
    // A long table goes by pages: (page, teams per page, teams in all).
    let mut beside_paging = None;
    if let (Some(g), Some((from, to))) = (g, win) {
        let periods = turnover_report::with_facts(
            &state,
            user.caller.clone(),
            team_id,
            (from, to),
            move |d| Ok(turnover_report::stored_periods(&d, from, to, g)),
        )
        .await
        .or_page(&req, &user)?;
        let labels: Vec<String> = periods
            .iter()
            .map(|p| match g {
                crate::domain::turnover::Grouping::Month => {
                    p.period_start.format("%b %y").to_string()
                }
                crate::domain::turnover::Grouping::Quarter => {
                    period_label(p.period_start, GroupBy::Quarter)
                }
                crate::domain::turnover::Grouping::Year => p.period_start.format("%Y").to_string(),
            })
            .collect();
        let part = |n: u32, avg: f64| {
            if avg > 0.0 {
                f64::from(n) * 100.0 / avg
            } else {
                0.0
            }
        };
        let vol: Vec<f64> = periods
            .iter()
            .map(|p| part(p.voluntary, p.average_headcount))
            .collect();
        let invol: Vec<f64> = periods
            .iter()
            .map(|p| part(p.involuntary, p.average_headcount))
            .collect();
        let other: Vec<f64> = periods
            .iter()
            .map(|p| part(p.other, p.average_headcount))
            .collect();
        let chart = charts::stacked_bars(
            &labels,
            &[
                Series {
                    color: charts::VOLUNTARY,
                    values: &vol,
                },
                Series {
                    color: charts::INVOLUNTARY,
                    values: &invol,
                },
                Series {
                    color: charts::OTHER,
                    values: &other,
                },
            ],
            None,
            "%",
        );
        let rows: Vec<Value> = periods
            .iter()
            .zip(&labels)
            .map(|(p, l)| json!({
                "label": l,
                "headcount_start": p.headcount_start, "headcount_end": p.headcount_end,
                "average": format!("{:.1}", p.average_headcount),
                "separations": p.separations, "voluntary": p.voluntary, "involuntary": p.involuntary,
                "other": p.other, "regretted": p.regretted,
                "rate": turnover_rate(p.turnover_rate), "voluntary_rate": turnover_rate(p.voluntary_rate),
            }))
            .collect();
        let total: u32 = periods.iter().map(|p| p.separations).sum();
        let exits =
            crate::reports::lifecycle::beside_turnover(&state, &user.caller, team_id, from, to)
                .await
                .or_page(&req, &user)?;
        report = json!({"chart": chart, "rows": rows, "separations": total,
                        "exit_reasons": crate::routes::pages::lifecycle::exit_reasons_json(exits)});
        // eNPS beside turnover over the same window, team by team.
        let params = EnpsParams {
            survey_id: None,
            team_id,
            from: None,
            to: None,
            group_by: None,
            scale: nonempty(&f.scale),
        };
        let page = TeamsPage::Numbered(page_number(f.beside_page.as_deref()) as usize);
        match enps_report::beside_turnover_report(
            &state,
            user.caller.clone(),
            &params,
            (from, to),
            team_id,
            page,
        )
        .await
        {
            Ok(Paged {
                report: table,
                total,
                page,
            }) => {
                beside = beside_table(&table, &teams);
                beside_paging = page.map(|(offset, count)| (offset / count + 1, count, total));
            }
            Err(e) => match bad_filter(&e) {
                Some(b) => {
                    beside = json!({"error": b.into_values().collect::<Vec<_>>().join(" ")});
                }
                None => return Err(user.error(&req, e)),
            },
        }
    }
    let status = if errors.is_empty() {
        StatusCode::OK
    } else {
        StatusCode::UNPROCESSABLE_ENTITY
    };
    let (from_v, to_v) = match win {
        Some((a, b)) => (a.to_string(), b.to_string()),
        None => (
            f.from.clone().unwrap_or_default(),
            f.to.clone().unwrap_or_default(),
        ),
    };
    let csv = query_string(&[
        ("team_id", team_id.map(|t| t.to_string())),
        ("from", Some(from_v.clone())),
        ("to", Some(to_v.clone())),
        ("group_by", Some(g_raw.clone())),
    ]);
    let others = query_string(&[
        ("from", Some(from_v.clone())),
        ("to", Some(to_v.clone())),
        ("group_by", Some(g_raw.clone())),
        ("scale", nonempty(&f.scale)),
    ]);
    if let Some((page, count, total)) = beside_paging {
        // The page's links keep every filter, the search too.
        let link = |n: i64| {
            let qs = query_string(&[
                ("team_id", team_id.map(|t| t.to_string())),
                ("team_q", nonempty(&f.team_q)),
                ("beside_page", Some(n.to_string())),
            ]);
            format!("/reports/turnover?{others}&{qs}#h-beside")
        };
        let mut paged = pager(page as i64, total as i64, count as i64, link);
        let (first, last) = ((page - 1) * count + 1, (page * count).min(total));
        paged["total"] = json!(total);
        paged["teams"] = json!(if first == last {
            format!("team {first}")
        } else {
            format!("teams {first} to {last}")
        });
        beside["paged"] = paged;
    }
    let link = format!("/reports/turnover?{others}");
    let (group_name, field) = group_field(&state, &user, (&teams, admin, team_id), f.team_q, link)
        .await
        .or_page(&req, &user)?;
    Ok(user.render(
        &req,
        status,
        "report_turnover",
        json!({
            "title": "Turnover report",
            "tab_turnover": true,
            "group": group_name,
            "teams": field.options,
            "team_picker": field.picker,
            "from": from_v,
            "to": to_v,
            "group_by": choices(&[("month", "Month"), ("quarter", "Quarter"), ("year", "Year")], &g_raw),
            "errors": errors,
            "has_errors": !errors.is_empty(),
            "report": report,
            "beside": beside,
            "csv_turnover": format!("/api/v1/reports/turnover.csv?{csv}"),
            "enps_link": format!("/reports/enps?{}", query_string(&[("team_id", team_id.map(|t| t.to_string())), ("from", Some(from_v.clone())), ("to", Some(to_v.clone()))])),
        }),
    ))
}

/// The dashboard's trend: the last twelve months of one group, falling back
/// to the 1–10 scale when the year mixes scales.
pub(crate) async fn recent_trend(
    state: &AppState,
    user: &User,
    team_id: Option<i32>,
) -> Result<Option<(String, String, Vec<Value>)>, AppError> {
    let caller = user.caller.clone();
    let today = chrono::Utc::now().date_naive();
    let points = crate::reports::run(state, move |conn| {
        let scope = Scope::of(conn, &caller)?;
        enps_report::recent_points(conn, scope, team_id, today)
    })
    .await?;
    if points.is_empty() {
        return Ok(None);
    }
    Ok(Some(trend_parts(&points, GroupBy::Month)))
}
