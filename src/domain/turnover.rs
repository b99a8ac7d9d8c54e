//! Headcount, turnover and retention per calendar period, by the SHRM method.

use chrono::{Datelike, Months, NaiveDate};

use crate::domain::people::LeaveReason;

/// One person's time in the group being measured (the company, or one team).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Stint {
    /// First day in the group (hire date, or the day they joined the team).
    pub start: NaiveDate,
    /// Last day in the group, inclusive; None = still there.
    pub end: Option<NaiveDate>,
    /// True when `end` is the person's last day employed (a separation); false when they moved to another team.
    pub separated: bool,
    pub reason: Option<LeaveReason>,
    pub regretted: bool,
    /// For first-year turnover: separated within 365 days of hire.
    pub hired_on: NaiveDate,
}

impl Stint {
    pub fn present_on(&self, day: NaiveDate) -> bool {
        self.start <= day && self.end.is_none_or(|end| day <= end)
    }

    /// The last day employed, when this stint ended the person's employment.
    pub fn separation_day(&self) -> Option<NaiveDate> {
        self.end.filter(|_| self.separated)
    }
}

/// How a report cuts time.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Grouping {
    Month,
    Quarter,
    Year,
}

impl Grouping {
    pub fn months(self) -> u32 {
        match self {
            Grouping::Month => 1,
            Grouping::Quarter => 3,
            Grouping::Year => 12,
        }
    }

    /// First day of the calendar period containing `day`.
    pub fn start_of(self, day: NaiveDate) -> NaiveDate {
        let month0 = day.month0() / self.months() * self.months();
        // Day 1 of a month in the same year always exists, so the fallback is never taken.
        NaiveDate::from_ymd_opt(day.year(), month0 + 1, 1).unwrap_or(day)
    }
}

/// One period's figures for one group, as reports show them (rates in percent).
#[derive(Debug, Clone, PartialEq, serde::Serialize, utoipa::ToSchema)]
pub struct PeriodFigures {
    pub period_start: NaiveDate,
    pub period_end: NaiveDate,
    pub headcount_start: u32,
    pub headcount_end: u32,
    /// Rounded to 2 decimals; the rates use the unrounded value.
    pub average_headcount: f64,
    pub separations: u32,
    pub voluntary: u32,
    pub involuntary: u32,
    /// Separations with reason `Other` or no recorded reason, so the three splits add up to `separations`.
    pub other: u32,
    pub regretted: u32,
    pub first_year_separations: u32,
    /// Percent, 2 decimals; None when average headcount is 0.
    pub turnover_rate: Option<f64>,
    pub voluntary_rate: Option<f64>,
    /// First-year separations ÷ average headcount × 100.
    pub first_year_rate: Option<f64>,
    /// People in the group on the period's first day who are still in it on its last day, ÷ headcount_start × 100.
    pub retention_rate: Option<f64>,
}

/// The periods covering [from, to], aligned to calendar months / quarters / years (the first and last may extend beyond from/to to whole periods).
///
/// Empty when `from` is after `to`.
pub fn periods(from: NaiveDate, to: NaiveDate, grouping: Grouping) -> Vec<(NaiveDate, NaiveDate)> {
    let mut out = Vec::new();
    if from > to {
        return out;
    }
    let mut start = grouping.start_of(from);
    while start <= to {
        let next = start.checked_add_months(Months::new(grouping.months()));
        // At the very end of chrono's calendar there is no next period; the last one runs to the end.
        let end = next.and_then(|n| n.pred_opt()).unwrap_or(NaiveDate::MAX);
        out.push((start, end));
        match next {
            Some(n) => start = n,
            None => break,
        }
    }
    out
}

/// People in the group on `day` (start <= day <= end).
pub fn headcount_on(stints: &[Stint], day: NaiveDate) -> u32 {
    count(stints.iter().filter(|s| s.present_on(day)))
}

/// Separations whose last day falls in a span of days, split as reports show them.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Separations {
    pub total: u32,
    pub voluntary: u32,
    pub involuntary: u32,
    /// Reason `Other` or none recorded.
    pub other: u32,
    pub regretted: u32,
    /// Last day at most 365 days after the hire date.
    pub first_year: u32,
}

/// What one group's period figures are counted from: its stints (people's dates), or
/// the facts stored for it (`turnover_facts::Ledger`). Both give the same figures.
pub trait Headcounts {
    /// People in the group on `day`.
    fn headcount_on(&self, day: NaiveDate) -> u32;
    /// Separations with their last day in [from, to].
    fn separations_in(&self, from: NaiveDate, to: NaiveDate) -> Separations;
    /// People in the group on both `from` and `to`; None when the source cannot tell
    /// (stored facts answer this for calendar months, quarters and years only).
    fn stayed(&self, from: NaiveDate, to: NaiveDate) -> Option<u32>;
}

impl Headcounts for [Stint] {
    fn headcount_on(&self, day: NaiveDate) -> u32 {
        headcount_on(self, day)
    }

    fn separations_in(&self, from: NaiveDate, to: NaiveDate) -> Separations {
        let mut out = Separations::default();
        for s in self {
            let Some(last_day) = s.separation_day() else {
                continue;
            };
            if last_day < from || last_day > to {
                continue;
            }
            out.total = out.total.saturating_add(1);
            let slot = match s.reason {
                Some(LeaveReason::Voluntary) => &mut out.voluntary,
                Some(LeaveReason::Involuntary) => &mut out.involuntary,
                Some(LeaveReason::Other) | None => &mut out.other,
            };
            *slot = slot.saturating_add(1);
            if s.regretted {
                out.regretted = out.regretted.saturating_add(1);
            }
            if first_year(s.hired_on, last_day) {
                out.first_year = out.first_year.saturating_add(1);
            }
        }
        out
    }

    fn stayed(&self, from: NaiveDate, to: NaiveDate) -> Option<u32> {
        Some(count(
            self.iter()
                .filter(|s| s.present_on(from) && s.present_on(to)),
        ))
    }
}

impl Headcounts for Vec<Stint> {
    fn headcount_on(&self, day: NaiveDate) -> u32 {
        self.as_slice().headcount_on(day)
    }

    fn separations_in(&self, from: NaiveDate, to: NaiveDate) -> Separations {
        self.as_slice().separations_in(from, to)
    }

    fn stayed(&self, from: NaiveDate, to: NaiveDate) -> Option<u32> {
        self.as_slice().stayed(from, to)
    }
}

/// "Within 365 days of hire": the last day is at most 365 days after the hire date.
pub fn first_year(hired_on: NaiveDate, last_day: NaiveDate) -> bool {
    (0..=365).contains(&(last_day - hired_on).num_days())
}

/// Month: average headcount = (headcount first day + headcount last day)/2; turnover = separations in the period ÷ average × 100. Quarter/Year: separations in the period ÷ mean of the monthly average headcounts × 100. A separation counts in the period containing `end` (only when `separated`).
///
/// For Quarter/Year each calendar month overlapping the period contributes one monthly
/// average, taken on the days where that month and the period overlap, so a period that
/// is not aligned to months still gets a sensible figure.
pub fn figures<H: Headcounts + ?Sized>(
    stints: &H,
    period_start: NaiveDate,
    period_end: NaiveDate,
    grouping: Grouping,
) -> PeriodFigures {
    let headcount_start = stints.headcount_on(period_start);
    let headcount_end = stints.headcount_on(period_end);
    let average = match grouping {
        Grouping::Month => (f64::from(headcount_start) + f64::from(headcount_end)) / 2.0,
        Grouping::Quarter | Grouping::Year => {
            let monthly: Vec<f64> = periods(period_start, period_end, Grouping::Month)
                .into_iter()
                .map(|(first, last)| {
                    let first = first.max(period_start);
                    let last = last.min(period_end);
                    (f64::from(stints.headcount_on(first)) + f64::from(stints.headcount_on(last)))
                        / 2.0
                })
                .collect();
            if monthly.is_empty() {
                0.0
            } else {
                monthly.iter().sum::<f64>() / monthly.len() as f64
            }
        }
    };

    let seps = if period_start <= period_end {
        stints.separations_in(period_start, period_end)
    } else {
        Separations::default()
    };
    let stayed = stints.stayed(period_start, period_end);

    let rate = |n: u32| (average > 0.0).then(|| round_to(f64::from(n) / average * 100.0, 2));
    PeriodFigures {
        period_start,
        period_end,
        headcount_start,
        headcount_end,
        average_headcount: round_to(average, 2),
        separations: seps.total,
        voluntary: seps.voluntary,
        involuntary: seps.involuntary,
        other: seps.other,
        regretted: seps.regretted,
        first_year_separations: seps.first_year,
        turnover_rate: rate(seps.total),
        voluntary_rate: rate(seps.voluntary),
        first_year_rate: rate(seps.first_year),
        retention_rate: stayed.and_then(|stayed| {
            (headcount_start > 0)
                .then(|| round_to(f64::from(stayed) / f64::from(headcount_start) * 100.0, 2))
        }),
    }
}

fn count<'a>(it: impl Iterator<Item = &'a Stint>) -> u32 {
    u32::try_from(it.count()).unwrap_or(u32::MAX)
}

fn round_to(x: f64, decimals: i32) -> f64 {
    let factor = 10f64.powi(decimals);
    (x * factor).round() / factor
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).unwrap()
    }

    fn staying(start: NaiveDate) -> Stint {
        Stint {
            start,
            end: None,
            separated: false,
            reason: None,
            regretted: false,
            hired_on: start,
        }
    }

    fn leaving(start: NaiveDate, last_day: NaiveDate, reason: LeaveReason) -> Stint {
        Stint {
            end: Some(last_day),
            separated: true,
            reason: Some(reason),
            ..staying(start)
        }
    }

    /// 100 people employed on 1 January 2026; 2 leave (last day 15 January); 1 joins on 10 January.
    fn january() -> Vec<Stint> {
        let long_ago = day(2020, 3, 1);
        let mut stints: Vec<Stint> = (0..98).map(|_| staying(long_ago)).collect();
        stints.push(leaving(long_ago, day(2026, 1, 15), LeaveReason::Voluntary));
        stints.push(Stint {
            regretted: true,
            ..leaving(long_ago, day(2026, 1, 15), LeaveReason::Involuntary)
        });
        stints.push(staying(day(2026, 1, 10)));
        stints
    }

    #[test]
    fn a_month_by_hand() {
        let f = figures(
            &january(),
            day(2026, 1, 1),
            day(2026, 1, 31),
            Grouping::Month,
        );
        assert_eq!(f.headcount_start, 100);
        assert_eq!(f.headcount_end, 99);
        // (100 + 99) / 2 = 99.5; 2 / 99.5 × 100 = 2.0100… → 2.01.
        assert_eq!(f.average_headcount, 99.5);
        assert_eq!(f.separations, 2);
        assert_eq!((f.voluntary, f.involuntary, f.other), (1, 1, 0));
        assert_eq!(f.regretted, 1);
        assert_eq!(f.turnover_rate, Some(2.01));
        // 1 / 99.5 × 100 = 1.00503 → 1.01.
        assert_eq!(f.voluntary_rate, Some(1.01));
        assert_eq!(f.first_year_separations, 0);
        assert_eq!(f.first_year_rate, Some(0.0));
        // 98 of the 100 present on 1 January are still there on 31 January.
        assert_eq!(f.retention_rate, Some(98.0));
        // Nothing in February.
        let feb = figures(
            &january(),
            day(2026, 2, 1),
            day(2026, 2, 28),
            Grouping::Month,
        );
        assert_eq!(
            (feb.headcount_start, feb.headcount_end, feb.separations),
            (99, 99, 0)
        );
        assert_eq!(feb.turnover_rate, Some(0.0));
        assert_eq!(feb.retention_rate, Some(100.0));
    }

    #[test]
    fn last_day_of_period_counts_in_headcount_and_as_separation() {
        let stints = vec![
            staying(day(2025, 1, 1)),
            leaving(day(2025, 1, 1), day(2026, 1, 31), LeaveReason::Voluntary),
        ];
        let jan = figures(&stints, day(2026, 1, 1), day(2026, 1, 31), Grouping::Month);
        assert_eq!((jan.headcount_start, jan.headcount_end), (2, 2));
        assert_eq!(jan.separations, 1);
        // 1 / 2 × 100.
        assert_eq!(jan.turnover_rate, Some(50.0));
        // Present on both days, so retained for this period's figure.
        assert_eq!(jan.retention_rate, Some(100.0));
        let feb = figures(&stints, day(2026, 2, 1), day(2026, 2, 28), Grouping::Month);
        assert_eq!((feb.headcount_start, feb.separations), (1, 0));
    }

    #[test]
    fn moving_team_is_not_a_separation() {
        let stints = vec![
            staying(day(2025, 1, 1)),
            Stint {
                end: Some(day(2026, 1, 15)),
                // Voluntary reason recorded by mistake must not turn a move into a leaver.
                reason: Some(LeaveReason::Voluntary),
                ..staying(day(2025, 1, 1))
            },
        ];
        let f = figures(&stints, day(2026, 1, 1), day(2026, 1, 31), Grouping::Month);
        assert_eq!((f.headcount_start, f.headcount_end), (2, 1));
        assert_eq!(f.separations, 0);
        assert_eq!(f.turnover_rate, Some(0.0));
        // The mover is gone from this team, so it did not retain them.
        assert_eq!(f.retention_rate, Some(50.0));
    }

    #[test]
    fn a_quarter_averages_its_months() {
        let old = day(2025, 1, 1);
        let mut stints: Vec<Stint> = (0..9).map(|_| staying(old)).collect();
        stints.push(leaving(old, day(2026, 3, 31), LeaveReason::Other));
        stints.push(staying(day(2026, 2, 1)));
        stints.push(staying(day(2026, 3, 15)));
        let f = figures(
            &stints,
            day(2026, 1, 1),
            day(2026, 3, 31),
            Grouping::Quarter,
        );
        // January (10 + 10)/2 = 10; February (11 + 11)/2 = 11; March (11 + 12)/2 = 11.5.
        // Mean 32.5 / 3 = 10.8333 → 10.83; 1 / 10.8333 × 100 = 9.2308 → 9.23.
        assert_eq!((f.headcount_start, f.headcount_end), (10, 12));
        assert_eq!(f.average_headcount, 10.83);
        assert_eq!(f.separations, 1);
        assert_eq!(f.other, 1);
        assert_eq!(f.turnover_rate, Some(9.23));
        assert_eq!(f.voluntary_rate, Some(0.0));
        assert_eq!(f.retention_rate, Some(100.0));
        // A plain month formula over the quarter would give (10 + 12)/2 = 11: different, on purpose.
        let naive = figures(&stints, day(2026, 1, 1), day(2026, 3, 31), Grouping::Month);
        assert_eq!(naive.average_headcount, 11.0);
    }

    #[test]
    fn a_year_averages_twelve_months() {
        // 12 people all year, plus one who is there from 1 July: monthly averages are
        // 12 ×6 and 13 ×6 → mean 12.5; one leaver on 31 December → 1 / 12.5 = 8%.
        let old = day(2020, 1, 1);
        let mut stints: Vec<Stint> = (0..11).map(|_| staying(old)).collect();
        stints.push(leaving(old, day(2026, 12, 31), LeaveReason::Voluntary));
        stints.push(staying(day(2026, 7, 1)));
        let f = figures(&stints, day(2026, 1, 1), day(2026, 12, 31), Grouping::Year);
        assert_eq!(f.average_headcount, 12.5);
        assert_eq!(f.turnover_rate, Some(8.0));
        assert_eq!(f.voluntary_rate, Some(8.0));
    }

    #[test]
    fn first_year_separations() {
        let base: Vec<Stint> = (0..8).map(|_| staying(day(2020, 1, 1))).collect();
        let mut stints = base.clone();
        // Hired 2025-06-01, gone 2026-01-20: 233 days in.
        stints.push(leaving(
            day(2025, 6, 1),
            day(2026, 1, 20),
            LeaveReason::Voluntary,
        ));
        // Exactly 365 days after hire: still "within 365 days".
        stints.push(leaving(
            day(2025, 1, 15),
            day(2026, 1, 15),
            LeaveReason::Voluntary,
        ));
        // 366 days: past the first year.
        stints.push(leaving(
            day(2025, 1, 15),
            day(2026, 1, 16),
            LeaveReason::Involuntary,
        ));
        // Joined this team recently but hired long ago: `hired_on`, not `start`, decides.
        stints.push(Stint {
            hired_on: day(2019, 5, 5),
            ..leaving(day(2025, 12, 1), day(2026, 1, 25), LeaveReason::Voluntary)
        });
        let f = figures(&stints, day(2026, 1, 1), day(2026, 1, 31), Grouping::Month);
        assert_eq!(f.separations, 4);
        assert_eq!(f.first_year_separations, 2);
        // (12 + 8) / 2 = 10 → 2 / 10 = 20%, 4 / 10 = 40%.
        assert_eq!(f.average_headcount, 10.0);
        assert_eq!(f.first_year_rate, Some(20.0));
        assert_eq!(f.turnover_rate, Some(40.0));
        assert_eq!(f.voluntary, 3);
    }

    #[test]
    fn retention_ignores_people_who_joined_during_the_period() {
        let old = day(2025, 1, 1);
        let stints = vec![
            staying(old),
            staying(old),
            staying(old),
            leaving(old, day(2026, 2, 10), LeaveReason::Voluntary),
            staying(day(2026, 2, 5)),
            leaving(day(2026, 2, 3), day(2026, 2, 20), LeaveReason::Voluntary),
        ];
        let f = figures(&stints, day(2026, 2, 1), day(2026, 2, 28), Grouping::Month);
        // 3 of the 4 there on 1 February are there on 28 February.
        assert_eq!(f.retention_rate, Some(75.0));
        assert_eq!(f.separations, 2);
    }

    #[test]
    fn empty_group_has_no_rates() {
        let f = figures::<[Stint]>(&[], day(2026, 1, 1), day(2026, 3, 31), Grouping::Quarter);
        assert_eq!(f.average_headcount, 0.0);
        assert_eq!(f.turnover_rate, None);
        assert_eq!(f.voluntary_rate, None);
        assert_eq!(f.first_year_rate, None);
        assert_eq!(f.retention_rate, None);
        // Reversed bounds: no months, nothing counted, still no panic.
        let f = figures(&january(), day(2026, 3, 1), day(2026, 1, 1), Grouping::Year);
        assert_eq!(f.separations, 0);
        assert_eq!(f.turnover_rate, None);
    }

    #[test]
    fn periods_align_to_the_calendar() {
        assert_eq!(
            periods(day(2026, 2, 10), day(2026, 5, 3), Grouping::Quarter),
            vec![
                (day(2026, 1, 1), day(2026, 3, 31)),
                (day(2026, 4, 1), day(2026, 6, 30)),
            ]
        );
        assert_eq!(
            periods(day(2024, 1, 31), day(2024, 3, 1), Grouping::Month),
            vec![
                (day(2024, 1, 1), day(2024, 1, 31)),
                (day(2024, 2, 1), day(2024, 2, 29)),
                (day(2024, 3, 1), day(2024, 3, 31)),
            ]
        );
        assert_eq!(
            periods(day(2025, 12, 31), day(2026, 1, 1), Grouping::Year),
            vec![
                (day(2025, 1, 1), day(2025, 12, 31)),
                (day(2026, 1, 1), day(2026, 12, 31)),
            ]
        );
        assert_eq!(
            periods(day(2026, 11, 15), day(2026, 11, 15), Grouping::Quarter),
            vec![(day(2026, 10, 1), day(2026, 12, 31))]
        );
        assert!(periods(day(2026, 2, 1), day(2026, 1, 1), Grouping::Month).is_empty());
        // The end of chrono's calendar: no overflow, and the last period ends there.
        let last = periods(NaiveDate::MAX, NaiveDate::MAX, Grouping::Year);
        assert_eq!(last.len(), 1);
        assert_eq!(last[0].1, NaiveDate::MAX);
        assert_eq!(
            periods(NaiveDate::MIN, NaiveDate::MIN, Grouping::Month).len(),
            1
        );
    }

    #[test]
    fn ten_thousand_stints_over_three_years() {
        // Deterministic spread of hires and leavers; the point is that the linear passes stay fast.
        let origin = day(2022, 1, 1);
        let stints: Vec<Stint> = (0..10_000u32)
            .map(|i| {
                let start = origin + chrono::Days::new(u64::from(i * 7 % 1500));
                let mut s = staying(start);
                if i % 4 == 0 {
                    s.end = Some(start + chrono::Days::new(u64::from(30 + i % 700)));
                    s.separated = i % 8 == 0;
                    s.reason = Some(LeaveReason::Voluntary);
                }
                s
            })
            .collect();
        let months = periods(day(2023, 1, 1), day(2025, 12, 31), Grouping::Month);
        assert_eq!(months.len(), 36);
        let total: u32 = months
            .iter()
            .map(|&(a, b)| figures(&stints, a, b, Grouping::Month).separations)
            .sum();
        let expected = stints
            .iter()
            .filter_map(Stint::separation_day)
            .filter(|d| (day(2023, 1, 1)..=day(2025, 12, 31)).contains(d))
            .count();
        assert_eq!(total as usize, expected);
        let years: u32 = periods(day(2023, 1, 1), day(2025, 12, 31), Grouping::Year)
            .iter()
            .map(|&(a, b)| figures(&stints, a, b, Grouping::Year).separations)
            .sum();
        assert_eq!(years, total);
    }
}
