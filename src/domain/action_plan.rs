//! Action plans: what a lead or HR decided to change after a round, checked at the
//! edge, and which of them an employee is told about before their next pulse.

use crate::domain::driver::Driver;
use chrono::{NaiveDate, NaiveDateTime};
use std::collections::BTreeMap;

/// The most an action's text may hold: a sentence or two, not a document.
pub const MAX_TEXT_CHARS: usize = 500;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    Open,
    Done,
}

impl Status {
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Open => "open",
            Status::Done => "done",
        }
    }

    pub fn parse(s: &str) -> Result<Status, String> {
        match s.trim() {
            "open" => Ok(Status::Open),
            "done" => Ok(Status::Done),
            _ => Err("must be open or done".into()),
        }
    }
}

/// The fields of a new action that can be checked without the database.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Checked {
    pub text: String,
    pub due_on: NaiveDate,
    pub driver: Option<Driver>,
}

/// Checks text, due date and driver; every bad field is named with what to fix.
pub fn check(
    text: Option<&str>,
    due_on: Option<&str>,
    driver: Option<&str>,
) -> Result<Checked, BTreeMap<String, String>> {
    let mut fields = BTreeMap::new();
    let text = text.map(str::trim).unwrap_or_default();
    let chars = text.chars().count();
    if chars == 0 {
        fields.insert("text".into(), "say what will change".into());
    } else if chars > MAX_TEXT_CHARS {
        fields.insert(
            "text".into(),
            format!("at most {MAX_TEXT_CHARS} characters (this one has {chars})"),
        );
    }
    let due = match due_on.map(str::trim) {
        None | Some("") => {
            fields.insert("due_on".into(), "is required (YYYY-MM-DD)".into());
            None
        }
        Some(d) => match NaiveDate::parse_from_str(d, "%Y-%m-%d") {
            Ok(d) => Some(d),
            Err(_) => {
                fields.insert("due_on".into(), "must be a date, YYYY-MM-DD".into());
                None
            }
        },
    };
    let driver = match driver.map(str::trim) {
        None | Some("") => None,
        Some(d) => match Driver::parse(d) {
            Ok(d) => Some(d),
            Err(e) => {
                fields.insert("driver".into(), e);
                None
            }
        },
    };
    match due {
        Some(due_on) if fields.is_empty() => Ok(Checked {
            text: text.to_string(),
            due_on,
            driver,
        }),
        _ => Err(fields),
    }
}

/// An action as "what we changed since last time" needs it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Done {
    pub id: i32,
    /// None: company-wide.
    pub team_id: Option<i32>,
    pub done_at: NaiveDateTime,
}

/// The actions someone answering a round is told about: marked done since the
/// previous round of the same survey was sent, up to now, for their own team, the
/// teams above it, or the whole company. Nothing when there was no previous round:
/// there is no "last time". Only actions on groups the person belongs to are shown,
/// so the list says nothing about anyone else, and nothing about who did what.
pub fn changed_since<'a>(
    actions: &'a [Done],
    previous_round_at: Option<NaiveDateTime>,
    now: NaiveDateTime,
    own_groups: &[i32],
) -> Vec<&'a Done> {
    let Some(since) = previous_round_at else {
        return vec![];
    };
    let mut out: Vec<&Done> = actions
        .iter()
        .filter(|a| a.done_at >= since && a.done_at <= now)
        .filter(|a| a.team_id.is_none_or(|t| own_groups.contains(&t)))
        .collect();
    out.sort_by_key(|a| (std::cmp::Reverse(a.done_at), a.id));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(d: u32) -> NaiveDateTime {
        NaiveDate::from_ymd_opt(2026, 12, d)
            .unwrap()
            .and_hms_opt(9, 0, 0)
            .unwrap()
    }

    #[test]
    fn fields_are_checked_one_by_one() {
        let ok = check(
            Some(" Fewer meetings "),
            Some("2026-12-20"),
            Some("wellbeing"),
        )
        .unwrap();
        assert_eq!(ok.text, "Fewer meetings");
        assert_eq!(ok.driver, Some(Driver::Wellbeing));
        let e = check(Some(" "), Some("20/12/2026"), Some("mood")).unwrap_err();
        assert_eq!(
            e.keys().map(String::as_str).collect::<Vec<_>>(),
            ["driver", "due_on", "text"]
        );
        let e = check(Some(&"x".repeat(501)), None, None).unwrap_err();
        assert!(e["text"].contains("501"));
        assert!(e["due_on"].contains("required"));
        assert!(check(Some("x"), Some("2026-12-20"), Some("")).is_ok());
    }

    #[test]
    fn statuses_parse() {
        assert_eq!(Status::parse("done"), Ok(Status::Done));
        assert_eq!(Status::parse("open").unwrap().as_str(), "open");
        assert!(Status::parse("closed").is_err());
    }

    #[test]
    fn only_own_groups_since_the_previous_round() {
        let actions = vec![
            Done {
                id: 1,
                team_id: Some(10),
                done_at: at(3),
            },
            Done {
                id: 2,
                team_id: None,
                done_at: at(5),
            },
            Done {
                id: 3,
                team_id: Some(20),
                done_at: at(5),
            },
            Done {
                id: 4,
                team_id: Some(10),
                done_at: at(1),
            },
            Done {
                id: 5,
                team_id: Some(11),
                done_at: at(9),
            },
        ];
        let shown: Vec<i32> = changed_since(&actions, Some(at(2)), at(8), &[11, 10])
            .iter()
            .map(|a| a.id)
            .collect();
        // 3: another team; 4: before the previous round; 5: after now.
        assert_eq!(shown, [2, 1]);
        assert!(changed_since(&actions, None, at(8), &[10]).is_empty());
    }
}
