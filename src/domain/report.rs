//! Assembling report figures from per-round, per-team counters: periods, sums, thresholds.

use crate::domain::enps::{participation, Counts};
use crate::domain::people::LeaveReason;
use crate::domain::turnover::Stint;
use chrono::{Datelike, NaiveDate};
use serde::Serialize;
use std::collections::{BTreeMap, BTreeSet};

/// The company as a whole in the team tree: the parent of top-level teams.
pub const COMPANY: i32 = -1;

/// One round's counters for one team (`team_id` 0: people without a team).
#[derive(Debug, Clone)]
pub struct Counter {
    pub round_id: i32,
    pub day: NaiveDate,
    pub scale: String,
    pub min_group_size: i32,
    pub team_id: i32,
    pub invited: u32,
    /// Everyone who answered, whether or not they gave an eNPS score.
    pub responses: u32,
    pub counts: Counts,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GroupBy {
    Round,
    Month,
    Quarter,
}

impl GroupBy {
    pub fn parse(s: &str) -> Result<Self, String> {
        match s {
            "round" => Ok(Self::Round),
            "month" => Ok(Self::Month),
            "quarter" => Ok(Self::Quarter),
            other => Err(format!(
                "`{other}` is not a grouping: use round, month or quarter"
            )),
        }
    }
}

/// The figures of one group over one period.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct Figures {
    pub invited: u32,
    pub responses: u32,
    /// Percent of those invited who answered.
    pub participation: Option<f64>,
    pub promoters: u32,
    pub passives: u32,
    pub detractors: u32,
    /// %promoters − %detractors, −100..100.
    pub enps: Option<i32>,
    /// 95% margin of error in eNPS points, with the finite-population correction.
    pub margin_of_error: Option<f64>,
    /// How many rounds' cells the figures add up (1 for one round).
    pub rounds: u32,
    /// Rounds of the period whose cell for this group is hidden, by reason.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub left_out: Option<crate::domain::disclosure::LeftOut>,
}

impl Figures {
    pub fn of(t: Totals) -> Self {
        let Totals {
            invited,
            responses,
            counts,
        } = t;
        Self {
            invited,
            responses,
            participation: participation(responses, invited),
            promoters: counts.promoters,
            passives: counts.passives,
            detractors: counts.detractors,
            enps: counts.enps(),
            margin_of_error: counts.margin_of_error(Some(invited)),
            rounds: 1,
            left_out: None,
        }
    }
}

/// The period a day falls in.
pub fn period_of(day: NaiveDate, by: GroupBy) -> (NaiveDate, NaiveDate) {
    let month_end = |y: i32, m: u32| {
        let (ny, nm) = if m == 12 { (y + 1, 1) } else { (y, m + 1) };
        NaiveDate::from_ymd_opt(ny, nm, 1)
            .and_then(|d| d.pred_opt())
            .unwrap_or(day)
    };
    match by {
        GroupBy::Round => (day, day),
        GroupBy::Month => (
            day.with_day(1).unwrap_or(day),
            month_end(day.year(), day.month()),
        ),
        GroupBy::Quarter => {
            let first = (day.month0() / 3) * 3 + 1;
            (
                NaiveDate::from_ymd_opt(day.year(), first, 1).unwrap_or(day),
                month_end(day.year(), first + 2),
            )
        }
    }
}

/// What a group adds up to.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Totals {
    pub invited: u32,
    pub responses: u32,
    pub counts: Counts,
}

impl std::ops::AddAssign for Totals {
    fn add_assign(&mut self, other: Totals) {
        self.add(other);
    }
}

impl Totals {
    pub fn add(&mut self, other: Totals) {
        self.invited += other.invited;
        self.responses += other.responses;
        self.counts = self.counts.merge(other.counts);
    }
}

/// `(employee, team, started_on, ended_on)`: one stay in a team.
pub type Membership = (i32, i32, NaiveDate, Option<NaiveDate>);

/// One person's dates as turnover needs them.
pub struct PersonDates {
    pub id: i32,
    pub hired_on: NaiveDate,
    pub left_on: Option<NaiveDate>,
    pub leave_reason: Option<String>,
    pub regretted: bool,
}

/// A person's stint in a group from `start` to `end`: a separation when it ends on their last day.
fn stint(p: &PersonDates, start: NaiveDate, end: Option<NaiveDate>) -> Stint {
    let separated = p.left_on.is_some() && end == p.left_on;
    Stint {
        start,
        end,
        separated,
        reason: p
            .leave_reason
            .as_deref()
            .and_then(|r| LeaveReason::parse(r).ok())
            .filter(|_| separated),
        regretted: p.regretted && separated,
        hired_on: p.hired_on,
    }
}

/// One group's stays per employee, before moves within the group are joined up.
type Spans = BTreeMap<i32, Vec<(NaiveDate, Option<NaiveDate>)>>;

/// Turnover stints for the company (`teams` None: each person from hire to
/// departure) or for a set of teams (each person's time in any of them, moves
/// within the set joined up, a move out of it not a separation).
pub fn team_stints(
    people: &[PersonDates],
    memberships: &[Membership],
    teams: Option<&BTreeSet<i32>>,
) -> Vec<Stint> {
    let Some(teams) = teams else {
        return people
            .iter()
            .map(|p| stint(p, p.hired_on, p.left_on))
            .collect();
    };
    let by_id: BTreeMap<i32, &PersonDates> = people.iter().map(|p| (p.id, p)).collect();
    let mut spans = Spans::new();
    for &(employee, team, start, end) in memberships {
        if teams.contains(&team) {
            spans.entry(employee).or_default().push((start, end));
        }
    }
    merged_stints(&by_id, spans)
}

/// The stints of many groups in one pass over the memberships: `groups_of(team)` names
/// every group a stay in `team` counts for (the team and those above it). Each group's
/// stints are those `team_stints` gives for the group's teams.
pub fn group_stints(
    people: &[PersonDates],
    memberships: &[Membership],
    groups_of: impl Fn(i32) -> Vec<i32>,
) -> BTreeMap<i32, Vec<Stint>> {
    let by_id: BTreeMap<i32, &PersonDates> = people.iter().map(|p| (p.id, p)).collect();
    let mut spans: BTreeMap<i32, Spans> = BTreeMap::new();
    let mut groups: BTreeMap<i32, Vec<i32>> = BTreeMap::new();
    for &(employee, team, start, end) in memberships {
        let gs = groups.entry(team).or_insert_with(|| groups_of(team));
        for &g in gs.iter() {
            spans
                .entry(g)
                .or_default()
                .entry(employee)
                .or_default()
                .push((start, end));
        }
    }
    spans
        .into_iter()
        .map(|(g, s)| (g, merged_stints(&by_id, s)))
        .collect()
}

fn merged_stints(by_id: &BTreeMap<i32, &PersonDates>, spans: Spans) -> Vec<Stint> {
    let mut out = Vec::new();
    for (employee, mut list) in spans {
        let Some(p) = by_id.get(&employee) else {
            continue;
        };
        list.sort();
        let mut merged: Vec<(NaiveDate, Option<NaiveDate>)> = Vec::new();
        for (start, end) in list {
            match merged.last_mut() {
                // Contiguous or overlapping: a move between two teams of the set.
                Some((_, last_end))
                    if last_end.is_none_or(|e| e.succ_opt().is_some_and(|n| start <= n)) =>
                {
                    *last_end = match (*last_end, end) {
                        (None, _) | (_, None) => None,
                        (Some(a), Some(b)) => Some(a.max(b)),
                    };
                }
                _ => merged.push((start, end)),
            }
        }
        for (start, end) in merged {
            // An open membership ends with the person's last day.
            let end = match (end, p.left_on) {
                (None, left) => left,
                (Some(e), Some(l)) if l <= e => Some(l),
                (e, _) => e,
            };
            if end.is_none_or(|e| e >= start) {
                out.push(stint(p, start, end));
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }

    #[test]
    fn team_stints_follow_moves_and_departures() {
        let people = [
            PersonDates {
                id: 1,
                hired_on: d("2024-01-01"),
                left_on: Some(d("2026-03-31")),
                leave_reason: Some("voluntary".into()),
                regretted: true,
            },
            PersonDates {
                id: 2,
                hired_on: d("2024-01-01"),
                left_on: None,
                leave_reason: None,
                regretted: false,
            },
        ];
        // 1: Web then Mobile (both in Eng), then leaves. 2: Web, then moves to Sales.
        let memberships = [
            (1, 2, d("2024-01-01"), Some(d("2025-06-30"))),
            (1, 3, d("2025-07-01"), None),
            (2, 2, d("2024-01-01"), Some(d("2026-01-31"))),
            (2, 9, d("2026-02-01"), None),
        ];
        let eng = BTreeSet::from([1, 2, 3]);
        let mut s = team_stints(&people, &memberships, Some(&eng));
        s.sort_by_key(|s| s.end);
        assert_eq!(s.len(), 2);
        assert_eq!(
            (s[0].start, s[0].end, s[0].separated),
            (d("2024-01-01"), Some(d("2026-01-31")), false)
        );
        assert_eq!(
            (s[1].start, s[1].end, s[1].separated, s[1].regretted),
            (d("2024-01-01"), Some(d("2026-03-31")), true, true)
        );
        assert_eq!(s[1].reason, Some(LeaveReason::Voluntary));
        let company = team_stints(&people, &memberships, None);
        assert_eq!(company.iter().filter(|s| s.separated).count(), 1);
    }

    #[test]
    fn group_stints_match_team_stints_for_every_subtree() {
        use crate::domain::disclosure::Tree;
        use crate::domain::teams::with_descendants;
        use rand::{rngs::StdRng, Rng, SeedableRng};
        let mut rng = StdRng::seed_from_u64(7);
        let edges = [
            (1, None),
            (2, Some(1)),
            (3, Some(1)),
            (4, Some(3)),
            (5, None),
            (6, Some(5)),
        ];
        let tree = Tree::new(&edges);
        let mut people = vec![];
        let mut memberships = vec![];
        for id in 0..60 {
            let hired_on = d("2024-01-01") + chrono::Duration::days(rng.gen_range(0..700));
            let mut start = hired_on;
            for _ in 0..rng.gen_range(1..4) {
                let end = start + chrono::Duration::days(rng.gen_range(0..300));
                memberships.push((id, rng.gen_range(1..=6), start, Some(end)));
                start = end + chrono::Duration::days(rng.gen_range(1..3));
            }
            let last = memberships.last_mut().unwrap();
            let left_on = rng.gen_bool(0.5).then(|| last.3.unwrap());
            if left_on.is_none() || rng.gen_bool(0.3) {
                last.3 = None;
            }
            people.push(PersonDates {
                id,
                hired_on,
                left_on,
                leave_reason: Some("voluntary".into()),
                regretted: rng.gen_bool(0.5),
            });
        }
        let key = |s: &Stint| (s.start, s.end, s.separated, s.hired_on);
        let mut all = group_stints(&people, &memberships, |t| tree.ancestry(t));
        for (team, _) in edges {
            let mut one = team_stints(
                &people,
                &memberships,
                Some(&with_descendants(&edges, [team])),
            );
            let mut many = all.remove(&team).unwrap_or_default();
            one.sort_by_key(key);
            many.sort_by_key(key);
            assert!(!one.is_empty());
            assert_eq!(one, many, "team {team}");
        }
    }

    #[test]
    fn periods_follow_the_calendar() {
        assert_eq!(
            period_of(d("2026-02-14"), GroupBy::Month),
            (d("2026-02-01"), d("2026-02-28"))
        );
        assert_eq!(
            period_of(d("2026-12-31"), GroupBy::Month),
            (d("2026-12-01"), d("2026-12-31"))
        );
        assert_eq!(
            period_of(d("2026-05-02"), GroupBy::Quarter),
            (d("2026-04-01"), d("2026-06-30"))
        );
        assert_eq!(
            period_of(d("2026-11-30"), GroupBy::Quarter),
            (d("2026-10-01"), d("2026-12-31"))
        );
        assert_eq!(
            period_of(d("2026-05-02"), GroupBy::Round),
            (d("2026-05-02"), d("2026-05-02"))
        );
    }
}
