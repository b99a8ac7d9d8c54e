//! Turnover facts: what each stint adds to its group's days, so headcounts and
//! separations can be stored as people change and read back without the people.
//!
//! A group (the company, or a team with its sub-teams) keeps one row per day on which
//! something happened to it: stints that began (`arrivals`), stints whose last day it
//! was (`departures`), separations split as reports show them, and, for retention,
//! the stints that began after the first day of a calendar month / quarter / year and
//! ended before its last day (`brief`, filed on the period's first day). Then
//!
//! - headcount on day d = arrivals on or before d − departures before d;
//! - separations in [a, b] = the sum of the days in [a, b];
//! - of those present on a calendar period's first day a, those still there on its
//!   last day b = headcount(a) − departures in [a, b) + brief stints of the period
//!   (every stint that departs in [a, b) either was there on day a, or began after
//!   it and is brief).
//!
//! Every figure is a sum over stints, so a person's change is their new contribution
//! minus their old one, and the sum over everyone equals the figures computed from
//! people directly.

use crate::domain::report::{group_stints, team_stints, Membership, PersonDates};
use crate::domain::turnover::{first_year, Grouping, Headcounts, Separations, Stint};
use chrono::NaiveDate;
use std::collections::BTreeMap;

/// The company as a whole among the stored groups (teams have positive ids).
pub const COMPANY_GROUP: i32 = 0;

/// What one group's stints add to one day. Signed: a change adds a difference.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct DayFacts {
    pub arrivals: i32,
    pub departures: i32,
    pub separations: i32,
    pub voluntary: i32,
    pub involuntary: i32,
    pub other: i32,
    pub regretted: i32,
    pub first_year: i32,
    /// Stints inside one calendar month / quarter / year (after its first day, before its last).
    pub brief_month: i32,
    pub brief_quarter: i32,
    pub brief_year: i32,
}

impl DayFacts {
    pub fn is_zero(&self) -> bool {
        *self == Self::default()
    }

    fn zip(self, o: Self, f: impl Fn(i32, i32) -> i32) -> Self {
        Self {
            arrivals: f(self.arrivals, o.arrivals),
            departures: f(self.departures, o.departures),
            separations: f(self.separations, o.separations),
            voluntary: f(self.voluntary, o.voluntary),
            involuntary: f(self.involuntary, o.involuntary),
            other: f(self.other, o.other),
            regretted: f(self.regretted, o.regretted),
            first_year: f(self.first_year, o.first_year),
            brief_month: f(self.brief_month, o.brief_month),
            brief_quarter: f(self.brief_quarter, o.brief_quarter),
            brief_year: f(self.brief_year, o.brief_year),
        }
    }

    pub fn plus(self, o: Self) -> Self {
        self.zip(o, i32::saturating_add)
    }

    pub fn minus(self, o: Self) -> Self {
        self.zip(o, i32::saturating_sub)
    }

    fn brief(&self, g: Grouping) -> i32 {
        match g {
            Grouping::Month => self.brief_month,
            Grouping::Quarter => self.brief_quarter,
            Grouping::Year => self.brief_year,
        }
    }
}

/// Facts keyed by (group, day).
pub type Facts = BTreeMap<(i32, NaiveDate), DayFacts>;

/// What one stint adds to its group's days.
pub fn stint_facts(s: &Stint) -> Vec<(NaiveDate, DayFacts)> {
    let mut out: Vec<(NaiveDate, DayFacts)> = Vec::new();
    let mut add = |day: NaiveDate, f: DayFacts| match out.iter_mut().find(|(d, _)| *d == day) {
        Some((_, x)) => *x = x.plus(f),
        None => out.push((day, f)),
    };
    // A stint that ends before it starts is never present (only its separation counts).
    let present = s.end.is_none_or(|e| e >= s.start);
    if present {
        add(
            s.start,
            DayFacts {
                arrivals: 1,
                ..DayFacts::default()
            },
        );
        if let Some(end) = s.end {
            add(
                end,
                DayFacts {
                    departures: 1,
                    ..DayFacts::default()
                },
            );
            for g in [Grouping::Month, Grouping::Quarter, Grouping::Year] {
                let first = g.start_of(s.start);
                let last = crate::domain::turnover::periods(first, first, g)
                    .first()
                    .map(|p| p.1);
                if s.start > first && last.is_some_and(|last| end < last) {
                    let mut f = DayFacts::default();
                    match g {
                        Grouping::Month => f.brief_month = 1,
                        Grouping::Quarter => f.brief_quarter = 1,
                        Grouping::Year => f.brief_year = 1,
                    }
                    add(first, f);
                }
            }
        }
    }
    if let Some(last_day) = s.separation_day() {
        let mut f = DayFacts {
            separations: 1,
            ..DayFacts::default()
        };
        match s.reason {
            Some(crate::domain::people::LeaveReason::Voluntary) => f.voluntary = 1,
            Some(crate::domain::people::LeaveReason::Involuntary) => f.involuntary = 1,
            Some(crate::domain::people::LeaveReason::Other) | None => f.other = 1,
        }
        f.regretted = i32::from(s.regretted);
        f.first_year = i32::from(first_year(s.hired_on, last_day));
        add(last_day, f);
    }
    out
}

/// The facts of the given people (with all their memberships) for the company and every
/// team group: `groups_of(team)` names the team groups a stay in `team` counts for (the
/// team and those above it, not the company: the company counts hire to departure).
pub fn people_facts(
    people: &[PersonDates],
    memberships: &[Membership],
    groups_of: impl Fn(i32) -> Vec<i32>,
) -> Facts {
    let mut out = Facts::new();
    let mut add = |group: i32, stints: &[Stint]| {
        for s in stints {
            for (day, f) in stint_facts(s) {
                let e = out.entry((group, day)).or_default();
                *e = e.plus(f);
            }
        }
    };
    add(COMPANY_GROUP, &team_stints(people, memberships, None));
    for (group, stints) in group_stints(people, memberships, groups_of) {
        add(group, &stints);
    }
    out
}

/// What turns `before` into `after`, without the days that did not change.
pub fn difference(before: &Facts, after: &Facts) -> Facts {
    let mut out = Facts::new();
    for (k, f) in after {
        out.insert(*k, *f);
    }
    for (k, f) in before {
        let e = out.entry(*k).or_default();
        *e = e.minus(*f);
    }
    out.retain(|_, f| !f.is_zero());
    out
}

/// One group's stored facts from some day on, with everything before it folded into
/// an opening balance: enough to answer any figure on or after `from`.
#[derive(Debug, Clone, Default)]
pub struct Ledger {
    from: Option<NaiveDate>,
    /// Arrivals − departures of the days before `from`: the headcount on `from` before
    /// that day's own arrivals.
    opening: i64,
    /// Days from `from` on, in order, with running totals of arrivals and departures
    /// up to and including each day.
    days: Vec<(NaiveDate, DayFacts)>,
    arrived: Vec<i64>,
    departed: Vec<i64>,
}

impl Ledger {
    /// `opening`: arrivals − departures before `from`; `days`: the days on or after `from`.
    pub fn new(
        from: Option<NaiveDate>,
        opening: i64,
        mut days: Vec<(NaiveDate, DayFacts)>,
    ) -> Self {
        days.sort_by_key(|d| d.0);
        let (mut a, mut d) = (0i64, 0i64);
        let mut arrived = Vec::with_capacity(days.len());
        let mut departed = Vec::with_capacity(days.len());
        for (_, f) in &days {
            a += i64::from(f.arrivals);
            d += i64::from(f.departures);
            arrived.push(a);
            departed.push(d);
        }
        Self {
            from,
            opening,
            days,
            arrived,
            departed,
        }
    }

    /// The ledger of a group from its facts, all days.
    pub fn of(days: Vec<(NaiveDate, DayFacts)>) -> Self {
        Self::new(None, 0, days)
    }

    /// How many days are on or before `day` (an index into `days`).
    fn upto(&self, day: NaiveDate) -> usize {
        self.days.partition_point(|d| d.0 <= day)
    }

    fn before(&self, day: NaiveDate) -> usize {
        self.days.partition_point(|d| d.0 < day)
    }

    fn sum(v: &[i64], n: usize) -> i64 {
        n.checked_sub(1).map_or(0, |i| v[i])
    }

    fn headcount(&self, day: NaiveDate) -> i64 {
        debug_assert!(
            self.from.is_none_or(|f| f <= day),
            "asked before the ledger"
        );
        self.opening + Self::sum(&self.arrived, self.upto(day))
            - Self::sum(&self.departed, self.before(day))
    }

    fn days_in(&self, from: NaiveDate, to: NaiveDate) -> &[(NaiveDate, DayFacts)] {
        let a = self.before(from);
        let b = self.upto(to).max(a);
        &self.days[a..b]
    }
}

fn to_u32(n: i64) -> u32 {
    u32::try_from(n.max(0)).unwrap_or(u32::MAX)
}

/// The calendar period [from, to] is, if it is exactly one.
fn calendar_period(from: NaiveDate, to: NaiveDate) -> Option<Grouping> {
    [Grouping::Month, Grouping::Quarter, Grouping::Year]
        .into_iter()
        .find(|&g| crate::domain::turnover::periods(from, from, g) == [(from, to)])
}

impl Headcounts for Ledger {
    fn headcount_on(&self, day: NaiveDate) -> u32 {
        to_u32(self.headcount(day))
    }

    fn separations_in(&self, from: NaiveDate, to: NaiveDate) -> Separations {
        let mut t = DayFacts::default();
        for (_, f) in self.days_in(from, to) {
            t = t.plus(*f);
        }
        let n = |v: i32| u32::try_from(v.max(0)).unwrap_or(0);
        Separations {
            total: n(t.separations),
            voluntary: n(t.voluntary),
            involuntary: n(t.involuntary),
            other: n(t.other),
            regretted: n(t.regretted),
            first_year: n(t.first_year),
        }
    }

    fn stayed(&self, from: NaiveDate, to: NaiveDate) -> Option<u32> {
        let g = calendar_period(from, to)?;
        let departed: i64 = to
            .pred_opt()
            .map(|last| {
                self.days_in(from, last)
                    .iter()
                    .map(|(_, f)| i64::from(f.departures))
                    .sum()
            })
            .unwrap_or(0);
        let brief: i64 = self
            .days_in(from, from)
            .iter()
            .map(|(_, f)| i64::from(f.brief(g)))
            .sum();
        Some(to_u32(self.headcount(from) - departed + brief))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::people::LeaveReason;
    use crate::domain::turnover::{figures, periods};

    fn day(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }

    fn stint(start: &str, end: Option<&str>, separated: bool) -> Stint {
        Stint {
            start: day(start),
            end: end.map(day),
            separated,
            reason: separated.then_some(LeaveReason::Voluntary),
            regretted: false,
            hired_on: day(start),
        }
    }

    fn facts_of(stints: &[Stint]) -> Ledger {
        let mut by_day: BTreeMap<NaiveDate, DayFacts> = BTreeMap::new();
        for s in stints {
            for (d, f) in stint_facts(s) {
                let e = by_day.entry(d).or_default();
                *e = e.plus(f);
            }
        }
        Ledger::of(by_day.into_iter().collect())
    }

    #[test]
    fn a_stint_inside_one_month_by_hand() {
        // 10 to 20 March 2026, left on the 20th: arrives the 10th, departs and separates
        // the 20th, and is brief for March, Q1 and 2026 (after each first day, before
        // each last day).
        let mut s = stint("2026-03-10", Some("2026-03-20"), true);
        s.regretted = true;
        let f = stint_facts(&s);
        let at = |d: &str| {
            f.iter()
                .find(|x| x.0 == day(d))
                .map(|x| x.1)
                .unwrap_or_default()
        };
        assert_eq!(at("2026-03-10").arrivals, 1);
        let end = at("2026-03-20");
        assert_eq!((end.departures, end.separations, end.voluntary), (1, 1, 1));
        assert_eq!((end.regretted, end.first_year), (1, 1));
        assert_eq!(at("2026-03-01").brief_month, 1);
        assert_eq!(at("2026-01-01").brief_quarter, 1);
        assert_eq!(at("2026-01-01").brief_year, 1);
        assert_eq!(f.len(), 4);
    }

    #[test]
    fn a_stint_from_the_first_day_or_to_the_last_is_not_brief() {
        // Starts on 1 March: there on the month's first day, so not brief for March,
        // but still after the first day of Q1 and of the year.
        let f = stint_facts(&stint("2026-03-01", Some("2026-03-15"), false));
        let briefs: Vec<(NaiveDate, i32, i32, i32)> = f
            .iter()
            .filter(|(_, x)| x.brief_month + x.brief_quarter + x.brief_year > 0)
            .map(|(d, x)| (*d, x.brief_month, x.brief_quarter, x.brief_year))
            .collect();
        assert_eq!(briefs, vec![(day("2026-01-01"), 0, 1, 1)]);
        // Ends on 31 March, the last day of the month and the quarter: brief for the year only.
        let f = stint_facts(&stint("2026-03-05", Some("2026-03-31"), false));
        let briefs: Vec<(i32, i32, i32)> = f
            .iter()
            .map(|(_, x)| (x.brief_month, x.brief_quarter, x.brief_year))
            .filter(|b| *b != (0, 0, 0))
            .collect();
        assert_eq!(briefs, vec![(0, 0, 1)]);
        // Still there: arrives and nothing else.
        let f = stint_facts(&stint("2026-03-05", None, false));
        assert_eq!(
            f,
            vec![(
                day("2026-03-05"),
                DayFacts {
                    arrivals: 1,
                    ..DayFacts::default()
                }
            )]
        );
    }

    #[test]
    fn a_month_from_facts_by_hand() {
        // Three people on 1 January, one joins on the 10th and leaves on the 20th,
        // one of the three leaves on the 31st, one moves out on the 15th.
        let stints = [
            stint("2025-06-01", None, false),
            stint("2025-06-01", Some("2026-01-31"), true),
            stint("2025-06-01", Some("2026-01-15"), false),
            stint("2026-01-10", Some("2026-01-20"), true),
        ];
        let l = facts_of(&stints);
        let (jan1, jan31) = (day("2026-01-01"), day("2026-01-31"));
        // 1 January: 3; 31 January: the stayer and the one whose last day it is: 2.
        assert_eq!(l.headcount_on(jan1), 3);
        assert_eq!(l.headcount_on(jan31), 2);
        assert_eq!(l.headcount_on(day("2026-01-12")), 4);
        assert_eq!(l.headcount_on(day("2026-02-01")), 1);
        // Separations on the 20th and the 31st; the move is none.
        assert_eq!(l.separations_in(jan1, jan31).total, 2);
        assert_eq!(l.separations_in(day("2026-01-21"), jan31).total, 1);
        // Of the 3 there on 1 January, 2 are there on the 31st: 3 − 2 departures
        // before the 31st (the 15th, the 20th) + 1 brief stint (10th–20th) = 2.
        assert_eq!(l.stayed(jan1, jan31), Some(2));
        // Not a calendar period: no retention from facts.
        assert_eq!(l.stayed(day("2026-01-02"), jan31), None);
        let f = figures(&l, jan1, jan31, Grouping::Month);
        assert_eq!(f, figures(&stints[..], jan1, jan31, Grouping::Month));
        // (3 + 2) / 2 = 2.5; 2 / 2.5 = 80%; retention 2 / 3 = 66.67%.
        assert_eq!(f.turnover_rate, Some(80.0));
        assert_eq!(f.retention_rate, Some(66.67));
    }

    #[test]
    fn an_opening_balance_stands_for_the_days_before() {
        let stints = [
            stint("2024-01-01", None, false),
            stint("2024-02-01", Some("2026-01-10"), true),
            stint("2025-12-20", None, false),
        ];
        let all = facts_of(&stints);
        let from = day("2026-01-01");
        let opening: i64 = all
            .days
            .iter()
            .filter(|d| d.0 < from)
            .map(|d| i64::from(d.1.arrivals) - i64::from(d.1.departures))
            .sum();
        let later: Vec<_> = all.days.iter().filter(|d| d.0 >= from).cloned().collect();
        let l = Ledger::new(Some(from), opening, later);
        assert_eq!(opening, 3);
        for (a, b) in periods(from, day("2026-12-31"), Grouping::Month) {
            assert_eq!(
                figures(&l, a, b, Grouping::Month),
                figures(&all, a, b, Grouping::Month)
            );
        }
    }

    #[test]
    fn a_change_is_the_new_contribution_minus_the_old() {
        let p = |left: Option<&str>| PersonDates {
            id: 1,
            hired_on: day("2025-01-01"),
            left_on: left.map(day),
            leave_reason: left.map(|_| "involuntary".into()),
            regretted: false,
        };
        let stays = [(1, 7, day("2025-01-01"), None)];
        let groups = |t: i32| vec![t];
        let before = people_facts(&[p(None)], &stays, groups);
        let after = people_facts(&[p(Some("2026-02-10"))], &stays, groups);
        let d = difference(&before, &after);
        // The company (0) and team 7 each gain a departure and an involuntary
        // separation on 10 February; nothing else changed.
        assert_eq!(d.len(), 2);
        for g in [COMPANY_GROUP, 7] {
            let f = d[&(g, day("2026-02-10"))];
            assert_eq!((f.departures, f.separations, f.involuntary), (1, 1, 1));
        }
        // Undoing it gives the opposite.
        let back = difference(&after, &before);
        assert_eq!(back[&(7, day("2026-02-10"))].departures, -1);
    }

    #[test]
    fn facts_give_the_figures_of_stints() {
        use rand::{rngs::StdRng, Rng, SeedableRng};
        let mut rng = StdRng::seed_from_u64(11);
        let origin = day("2023-01-01");
        let stints: Vec<Stint> = (0..400)
            .map(|_| {
                let start = origin + chrono::Duration::days(rng.gen_range(0..1200));
                let end = rng
                    .gen_bool(0.6)
                    .then(|| start + chrono::Duration::days(rng.gen_range(-3..400)));
                let separated = end.is_some() && rng.gen_bool(0.7);
                Stint {
                    start,
                    end,
                    separated,
                    reason: match rng.gen_range(0..4) {
                        0 => Some(LeaveReason::Voluntary),
                        1 => Some(LeaveReason::Involuntary),
                        2 => Some(LeaveReason::Other),
                        _ => None,
                    }
                    .filter(|_| separated),
                    regretted: separated && rng.gen_bool(0.3),
                    hired_on: start - chrono::Duration::days(rng.gen_range(0..200)),
                }
            })
            .collect();
        let l = facts_of(&stints);
        for g in [Grouping::Month, Grouping::Quarter, Grouping::Year] {
            for (a, b) in periods(day("2023-01-01"), day("2026-12-31"), g) {
                assert_eq!(figures(&l, a, b, g), figures(&stints, a, b, g), "{a} {g:?}");
            }
        }
        // Windows that are not calendar periods: every figure but retention.
        for k in 0..40 {
            let a = origin + chrono::Duration::days(k * 29);
            let b = a + chrono::Duration::days(365);
            let (x, y) = (
                figures(&l, a, b, Grouping::Year),
                figures(&stints, a, b, Grouping::Year),
            );
            assert_eq!(x.retention_rate, None);
            assert_eq!(
                crate::domain::turnover::PeriodFigures {
                    retention_rate: None,
                    ..y
                },
                x
            );
        }
    }
}
