//! 1:1 rules: series schedules, which occurrences become meetings and when, and text limits.

use crate::domain::schedule::{parse_send_time, parse_timezone, Cadence, Schedule};
use chrono::{DateTime, Duration, NaiveDate, NaiveDateTime, Utc};
use std::collections::BTreeMap;

/// Meetings exist this far ahead, so both people can prepare the next one
/// (a month plus a few days: always at least the next monthly meeting).
pub const HORIZON_DAYS: i64 = 35;
pub const DEFAULT_REMINDER_HOURS: i32 = 24;
pub const AGENDA_MAX: usize = 500;
pub const NOTE_MAX: usize = 10_000;
pub const ACTION_MAX: usize = 500;

/// The cadences a 1:1 series may have (surveys also have once and quarterly).
pub fn parse_cadence(s: &str) -> Result<Cadence, String> {
    match Cadence::parse(s) {
        Some(c @ (Cadence::Weekly | Cadence::Biweekly | Cadence::Monthly)) => Ok(c),
        _ => Err(format!(
            "`{}` is not a 1:1 cadence: use weekly, biweekly or monthly",
            s.trim()
        )),
    }
}

pub fn check_duration(minutes: i32) -> Result<i32, String> {
    if (5..=480).contains(&minutes) {
        Ok(minutes)
    } else {
        Err("must be between 5 and 480 minutes".into())
    }
}

/// Up to two weeks ahead; 0 sends the reminder when the meeting starts.
pub fn check_reminder_hours(hours: i32) -> Result<i32, String> {
    if (0..=336).contains(&hours) {
        Ok(hours)
    } else {
        Err("must be between 0 and 336 hours".into())
    }
}

/// The schedule part of a series as the API sends it; every field optional so a
/// PATCH can carry any of them.
#[derive(Debug, Default, Clone)]
pub struct ScheduleFields<'a> {
    pub cadence: Option<&'a str>,
    pub starts_on: Option<&'a str>,
    pub time: Option<&'a str>,
    pub timezone: Option<&'a str>,
}

/// A complete, valid series schedule: `current` fills what `fields` leaves out,
/// and every bad field is named in `errors`.
pub fn parse_schedule(
    fields: &ScheduleFields,
    current: Option<&Schedule>,
    errors: &mut BTreeMap<String, String>,
) -> Option<Schedule> {
    let mut bad = |f: &str, why: String| drop(errors.insert(f.to_string(), why));
    let required = |f: &str| format!("{f} is required");
    let cadence = match (fields.cadence, current) {
        (Some(c), _) => parse_cadence(c).map_err(|e| bad("cadence", e)).ok(),
        (None, Some(s)) => Some(s.cadence),
        (None, None) => {
            bad("cadence", required("cadence"));
            None
        }
    };
    let starts_on = match (fields.starts_on, current) {
        (Some(d), _) => crate::domain::people::parse_date(d)
            .map_err(|e| bad("starts_on", e))
            .ok()
            .filter(|d| {
                let ok = *d >= NaiveDate::from_ymd_opt(2000, 1, 1).unwrap_or_default();
                if !ok {
                    bad("starts_on", "must be in 2000 or later".into());
                }
                ok
            }),
        (None, Some(s)) => Some(s.starts_on),
        (None, None) => {
            bad("starts_on", "is required (YYYY-MM-DD)".into());
            None
        }
    };
    let time = match (fields.time, current) {
        (Some(t), _) => parse_send_time(t).map_err(|e| bad("time", e)).ok(),
        (None, Some(s)) => Some(s.send_time),
        (None, None) => {
            bad("time", "is required (HH:MM, local time)".into());
            None
        }
    };
    let timezone = match (fields.timezone, current) {
        (Some(z), _) => parse_timezone(z).map_err(|e| bad("timezone", e)).ok(),
        (None, Some(s)) => Some(s.timezone),
        (None, None) => {
            bad(
                "timezone",
                "is required (an IANA name such as Europe/Paris)".into(),
            );
            None
        }
    };
    Some(Schedule {
        cadence: cadence?,
        starts_on: starts_on?,
        send_time: time?,
        timezone: timezone?,
    })
}

/// Agenda items, notes and action items: trimmed, not empty, at most `max` characters.
pub fn check_text(s: &str, max: usize) -> Result<String, String> {
    let t = s.trim();
    if t.is_empty() {
        return Err("must not be empty".into());
    }
    if t.chars().count() > max {
        return Err(format!("is longer than {max} characters"));
    }
    Ok(t.to_string())
}

/// The occurrences a scheduler pass at `now` turns into meetings, given that
/// those up to `from` exist already: every one in (from, now + horizon], and
/// the next one after `now` even when it lies beyond the horizon. Returns them
/// with the instant the series is materialised until afterwards.
pub fn occurrences_to_materialize(
    schedule: &Schedule,
    from: DateTime<Utc>,
    now: DateTime<Utc>,
) -> (Vec<DateTime<Utc>>, DateTime<Utc>) {
    let mut until = now + Duration::days(HORIZON_DAYS);
    if until <= from {
        return (vec![], from);
    }
    let mut due = schedule.occurrences_between(from, until);
    if let Some(next) = schedule.next_after(now) {
        if next > until {
            due.push(next);
            until = next;
        }
    }
    (due, until)
}

/// A talking-points template: agenda items a meeting can start from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TalkingPoints {
    /// `builtin:<name>` for Pulse's own, the row id for a person's own.
    pub key: String,
    pub title: String,
    pub items: Vec<String>,
}

/// Pulse's own templates, in the wording of the product.
pub fn builtin_talking_points() -> Vec<TalkingPoints> {
    let t = |key: &str, title: &str, items: &[&str]| TalkingPoints {
        key: format!("builtin:{key}"),
        title: title.into(),
        items: items.iter().map(|i| i.to_string()).collect(),
    };
    vec![
        t(
            "weekly",
            "Wins, blockers, growth, feedback",
            &[
                "Wins since we last met",
                "Blockers",
                "Growth and learning",
                "Feedback, both ways",
            ],
        ),
        t(
            "first",
            "A first 1:1",
            &[
                "How you like to work and to be given feedback",
                "What you want from these 1:1s",
                "Goals for the next three months",
            ],
        ),
        t(
            "career",
            "Career conversation",
            &[
                "Where you want to be in two years",
                "Skills to build next",
                "Projects that would stretch you",
                "How I can help",
            ],
        ),
    ]
}

/// A person's own template from what they typed: a name and one item a
/// line, blank lines dropped; every problem named.
pub fn parse_talking_points(
    name: &str,
    lines: &[String],
) -> Result<(String, Vec<String>), BTreeMap<String, String>> {
    let mut errors = BTreeMap::new();
    let name = check_text(name, 100).map_err(|e| errors.insert("name".into(), e));
    let items: Vec<String> = lines
        .iter()
        .map(|l| l.trim())
        .filter(|l| !l.is_empty())
        .map(String::from)
        .collect();
    if items.is_empty() || items.len() > 20 {
        errors.insert("items".into(), "list 1 to 20 agenda items".into());
    } else if let Some(long) = items.iter().find(|i| i.chars().count() > AGENDA_MAX) {
        errors.insert(
            "items".into(),
            format!(
                "“{}…” is longer than {AGENDA_MAX} characters",
                long.chars().take(30).collect::<String>()
            ),
        );
    }
    match name {
        Ok(name) if errors.is_empty() => Ok((name, items)),
        _ => Err(errors),
    }
}

/// The first `n` meetings a schedule makes after `now`: what the form
/// shows before a series is saved.
pub fn next_dates(schedule: &Schedule, now: DateTime<Utc>, n: usize) -> Vec<DateTime<Utc>> {
    std::iter::successors(schedule.next_after(now), |t| schedule.next_after(*t))
        .take(n)
        .collect()
}

/// When a meeting's reminder goes out.
pub fn remind_at(starts_at: NaiveDateTime, reminder_hours_before: i32) -> NaiveDateTime {
    starts_at - Duration::hours(i64::from(reminder_hours_before))
}

/// Where a meeting goes when a series' schedule changes: the k-th upcoming
/// meeting takes the k-th upcoming occurrence, so what the two people already
/// put on its agenda moves with it; meetings left over are dropped.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Retime {
    pub moves: Vec<(i32, DateTime<Utc>)>,
    pub dropped: Vec<i32>,
}

pub fn retime(upcoming: &[i32], occurrences: &[DateTime<Utc>]) -> Retime {
    let n = upcoming.len().min(occurrences.len());
    Retime {
        moves: upcoming[..n]
            .iter()
            .copied()
            .zip(occurrences[..n].iter().copied())
            .collect(),
        dropped: upcoming[n..].to_vec(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{NaiveTime, TimeZone};

    fn utc(y: i32, m: u32, d: u32, h: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(y, m, d, h, 0, 0).unwrap()
    }

    fn biweekly_paris() -> Schedule {
        Schedule {
            cadence: Cadence::Biweekly,
            starts_on: NaiveDate::from_ymd_opt(2035, 12, 4).unwrap(),
            send_time: NaiveTime::from_hms_opt(10, 0, 0).unwrap(),
            timezone: chrono_tz::Europe::Paris,
        }
    }

    #[test]
    fn the_preview_lists_the_next_meetings_in_local_time_across_dst() {
        let s = Schedule {
            starts_on: NaiveDate::from_ymd_opt(2036, 3, 18).unwrap(),
            ..biweekly_paris()
        };
        // From before the start: the start date itself comes first.
        let dates = next_dates(&s, utc(2036, 1, 1, 0), 5);
        assert_eq!(
            dates,
            [
                utc(2036, 3, 18, 9),
                // Paris moves to summer time on 30 March: 10:00 local is 08:00 UTC.
                utc(2036, 4, 1, 8),
                utc(2036, 4, 15, 8),
                utc(2036, 4, 29, 8),
                utc(2036, 5, 13, 8),
            ]
        );
        // From between two meetings, the next one first.
        assert_eq!(next_dates(&s, utc(2036, 4, 2, 0), 2), dates[2..4]);
        assert!(next_dates(&s, utc(2036, 4, 2, 0), 0).is_empty());
    }

    #[test]
    fn talking_points_take_one_item_a_line() {
        let lines = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        assert_eq!(
            parse_talking_points(" Retro ", &lines(&["Went well", "  ", " To change "])),
            Ok(("Retro".into(), vec!["Went well".into(), "To change".into()]))
        );
        let bad = parse_talking_points("", &lines(&["", " "])).unwrap_err();
        assert!(bad.contains_key("name") && bad.contains_key("items"));
        let long = "x".repeat(AGENDA_MAX + 1);
        assert!(parse_talking_points("n", &lines(&[&long]))
            .unwrap_err()
            .contains_key("items"));
        assert!(builtin_talking_points()
            .iter()
            .all(|t| t.key.starts_with("builtin:") && !t.items.is_empty()));
    }

    #[test]
    fn only_weekly_biweekly_and_monthly_series() {
        assert_eq!(parse_cadence("Biweekly"), Ok(Cadence::Biweekly));
        assert_eq!(parse_cadence("monthly"), Ok(Cadence::Monthly));
        assert!(parse_cadence("once").is_err());
        assert!(parse_cadence("quarterly").unwrap_err().contains("weekly"));
        assert!(check_duration(4).is_err() && check_duration(481).is_err());
        assert_eq!(check_duration(30), Ok(30));
        assert!(check_reminder_hours(-1).is_err());
        assert_eq!(check_reminder_hours(0), Ok(0));
    }

    #[test]
    fn schedule_fields_are_all_checked_and_patches_keep_the_rest() {
        let mut errors = BTreeMap::new();
        let bad = ScheduleFields {
            cadence: Some("daily"),
            starts_on: Some("2026-02-30"),
            time: Some("25:00"),
            timezone: Some("Mars/Olympus"),
        };
        assert_eq!(parse_schedule(&bad, None, &mut errors), None);
        assert_eq!(
            errors.keys().collect::<Vec<_>>(),
            ["cadence", "starts_on", "time", "timezone"]
        );
        let mut errors = BTreeMap::new();
        assert_eq!(
            parse_schedule(&ScheduleFields::default(), None, &mut errors),
            None
        );
        assert_eq!(errors.len(), 4, "{errors:?}");

        let mut errors = BTreeMap::new();
        let current = biweekly_paris();
        let patched = parse_schedule(
            &ScheduleFields {
                time: Some("14:30"),
                ..Default::default()
            },
            Some(&current),
            &mut errors,
        )
        .unwrap();
        assert!(errors.is_empty());
        assert_eq!(patched.cadence, Cadence::Biweekly);
        assert_eq!(
            patched.send_time,
            NaiveTime::from_hms_opt(14, 30, 0).unwrap()
        );
    }

    #[test]
    fn texts_are_trimmed_and_bounded() {
        assert_eq!(
            check_text("  Career plans ", AGENDA_MAX).unwrap(),
            "Career plans"
        );
        assert!(check_text("   ", AGENDA_MAX).is_err());
        assert!(check_text(&"é".repeat(500), AGENDA_MAX).is_ok());
        assert!(check_text(&"é".repeat(501), AGENDA_MAX)
            .unwrap_err()
            .contains("500"));
    }

    #[test]
    fn materialises_the_horizon_and_at_least_the_next_meeting() {
        let s = biweekly_paris();
        let now = utc(2035, 12, 1, 12);
        let (due, until) = occurrences_to_materialize(&s, now, now);
        // 10:00 in Paris is 09:00 UTC in winter; Dec 4, Dec 18 and Jan 1 fall within 35 days.
        assert_eq!(
            due,
            vec![
                utc(2035, 12, 4, 9),
                utc(2035, 12, 18, 9),
                utc(2036, 1, 1, 9)
            ]
        );
        assert_eq!(until, now + Duration::days(HORIZON_DAYS));
        // A pass moments later has nothing to add.
        let (none, same) = occurrences_to_materialize(&s, until, now + Duration::seconds(30));
        assert!(none.is_empty(), "{none:?}");
        assert_eq!(same, until + Duration::seconds(30));
        // The next pass creates only what is new.
        let later = now + Duration::days(14);
        let (due, _) = occurrences_to_materialize(&s, until, later);
        assert_eq!(due, vec![utc(2036, 1, 15, 9)]);
        // A start far ahead still gives the first meeting.
        let far = Schedule {
            starts_on: NaiveDate::from_ymd_opt(2036, 6, 1).unwrap(),
            ..s
        };
        let (due, until) = occurrences_to_materialize(&far, now, now);
        assert_eq!(due, vec![utc(2036, 6, 1, 8)], "summer time: UTC+2");
        assert_eq!(until, utc(2036, 6, 1, 8));
        let (again, _) = occurrences_to_materialize(&far, until, now);
        assert!(again.is_empty(), "{again:?}");
    }

    #[test]
    fn reminders_fall_before_the_start() {
        let start = utc(2035, 12, 4, 9).naive_utc();
        assert_eq!(remind_at(start, 24), utc(2035, 12, 3, 9).naive_utc());
        assert_eq!(remind_at(start, 0), start);
    }

    #[test]
    fn retiming_keeps_order_and_drops_the_rest() {
        let occ = [utc(2035, 12, 5, 9), utc(2035, 12, 19, 9)];
        assert_eq!(
            retime(&[7, 8, 9], &occ),
            Retime {
                moves: vec![(7, occ[0]), (8, occ[1])],
                dropped: vec![9]
            }
        );
        assert_eq!(retime(&[7], &occ).moves, vec![(7, occ[0])]);
        assert!(retime(&[], &occ).moves.is_empty());
    }
}
