//! The HR 1:1 overview's rules: the quarter it counts over and when a series is overdue.

use crate::domain::schedule::Cadence;
use chrono::{Duration, Months, NaiveDateTime};

/// Meetings are counted over the 90 days up to now.
pub const QUARTER_DAYS: i64 = 90;

/// How late a meeting may be before its series counts as overdue.
pub const GRACE_DAYS: i64 = 7;

/// An active series is overdue when, `now`, more than its cadence interval
/// plus [`GRACE_DAYS`] has passed since its last held meeting, or since its
/// start (`starts_on` at midnight UTC) when none was held yet. The interval is
/// 7 days (weekly), 14 (biweekly), one calendar month (monthly) or three
/// (quarterly); a one-off meeting has none and is never overdue. Paused and
/// ended series are never overdue.
pub fn overdue(
    active: bool,
    cadence: Option<Cadence>,
    last_held: Option<NaiveDateTime>,
    starts: NaiveDateTime,
    now: NaiveDateTime,
) -> bool {
    if !active {
        return false;
    }
    let since = last_held.unwrap_or(starts);
    let due = match cadence {
        Some(Cadence::Weekly) => since.checked_add_signed(Duration::days(7)),
        Some(Cadence::Biweekly) => since.checked_add_signed(Duration::days(14)),
        Some(Cadence::Monthly) => since.checked_add_months(Months::new(1)),
        Some(Cadence::Quarterly) => since.checked_add_months(Months::new(3)),
        Some(Cadence::Once) | None => None,
    };
    due.and_then(|d| d.checked_add_signed(Duration::days(GRACE_DAYS)))
        .is_some_and(|late_after| now > late_after)
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::NaiveDate;

    fn day(m: u32, d: u32) -> NaiveDateTime {
        NaiveDate::from_ymd_opt(2026, m, d)
            .unwrap()
            .and_hms_opt(10, 0, 0)
            .unwrap()
    }

    #[test]
    fn late_after_the_interval_and_a_week_of_grace() {
        let w = Some(Cadence::Weekly);
        let held = Some(day(3, 1));
        // 7 days + 7 of grace: due until 15 March 10:00, late after.
        assert!(!overdue(true, w, held, day(1, 1), day(3, 15)));
        assert!(overdue(
            true,
            w,
            held,
            day(1, 1),
            day(3, 15) + Duration::seconds(1)
        ));
        let b = Some(Cadence::Biweekly);
        assert!(!overdue(true, b, held, day(1, 1), day(3, 22)));
        assert!(overdue(true, b, held, day(1, 1), day(3, 23)));
        // Monthly counts a calendar month: 31 January + 1 month is 28 February.
        let m = Some(Cadence::Monthly);
        assert!(!overdue(true, m, Some(day(1, 31)), day(1, 1), day(3, 7)));
        assert!(overdue(true, m, Some(day(1, 31)), day(1, 1), day(3, 8)));
        let q = Some(Cadence::Quarterly);
        assert!(!overdue(true, q, held, day(1, 1), day(6, 8)));
        assert!(overdue(true, q, held, day(1, 1), day(6, 9)));
    }

    #[test]
    fn without_a_held_meeting_the_start_counts() {
        let w = Some(Cadence::Weekly);
        assert!(!overdue(true, w, None, day(3, 1), day(3, 15)));
        assert!(overdue(true, w, None, day(3, 1), day(3, 16)));
        // A series that starts later is not late.
        assert!(!overdue(true, w, None, day(6, 1), day(3, 16)));
    }

    #[test]
    fn paused_ended_and_one_off_series_are_never_overdue() {
        let long_ago = Some(day(1, 1));
        assert!(!overdue(
            false,
            Some(Cadence::Weekly),
            long_ago,
            day(1, 1),
            day(12, 1)
        ));
        assert!(!overdue(
            true,
            Some(Cadence::Once),
            long_ago,
            day(1, 1),
            day(12, 1)
        ));
        assert!(!overdue(true, None, None, day(1, 1), day(12, 1)));
    }
}
