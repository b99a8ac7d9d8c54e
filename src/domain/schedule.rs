//! When survey rounds and 1:1 meetings fall: recurring local-time occurrences in an IANA time zone.

use chrono::{
    DateTime, Datelike, Days, MappedLocalTime, NaiveDate, NaiveDateTime, NaiveTime, Offset,
    TimeZone, Utc,
};
use chrono_tz::{GapInfo, Tz, TzOffset};

/// No schedule produces a local date after the end of this year. Far-future data (a typo'd start
/// year, a `--at 9999-...` tick) must degrade to "no more occurrences" instead of overflowing.
const LAST_YEAR: i32 = 9999;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Cadence {
    Once,
    Weekly,
    Biweekly,
    Monthly,
    Quarterly,
}

impl Cadence {
    /// Every cadence, in the order a settings form would offer them.
    pub const ALL: [Cadence; 5] = [
        Cadence::Once,
        Cadence::Weekly,
        Cadence::Biweekly,
        Cadence::Monthly,
        Cadence::Quarterly,
    ];

    /// Accepts the `as_str` names; surrounding whitespace and ASCII case are ignored because the
    /// value arrives from CLI flags and hand-edited config as often as from our own database.
    pub fn parse(s: &str) -> Option<Cadence> {
        let s = s.trim();
        Cadence::ALL
            .into_iter()
            .find(|cadence| cadence.as_str().eq_ignore_ascii_case(s))
    }

    pub fn as_str(&self) -> &'static str {
        match self {
            Cadence::Once => "once",
            Cadence::Weekly => "weekly",
            Cadence::Biweekly => "biweekly",
            Cadence::Monthly => "monthly",
            Cadence::Quarterly => "quarterly",
        }
    }

    fn step(self) -> Step {
        match self {
            Cadence::Once => Step::Once,
            Cadence::Weekly => Step::Days(7),
            Cadence::Biweekly => Step::Days(14),
            Cadence::Monthly => Step::Months(1),
            Cadence::Quarterly => Step::Months(3),
        }
    }
}

/// Day-based and month-based cadences need different calendar arithmetic: a month is not a fixed
/// number of days, so the two can't share one "add n * step" formula.
#[derive(Clone, Copy)]
enum Step {
    Once,
    Days(u32),
    Months(u32),
}

/// Time source, so the scheduler can be run "at" any instant (pulse tick --at) and tested.
pub trait Clock: Send + Sync {
    fn now(&self) -> DateTime<Utc>;
}

#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    // The one deliberate impurity in this module: everything else takes "now" as an argument so
    // that a tick can be replayed at any instant.
    fn now(&self) -> DateTime<Utc> {
        Utc::now()
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FixedClock(pub DateTime<Utc>);

impl Clock for FixedClock {
    fn now(&self) -> DateTime<Utc> {
        self.0
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Schedule {
    pub cadence: Cadence,
    pub starts_on: NaiveDate,
    pub send_time: NaiveTime,
    pub timezone: Tz,
}

impl Schedule {
    /// The local calendar date of occurrence number `n` (0-based), or None past the end (Once has only n=0).
    pub fn local_date(&self, n: u32) -> Option<NaiveDate> {
        let date = match self.cadence.step() {
            Step::Once => (n == 0).then_some(self.starts_on)?,
            Step::Days(days) => self
                .starts_on
                .checked_add_days(Days::new(u64::from(n) * u64::from(days)))?,
            // Always counted from `starts_on`, never from the previous occurrence: otherwise one
            // short month (Jan 31 -> Feb 28) would drag every later occurrence to the 28th.
            Step::Months(months) => {
                add_months_clamped(self.starts_on, i64::from(n) * i64::from(months))?
            }
        };
        (date.year() <= LAST_YEAR).then_some(date)
    }

    /// Occurrence `n` as a UTC instant.
    pub fn occurrence(&self, n: u32) -> Option<DateTime<Utc>> {
        self.local_date(n)
            .map(|date| local_to_utc(date, self.send_time, self.timezone))
    }

    /// First occurrence strictly after `after`.
    pub fn next_after(&self, after: DateTime<Utc>) -> Option<DateTime<Utc>> {
        self.first_index(after, false)
            .and_then(|n| self.occurrence(n))
    }

    /// All occurrences in the half-open window (from, to], in order — what a scheduler tick must create.
    pub fn occurrences_between(
        &self,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> Vec<DateTime<Utc>> {
        // Excluding `from` is what lets consecutive ticks (t0, t1], (t1, t2] create each round
        // exactly once, even when a tick lands precisely on a send time.
        if to <= from {
            return Vec::new();
        }
        match self.first_index(from, false) {
            Some(n) => self
                .occurrences_from(n)
                .take_while(|&at| at <= to)
                .collect(),
            None => Vec::new(),
        }
    }

    /// The next `count` occurrences at or after `from` (for previews like "next five send dates").
    pub fn upcoming(&self, from: DateTime<Utc>, count: usize) -> Vec<DateTime<Utc>> {
        match self.first_index(from, true) {
            Some(n) => self.occurrences_from(n).take(count).collect(),
            None => Vec::new(),
        }
    }

    /// When a round sent at `at` closes: `open_days` later on the calendar of the schedule's zone,
    /// at the same wall-clock time. Counted in 24-hour days, a round open for a whole week would
    /// still be open an hour into the next one after a spring DST change. A scheduled occurrence
    /// counts from its send time, even when a DST gap moved it, so it closes as the next opens.
    pub fn closes_at(&self, at: DateTime<Utc>, open_days: u32) -> DateTime<Utc> {
        let scheduled = self
            .first_index(at, true)
            .filter(|&n| self.occurrence(n) == Some(at))
            .and_then(|n| self.local_date(n))
            .map(|date| date.and_time(self.send_time));
        let local = scheduled.unwrap_or_else(|| utc_to_local(at, self.timezone));
        local
            .date()
            .checked_add_days(Days::new(u64::from(open_days)))
            .map(|date| local_to_utc(date, local.time(), self.timezone))
            .unwrap_or(DateTime::<Utc>::MAX_UTC)
    }

    fn occurrences_from(&self, n: u32) -> impl Iterator<Item = DateTime<Utc>> + '_ {
        (n..=u32::MAX).map_while(move |k| self.occurrence(k))
    }

    /// Index of the last occurrence that stays within `LAST_YEAR`, or None if there is none.
    fn last_index(&self) -> Option<u32> {
        let start = self.starts_on;
        if start.year() > LAST_YEAR {
            return None;
        }
        let span = match self.cadence.step() {
            Step::Once => 0,
            Step::Days(days) => {
                let last_day = NaiveDate::from_ymd_opt(LAST_YEAR, 12, 31)?;
                last_day.signed_duration_since(start).num_days() / i64::from(days)
            }
            Step::Months(months) => {
                let months_left = (i64::from(LAST_YEAR) - i64::from(start.year())) * 12
                    + (11 - i64::from(start.month0()));
                months_left / i64::from(months)
            }
        };
        Some(u32::try_from(span).unwrap_or(u32::MAX))
    }

    /// Smallest index whose occurrence is after `bound` (or at it, when `inclusive`).
    fn first_index(&self, bound: DateTime<Utc>, inclusive: bool) -> Option<u32> {
        let last = self.last_index()?;
        let qualifies = |at: DateTime<Utc>| if inclusive { at >= bound } else { at > bound };
        // Walking from n = 0 would cost hundreds of thousands of steps for a far-future weekly
        // tick, so jump to the calendar estimate and correct it. The estimate can be off by one
        // either way (the UTC offset moves the local date; month-end clamping moves the day), so
        // both correction loops run at most a couple of times.
        let mut n = self.estimate_index(bound).min(last);
        while n > 0 && self.occurrence(n - 1).is_some_and(qualifies) {
            n -= 1;
        }
        while !qualifies(self.occurrence(n)?) {
            n = n.checked_add(1)?;
        }
        Some(n)
    }

    /// A calendar-arithmetic guess at the index of the first occurrence around `at`; cheap, and
    /// never more than a step or two from the real answer, which `first_index` then settles.
    fn estimate_index(&self, at: DateTime<Utc>) -> u32 {
        let date = utc_to_local(at, self.timezone).date();
        let start = self.starts_on;
        let steps = match self.cadence.step() {
            Step::Once => 0,
            Step::Days(days) => date.signed_duration_since(start).num_days() / i64::from(days),
            Step::Months(months) => {
                let elapsed = (i64::from(date.year()) - i64::from(start.year())) * 12
                    + (i64::from(date.month0()) - i64::from(start.month0()));
                elapsed / i64::from(months)
            }
        };
        u32::try_from(steps.max(0)).unwrap_or(u32::MAX)
    }
}

/// `start` moved by `months` calendar months, with the day clamped to the target month's length.
fn add_months_clamped(start: NaiveDate, months: i64) -> Option<NaiveDate> {
    let month_index = i64::from(start.year()) * 12 + i64::from(start.month0()) + months;
    let year = i32::try_from(month_index.div_euclid(12)).ok()?;
    let month = u32::try_from(month_index.rem_euclid(12)).ok()? + 1;
    let day = start.day().min(days_in_month(year, month));
    NaiveDate::from_ymd_opt(year, month, day)
}

fn days_in_month(year: i32, month: u32) -> u32 {
    match month {
        2 if NaiveDate::from_ymd_opt(year, 2, 29).is_some() => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// The wall-clock time of `at` in `tz`. `DateTime::with_timezone(..).naive_local()` panics at
/// the edges of chrono's range, and `at` may be any instant a caller passes in.
fn utc_to_local(at: DateTime<Utc>, tz: Tz) -> NaiveDateTime {
    let utc = at.naive_utc();
    let offset = tz.offset_from_utc_datetime(&utc).fix();
    utc.checked_add_offset(offset).unwrap_or(utc)
}

/// Resolve a local date+time in `tz` to UTC: in a DST gap (time does not exist) use the first instant after the gap
/// (e.g. 02:30 on a spring-forward day in Europe/Paris -> 03:00 local = 01:00 UTC); in a DST overlap (time occurs twice) take the earlier one.
pub fn local_to_utc(date: NaiveDate, time: NaiveTime, tz: Tz) -> DateTime<Utc> {
    let local = date.and_time(time);
    let shift = |offset: TzOffset| -> Option<DateTime<Utc>> {
        Some(local.checked_sub_offset(offset.fix())?.and_utc())
    };
    let resolved = match tz.offset_from_local_datetime(&local) {
        MappedLocalTime::Single(offset) => shift(offset),
        // Earlier, so a send time of 02:30 on a fall-back night still goes out on the first
        // 02:30 people experience rather than an hour after it.
        MappedLocalTime::Ambiguous(first, second) => match (shift(first), shift(second)) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        },
        // The end of the gap rather than "send time + gap length": it is the earliest moment the
        // clock shows a time at or past the requested one, and for ordinary DST shifts it stays
        // on the same local date, so a round is never silently moved to another day.
        MappedLocalTime::None => gap_end(&local, tz),
    };
    // Only reachable at the outer edge of chrono's representable range, where no real schedule
    // lives; reading the wall time as UTC keeps this total without inventing an error path.
    resolved.unwrap_or_else(|| local.and_utc())
}

fn gap_end(local: &NaiveDateTime, tz: Tz) -> Option<DateTime<Utc>> {
    GapInfo::new(local, &tz)?
        .end
        .map(|end| end.with_timezone(&Utc))
}

/// Parse "HH:MM" (24h) into NaiveTime, returning a human error message String for bad input.
pub fn parse_send_time(s: &str) -> Result<NaiveTime, String> {
    let invalid = || format!("invalid send time {s:?}: expected HH:MM in 24-hour time, e.g. 09:00");
    let (hours, minutes) = s.trim().split_once(':').ok_or_else(invalid)?;
    // Checked by hand so the accepted shape is exactly H:MM or HH:MM: `u32::from_str` alone
    // would also take "+9", which nobody means as a time of day.
    let is_digits = |part: &str, lengths: &[usize]| {
        lengths.contains(&part.len()) && part.bytes().all(|b| b.is_ascii_digit())
    };
    if !is_digits(hours, &[1, 2]) || !is_digits(minutes, &[2]) {
        return Err(invalid());
    }
    let hours: u32 = hours.parse().map_err(|_| invalid())?;
    let minutes: u32 = minutes.parse().map_err(|_| invalid())?;
    NaiveTime::from_hms_opt(hours, minutes, 0)
        .ok_or_else(|| format!("invalid send time {s:?}: hours must be 00-23 and minutes 00-59"))
}

/// Parse an IANA zone name into Tz, returning a human error message String for bad input.
pub fn parse_timezone(s: &str) -> Result<Tz, String> {
    let name = s.trim();
    if name.is_empty() {
        return Err("time zone is empty: expected an IANA name such as Europe/Paris".to_string());
    }
    name.parse::<Tz>().map_err(|_| {
        format!(
            "unknown time zone {name:?}: expected an IANA name such as Europe/Paris or \
             America/New_York (names are case-sensitive)"
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeDelta;
    use proptest::prelude::*;

    fn date(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).unwrap()
    }

    fn time(h: u32, m: u32) -> NaiveTime {
        NaiveTime::from_hms_opt(h, m, 0).unwrap()
    }

    fn utc(y: i32, m: u32, d: u32, h: u32, min: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(y, m, d, h, min, 0).unwrap()
    }

    fn schedule(cadence: Cadence, starts_on: NaiveDate, send_time: NaiveTime, tz: Tz) -> Schedule {
        Schedule {
            cadence,
            starts_on,
            send_time,
            timezone: tz,
        }
    }

    fn local_dates(s: &Schedule, count: u32) -> Vec<NaiveDate> {
        (0..count).map_while(|n| s.local_date(n)).collect()
    }

    #[test]
    fn weekly_paris_keeps_nine_local_across_both_dst_changes() {
        let spring = schedule(
            Cadence::Weekly,
            date(2026, 3, 22),
            time(9, 0),
            Tz::Europe__Paris,
        );
        assert_eq!(spring.occurrence(0), Some(utc(2026, 3, 22, 8, 0)));
        assert_eq!(spring.occurrence(1), Some(utc(2026, 3, 29, 7, 0)));

        let autumn = schedule(
            Cadence::Weekly,
            date(2026, 10, 18),
            time(9, 0),
            Tz::Europe__Paris,
        );
        assert_eq!(autumn.occurrence(0), Some(utc(2026, 10, 18, 7, 0)));
        assert_eq!(autumn.occurrence(1), Some(utc(2026, 10, 25, 8, 0)));

        for s in [&spring, &autumn] {
            for at in s.upcoming(utc(2026, 1, 1, 0, 0), 3) {
                assert_eq!(at.with_timezone(&Tz::Europe__Paris).time(), time(9, 0));
            }
        }
    }

    #[test]
    fn weekly_new_york_keeps_nine_local_across_both_dst_changes() {
        let ny = Tz::America__New_York;
        let spring = schedule(Cadence::Weekly, date(2026, 3, 1), time(9, 0), ny);
        assert_eq!(spring.occurrence(0), Some(utc(2026, 3, 1, 14, 0)));
        assert_eq!(spring.occurrence(1), Some(utc(2026, 3, 8, 13, 0)));

        let autumn = schedule(Cadence::Weekly, date(2026, 10, 25), time(9, 0), ny);
        assert_eq!(autumn.occurrence(0), Some(utc(2026, 10, 25, 13, 0)));
        assert_eq!(autumn.occurrence(1), Some(utc(2026, 11, 1, 14, 0)));
    }

    #[test]
    fn send_time_in_spring_forward_gap_moves_to_end_of_gap() {
        let paris = local_to_utc(date(2026, 3, 29), time(2, 30), Tz::Europe__Paris);
        assert_eq!(paris, utc(2026, 3, 29, 1, 0));
        assert_eq!(paris.with_timezone(&Tz::Europe__Paris).time(), time(3, 0));

        let ny = local_to_utc(date(2026, 3, 8), time(2, 30), Tz::America__New_York);
        assert_eq!(ny, utc(2026, 3, 8, 7, 0));

        // Lord Howe only shifts by 30 minutes, so the gap is 02:00-02:30 local (+10:30 -> +11).
        let lord_howe = local_to_utc(date(2026, 10, 4), time(2, 15), Tz::Australia__Lord_Howe);
        assert_eq!(lord_howe, utc(2026, 10, 3, 15, 30));
    }

    #[test]
    fn send_time_in_fall_back_overlap_takes_earlier_instant() {
        let paris = local_to_utc(date(2026, 10, 25), time(2, 30), Tz::Europe__Paris);
        assert_eq!(paris, utc(2026, 10, 25, 0, 30));

        let ny = local_to_utc(date(2026, 11, 1), time(1, 30), Tz::America__New_York);
        assert_eq!(ny, utc(2026, 11, 1, 5, 30));
    }

    #[test]
    fn weekly_schedule_inside_gap_sends_once_per_week_on_the_right_day() {
        let s = schedule(
            Cadence::Weekly,
            date(2026, 3, 22),
            time(2, 30),
            Tz::Europe__Paris,
        );
        assert_eq!(
            s.upcoming(utc(2026, 3, 1, 0, 0), 3),
            vec![
                utc(2026, 3, 22, 1, 30),
                utc(2026, 3, 29, 1, 0),
                utc(2026, 4, 5, 0, 30),
            ]
        );
    }

    #[test]
    fn weekly_and_biweekly_step_by_seven_and_fourteen_days() {
        let weekly = schedule(Cadence::Weekly, date(2026, 12, 24), time(9, 0), Tz::UTC);
        assert_eq!(
            local_dates(&weekly, 3),
            vec![date(2026, 12, 24), date(2026, 12, 31), date(2027, 1, 7)]
        );
        let biweekly = schedule(Cadence::Biweekly, date(2026, 12, 24), time(9, 0), Tz::UTC);
        assert_eq!(
            local_dates(&biweekly, 3),
            vec![date(2026, 12, 24), date(2027, 1, 7), date(2027, 1, 21)]
        );
    }

    #[test]
    fn monthly_from_31st_clamps_without_drifting() {
        let s = schedule(
            Cadence::Monthly,
            date(2026, 1, 31),
            time(9, 0),
            Tz::Europe__Paris,
        );
        assert_eq!(
            local_dates(&s, 6),
            vec![
                date(2026, 1, 31),
                date(2026, 2, 28),
                date(2026, 3, 31),
                date(2026, 4, 30),
                date(2026, 5, 31),
                date(2026, 6, 30),
            ]
        );
    }

    #[test]
    fn monthly_from_31st_uses_feb_29_in_leap_years() {
        let s = schedule(Cadence::Monthly, date(2027, 12, 31), time(9, 0), Tz::UTC);
        assert_eq!(
            local_dates(&s, 4),
            vec![
                date(2027, 12, 31),
                date(2028, 1, 31),
                date(2028, 2, 29),
                date(2028, 3, 31),
            ]
        );
    }

    #[test]
    fn quarterly_from_30th_clamps_only_in_february() {
        let s = schedule(Cadence::Quarterly, date(2026, 11, 30), time(9, 0), Tz::UTC);
        assert_eq!(
            local_dates(&s, 4),
            vec![
                date(2026, 11, 30),
                date(2027, 2, 28),
                date(2027, 5, 30),
                date(2027, 8, 30),
            ]
        );
    }

    #[test]
    fn monthly_from_29th_and_30th() {
        let from_29 = schedule(Cadence::Monthly, date(2026, 1, 29), time(9, 0), Tz::UTC);
        assert_eq!(
            local_dates(&from_29, 3),
            vec![date(2026, 1, 29), date(2026, 2, 28), date(2026, 3, 29)]
        );
        assert_eq!(from_29.local_date(25), Some(date(2028, 2, 29)));

        let from_30 = schedule(Cadence::Monthly, date(2026, 1, 30), time(9, 0), Tz::UTC);
        assert_eq!(
            local_dates(&from_30, 4),
            vec![
                date(2026, 1, 30),
                date(2026, 2, 28),
                date(2026, 3, 30),
                date(2026, 4, 30),
            ]
        );
    }

    #[test]
    fn once_has_exactly_one_occurrence() {
        let s = schedule(
            Cadence::Once,
            date(2026, 5, 4),
            time(10, 0),
            Tz::Europe__Paris,
        );
        let only = utc(2026, 5, 4, 8, 0);
        assert_eq!(s.occurrence(0), Some(only));
        assert_eq!(s.occurrence(1), None);
        assert_eq!(s.local_date(u32::MAX), None);
        assert_eq!(s.next_after(utc(2000, 1, 1, 0, 0)), Some(only));
        assert_eq!(s.next_after(only), None);
        assert_eq!(s.upcoming(utc(2000, 1, 1, 0, 0), 5), vec![only]);
        assert_eq!(
            s.occurrences_between(DateTime::<Utc>::MIN_UTC, DateTime::<Utc>::MAX_UTC),
            vec![only]
        );
    }

    #[test]
    fn occurrences_between_spans_several_occurrences() {
        let s = schedule(Cadence::Weekly, date(2026, 1, 5), time(9, 0), Tz::UTC);
        assert_eq!(
            s.occurrences_between(utc(2026, 1, 1, 0, 0), utc(2026, 1, 25, 0, 0)),
            vec![
                utc(2026, 1, 5, 9, 0),
                utc(2026, 1, 12, 9, 0),
                utc(2026, 1, 19, 9, 0),
            ]
        );
    }

    #[test]
    fn occurrences_between_empty_windows() {
        let s = schedule(Cadence::Weekly, date(2026, 1, 5), time(9, 0), Tz::UTC);
        let first = utc(2026, 1, 5, 9, 0);
        // Same instant, reversed, between two occurrences, and entirely before the start.
        assert!(s.occurrences_between(first, first).is_empty());
        assert!(s
            .occurrences_between(utc(2026, 2, 1, 0, 0), utc(2026, 1, 1, 0, 0))
            .is_empty());
        assert!(s
            .occurrences_between(utc(2026, 1, 6, 0, 0), utc(2026, 1, 12, 8, 59))
            .is_empty());
        assert!(s
            .occurrences_between(utc(2025, 1, 1, 0, 0), utc(2026, 1, 5, 8, 59))
            .is_empty());
    }

    #[test]
    fn occurrences_between_excludes_from_and_includes_to() {
        let s = schedule(Cadence::Weekly, date(2026, 1, 5), time(9, 0), Tz::UTC);
        let first = utc(2026, 1, 5, 9, 0);
        let second = utc(2026, 1, 12, 9, 0);
        let third = utc(2026, 1, 19, 9, 0);
        assert_eq!(s.occurrences_between(first, second), vec![second]);
        assert_eq!(s.occurrences_between(first, third), vec![second, third]);
        let just_before = first - TimeDelta::nanoseconds(1);
        assert_eq!(s.occurrences_between(just_before, first), vec![first]);
        // Back-to-back ticks must not create a round twice or skip one.
        let ticks = [just_before, first, second - TimeDelta::seconds(1), second];
        let created: Vec<_> = ticks
            .windows(2)
            .flat_map(|w| s.occurrences_between(w[0], w[1]))
            .collect();
        assert_eq!(created, vec![first, second]);
    }

    #[test]
    fn upcoming_includes_an_occurrence_exactly_at_from() {
        let s = schedule(Cadence::Biweekly, date(2026, 1, 5), time(9, 0), Tz::UTC);
        let first = utc(2026, 1, 5, 9, 0);
        assert_eq!(s.upcoming(first, 2), vec![first, utc(2026, 1, 19, 9, 0)]);
        assert_eq!(s.upcoming(first, 0), Vec::<DateTime<Utc>>::new());
        assert_eq!(s.next_after(first), Some(utc(2026, 1, 19, 9, 0)));
    }

    #[test]
    fn next_after_far_future_matches_linear_scan() {
        let s = schedule(
            Cadence::Weekly,
            date(2026, 1, 5),
            time(9, 0),
            Tz::Europe__Paris,
        );
        let after = utc(2900, 6, 15, 12, 0);
        let expected = (0..).map_while(|n| s.occurrence(n)).find(|&at| at > after);
        assert_eq!(s.next_after(after), expected);

        let monthly = schedule(
            Cadence::Monthly,
            date(2026, 1, 31),
            time(23, 30),
            Tz::Pacific__Kiritimati,
        );
        let expected = (0..)
            .map_while(|n| monthly.occurrence(n))
            .find(|&at| at > after);
        assert_eq!(monthly.next_after(after), expected);
    }

    #[test]
    fn occurrences_stop_at_year_9999() {
        let s = schedule(Cadence::Weekly, date(9999, 12, 20), time(9, 0), Tz::UTC);
        assert_eq!(s.local_date(1), Some(date(9999, 12, 27)));
        assert_eq!(s.local_date(2), None);
        assert_eq!(s.next_after(utc(9999, 12, 27, 9, 0)), None);
        assert_eq!(s.upcoming(utc(9999, 1, 1, 0, 0), usize::MAX).len(), 2);

        let monthly = schedule(Cadence::Monthly, date(9999, 12, 31), time(9, 0), Tz::UTC);
        assert_eq!(monthly.local_date(1), None);
        let too_late = schedule(Cadence::Once, date(10_000, 1, 1), time(9, 0), Tz::UTC);
        assert_eq!(too_late.occurrence(0), None);
        assert!(too_late.upcoming(DateTime::<Utc>::MIN_UTC, 3).is_empty());
    }

    #[test]
    fn extreme_inputs_do_not_panic() {
        let zones = [
            Tz::Pacific__Kiritimati,
            Tz::Etc__GMTPlus12,
            Tz::Europe__Paris,
        ];
        let times = [NaiveTime::MIN, time(23, 59)];
        let instants = [DateTime::<Utc>::MIN_UTC, DateTime::<Utc>::MAX_UTC];
        for tz in zones {
            for t in times {
                for day in [NaiveDate::MIN, NaiveDate::MAX] {
                    local_to_utc(day, t, tz);
                    for cadence in Cadence::ALL {
                        let s = schedule(cadence, day, t, tz);
                        s.local_date(u32::MAX);
                        for at in instants {
                            s.next_after(at);
                            s.upcoming(at, 3);
                            s.occurrences_between(at, at);
                        }
                    }
                }
            }
        }
    }

    #[test]
    fn a_round_open_for_its_whole_cadence_closes_as_the_next_opens_across_dst() {
        // Found by fuzzing: 7 days of 24 hours kept the round of 22 March open
        // until 08:00 UTC on the 29th, an hour after the next one opened.
        let s = schedule(
            Cadence::Weekly,
            date(2026, 3, 22),
            time(9, 0),
            Tz::Europe__Paris,
        );
        let (first, second) = (s.occurrence(0).unwrap(), s.occurrence(1).unwrap());
        assert_eq!(s.closes_at(first, 7), second);
        assert_eq!(s.closes_at(first, 5), utc(2026, 3, 27, 8, 0));
        // A send time in the gap still closes as the next round opens.
        let gap = schedule(
            Cadence::Weekly,
            date(2026, 3, 29),
            time(2, 30),
            Tz::Europe__Paris,
        );
        assert_eq!(
            gap.closes_at(gap.occurrence(0).unwrap(), 7),
            gap.occurrence(1).unwrap()
        );
        // A round sent by hand, not on the schedule, keeps its wall-clock time.
        let by_hand = utc(2026, 3, 25, 9, 17);
        assert_eq!(s.closes_at(by_hand, 7), utc(2026, 4, 1, 8, 17));
        assert_eq!(
            s.closes_at(DateTime::<Utc>::MAX_UTC, 7),
            DateTime::<Utc>::MAX_UTC
        );
    }

    #[test]
    fn cadence_names_round_trip() {
        for cadence in Cadence::ALL {
            assert_eq!(Cadence::parse(cadence.as_str()), Some(cadence));
        }
        assert_eq!(Cadence::parse(" Weekly "), Some(Cadence::Weekly));
        assert_eq!(Cadence::parse("fortnightly"), None);
        assert_eq!(Cadence::parse(""), None);
    }

    #[test]
    fn parse_send_time_accepts_only_24h_hh_mm() {
        assert_eq!(parse_send_time("09:00"), Ok(time(9, 0)));
        assert_eq!(parse_send_time("9:05"), Ok(time(9, 5)));
        assert_eq!(parse_send_time(" 23:59 "), Ok(time(23, 59)));
        assert_eq!(parse_send_time("00:00"), Ok(NaiveTime::MIN));
        for bad in [
            "", "24:00", "12:60", "9", "09:0", "09:000", "+9:00", "09:00:00", "ab:cd", "９:00",
        ] {
            let err = parse_send_time(bad).unwrap_err();
            assert!(err.contains("send time"), "{bad:?} gave {err:?}");
        }
    }

    #[test]
    fn parse_timezone_accepts_iana_names() {
        assert_eq!(parse_timezone("Europe/Paris"), Ok(Tz::Europe__Paris));
        assert_eq!(parse_timezone(" UTC "), Ok(Tz::UTC));
        assert!(parse_timezone("").unwrap_err().contains("empty"));
        assert!(parse_timezone("Mars/Olympus_Mons")
            .unwrap_err()
            .contains("Mars/Olympus_Mons"));
    }

    #[test]
    fn fixed_clock_reports_its_instant() {
        let at = utc(2026, 3, 29, 1, 0);
        let clock: &dyn Clock = &FixedClock(at);
        assert_eq!(clock.now(), at);
    }

    const PROPTEST_ZONES: [Tz; 6] = [
        Tz::Europe__Paris,
        Tz::America__New_York,
        Tz::Australia__Lord_Howe,
        Tz::Asia__Kolkata,
        Tz::UTC,
        Tz::America__Santiago,
    ];

    fn any_schedule() -> impl Strategy<Value = Schedule> {
        let first = date(2000, 1, 1);
        let span = date(2100, 12, 31).signed_duration_since(first).num_days();
        (
            proptest::sample::select(Cadence::ALL.to_vec()),
            0..=span,
            0u32..24,
            0u32..60,
            proptest::sample::select(PROPTEST_ZONES.to_vec()),
        )
            .prop_map(move |(cadence, offset, h, m, tz)| {
                schedule(cadence, first + TimeDelta::days(offset), time(h, m), tz)
            })
    }

    fn first_sixty(s: &Schedule) -> Vec<DateTime<Utc>> {
        (0..60).map_while(|n| s.occurrence(n)).collect()
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(256))]

        #[test]
        fn occurrences_increase_and_land_on_their_local_date(s in any_schedule()) {
            let all = first_sixty(&s);
            let expected_len = if s.cadence == Cadence::Once { 1 } else { 60 };
            prop_assert_eq!(all.len(), expected_len);
            for pair in all.windows(2) {
                prop_assert!(pair[0] < pair[1], "{:?} not before {:?}", pair[0], pair[1]);
            }
            for (n, at) in (0u32..).zip(&all) {
                let day = s.local_date(n).unwrap();
                let local = at.with_timezone(&s.timezone);
                prop_assert_eq!(local.date_naive(), day);
                let wanted = day.and_time(s.send_time);
                match s.timezone.from_local_datetime(&wanted) {
                    MappedLocalTime::None => {
                        // The first instant after the gap: one second earlier the wall clock
                        // still read a time before the requested one.
                        prop_assert!(local.time() > s.send_time);
                        let before = (*at - TimeDelta::seconds(1)).with_timezone(&s.timezone);
                        prop_assert!(before.naive_local() < wanted);
                    }
                    mapped => {
                        prop_assert_eq!(local.time(), s.send_time);
                        let earliest = mapped.earliest().map(|d| d.with_timezone(&Utc));
                        prop_assert_eq!(earliest, Some(*at));
                    }
                }
            }
        }

        #[test]
        fn occurrences_between_two_occurrences_is_exactly_the_ones_in_between(
            s in any_schedule(),
            a in 0usize..60,
            b in 0usize..60,
        ) {
            let all = first_sixty(&s);
            let (i, j) = (a.min(b) % all.len(), a.max(b) % all.len());
            let (i, j) = (i.min(j), i.max(j));
            prop_assert_eq!(
                s.occurrences_between(all[i], all[j]),
                all[i + 1..=j].to_vec()
            );
        }

        #[test]
        fn next_after_and_upcoming_agree_with_occurrence(
            s in any_schedule(),
            i in 0u32..60,
            count in 0u32..5,
        ) {
            let i = if s.cadence == Cadence::Once { 0 } else { i };
            let at = s.occurrence(i).unwrap();
            let from_index = |first: u32, count: u32| -> Vec<DateTime<Utc>> {
                (first..first + count).map_while(|n| s.occurrence(n)).collect()
            };
            prop_assert_eq!(s.next_after(at), s.occurrence(i + 1));
            prop_assert_eq!(s.next_after(at - TimeDelta::seconds(1)), Some(at));
            prop_assert_eq!(s.upcoming(at, count as usize), from_index(i, count));
            prop_assert_eq!(
                s.upcoming(at + TimeDelta::seconds(1), count as usize),
                from_index(i + 1, count)
            );
        }

        #[test]
        fn arbitrary_inputs_never_panic(
            day in NaiveDate::MIN.num_days_from_ce()..=NaiveDate::MAX.num_days_from_ce(),
            seconds in 0u32..86_400,
            cadence in proptest::sample::select(Cadence::ALL.to_vec()),
            tz in proptest::sample::select(vec![
                Tz::Europe__Paris, Tz::Pacific__Kiritimati, Tz::Pacific__Apia,
                Tz::Asia__Manila, Tz::America__Santiago, Tz::Etc__GMTPlus12,
            ]),
            at in DateTime::<Utc>::MIN_UTC.timestamp()..=DateTime::<Utc>::MAX_UTC.timestamp(),
            n in any::<u32>(),
        ) {
            let starts_on = NaiveDate::from_num_days_from_ce_opt(day).unwrap();
            let send_time = NaiveTime::from_num_seconds_from_midnight_opt(seconds, 0).unwrap();
            let at = DateTime::from_timestamp(at, 0).unwrap();
            let s = schedule(cadence, starts_on, send_time, tz);
            local_to_utc(starts_on, send_time, tz);
            s.local_date(n);
            s.occurrence(n);
            s.next_after(at);
            s.upcoming(at, 3);
            let to = at.checked_add_signed(TimeDelta::days(60)).unwrap_or(at);
            s.occurrences_between(at, to);
        }
    }
}
