//! The manager digest: what a lead's week holds, assembled by small loaders, for the weekly email and the dashboard.
//!
//! Every figure comes from the report services (`reports::round`), so the
//! disclosure rule is the one of every view: closed rounds' stored cells,
//! shown cells only; open rounds give participation where the rule allows.
//!
//! Each section has a loader of its own, and the email and the dashboard
//! leave an empty section out.

use crate::auth::Scope;
use crate::db::DbConnection;
use crate::domain::disclosure::{Shown, Tree};
use crate::domain::key_drivers::Figure;
use crate::domain::report::Figures;
use crate::domain::teams::with_descendants;
use crate::error::AppResult;
use crate::repo;
use crate::reports::round::{self as round_report, Live, Stage};
use chrono::{DateTime, Datelike, Duration, NaiveDate, NaiveTime, Utc};
use serde::Serialize;

/// The digest week starts on Monday at this hour, UTC: a pass before it
/// still belongs to the week before.
pub const WEEK_STARTS_AT_HOUR: u32 = 6;

/// The Monday of the digest week `now` falls in.
pub fn week_start(now: DateTime<Utc>) -> NaiveDate {
    let shifted = (now - Duration::hours(WEEK_STARTS_AT_HOUR as i64)).date_naive();
    shifted - Duration::days(shifted.weekday().num_days_from_monday() as i64)
}

/// The instant a digest week begins.
fn week_begins(week: NaiveDate) -> chrono::NaiveDateTime {
    week.and_time(NaiveTime::from_hms_opt(WEEK_STARTS_AT_HOUR, 0, 0).expect("a valid hour"))
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Digest {
    pub lead_id: i32,
    /// The Monday the digest week starts.
    #[schema(value_type = String, format = Date)]
    pub week_start: NaiveDate,
    /// The teams the lead leads, each with its results.
    pub teams: Vec<TeamSection>,
    /// The lead's 1:1 meetings of the week.
    pub one_on_ones: Vec<OneOnOne>,
    /// Open action plans of the lead's teams; absent until their loader is plugged in.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub actions: Option<Vec<ActionLine>>,
    /// Key-driver changes of the lead's teams; absent until their loader is plugged in.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub drivers: Option<Vec<DriverLine>>,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct TeamSection {
    pub team_id: i32,
    pub name: String,
    /// Rounds that closed in the week before the digest week and reached this team.
    pub results: Vec<ClosedResult>,
    /// Rounds still open that reached this team.
    pub open: Vec<OpenRoundLine>,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ClosedResult {
    pub round_id: i32,
    pub survey_title: String,
    #[schema(value_type = String, format = DateTime)]
    pub closed_at: DateTime<Utc>,
    /// The team's figures; absent when its cell is hidden.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub figures: Option<Figures>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub suppressed: Option<bool>,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct OpenRoundLine {
    pub round_id: i32,
    pub survey_title: String,
    #[schema(value_type = String, format = DateTime)]
    pub closes_at: DateTime<Utc>,
    pub participation: Live,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct OneOnOne {
    pub meeting_id: i32,
    pub with: String,
    #[schema(value_type = String, format = DateTime)]
    pub starts_at: DateTime<Utc>,
    /// The series' time zone, to show the local time.
    pub timezone: String,
}

/// One open action of a led team (filled by the action-plans loader).
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ActionLine {
    pub team_id: i32,
    pub team: String,
    pub text: String,
    #[schema(value_type = Option<String>, format = Date)]
    pub due_on: Option<NaiveDate>,
}

/// One driver's change for a led team (filled by the key-drivers loader),
/// only where the drivers report discloses it.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct DriverLine {
    pub team_id: i32,
    pub team: String,
    pub driver: String,
    /// The change of the driver's mean score (1–5) with its 95% interval, e.g. "+0.40 [+0.10, +0.70]".
    pub change: String,
}

/// The lead's digest for the week `now` falls in.
pub fn load(conn: &mut DbConnection, lead_id: i32, now: DateTime<Utc>) -> AppResult<Digest> {
    let week = week_start(now);
    let led = repo::teams::led_by(conn, lead_id)?;
    let edges = repo::teams::edges(conn)?;
    let scope = Scope::Teams(with_descendants(&edges, led.iter().copied()));
    let teams = team_sections(conn, &scope, &led, &Tree::new(&edges), week)?;
    let one_on_ones = one_on_ones(conn, lead_id, week)?;
    let actions = action_lines(conn, &scope)?;
    let drivers = driver_lines(conn, &scope, &led, lead_id, week)?;
    Ok(Digest {
        lead_id,
        week_start: week,
        teams,
        one_on_ones,
        actions: Some(actions),
        drivers: Some(drivers),
    })
}

/// The open action plans of the led teams and their sub-teams, soonest due
/// first: what the lead has promised and not yet done.
fn action_lines(conn: &mut DbConnection, scope: &Scope) -> AppResult<Vec<ActionLine>> {
    let Scope::Teams(teams) = scope else {
        return Ok(vec![]);
    };
    let mut open: Vec<_> = repo::action_plans::all(conn)?
        .into_iter()
        .filter(|p| p.status == "open")
        .filter_map(|p| Some((p.team_id.filter(|t| teams.contains(t))?, p)))
        .collect();
    open.sort_by_key(|(_, p)| (p.due_on, p.id));
    let mut lines = Vec::with_capacity(open.len());
    for (team_id, p) in open {
        let team = repo::teams::find(conn, team_id)?
            .map(|t| t.name)
            .unwrap_or_default();
        lines.push(ActionLine {
            team_id,
            team,
            text: p.text,
            due_on: Some(p.due_on),
        });
    }
    Ok(lines)
}

/// How far back the digest looks for key-driver changes: the last four
/// weeks against the four before, so a weekly pulse gives each period a few rounds.
pub const DRIVER_WEEKS: i64 = 4;

/// The significant key-driver changes of each led team over the last four
/// weeks: the drivers report's own figures (shown cells only), one line each.
fn driver_lines(
    conn: &mut DbConnection,
    scope: &Scope,
    led: &[i32],
    lead_id: i32,
    week: NaiveDate,
) -> AppResult<Vec<DriverLine>> {
    let lang = repo::key_drivers::locale(conn, lead_id)?;
    let to = week - Duration::days(1);
    let from = week - Duration::weeks(DRIVER_WEEKS);
    let mut lines = Vec::new();
    for &team_id in led {
        let report = crate::reports::drivers::load(conn, scope, Some(team_id), from, to, &lang)?;
        let Some(team) = repo::teams::find(conn, team_id)? else {
            continue;
        };
        for d in report.drivers.iter().chain(&report.outcomes) {
            if let Some(Figure::Shown(c)) = &d.change {
                if c.significant {
                    lines.push(DriverLine {
                        team_id,
                        team: team.name.clone(),
                        driver: d.name.clone(),
                        // Numbers and brackets only: the same in every language.
                        change: format!("{:+.2} [{:+.2}, {:+.2}]", c.value, c.ci_low, c.ci_high),
                    });
                }
            }
        }
    }
    Ok(lines)
}

/// Each led team, by name, with its week's closed results and open rounds.
fn team_sections(
    conn: &mut DbConnection,
    scope: &Scope,
    led: &[i32],
    tree: &Tree,
    week: NaiveDate,
) -> AppResult<Vec<TeamSection>> {
    let to = week_begins(week);
    let closed = repo::digests::closed_between(conn, to - Duration::days(7), to)?;
    let open = repo::digests::open_rounds(conn)?;
    let mut titles = std::collections::HashMap::new();
    let mut sections = Vec::new();
    for &team_id in led {
        let Some(team) = repo::teams::find(conn, team_id)? else {
            continue;
        };
        let mut section = TeamSection {
            team_id,
            name: team.name,
            results: vec![],
            open: vec![],
        };
        for round in &closed {
            if !reached(conn, tree, round.id, team_id)? {
                continue;
            }
            let shown = round_report::group_figures(conn, scope, round, Some(team_id))?;
            let figures = match shown {
                Some(Shown::Figures(f)) => Some(f),
                _ => None,
            };
            section.results.push(ClosedResult {
                round_id: round.id,
                survey_title: title(conn, &mut titles, round.survey_id)?,
                closed_at: round.closes_at.and_utc(),
                suppressed: figures.is_none().then_some(true),
                figures,
            });
        }
        for round in &open {
            if !reached(conn, tree, round.id, team_id)? {
                continue;
            }
            let data = round_report::load(conn, scope, round.id, Some(team_id))?;
            if let Stage::Open { participation } = data.stage {
                section.open.push(OpenRoundLine {
                    round_id: round.id,
                    survey_title: title(conn, &mut titles, round.survey_id)?,
                    closes_at: round.closes_at.and_utc(),
                    participation,
                });
            }
        }
        sections.push(section);
    }
    sections.sort_by_key(|s| s.name.to_lowercase());
    Ok(sections)
}

/// Whether a round invited anyone in `team` or its sub-teams: a round for
/// other teams is none of this lead's business, not a hidden result.
fn reached(conn: &mut DbConnection, tree: &Tree, round_id: i32, team: i32) -> AppResult<bool> {
    Ok(repo::reports::round_counters(conn, round_id)?
        .iter()
        .any(|c| c.invited > 0 && tree.ancestry(c.team_id).contains(&team)))
}

fn title(
    conn: &mut DbConnection,
    known: &mut std::collections::HashMap<i32, String>,
    survey_id: i32,
) -> AppResult<String> {
    if let Some(t) = known.get(&survey_id) {
        return Ok(t.clone());
    }
    let t = repo::surveys::find(conn, survey_id)?
        .map(|s| s.title)
        .unwrap_or_default();
    known.insert(survey_id, t.clone());
    Ok(t)
}

/// The lead's 1:1 meetings in the digest week.
fn one_on_ones(conn: &mut DbConnection, lead_id: i32, week: NaiveDate) -> AppResult<Vec<OneOnOne>> {
    let from = week_begins(week);
    let rows = repo::digests::meetings_between(conn, lead_id, from, from + Duration::days(7))?;
    let mut out = Vec::with_capacity(rows.len());
    for (meeting, manager_id, report_id, timezone) in rows {
        let other = if manager_id == lead_id {
            report_id
        } else {
            manager_id
        };
        let with = repo::employees::find(conn, other)?
            .map(|e| e.name)
            .unwrap_or_default();
        out.push(OneOnOne {
            meeting_id: meeting.id,
            with,
            starts_at: meeting.starts_at.and_utc(),
            timezone,
        });
    }
    Ok(out)
}

/// The lead dashboard's digest: this week's, as the email words it.
pub async fn dashboard(
    state: &crate::state::AppState,
    lead_id: i32,
) -> AppResult<serde_json::Value> {
    let now = Utc::now();
    state
        .db(move |conn| Ok(view(&load(conn, lead_id, now)?)))
        .await
}

/// What the email and the dashboard show, in words and local times.
pub fn view(d: &Digest) -> serde_json::Value {
    use serde_json::json;
    let tz = |name: &str| name.parse::<chrono_tz::Tz>().unwrap_or(chrono_tz::UTC);
    let figures = |f: &Figures| {
        json!({
            "enps": match (f.enps, f.margin_of_error) {
                (Some(e), Some(m)) => format!("{e} ± {m:.0}"),
                (Some(e), None) => e.to_string(),
                _ => "–".into(),
            },
            "participation": f.participation.map_or("–".into(), |p| format!("{p:.0}%")),
            "responses": f.responses,
            "invited": f.invited,
        })
    };
    let teams: Vec<_> = d
        .teams
        .iter()
        .map(|t| {
            json!({
                "id": t.team_id,
                "name": t.name,
                "results": t.results.iter().map(|r| json!({
                    "round_id": r.round_id,
                    "title": r.survey_title,
                    "closed_on": r.closed_at.date_naive().to_string(),
                    "figures": r.figures.as_ref().map(figures),
                })).collect::<Vec<_>>(),
                "open": t.open.iter().map(|r| json!({
                    "title": r.survey_title,
                    "closes": r.closes_at.date_naive().to_string(),
                    "participation": match &r.participation {
                        Live::Shown { participation: Some(p), .. } => Some(format!("{p:.0}%")),
                        _ => None,
                    },
                })).collect::<Vec<_>>(),
            })
        })
        .collect();
    let one_on_ones: Vec<_> = d
        .one_on_ones
        .iter()
        .map(|m| {
            json!({
                "id": m.meeting_id,
                "with": m.with,
                "when": format!("{} ({})",
                    m.starts_at.with_timezone(&tz(&m.timezone)).format("%Y-%m-%d %H:%M"),
                    m.timezone),
            })
        })
        .collect();
    json!({
        "week": d.week_start.to_string(),
        "teams": teams,
        "one_on_ones": one_on_ones,
        "actions": d.actions.as_ref().map(|a| a.iter().map(|a| json!({
            "team": a.team, "text": a.text, "due_on": a.due_on.map(|d| d.to_string()),
        })).collect::<Vec<_>>()),
        "drivers": d.drivers.as_ref().map(|a| a.iter().map(|c| json!({
            "team": c.team, "driver": c.driver, "change": c.change,
        })).collect::<Vec<_>>()),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_digest_week_turns_on_monday_at_six_utc() {
        let at = |s: &str| DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc);
        let d = |s: &str| s.parse::<NaiveDate>().unwrap();
        // 2026-12-07 is a Monday.
        assert_eq!(week_start(at("2026-12-07T05:59:00Z")), d("2026-11-30"));
        assert_eq!(week_start(at("2026-12-07T06:00:00Z")), d("2026-12-07"));
        assert_eq!(week_start(at("2026-12-13T23:00:00Z")), d("2026-12-07"));
        assert_eq!(week_start(at("2026-12-14T06:00:00Z")), d("2026-12-14"));
    }
}
