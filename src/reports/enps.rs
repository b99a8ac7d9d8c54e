//! eNPS views: trends by round, month or quarter, the team heat map, eNPS beside turnover.

use super::{check_access, views, Listing};
use crate::auth::{Caller, Scope};
use crate::db::DbConnection;
use crate::domain::disclosure::{RoundCells, Shown, StoredCell, Tree};
use crate::domain::enps::correlation;
use crate::domain::report::{GroupBy, COMPANY};
use crate::error::{AppError, AppResult};
use crate::repo::{self, reports::CellRow};
use crate::state::AppState;
use chrono::{Duration, NaiveDate, NaiveDateTime};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};

#[derive(Debug, Clone, Default, Deserialize, utoipa::IntoParams)]
pub struct EnpsParams {
    pub survey_id: Option<i32>,
    /// A team and its sub-teams; absent: the whole company (admins only).
    pub team_id: Option<i32>,
    /// YYYY-MM-DD, default a year before `to`.
    #[param(format = Date)]
    pub from: Option<String>,
    /// YYYY-MM-DD inclusive, default today.
    #[param(format = Date)]
    pub to: Option<String>,
    /// `round`, `month` (default) or `quarter`.
    #[param(pattern = "^(round|month|quarter)$")]
    pub group_by: Option<String>,
    /// `1-10` or `0-10`: needed only when the range holds surveys of both scales.
    #[param(pattern = "^(1-10|0-10)$")]
    pub scale: Option<String>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct EnpsPoint {
    pub period_start: NaiveDate,
    pub period_end: NaiveDate,
    /// With group_by=round.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub round_id: Option<i32>,
    /// Figures (the sum of the period's shown cells), or `{"suppressed": true, "reason"}`.
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

/// What every eNPS view reads, after the access check: the disclosed cells of the
/// window's closed rounds on one scale, and the team tree.
pub struct EnpsData {
    pub rounds: Vec<RoundCells>,
    pub tree: Tree,
    pub edges: Vec<(i32, Option<i32>)>,
    pub names: BTreeMap<i32, String>,
    pub scope: Scope,
    pub scale: Option<String>,
}

pub async fn data(
    state: &AppState,
    caller: Caller,
    p: &EnpsParams,
    from: NaiveDate,
    to: NaiveDate,
    listing: Listing,
) -> AppResult<EnpsData> {
    with_data(state, caller, p, from, to, listing, Ok).await
}

/// Loads the data and computes a view of it on the blocking pool, so a large
/// report never holds up an HTTP worker.
pub async fn with_data<T: Send + 'static>(
    state: &AppState,
    caller: Caller,
    p: &EnpsParams,
    from: NaiveDate,
    to: NaiveDate,
    listing: Listing,
    view: impl FnOnce(EnpsData) -> AppResult<T> + Send + 'static,
) -> AppResult<T> {
    run_load(state, caller, p, (from, to), listing, None, view).await
}

/// As `with_data` for `Listing::GroupAndTeams`, reading only the listed teams beside
/// the group (those the caller may see): a page shows a folded part of a large tree.
pub async fn with_listed<T: Send + 'static>(
    state: &AppState,
    caller: Caller,
    p: &EnpsParams,
    (from, to): (NaiveDate, NaiveDate),
    listed: Vec<i32>,
    view: impl FnOnce(EnpsData) -> AppResult<T> + Send + 'static,
) -> AppResult<T> {
    let listing = Listing::GroupAndTeams;
    run_load(state, caller, p, (from, to), listing, Some(listed), view).await
}

/// Loads on the blocking pool, as `load_teams`, and computes the view there.
async fn run_load<T: Send + 'static>(
    state: &AppState,
    caller: Caller,
    p: &EnpsParams,
    (from, to): (NaiveDate, NaiveDate),
    listing: Listing,
    listed: Option<Vec<i32>>,
    view: impl FnOnce(EnpsData) -> AppResult<T> + Send + 'static,
) -> AppResult<T> {
    let p = p.clone();
    super::run(state, move |conn| {
        let scope = Scope::of(conn, &caller)?;
        let d = load_teams(conn, scope, &p, from, to, listing, listed.as_deref())?;
        view(d)
    })
    .await
}

/// A team and its parent.
type Edge = (i32, Option<i32>);

pub fn load(
    conn: &mut DbConnection,
    scope: Scope,
    p: &EnpsParams,
    from: NaiveDate,
    to: NaiveDate,
    listing: Listing,
) -> AppResult<EnpsData> {
    load_teams(conn, scope, p, from, to, listing, None)
}

/// As `load`; a listing reads the cells of `listed` teams only (None: every team
/// the caller may see).
fn load_teams(
    conn: &mut DbConnection,
    scope: Scope,
    p: &EnpsParams,
    from: NaiveDate,
    to: NaiveDate,
    listing: Listing,
    listed: Option<&[i32]>,
) -> AppResult<EnpsData> {
    check_access(&scope, p.team_id, listing)?;
    let team = match p.team_id {
        Some(t) => Some(repo::teams::find(conn, t)?.ok_or_else(|| AppError::not_found("team"))?),
        None => None,
    };
    // A trend reads one group's cells; a listing reads the teams the caller may see.
    let (edges, names): (Vec<Edge>, BTreeMap<i32, String>) = match listing {
        Listing::Group => (
            team.iter().map(|t| (t.id, t.parent_id)).collect(),
            team.into_iter().map(|t| (t.id, t.name)).collect(),
        ),
        Listing::Teams | Listing::GroupAndTeams => {
            let teams = repo::teams::all(conn)?;
            let edges: Vec<(i32, Option<i32>)> =
                teams.iter().map(|t| (t.id, t.parent_id)).collect();
            (edges, teams.into_iter().map(|t| (t.id, t.name)).collect())
        }
    };
    let wanted = match (listing, &scope) {
        (Listing::Group, _) => Some(vec![p.team_id.unwrap_or(COMPANY)]),
        (_, _) if listed.is_some() => Some(
            scope
                .report_teams(listed.into_iter().flatten().copied())
                .into_iter()
                .chain(p.team_id)
                .collect(),
        ),
        (_, Scope::Everything) => None,
        (_, _) => Some(
            scope
                .report_teams(names.keys().copied())
                .into_iter()
                .chain(p.team_id)
                .collect(),
        ),
    };
    let (rounds, scale) = disclosed(conn, p, from, to, wanted.as_deref())?;
    Ok(EnpsData {
        rounds,
        tree: Tree::new(&edges),
        edges,
        names,
        scope,
        scale,
    })
}

/// The stored cells of the window's closed rounds on one scale, for the given groups
/// (None: every group; the company always), as each round's disclosed cells.
fn disclosed(
    conn: &mut DbConnection,
    p: &EnpsParams,
    from: NaiveDate,
    to: NaiveDate,
    groups: Option<&[i32]>,
) -> AppResult<(Vec<RoundCells>, Option<String>)> {
    let Window {
        start,
        end,
        company,
        scale,
    } = window_rounds(conn, p, from, to)?;
    let teams: Option<Vec<i32>> =
        groups.map(|g| g.iter().copied().filter(|&g| g != COMPANY).collect());
    let mut by_round: BTreeMap<i32, Vec<StoredCell>> = BTreeMap::new();
    if teams.as_ref().is_none_or(|t| !t.is_empty()) {
        for row in repo::reports::cells(
            conn,
            teams.as_deref(),
            p.survey_id,
            scale.as_deref(),
            start,
            end,
        )? {
            if row.cell.group != COMPANY {
                by_round.entry(row.round_id).or_default().push(row.cell);
            }
        }
    }
    let mut rounds: Vec<RoundCells> = company
        .into_iter()
        .map(|c| {
            let min = c.min_group_size.max(3) as u32;
            let cells =
                std::iter::once(c.cell).chain(by_round.remove(&c.round_id).unwrap_or_default());
            RoundCells::from_stored(c.round_id, c.day, min, cells)
        })
        .collect();
    rounds.sort_by_key(|r| (r.day, r.round_id));
    Ok((rounds, scale))
}

/// A window of closed rounds: its bounds, each round's company cell on one scale, that scale.
struct Window {
    start: NaiveDateTime,
    end: NaiveDateTime,
    company: Vec<CellRow>,
    scale: Option<String>,
}

fn window_rounds(
    conn: &mut DbConnection,
    p: &EnpsParams,
    from: NaiveDate,
    to: NaiveDate,
) -> AppResult<Window> {
    repo::reports::ensure_cells(conn)?;
    let start = from.and_hms_opt(0, 0, 0).unwrap_or_default();
    let end = (to + Duration::days(1))
        .and_hms_opt(0, 0, 0)
        .unwrap_or_default();
    // One company cell per closed round; a round nobody was invited to is no part of any view.
    let mut company = repo::reports::cells(conn, Some(&[COMPANY]), p.survey_id, None, start, end)?;
    company.retain(|c| c.cell.totals.invited > 0 || c.cell.totals.responses > 0);
    let scales: BTreeSet<String> = company.iter().map(|c| c.scale.clone()).collect();
    // A 0–10 and a 1–10 survey are never mixed in one figure silently.
    let scale = match (&p.scale, scales.len()) {
        (Some(s), _) => {
            crate::domain::survey::EnpsScale::parse(s).map_err(|e| AppError::field("scale", e))?;
            company.retain(|c| &c.scale == s);
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
    Ok(Window {
        start,
        end,
        company,
        scale,
    })
}

/// A dashboard's trend: the last twelve months of one group by month, on the 1–10
/// scale when the year mixes scales.
pub fn recent_points(
    conn: &mut DbConnection,
    scope: Scope,
    team_id: Option<i32>,
    today: NaiveDate,
) -> AppResult<Vec<EnpsPoint>> {
    let from = today - Duration::days(365);
    let mut params = EnpsParams {
        team_id,
        ..EnpsParams::default()
    };
    let d = match load(conn, scope.clone(), &params, from, today, Listing::Group) {
        Err(AppError::Validation { fields, .. }) if fields.contains_key("scale") => {
            params.scale = Some("1-10".into());
            load(conn, scope, &params, from, today, Listing::Group)?
        }
        other => other?,
    };
    Ok(points(&d, team_id, GroupBy::Month))
}

pub fn points(d: &EnpsData, team_id: Option<i32>, by: GroupBy) -> Vec<EnpsPoint> {
    views::points(&d.rounds, team_id.unwrap_or(COMPANY), by)
        .into_iter()
        .map(|p| EnpsPoint {
            period_start: p.start,
            period_end: p.end,
            round_id: p.round_id,
            shown: Shown::of(&p.sum),
        })
        .collect()
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

pub fn teams(d: &EnpsData, from: NaiveDate, to: NaiveDate) -> TeamsReport {
    let visible = d.scope.report_teams(d.names.keys().copied());
    let company = matches!(d.scope, Scope::Everything);
    teams_of(d, from, to, visible, company)
}

/// Which of a listing's teams an answer holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TeamsPage {
    /// Every team.
    Whole,
    /// `count` teams from `offset`.
    Page(usize, usize),
    /// Nothing asked: every team, unless the listing has over `WHOLE_TREE_AT_MOST`
    /// teams; then the first `DEFAULT_PAGE`, as every other list of the API pages.
    Default,
    /// Page `n` (from 1) of what `Default` answers, for a report page's links: every
    /// team up to `WHOLE_TREE_AT_MOST`, else `DEFAULT_PAGE` teams; past the last
    /// page, the last.
    Numbered(usize),
}

/// A listing's answer: the report, how many teams the listing has in all, and the
/// page answered (offset and count; None: every team).
pub struct Paged<T> {
    pub report: T,
    pub total: usize,
    pub page: Option<(usize, usize)>,
}

/// The largest listing answered whole when no page is asked for. A tree of thousands
/// of teams would be megabytes and a second of work that no reader takes in at once.
pub const WHOLE_TREE_AT_MOST: usize = 500;
/// The page a larger listing answers by default (the API's default `per_page`).
pub const DEFAULT_PAGE: usize = 100;

impl TeamsPage {
    /// The teams to answer out of `total`: None for all of them, else offset and count.
    pub fn of(self, total: usize) -> Option<(usize, usize)> {
        match self {
            Self::Whole => None,
            Self::Page(offset, count) => Some((offset, count)),
            Self::Default => Self::Numbered(1).of(total),
            Self::Numbered(n) if total > WHOLE_TREE_AT_MOST => {
                let last = total.div_ceil(DEFAULT_PAGE);
                Some(((n.clamp(1, last) - 1) * DEFAULT_PAGE, DEFAULT_PAGE))
            }
            Self::Numbered(_) => None,
        }
    }
}

/// The heat map, or one page of its teams, with how many teams it has in all and the
/// page answered (None: every team). Reads only the cells of the teams it shows.
pub fn heat_map(
    conn: &mut DbConnection,
    scope: Scope,
    p: &EnpsParams,
    from: NaiveDate,
    to: NaiveDate,
    page: TeamsPage,
) -> AppResult<Paged<TeamsReport>> {
    check_access(&scope, p.team_id, Listing::Teams)?;
    if let Some(t) = p.team_id {
        repo::teams::find(conn, t)?.ok_or_else(|| AppError::not_found("team"))?;
    }
    // The tree without names: a page of a large tree names only its own teams.
    let mut edges: Vec<Edge> = repo::teams::edges(conn)?;
    edges.sort_unstable();
    // A team asked for narrows the listing to its subtree, without the company.
    let within = match p.team_id {
        Some(t) => Scope::Teams(crate::domain::teams::with_descendants(&edges, [t])),
        None => scope.clone(),
    };
    let company = matches!(within, Scope::Everything);
    let visible = within.report_teams(edges.iter().map(|e| e.0));
    let total = visible.len();
    let page = page.of(total);
    let shown: Vec<i32> = match page {
        Some((offset, count)) => visible.into_iter().skip(offset).take(count).collect(),
        None => visible,
    };
    let names = repo::teams::names(conn, page.map(|_| shown.as_slice()))?;
    // Added up by the database: a large tree's cells are never all read.
    let w = window_rounds(conn, p, from, to)?;
    let groups: Option<Vec<i32>> =
        (page.is_some() || !company).then(|| shown.iter().copied().chain([COMPANY]).collect());
    let mut sums = repo::reports::group_sums(
        conn,
        groups.as_deref(),
        p.survey_id,
        w.scale.as_deref(),
        w.start,
        w.end,
    )?;
    let mut shown_of = |g: i32| {
        let s = sums.remove(&g);
        s.map_or_else(
            || Shown::counted(Default::default(), 0, Default::default()),
            |s| Shown::counted(s.totals, s.shown, s.left_out),
        )
    };
    let parents: BTreeMap<i32, Option<i32>> = edges.iter().copied().collect();
    let teams = shown
        .into_iter()
        .map(|id| TeamFigures {
            team_id: id,
            name: names[&id].clone(),
            parent_id: parents.get(&id).copied().flatten(),
            shown: shown_of(id),
        })
        .collect();
    let company = company.then(|| shown_of(COMPANY));
    Ok(Paged {
        report: TeamsReport {
            scale: w.scale,
            from,
            to,
            company,
            teams,
        },
        total,
        page,
    })
}

fn teams_of(
    d: &EnpsData,
    from: NaiveDate,
    to: NaiveDate,
    visible: Vec<i32>,
    company: bool,
) -> TeamsReport {
    let parents: BTreeMap<i32, Option<i32>> = d.edges.iter().copied().collect();
    let sums = views::group_sums(&d.rounds, visible.iter().copied().chain([COMPANY]));
    let teams = visible
        .into_iter()
        .map(|id| TeamFigures {
            team_id: id,
            name: d.names[&id].clone(),
            parent_id: parents.get(&id).copied().flatten(),
            shown: Shown::of(&sums[&id]),
        })
        .collect();
    let company = company.then(|| Shown::of(&sums[&COMPANY]));
    TeamsReport {
        scale: d.scale.clone(),
        from,
        to,
        company,
        teams,
    }
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

/// eNPS beside turnover as the turnover page shows it, the whole table or one page
/// of it: loaded and computed on the blocking pool; `within` narrows the teams to
/// one subtree.
pub async fn beside_turnover_report(
    state: &AppState,
    caller: Caller,
    p: &EnpsParams,
    (from, to): (NaiveDate, NaiveDate),
    within: Option<i32>,
    page: TeamsPage,
) -> AppResult<Paged<EnpsTurnoverReport>> {
    let p = p.clone();
    super::run(state, move |conn| {
        let scope = Scope::of(conn, &caller)?;
        beside_turnover_page(conn, scope, &p, from, to, within, page)
    })
    .await
}

/// eNPS beside turnover: the heat map's figures (added up by the database) beside
/// each listed team's turnover. `p.team_id` is checked for access; `within` narrows
/// the listing to one subtree.
pub fn beside_turnover_of(
    conn: &mut DbConnection,
    scope: Scope,
    p: &EnpsParams,
    from: NaiveDate,
    to: NaiveDate,
    within: Option<i32>,
) -> AppResult<EnpsTurnoverReport> {
    Ok(beside_turnover_page(conn, scope, p, from, to, within, TeamsPage::Whole)?.report)
}

/// As `beside_turnover_of`, for one page of teams: the heat map's page of teams, each
/// beside its turnover read from the stored facts, their correlation over that page,
/// how many teams there are and the page answered.
pub fn beside_turnover_page(
    conn: &mut DbConnection,
    scope: Scope,
    p: &EnpsParams,
    from: NaiveDate,
    to: NaiveDate,
    within: Option<i32>,
    page: TeamsPage,
) -> AppResult<Paged<EnpsTurnoverReport>> {
    check_access(&scope, p.team_id, Listing::Teams)?;
    if let Some(t) = p.team_id {
        repo::teams::find(conn, t)?.ok_or_else(|| AppError::not_found("team"))?;
    }
    let listing = EnpsParams {
        team_id: within,
        ..p.clone()
    };
    let Paged {
        report,
        total,
        page,
    } = heat_map(conn, scope, &listing, from, to, page)?;
    let ids: Vec<i32> = report.teams.iter().map(|t| t.team_id).collect();
    let rates = super::turnover::stored_yearly_rates(conn, &ids, from, to)?;
    Ok(Paged {
        report: beside_turnover(report, &rates, from, to),
        total,
        page,
    })
}

/// eNPS beside turnover counted from the people directly (every person's dates and
/// stays): what the stored facts replaced, kept for the tests and `pulse bench`.
pub fn beside_turnover_from_people(
    conn: &mut DbConnection,
    scope: Scope,
    p: &EnpsParams,
    from: NaiveDate,
    to: NaiveDate,
    within: Option<i32>,
) -> AppResult<EnpsTurnoverReport> {
    let people = super::turnover::load(conn, &scope, p.team_id, Listing::Teams)?;
    let listing = EnpsParams {
        team_id: within,
        ..p.clone()
    };
    let report = heat_map(conn, scope, &listing, from, to, TeamsPage::Whole)?.report;
    let ids: Vec<i32> = report.teams.iter().map(|t| t.team_id).collect();
    let rates = people.yearly_rates(&ids, from, to);
    Ok(beside_turnover(report, &rates, from, to))
}

/// Each team's eNPS beside its turnover over one window, and their correlation.
pub fn beside_turnover(
    report: TeamsReport,
    rates: &BTreeMap<i32, Option<f64>>,
    from: NaiveDate,
    to: NaiveDate,
) -> EnpsTurnoverReport {
    let teams: Vec<TeamEnpsTurnover> = report
        .teams
        .into_iter()
        .map(|t| {
            let rate = rates.get(&t.team_id).copied().flatten();
            let enps = t.shown.figures().and_then(|f| f.enps);
            TeamEnpsTurnover {
                team_id: t.team_id,
                name: t.name,
                enps,
                suppressed: t.shown.figures().is_none(),
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_numbered_page_pages_as_the_api_does_unasked() {
        for total in [0, 4, WHOLE_TREE_AT_MOST] {
            assert_eq!(TeamsPage::Default.of(total), None);
            assert_eq!(TeamsPage::Numbered(1).of(total), None, "{total}");
            assert_eq!(TeamsPage::Numbered(3).of(total), None, "{total}");
        }
        let total = WHOLE_TREE_AT_MOST + 1;
        assert_eq!(TeamsPage::Default.of(total), Some((0, DEFAULT_PAGE)));
        assert_eq!(TeamsPage::Numbered(1).of(total), Some((0, DEFAULT_PAGE)));
        assert_eq!(TeamsPage::Numbered(2).of(total), Some((100, 100)));
        // 8,401 teams: 85 pages, the last holding one team; past it, the last again.
        assert_eq!(TeamsPage::Numbered(85).of(8401), Some((8400, 100)));
        assert_eq!(TeamsPage::Numbered(86).of(8401), Some((8400, 100)));
        assert_eq!(TeamsPage::Numbered(0).of(8401), Some((0, 100)));
    }
}
