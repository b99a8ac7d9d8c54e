//! `pulse bench reports`: times the main reports against whatever the database holds (e.g. after `pulse demo`).

use crate::auth::Scope;
use crate::db::DbConnection;
use crate::reports::enps::{self, EnpsParams};
use crate::reports::{turnover, Listing};
use chrono::{Duration, Utc};
use diesel::prelude::*;
use std::time::Instant;

/// One report computation; returns how many rows it produced.
type Case = Box<dyn FnMut(&mut DbConnection) -> anyhow::Result<usize>>;

pub struct Timing {
    pub name: &'static str,
    pub median_ms: f64,
    pub p95_ms: f64,
    pub max_ms: f64,
}

fn params(team_id: Option<i32>, group_by: &str) -> EnpsParams {
    EnpsParams {
        survey_id: None,
        team_id,
        from: None,
        to: None,
        group_by: Some(group_by.into()),
        scale: None,
    }
}

/// Each report as its endpoint computes it (database reads and figures; no
/// HTTP or JSON), `runs` times after one warm-up.
pub fn run(conn: &mut DbConnection, runs: usize) -> anyhow::Result<Vec<Timing>> {
    let to = Utc::now().date_naive();
    let from = to - Duration::days(365);
    let department: Option<i32> = crate::db::schema::teams::table
        .filter(crate::db::schema::teams::parent_id.is_null())
        .select(crate::db::schema::teams::id)
        .order(crate::db::schema::teams::id)
        .first(conn)
        .optional()?;
    let latest = crate::repo::rounds::recent(conn, 1)?.into_iter().next();
    let admin = crate::auth::Caller {
        id: 0,
        email: String::new(),
        name: "bench".into(),
        role: crate::domain::people::Role::Admin,
        team_id: None,
        notes_key: None,
        sso: false,
        ip: "bench".into(),
    };
    let month = crate::domain::report::GroupBy::Month;
    let by_month = crate::domain::turnover::Grouping::Month;
    let mut cases: Vec<(&'static str, Case)> = vec![
        (
            "company eNPS trend, 12 months by month",
            Box::new(move |c| {
                let d = enps::load(
                    c,
                    Scope::Everything,
                    &params(None, "month"),
                    from,
                    to,
                    Listing::Group,
                )?;
                Ok(enps::points(&d, None, month).len())
            }),
        ),
        (
            "heat map, every team, 12 months (by pages only)",
            Box::new(move |c| {
                let p = params(None, "month");
                let page = enps::TeamsPage::Whole;
                let r = enps::heat_map(c, Scope::Everything, &p, from, to, page)?;
                Ok(r.report.teams.len())
            }),
        ),
        (
            "heat map as the API answers it unasked",
            Box::new(move |c| {
                let p = params(None, "month");
                let page = enps::TeamsPage::Default;
                let r = enps::heat_map(c, Scope::Everything, &p, from, to, page)?;
                Ok(r.report.teams.len())
            }),
        ),
        (
            "heat map, one page of 100 teams",
            Box::new(move |c| {
                let p = params(None, "month");
                let page = enps::TeamsPage::Page(0, 100);
                let r = enps::heat_map(c, Scope::Everything, &p, from, to, page)?;
                Ok(r.report.teams.len())
            }),
        ),
        (
            "one department's eNPS trend, by round",
            Box::new(move |c| {
                let d = enps::load(
                    c,
                    Scope::Everything,
                    &params(department, "round"),
                    from,
                    to,
                    Listing::Group,
                )?;
                Ok(enps::points(&d, department, crate::domain::report::GroupBy::Round).len())
            }),
        ),
        (
            "company turnover, 12 months by month",
            Box::new(move |c| {
                let d = turnover::load_facts(c, &Scope::Everything, None, from, to)?;
                Ok(turnover::stored_periods(&d, from, to, by_month).len())
            }),
        ),
        (
            "  the same from people (before stored facts)",
            Box::new(move |c| {
                let d = turnover::load(c, &Scope::Everything, None, Listing::Group)?;
                Ok(turnover::periods(&d, None, from, to, by_month).len())
            }),
        ),
        (
            "one department's turnover, by month",
            Box::new(move |c| {
                let d = turnover::load_facts(c, &Scope::Everything, department, from, to)?;
                Ok(turnover::stored_periods(&d, from, to, by_month).len())
            }),
        ),
        (
            "  the same from people (before stored facts)",
            Box::new(move |c| {
                let d = turnover::load(c, &Scope::Everything, department, Listing::Group)?;
                Ok(turnover::periods(&d, department, from, to, by_month).len())
            }),
        ),
        (
            "eNPS beside turnover, every team (by pages only)",
            Box::new(move |c| {
                let p = params(None, "month");
                let r = enps::beside_turnover_of(c, Scope::Everything, &p, from, to, None)?;
                Ok(r.teams.len())
            }),
        ),
        (
            "  the same from people (before stored facts)",
            Box::new(move |c| {
                let p = params(None, "month");
                let r =
                    enps::beside_turnover_from_people(c, Scope::Everything, &p, from, to, None)?;
                Ok(r.teams.len())
            }),
        ),
        (
            "eNPS beside turnover as the API answers it unasked",
            Box::new(move |c| {
                let p = params(None, "month");
                let page = enps::TeamsPage::Default;
                let r = enps::beside_turnover_page(c, Scope::Everything, &p, from, to, None, page)?;
                Ok(r.report.teams.len())
            }),
        ),
        (
            "eNPS beside turnover, one page of 100 teams",
            Box::new(move |c| {
                let p = params(None, "month");
                let r = enps::beside_turnover_page(
                    c,
                    Scope::Everything,
                    &p,
                    from,
                    to,
                    None,
                    enps::TeamsPage::Page(0, 100),
                )?;
                Ok(r.report.teams.len())
            }),
        ),
        (
            "HR dashboard",
            Box::new(move |c| {
                let (_, _, recent, trend) =
                    crate::routes::pages::dashboard::hr_data(c, &admin, Utc::now())?;
                Ok(recent.len() + trend.len())
            }),
        ),
        (
            "  its headcount from people (before stored facts)",
            Box::new(move |c| {
                Ok(crate::repo::reports::headcount_on(c, Utc::now().date_naive())? as usize)
            }),
        ),
        (
            "  its headcount from stored facts",
            Box::new(move |c| {
                Ok(crate::repo::turnover::headcount_on(c, Utc::now().date_naive())? as usize)
            }),
        ),
        (
            "lead dashboard, one department",
            Box::new(move |c| {
                let scope = Scope::Teams(department.into_iter().collect());
                let trend = enps::recent_points(c, scope.clone(), department, to)?;
                let last = match &latest {
                    Some(r) => crate::reports::round::group_figures(c, &scope, r, department)?,
                    None => None,
                };
                Ok(trend.len() + usize::from(last.is_some()))
            }),
        ),
    ];
    let mut out = Vec::new();
    // What an older database does once on its first turnover report (and an import
    // of over 500 people at its end): every fact recomputed from people and stored.
    let t = Instant::now();
    crate::repo::turnover::rebuild(conn)?;
    let once = t.elapsed().as_secs_f64() * 1000.0;
    out.push(Timing {
        name: "storing every turnover fact (once)",
        median_ms: once,
        p95_ms: once,
        max_ms: once,
    });
    for (name, case) in cases.iter_mut() {
        case(conn)?;
        let mut ms: Vec<f64> = (0..runs.max(1))
            .map(|_| {
                let t = Instant::now();
                case(conn).map(|_| t.elapsed().as_secs_f64() * 1000.0)
            })
            .collect::<anyhow::Result<_>>()?;
        ms.sort_by(f64::total_cmp);
        let at = |q: f64| ms[((ms.len() as f64 - 1.0) * q).round() as usize];
        out.push(Timing {
            name,
            median_ms: at(0.5),
            p95_ms: at(0.95),
            max_ms: at(1.0),
        });
    }
    Ok(out)
}
