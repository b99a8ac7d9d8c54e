//! /reports/drivers: the key drivers of a period for a team or the company, ranked by
//! impact, with their intervals said in words.

use crate::domain::disclosure::Reason;
use crate::domain::key_drivers::Figure;
use crate::reports::drivers::{self as report, DriverOut};
use crate::routes::api::drivers::period;
use crate::routes::pages::reports::{
    bad_filter, group_field, left_out_text, nonempty, query_string, report_teams,
};
use crate::routes::pages::ui::{OrPage, PageResult, Session};
use crate::state::AppState;
use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest};
use serde::Deserialize;
use serde_json::{json, Value};
use std::collections::BTreeMap;

pub fn configure(cfg: &mut web::ServiceConfig) {
    crate::routes::Router::new()
        .route("/reports/drivers", web::get().to(page))
        .register(cfg);
}

#[derive(Deserialize, Default)]
pub struct Filters {
    team_id: Option<String>,
    from: Option<String>,
    to: Option<String>,
    /// "Find a team", where a reader has too many teams for a select.
    team_q: Option<String>,
}

/// "+0.30", "−0.10": a sign always, and a real minus.
fn signed(v: f64, decimals: usize) -> String {
    format!("{v:+.decimals$}").replace('-', "−")
}

fn hidden(reason: Reason) -> &'static str {
    match reason {
        Reason::TooFew => "hidden: too few answers to show without risking anonymity",
        Reason::Derivable => {
            "hidden: shown beside other figures it would give a smaller group away"
        }
    }
}

/// "+0.30 (−0.10 to +0.70): no significant change".
fn change_text(c: &Option<Figure<crate::domain::key_drivers::ChangeFigures>>) -> String {
    match c {
        None => "not asked in the previous period".into(),
        Some(Figure::Suppressed { reason, .. }) => hidden(*reason).into(),
        Some(Figure::Shown(c)) => format!(
            "{} ({} to {}): {}",
            signed(c.value, 2),
            signed(c.ci_low, 2),
            signed(c.ci_high, 2),
            match (c.significant, c.value > 0.0) {
                (false, _) => "no significant change",
                (true, true) => "a significant rise",
                (true, false) => "a significant fall",
            }
        ),
    }
}

/// "r = +0.620 (+0.210 to +0.840), n = 24: a clear link with eNPS".
fn correlation_text(c: &Option<Figure<crate::domain::key_drivers::CorrelationFigures>>) -> String {
    match c {
        None => "no spread in the answers to correlate".into(),
        Some(Figure::Suppressed { reason, .. }) => hidden(*reason).into(),
        Some(Figure::Shown(c)) => format!(
            "r = {} ({} to {}), n = {}: {}",
            // Three decimals: with two, an upper bound of 0.999 would read as a perfect 1.
            signed(c.r, 3),
            signed(c.ci_low, 3),
            signed(c.ci_high, 3),
            c.n,
            if c.significant {
                "a clear link with eNPS"
            } else {
                "no clear link (the interval spans zero)"
            }
        ),
    }
}

fn row(d: &DriverOut) -> Value {
    json!({
        "driver": d.driver,
        "rank": d.rank.map(|r| r.to_string()).unwrap_or_else(|| "–".into()),
        "name": d.name,
        "score": match (d.score, d.reason) {
            (Some(s), _) => format!("{s:.2} of 5 (n = {})", d.n.unwrap_or(0)),
            (None, Some(r)) => hidden(r).into(),
            (None, None) => "–".into(),
        },
        "change": change_text(&d.change),
        "correlation": correlation_text(&d.correlation),
        "impact": d.impact.map(|i| format!("{i:.2}")).unwrap_or_else(|| "–".into()),
        "left_out": d.left_out.map(|l| left_out_text(l.too_few, l.derivable)),
    })
}

pub async fn page(
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
    // The team asked for, else the company for HR or the first team a lead leads.
    let team_id = nonempty(&f.team_id)
        .and_then(|t| t.parse().ok())
        .or_else(|| {
            (!admin)
                .then(|| teams.rows.first().map(|(t, _, _)| t.id))
                .flatten()
        });
    let mut errors = BTreeMap::new();
    let win = period(nonempty(&f.from).as_deref(), nonempty(&f.to).as_deref())
        .map_err(|e| bad_filter(&e).map(|b| errors.extend(b)))
        .ok();
    let mut data = Value::Null;
    if let Some((from, to)) = win {
        match report::report(&state, user.caller.clone(), team_id, from, to).await {
            Ok(r) => {
                data = json!({
                    "previous_from": r.previous_from.to_string(),
                    "previous_to": r.previous_to.to_string(),
                    "empty": r.drivers.is_empty() && r.outcomes.is_empty(),
                    "drivers": r.drivers.iter().map(row).collect::<Vec<_>>(),
                    "outcomes": r.outcomes.iter().map(row).collect::<Vec<_>>(),
                });
            }
            Err(e) => match bad_filter(&e) {
                Some(b) => errors.extend(b),
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
        None => (f.from.unwrap_or_default(), f.to.unwrap_or_default()),
    };
    let others = query_string(&[("from", Some(from_v.clone())), ("to", Some(to_v.clone()))]);
    let link = format!("/reports/drivers?{others}");
    let (group, field) = group_field(&state, &user, (&teams, admin, team_id), f.team_q, link)
        .await
        .or_page(&req, &user)?;
    Ok(user.render(
        &req,
        status,
        "report_drivers",
        json!({
            "title": "Key drivers",
            "tab_drivers": true,
            "group": group,
            "teams": field.options,
            "team_picker": field.picker,
            "from": from_v,
            "to": to_v,
            "errors": errors,
            "report": data,
        }),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::key_drivers::ChangeFigures;

    #[test]
    fn intervals_are_said_plainly() {
        let c = ChangeFigures {
            value: 0.3,
            ci_low: -0.1,
            ci_high: 0.7,
            significant: false,
            previous_score: 3.0,
            previous_n: 9,
        };
        assert_eq!(
            change_text(&Some(Figure::Shown(c))),
            "+0.30 (−0.10 to +0.70): no significant change"
        );
        assert_eq!(change_text(&None), "not asked in the previous period");
    }
}
