//! How long Pulse keeps what it need not keep for ever: the retention policy and its cut-offs.
//!
//! Counters and the cells stored when a round closes are kept for ever: every
//! trend and report reads only those. Comments and per-response answers (the
//! round report's distributions and the answers export) go a set number of
//! months after their round closed, and sent or failed emails a set number of
//! days after they were made. Unset, everything is kept.

use chrono::{Duration, Months, NaiveDateTime};
use serde::{Deserialize, Serialize};

pub const MAX_ANSWER_MONTHS: u32 = 240;
pub const MAX_EMAIL_DAYS: u32 = 3650;

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Policy {
    /// Months after a round closes that its comments and per-response answers
    /// are kept (1–240); `null`: for ever.
    pub answer_months: Option<u32>,
    /// Days that sent or failed emails are kept (1–3650); `null`: for ever.
    pub sent_email_days: Option<u32>,
}

impl Policy {
    /// Each field out of range, with what to fix.
    pub fn problems(&self) -> Vec<(&'static str, String)> {
        let mut out = vec![];
        if self
            .answer_months
            .is_some_and(|m| !(1..=MAX_ANSWER_MONTHS).contains(&m))
        {
            out.push((
                "answer_months",
                format!("must be from 1 to {MAX_ANSWER_MONTHS} months, or null to keep answers for ever"),
            ));
        }
        if self
            .sent_email_days
            .is_some_and(|d| !(1..=MAX_EMAIL_DAYS).contains(&d))
        {
            out.push((
                "sent_email_days",
                format!("must be from 1 to {MAX_EMAIL_DAYS} days, or null to keep emails for ever"),
            ));
        }
        out
    }

    /// Rounds that closed before this lose their answers.
    pub fn answers_closed_before(&self, now: NaiveDateTime) -> Option<NaiveDateTime> {
        // Calendar months: 24 months after 31 March is 31 March, two years on.
        self.answer_months.map(|m| {
            now.checked_sub_months(Months::new(m))
                .unwrap_or(NaiveDateTime::MIN)
        })
    }

    /// Sent and failed emails made before this are deleted.
    pub fn emails_made_before(&self, now: NaiveDateTime) -> Option<NaiveDateTime> {
        self.sent_email_days
            .map(|d| now - Duration::days(i64::from(d)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::NaiveDate;

    fn at(y: i32, m: u32, d: u32) -> NaiveDateTime {
        NaiveDate::from_ymd_opt(y, m, d)
            .unwrap()
            .and_hms_opt(9, 0, 0)
            .unwrap()
    }

    #[test]
    fn unset_keeps_everything() {
        let p = Policy::default();
        assert_eq!(p.answers_closed_before(at(2026, 12, 6)), None);
        assert_eq!(p.emails_made_before(at(2026, 12, 6)), None);
        assert!(p.problems().is_empty());
    }

    #[test]
    fn cut_offs_count_calendar_months_and_days() {
        let p = Policy {
            answer_months: Some(24),
            sent_email_days: Some(30),
        };
        assert_eq!(
            p.answers_closed_before(at(2026, 12, 6)),
            Some(at(2024, 12, 6))
        );
        // The end of a longer month falls on the end of the shorter one.
        assert_eq!(
            p.answers_closed_before(at(2026, 3, 31)),
            Some(at(2024, 3, 31))
        );
        let one = Policy {
            answer_months: Some(1),
            ..p
        };
        assert_eq!(
            one.answers_closed_before(at(2026, 3, 31)),
            Some(at(2026, 2, 28))
        );
        assert_eq!(p.emails_made_before(at(2026, 12, 6)), Some(at(2026, 11, 6)));
    }

    #[test]
    fn out_of_range_settings_say_what_to_fix() {
        let p = Policy {
            answer_months: Some(0),
            sent_email_days: Some(4000),
        };
        let fields: Vec<_> = p.problems().into_iter().map(|(f, _)| f).collect();
        assert_eq!(fields, ["answer_months", "sent_email_days"]);
        let ok = Policy {
            answer_months: Some(240),
            sent_email_days: Some(1),
        };
        assert!(ok.problems().is_empty());
    }
}
