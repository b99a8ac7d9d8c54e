//! Survey schedules: the occurrences in any window of any schedule, in any IANA zone, checked against a slow oracle.
#![no_main]

use arbitrary::Arbitrary;
use chrono::{DateTime, Datelike, Days, MappedLocalTime, NaiveDate, NaiveDateTime, NaiveTime};
use chrono::{Offset, TimeDelta, TimeZone, Timelike, Utc};
use chrono_tz::TZ_VARIANTS;
use libfuzzer_sys::fuzz_target;
use pulse::domain::people::YEARS;
use pulse::domain::schedule::{parse_send_time, parse_timezone, Cadence, Schedule};
use pulse::domain::survey::{parse_schedule, ScheduleInput};
use std::collections::BTreeMap;

/// The longest window looked at: a scheduler tick after three years of downtime.
const MAX_SPAN_SECONDS: u32 = 3 * 366 * 86_400;

#[derive(Debug, Arbitrary)]
enum Start {
    /// Days after 1900-01-01: the dates people type.
    Typed(u16),
    /// Any date chrono has.
    Any(i32),
}

#[derive(Debug, Arbitrary)]
enum Zone {
    Listed(u16),
    Named(String),
}

#[derive(Debug, Arbitrary)]
enum From {
    /// Seconds after midnight UTC of the start date.
    NearStart(i32),
    /// Any instant chrono has.
    Any(i64, u32),
}

#[derive(Debug, Arbitrary)]
struct Input {
    cadence: u8,
    start: Start,
    send_minute: u16,
    zone: Zone,
    from: From,
    span_seconds: u32,
    split_seconds: u32,
    open_days: i32,
    reminder_after_days: Option<i32>,
    /// Free text for the cadence and send-time parsers.
    typed: Option<(String, String)>,
}

fuzz_target!(|input: Input| {
    if let Some((cadence, send_time)) = &input.typed {
        check_text_parsers(cadence, send_time);
    }
    let timezone = match &input.zone {
        Zone::Listed(i) => TZ_VARIANTS[usize::from(*i) % TZ_VARIANTS.len()],
        Zone::Named(name) => match parse_timezone(name) {
            Ok(tz) => {
                assert_eq!(parse_timezone(tz.name()), Ok(tz));
                tz
            }
            Err(message) => {
                assert!(message.contains("time zone"), "{message}");
                return;
            }
        },
    };
    let starts_on = match input.start {
        Start::Typed(days) => NaiveDate::from_ymd_opt(1900, 1, 1)
            .unwrap()
            .checked_add_days(Days::new(u64::from(days) * 2))
            .unwrap(),
        Start::Any(days) => match NaiveDate::from_num_days_from_ce_opt(days) {
            Some(day) => day,
            None => return,
        },
    };
    let minute = u32::from(input.send_minute % 1440);
    let schedule = Schedule {
        cadence: Cadence::ALL[usize::from(input.cadence) % Cadence::ALL.len()],
        starts_on,
        send_time: NaiveTime::from_hms_opt(minute / 60, minute % 60, 0).unwrap(),
        timezone,
    };
    let from = match input.from {
        From::NearStart(seconds) => {
            let midnight = starts_on.and_time(NaiveTime::MIN).and_utc();
            let offset = TimeDelta::seconds(i64::from(seconds) % (4 * 366 * 86_400));
            midnight.checked_add_signed(offset).unwrap_or(midnight)
        }
        From::Any(seconds, nanos) => {
            let min = DateTime::<Utc>::MIN_UTC.timestamp();
            let max = DateTime::<Utc>::MAX_UTC.timestamp() - 1;
            DateTime::from_timestamp(seconds.clamp(min, max), nanos % 1_000_000_000).unwrap()
        }
    };
    let span = input.span_seconds % (MAX_SPAN_SECONDS + 1);
    let to = from
        .checked_add_signed(TimeDelta::seconds(i64::from(span)))
        .unwrap_or(DateTime::<Utc>::MAX_UTC);

    let got = schedule.occurrences_between(from, to);
    for pair in got.windows(2) {
        assert!(pair[0] < pair[1], "not increasing: {got:?}");
    }
    for at in &got {
        assert!(from < *at && *at <= to, "{at} outside ({from}, {to}]");
    }
    assert_eq!(got, oracle(&schedule, from, to), "{schedule:?} ({from}, {to}]");

    // Two ticks that meet at any instant create the same rounds as one tick.
    let split = from
        .checked_add_signed(TimeDelta::seconds(i64::from(
            input.split_seconds % (span + 1),
        )))
        .unwrap_or(to)
        .min(to);
    let mut halves = schedule.occurrences_between(from, split);
    halves.extend(schedule.occurrences_between(split, to));
    assert_eq!(halves, got, "split at {split}");

    // Walking with next_after finds the same occurrences one at a time.
    let mut cursor = from;
    for at in &got {
        assert_eq!(schedule.next_after(cursor), Some(*at), "after {cursor}");
        cursor = *at;
    }
    let next = schedule.next_after(cursor);
    assert!(next.is_none_or(|n| n > to), "{next:?} missed before {to}");

    check_open_days(&schedule, &input, &got, next);
});

/// Occurrence `n` of the schedule for every `n` whose local date could fall
/// near the window, filtered to the window: a walk over indices, with no
/// estimate to get wrong. Also checks each one keeps its local send time.
fn oracle(s: &Schedule, from: DateTime<Utc>, to: DateTime<Utc>) -> Vec<DateTime<Utc>> {
    // No UTC offset is a day or more, so two days each side cover the window.
    let first = from.date_naive().checked_sub_days(Days::new(2)).unwrap_or(NaiveDate::MIN);
    let last = to.date_naive().checked_add_days(Days::new(2)).unwrap_or(NaiveDate::MAX);
    let (lo, hi) = match s.cadence {
        Cadence::Once => (0, 0),
        Cadence::Weekly | Cadence::Biweekly => {
            let step = if s.cadence == Cadence::Weekly { 7 } else { 14 };
            let days = |d: NaiveDate| d.signed_duration_since(s.starts_on).num_days();
            (days(first).div_euclid(step) - 1, days(last).div_euclid(step) + 1)
        }
        Cadence::Monthly | Cadence::Quarterly => {
            let step = if s.cadence == Cadence::Monthly { 1 } else { 3 };
            let months = |d: NaiveDate| {
                (i64::from(d.year()) - i64::from(s.starts_on.year())) * 12 + i64::from(d.month0())
                    - i64::from(s.starts_on.month0())
            };
            (months(first).div_euclid(step) - 1, months(last).div_euclid(step) + 1)
        }
    };
    let lo = u32::try_from(lo.max(0)).unwrap_or(u32::MAX);
    let hi = u32::try_from(hi.min(i64::from(u32::MAX))).unwrap_or(0);
    let mut found = Vec::new();
    let mut previous = None;
    for n in lo..=hi.max(lo) {
        let Some(at) = s.occurrence(n) else { continue };
        if let Some(p) = previous {
            assert!(p < at, "occurrence {n} at {at} is not after {p}");
        }
        previous = Some(at);
        if from < at && at <= to {
            check_local_time(s, n, at);
            found.push(at);
        }
    }
    found
}

/// The wall clock in the schedule's zone shows the send time on the
/// occurrence's date, or, when that time does not exist that day, the first
/// time after the gap.
fn check_local_time(s: &Schedule, n: u32, at: DateTime<Utc>) {
    let day = s.local_date(n).expect("an occurrence has a date");
    if day.signed_duration_since(NaiveDate::MIN).num_days() < 3 {
        return; // no zone offset can be applied at the edge of chrono's range
    }
    let tz = s.timezone;
    let wall = |instant: DateTime<Utc>| -> Option<NaiveDateTime> {
        let utc = instant.naive_utc();
        utc.checked_add_offset(tz.offset_from_utc_datetime(&utc).fix())
    };
    let wanted = day.and_time(s.send_time);
    let Some(shown) = wall(at) else { return };
    match tz.from_local_datetime(&wanted) {
        MappedLocalTime::Single(local) => {
            assert_eq!(shown, wanted, "{at} in {tz}");
            assert_eq!(local.with_timezone(&Utc), at);
        }
        MappedLocalTime::Ambiguous(a, b) => {
            assert_eq!(shown, wanted, "{at} in {tz}");
            assert_eq!(at, a.with_timezone(&Utc).min(b.with_timezone(&Utc)));
        }
        MappedLocalTime::None => {
            assert!(shown > wanted, "{at} shows {shown}, before {wanted} in {tz}");
            let before = wall(at - TimeDelta::seconds(1)).unwrap();
            assert!(before < wanted, "{at} is not the end of the gap in {tz}");
        }
    }
}

/// A schedule the survey form accepts is the schedule it describes, and each
/// round closes before the next one opens, so answers never mix.
fn check_open_days(
    schedule: &Schedule,
    input: &Input,
    got: &[DateTime<Utc>],
    next: Option<DateTime<Utc>>,
) {
    if !YEARS.contains(&schedule.starts_on.year()) {
        return;
    }
    let typed = ScheduleInput {
        cadence: schedule.cadence.as_str().to_uppercase(),
        starts_on: schedule.starts_on.format("%Y-%m-%d").to_string(),
        send_time: schedule.send_time.format("%H:%M").to_string(),
        timezone: format!(" {} ", schedule.timezone.name()),
        open_days: input.open_days,
        reminder_after_days: input.reminder_after_days,
    };
    let mut errors = BTreeMap::new();
    let Some(checked) = parse_schedule(&typed, &mut errors) else {
        assert!(!errors.is_empty(), "refused without a reason");
        assert!(errors.keys().all(|k| k.starts_with("schedule.")), "{errors:?}");
        return;
    };
    assert!(errors.is_empty(), "{errors:?}");
    assert_eq!(&checked.schedule, schedule);
    if let Some(r) = checked.reminder_after_days {
        assert!(0 < r && r < checked.open_days);
    }
    let open_days = u32::try_from(checked.open_days).unwrap();
    let rounds: Vec<DateTime<Utc>> = got.iter().copied().chain(next).collect();
    for pair in rounds.windows(2) {
        let closes = schedule.closes_at(pair[0], open_days);
        assert!(
            closes <= pair[1],
            "the round of {} open {open_days} days closes at {closes}, after the next opens at {}",
            pair[0],
            pair[1]
        );
    }
    // Open for about as long as it says: a DST change moves the close by an
    // hour or two, and a zone that skipped a whole day (Apia, 2011) by a day.
    for at in &rounds {
        let closes = schedule.closes_at(*at, open_days);
        let planned = *at + TimeDelta::days(i64::from(open_days));
        assert!(closes > *at, "the round of {at} closes at {closes}");
        assert!(
            (closes - planned).abs() <= TimeDelta::hours(26),
            "the round of {at} open {open_days} days closes at {closes}"
        );
    }
}

fn check_text_parsers(cadence: &str, send_time: &str) {
    if let Some(c) = Cadence::parse(cadence) {
        assert!(c.as_str().eq_ignore_ascii_case(cadence.trim()));
    }
    if let Ok(t) = parse_send_time(send_time) {
        assert_eq!(t.second(), 0);
        assert_eq!(parse_send_time(&t.format("%H:%M").to_string()), Ok(t));
    }
}
