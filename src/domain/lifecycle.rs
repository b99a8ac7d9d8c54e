//! Lifecycle surveys: which trigger a survey has, when a milestone is due, and the cohort it falls in.
//!
//! Rules decided here (the issue left them open):
//! - A lifecycle survey has no cadence. Of its schedule it keeps `send_time`
//!   and `timezone` (when on the due day the email goes) and `open_days`.
//! - Onboarding: milestone N is due on `hired_on + N` days. It goes only if
//!   that day is on or after the day the survey was created (people hired
//!   before get the milestones still ahead of them, never a flood of old
//!   ones) and no more than `open_days` ago (a milestone missed for longer,
//!   say while Pulse was down, would ask about a moment long past).
//! - Exit: sent `open_days` before `left_on`, or at once when the departure
//!   is recorded later than that, so the person has the whole window while
//!   still employed. A departure recorded after the fact (`left_on` today or
//!   past) still gets it at once for `EXIT_GRACE_DAYS`, since people often
//!   keep their mailbox a few days; older departures (history imported from
//!   a CSV) and departures before the survey existed get nothing.
//! - Cohorts: everyone invited in one calendar quarter (local to the survey)
//!   for one milestone answers one round. The round closes `open_days` after
//!   the quarter ends, so the last person invited has the whole window, and
//!   its figures appear then, under the usual disclosure rule.

use chrono::{DateTime, Datelike, Duration, NaiveDate, NaiveTime, TimeZone, Utc};
use std::collections::BTreeMap;

/// The milestone number exit invitations are recorded under.
pub const EXIT_MILESTONE: i32 = 0;

/// How long after `left_on` a departure recorded late still gets the exit survey.
pub const EXIT_GRACE_DAYS: i64 = 7;

/// The onboarding milestones when a survey names none.
pub const DEFAULT_DAYS_AFTER_HIRE: [i32; 3] = [30, 60, 90];

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Trigger {
    /// Days after `hired_on`, ascending, distinct.
    Onboarding(Vec<i32>),
    Exit,
}

/// `"trigger"` as the API takes and gives it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Deserialize, serde::Serialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TriggerInput {
    /// `onboarding` or `exit`.
    #[schema(pattern = "^(onboarding|exit)$")]
    pub kind: String,
    /// Onboarding only: the milestones, days after `hired_on` (default 30, 60, 90).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub days_after_hire: Option<Vec<i32>>,
}

impl Trigger {
    /// Checks a trigger, naming what is wrong under `trigger.*`.
    pub fn parse(input: &TriggerInput, fields: &mut BTreeMap<String, String>) -> Option<Self> {
        match input.kind.as_str() {
            "exit" => {
                if input.days_after_hire.is_some() {
                    fields.insert(
                        "trigger.days_after_hire".into(),
                        "only an onboarding survey has milestones: leave it out for exit".into(),
                    );
                    return None;
                }
                Some(Trigger::Exit)
            }
            "onboarding" => {
                let days = input
                    .days_after_hire
                    .clone()
                    .unwrap_or_else(|| DEFAULT_DAYS_AFTER_HIRE.to_vec());
                let why = if days.is_empty() || days.len() > 10 {
                    Some("give between 1 and 10 milestones, e.g. [30, 60, 90]")
                } else if days.iter().any(|d| !(1..=730).contains(d)) {
                    Some("each milestone is a number of days from 1 to 730")
                } else if days.windows(2).any(|w| w[0] >= w[1]) {
                    Some("list the milestones once each, in increasing order")
                } else {
                    None
                };
                match why {
                    Some(why) => {
                        fields.insert("trigger.days_after_hire".into(), why.into());
                        None
                    }
                    None => Some(Trigger::Onboarding(days)),
                }
            }
            other => {
                fields.insert(
                    "trigger.kind".into(),
                    format!("`{other}` is not a trigger: use onboarding or exit"),
                );
                None
            }
        }
    }

    pub fn kind(&self) -> &'static str {
        match self {
            Trigger::Onboarding(_) => "onboarding",
            Trigger::Exit => "exit",
        }
    }

    /// The milestones as stored: "30,60,90"; empty for exit.
    pub fn days_text(&self) -> String {
        match self {
            Trigger::Onboarding(d) => d.iter().map(i32::to_string).collect::<Vec<_>>().join(","),
            Trigger::Exit => String::new(),
        }
    }

    /// Reads a stored trigger; None for one this version does not know.
    pub fn from_stored(kind: &str, days: &str) -> Option<Self> {
        match kind {
            "exit" => Some(Trigger::Exit),
            "onboarding" => {
                let d: Option<Vec<i32>> = days.split(',').map(|d| d.trim().parse().ok()).collect();
                d.filter(|d| !d.is_empty()).map(Trigger::Onboarding)
            }
            _ => None,
        }
    }

    pub fn input(&self) -> TriggerInput {
        TriggerInput {
            kind: self.kind().into(),
            days_after_hire: match self {
                Trigger::Onboarding(d) => Some(d.clone()),
                Trigger::Exit => None,
            },
        }
    }

    /// The milestones this trigger sends: days after hire, or `EXIT_MILESTONE`.
    pub fn milestones(&self) -> Vec<i32> {
        match self {
            Trigger::Onboarding(d) => d.clone(),
            Trigger::Exit => vec![EXIT_MILESTONE],
        }
    }
}

/// The latest local day whose send time has come by `now`: what a pass at
/// `now` sends for. Before the send time, that is still yesterday.
pub fn sending_day<Tz: TimeZone>(now: DateTime<Utc>, tz: &Tz, send_time: NaiveTime) -> NaiveDate {
    let local = now.with_timezone(tz).naive_local();
    if local.time() >= send_time {
        local.date()
    } else {
        local.date() - Duration::days(1)
    }
}

/// Whether onboarding milestone `days` of someone hired on `hired_on` goes out
/// on `day` (see the module's rules).
pub fn onboarding_due(
    hired_on: NaiveDate,
    days: i32,
    day: NaiveDate,
    created_on: NaiveDate,
    open_days: i32,
) -> bool {
    let due = hired_on + Duration::days(days as i64);
    due <= day && due >= created_on && day < due + Duration::days(open_days.max(1) as i64)
}

/// The hire dates whose milestone `days` may be due on `day`: the range to read.
pub fn hired_between(days: i32, day: NaiveDate, open_days: i32) -> (NaiveDate, NaiveDate) {
    let last = day - Duration::days(days as i64);
    (last - Duration::days(open_days.max(1) as i64 - 1), last)
}

/// Whether the exit survey goes out on `day` to someone leaving on `left_on`.
pub fn exit_due(left_on: NaiveDate, day: NaiveDate, created_on: NaiveDate, open_days: i32) -> bool {
    left_on >= created_on
        && day >= left_on - Duration::days(open_days.max(1) as i64)
        && day <= left_on + Duration::days(EXIT_GRACE_DAYS)
}

/// The leave dates whose exit survey may be due on `day`: the range to read.
pub fn leaving_between(day: NaiveDate, open_days: i32) -> (NaiveDate, NaiveDate) {
    (
        day - Duration::days(EXIT_GRACE_DAYS),
        day + Duration::days(open_days.max(1) as i64),
    )
}

/// The schedule of a lifecycle survey created without one: emails at 09:00
/// UTC on the due day, links open 14 days. Its cadence schedules nothing.
pub fn default_schedule(today: NaiveDate) -> crate::domain::survey::ScheduleInput {
    crate::domain::survey::ScheduleInput {
        cadence: "once".into(),
        starts_on: today.to_string(),
        send_time: "09:00".into(),
        timezone: "UTC".into(),
        open_days: 14,
        reminder_after_days: None,
    }
}

/// A calendar quarter: first and last day.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Period {
    pub start: NaiveDate,
    pub end: NaiveDate,
}

impl Period {
    pub fn quarter_of(day: NaiveDate) -> Self {
        let first_month = (day.month0() / 3) * 3 + 1;
        let start = NaiveDate::from_ymd_opt(day.year(), first_month, 1).expect("a valid month");
        let next = if first_month == 10 {
            NaiveDate::from_ymd_opt(day.year() + 1, 1, 1)
        } else {
            NaiveDate::from_ymd_opt(day.year(), first_month + 3, 1)
        }
        .expect("a valid month");
        Self {
            start,
            end: next - Duration::days(1),
        }
    }

    /// "2026 Q4".
    pub fn label(&self) -> String {
        format!("{} Q{}", self.start.year(), self.start.month0() / 3 + 1)
    }
}

/// A cohort's round window in UTC.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CohortWindow {
    /// The round's key instant: the quarter's first local midnight, plus the
    /// milestone in seconds, because a survey has one round per scheduled
    /// instant and each milestone's cohort is a round of its own.
    pub scheduled_for: DateTime<Utc>,
    /// `open_days` after the quarter's last day, at the send time.
    pub closes_at: DateTime<Utc>,
}

pub fn cohort_window<Tz: TimeZone>(
    period: Period,
    milestone: i32,
    tz: &Tz,
    send_time: NaiveTime,
    open_days: i32,
) -> CohortWindow {
    let local = |d: NaiveDate, t: NaiveTime| {
        let naive = d.and_time(t);
        // A gap (DST) at that local time: an hour later exists.
        tz.from_local_datetime(&naive)
            .earliest()
            .or_else(|| {
                tz.from_local_datetime(&(naive + Duration::hours(1)))
                    .earliest()
            })
            .map(|t| t.with_timezone(&Utc))
            .unwrap_or_else(|| naive.and_utc())
    };
    let start = local(period.start, NaiveTime::MIN);
    let close_day = period.end + Duration::days(1 + open_days.max(1) as i64);
    CohortWindow {
        scheduled_for: start + Duration::seconds(milestone as i64),
        closes_at: local(close_day, send_time),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }

    fn parse(v: serde_json::Value) -> Result<Trigger, BTreeMap<String, String>> {
        let input: TriggerInput = serde_json::from_value(v).unwrap();
        let mut f = BTreeMap::new();
        Trigger::parse(&input, &mut f).ok_or(f)
    }

    #[test]
    fn triggers_parse_and_name_what_is_wrong() {
        use serde_json::json;
        assert_eq!(
            parse(json!({"kind": "onboarding", "days_after_hire": [30, 60, 90]})),
            Ok(Trigger::Onboarding(vec![30, 60, 90]))
        );
        assert_eq!(
            parse(json!({"kind": "onboarding"})),
            Ok(Trigger::Onboarding(vec![30, 60, 90]))
        );
        assert_eq!(parse(json!({"kind": "exit"})), Ok(Trigger::Exit));
        for bad in [
            json!({"kind": "onboarding", "days_after_hire": []}),
            json!({"kind": "onboarding", "days_after_hire": [0]}),
            json!({"kind": "onboarding", "days_after_hire": [60, 30]}),
            json!({"kind": "onboarding", "days_after_hire": [30, 30]}),
            json!({"kind": "exit", "days_after_hire": [30]}),
        ] {
            assert!(parse(bad.clone())
                .unwrap_err()
                .contains_key("trigger.days_after_hire"));
        }
        assert!(parse(json!({"kind": "birthday"}))
            .unwrap_err()
            .contains_key("trigger.kind"));
        let t = Trigger::Onboarding(vec![30, 60, 90]);
        assert_eq!(Trigger::from_stored("onboarding", &t.days_text()), Some(t));
        assert_eq!(Trigger::from_stored("exit", ""), Some(Trigger::Exit));
        assert_eq!(Trigger::from_stored("onboarding", "x"), None);
    }

    #[test]
    fn the_sending_day_turns_at_the_local_send_time() {
        let tz = chrono_tz::Europe::Paris;
        let nine = NaiveTime::from_hms_opt(9, 0, 0).unwrap();
        let at = |s: &str| DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc);
        // 07:59 UTC is 08:59 in Paris in winter: still the day before.
        assert_eq!(
            sending_day(at("2026-12-07T07:59:00Z"), &tz, nine),
            d("2026-12-06")
        );
        assert_eq!(
            sending_day(at("2026-12-07T08:00:00Z"), &tz, nine),
            d("2026-12-07")
        );
    }

    #[test]
    fn a_milestone_is_due_from_its_day_for_open_days_and_never_before_the_survey() {
        let hired = d("2026-11-01");
        let created = d("2026-11-15");
        // Due 2026-12-01.
        assert!(!onboarding_due(hired, 30, d("2026-11-30"), created, 14));
        assert!(onboarding_due(hired, 30, d("2026-12-01"), created, 14));
        assert!(onboarding_due(hired, 30, d("2026-12-14"), created, 14));
        assert!(!onboarding_due(hired, 30, d("2026-12-15"), created, 14));
        // Hired long before the survey existed: the 30-day milestone passed
        // before it did, the 90-day one is still ahead.
        let early = d("2026-09-01");
        assert!(!onboarding_due(early, 30, d("2026-11-15"), created, 14));
        assert!(onboarding_due(early, 90, d("2026-11-30"), created, 14));
        let (from, to) = hired_between(30, d("2026-12-14"), 14);
        assert_eq!((from, to), (d("2026-11-01"), d("2026-11-14")));
        assert!(onboarding_due(from, 30, d("2026-12-14"), created, 14));
        assert!(!onboarding_due(
            from - Duration::days(1),
            30,
            d("2026-12-14"),
            created,
            14
        ));
    }

    #[test]
    fn exit_goes_open_days_before_leaving_or_at_once_for_a_week_after() {
        let created = d("2026-01-01");
        let left = d("2026-12-31");
        assert!(!exit_due(left, d("2026-12-16"), created, 14));
        assert!(exit_due(left, d("2026-12-17"), created, 14));
        assert!(exit_due(left, d("2027-01-07"), created, 14));
        assert!(!exit_due(left, d("2027-01-08"), created, 14));
        // A departure from before the survey existed never gets it.
        assert!(!exit_due(d("2025-12-31"), d("2026-01-02"), created, 14));
        let (from, to) = leaving_between(d("2026-12-17"), 14);
        assert!(exit_due(from, d("2026-12-17"), created, 14));
        assert!(exit_due(to, d("2026-12-17"), created, 14));
    }

    #[test]
    fn cohorts_are_calendar_quarters_closing_open_days_after_their_end() {
        let q = Period::quarter_of(d("2026-11-20"));
        assert_eq!((q.start, q.end), (d("2026-10-01"), d("2026-12-31")));
        assert_eq!(q.label(), "2026 Q4");
        let q1 = Period::quarter_of(d("2027-03-31"));
        assert_eq!((q1.start, q1.end), (d("2027-01-01"), d("2027-03-31")));
        let tz = chrono_tz::Europe::Paris;
        let nine = NaiveTime::from_hms_opt(9, 0, 0).unwrap();
        let w = cohort_window(q, 60, &tz, nine, 14);
        assert_eq!(w.scheduled_for.to_rfc3339(), "2026-09-30T22:01:00+00:00");
        assert_eq!(w.closes_at.to_rfc3339(), "2027-01-15T08:00:00+00:00");
        assert_ne!(
            cohort_window(q, 30, &tz, nine, 14).scheduled_for,
            w.scheduled_for
        );
    }
}
