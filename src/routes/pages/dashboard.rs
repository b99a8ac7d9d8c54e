//! /: the dashboard of the signed-in role. HR: the company's eNPS trend and
//! participation, what goes out next, the latest rounds. Lead: each led team's
//! trend and the latest round. Member: their 1:1s (everyone sees theirs).

use crate::auth::{Caller, Scope};
use crate::db::DbConnection;
use crate::domain::disclosure::Shown;
use crate::domain::people::Role;
use crate::domain::report::GroupBy;
use crate::error::AppResult;
use crate::repo;
use crate::repo::{rounds::Round, surveys::Survey};
use crate::reports::enps::{self as enps_report, EnpsPoint};
use crate::reports::round as round_report;
use crate::routes::api::surveys::survey_out;
use crate::routes::pages::action_plans;
use crate::routes::pages::reports::{recent_trend, trend_parts};
use crate::routes::pages::rounds::enps_text;
use crate::routes::pages::ui::{local_time, percent, OrPage, PageResult, Session, User};
use crate::state::AppState;
use actix_web::{web, HttpRequest};
use serde_json::{json, Value};

pub async fn home(req: HttpRequest, session: Session, state: web::Data<AppState>) -> PageResult {
    let user = session.require(&req)?;
    match user.caller.role {
        Role::Admin => hr(&req, &user, &state).await,
        Role::Lead => lead(&req, &user, &state).await,
        Role::Member => {
            let one_on_ones = one_on_ones(&state, &user).await.or_page(&req, &user)?;
            let open_actions = action_plans::dashboard_json(&state, &user.caller)
                .await
                .or_page(&req, &user)?;
            Ok(user.page(
                &req,
                "home",
                json!({ "title": "Dashboard", "member": true, "hr": null, "lead": null,
                        "one_on_ones": one_on_ones, "open_actions": open_actions }),
            ))
        }
    }
}

/// The caller's 1:1 series: with whom, and the next meeting.
async fn one_on_ones(state: &AppState, user: &User) -> Result<Vec<Value>, crate::error::AppError> {
    let me = user.caller.id;
    let now = chrono::Utc::now().naive_utc();
    state
        .db(move |conn| {
            let (series, _) = repo::one_on_ones::list_series(conn, Some(me), 0, 100)?;
            let mut out = vec![];
            for s in series {
                let other = repo::employees::find(conn, s.other_than(me))?;
                let next = repo::one_on_ones::next_meeting(conn, s.id, now)?;
                out.push(json!({
                    "with": other.map(|o| o.name).unwrap_or_default(),
                    "i_manage": s.manager_id == me,
                    "status": s.status,
                    "next": next.map(|m| json!({
                        "id": m.id,
                        "when": local_time(m.starts_at.and_utc(), tz(&s.timezone)),
                    })),
                }));
            }
            Ok(out)
        })
        .await
}

fn tz(name: &str) -> chrono_tz::Tz {
    name.parse().unwrap_or(chrono_tz::UTC)
}

fn trend_json(t: Option<(String, String, Vec<Value>)>) -> Value {
    match t {
        Some((trend, participation, rows)) => {
            json!({"trend": trend, "participation": participation, "rows": rows})
        }
        None => Value::Null,
    }
}

/// An upcoming round: when, survey id, title, time zone.
type Upcoming = (chrono::DateTime<chrono::Utc>, i32, String, String);
/// A recent round, its survey and its participation as the page shows it.
type Recent = (Round, Option<Survey>, Value);
/// Headcount today, upcoming rounds, recent rounds, the company's trend.
type HrData = (i64, Vec<Upcoming>, Vec<Recent>, Vec<EnpsPoint>);

/// Everything the HR dashboard reads, in one call on the blocking pool: headcount
/// (from the company's stored turnover facts), what goes out next, the latest rounds and the trend.
pub fn hr_data(
    conn: &mut DbConnection,
    caller: &Caller,
    now: chrono::DateTime<chrono::Utc>,
) -> AppResult<HrData> {
    let headcount = repo::turnover::headcount_on(conn, now.date_naive())?;
    let mut upcoming = vec![];
    for s in repo::surveys::active(conn)? {
        let out = survey_out(conn, s)?;
        if let Some(at) = out.next_round_at {
            upcoming.push((at, out.id, out.title, out.schedule.timezone));
        }
    }
    upcoming.sort();
    let mut recent = vec![];
    let rounds = repo::rounds::recent(conn, 6)?;
    let live = crate::reports::participation::of_rounds(conn, &rounds)?;
    for r in rounds {
        let s = repo::surveys::find(conn, r.survey_id)?;
        let p = crate::routes::pages::surveys::participation(&r, live.get(&r.id));
        recent.push((r, s, p));
    }
    let scope = Scope::of(conn, caller)?;
    let trend = enps_report::recent_points(conn, scope, None, now.date_naive())?;
    Ok((headcount, upcoming, recent, trend))
}

async fn hr(req: &HttpRequest, user: &User, state: &AppState) -> PageResult {
    let now = chrono::Utc::now();
    let caller = user.caller.clone();
    let (headcount, upcoming, recent, trend) =
        crate::reports::run(state, move |conn| hr_data(conn, &caller, now))
            .await
            .or_page(req, user)?;
    let trend = (!trend.is_empty()).then(|| trend_parts(&trend, GroupBy::Month));
    let upcoming: Vec<Value> = upcoming
        .into_iter()
        .take(5)
        .map(|(at, id, title, zone)| {
            json!({"id": id, "title": title, "when": local_time(at, tz(&zone)), "timezone": zone})
        })
        .collect();
    let recent: Vec<Value> = recent
        .iter()
        .map(|(r, s, p)| {
            let zone = s
                .as_ref()
                .map(|s| tz(&s.timezone))
                .unwrap_or(chrono_tz::UTC);
            json!({
                "id": r.id,
                "title": s.as_ref().map(|s| s.title.clone()).unwrap_or_default(),
                "when": local_time(r.opens_at.and_utc(), zone),
                "status": r.status,
                "responded": p["responded"], "invited": p["invited"],
                "percent": p["percent"], "width": p["width"],
            })
        })
        .collect();
    let last_participation = recent
        .first()
        .map(|r| r["percent"].clone())
        .unwrap_or(json!("–"));
    let one_on_ones = one_on_ones(state, user).await.or_page(req, user)?;
    let open_actions = action_plans::dashboard_json(state, &user.caller)
        .await
        .or_page(req, user)?;
    Ok(user.page(
        req,
        "home",
        json!({
            "title": "Dashboard",
            "member": false,
            "lead": null,
            "one_on_ones": one_on_ones, "open_actions": open_actions,
            "hr": {
                "headcount": headcount,
                "active_surveys": upcoming.len(),
                "last_participation": last_participation,
                "company": trend_json(trend),
                "upcoming": upcoming,
                "recent": recent,
            },
        }),
    ))
}

async fn lead(req: &HttpRequest, user: &User, state: &AppState) -> PageResult {
    let me = user.caller.id;
    let (teams, latest) = state
        .db(move |conn| {
            let led = repo::teams::led_by(conn, me)?;
            let mut teams = vec![];
            for id in led {
                if let Some(t) = repo::teams::find(conn, id)? {
                    teams.push(t);
                }
            }
            teams.sort_by_key(|t| t.name.to_lowercase());
            let latest = match repo::rounds::recent(conn, 1)?.into_iter().next() {
                Some(r) => {
                    let s = repo::surveys::find(conn, r.survey_id)?;
                    Some((r, s))
                }
                None => None,
            };
            Ok((teams, latest))
        })
        .await
        .or_page(req, user)?;
    let mut cards = vec![];
    for t in &teams {
        let trend = recent_trend(state, user, Some(t.id))
            .await
            .or_page(req, user)?;
        let last = match &latest {
            Some((r, s)) => {
                let (caller, round, team) = (user.caller.clone(), r.clone(), t.id);
                let shown = state
                    .db(move |conn| {
                        let scope = crate::auth::Scope::of(conn, &caller)?;
                        round_report::group_figures(conn, &scope, &round, Some(team))
                    })
                    .await
                    .or_page(req, user)?;
                let zone = s
                    .as_ref()
                    .map(|s| tz(&s.timezone))
                    .unwrap_or(chrono_tz::UTC);
                let figures = match &shown {
                    Some(Shown::Figures(f)) => json!({
                        "participation": percent(f.participation),
                        "responses": f.responses, "invited": f.invited,
                        "enps": enps_text(f),
                    }),
                    _ => Value::Null,
                };
                json!({
                    "href": format!("/rounds/{}?team_id={}", r.id, t.id),
                    "title": s.as_ref().map(|s| s.title.clone()).unwrap_or_default(),
                    "when": local_time(r.opens_at.and_utc(), zone),
                    "figures": figures,
                    "open": shown.is_none(),
                    "min": r.min_group_size.max(3),
                })
            }
            None => Value::Null,
        };
        cards.push(json!({"id": t.id, "name": t.name, "trend": trend_json(trend), "last": last}));
    }
    let one_on_ones = one_on_ones(state, user).await.or_page(req, user)?;
    let digest = crate::reports::digest::dashboard(state, me)
        .await
        .or_page(req, user)?;
    let open_actions = action_plans::dashboard_json(state, &user.caller)
        .await
        .or_page(req, user)?;
    Ok(user.page(
        req,
        "home",
        json!({ "title": "Dashboard", "member": false, "hr": null, "lead": {"teams": cards, "digest": digest},
                "one_on_ones": one_on_ones, "open_actions": open_actions }),
    ))
}
