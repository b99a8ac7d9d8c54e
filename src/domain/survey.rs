//! Surveys and answers as the domain defines them: question kinds, scales, and the rules each must meet.

use crate::domain::driver::Driver;
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, HashMap, HashSet};

pub const MAX_QUESTIONS: usize = 10;
pub const MAX_TEXT_ANSWER: usize = 2000;
pub const MIN_GROUP_FLOOR: i32 = 3;
pub const DEFAULT_MIN_GROUP: i32 = 5;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum QuestionKind {
    /// "How likely are you to recommend working here?", on the survey's eNPS scale.
    Enps,
    /// 1–5 agreement.
    Scale,
    /// One of 2–8 options.
    Choice,
    /// A free comment of at most 2,000 characters.
    Text,
}

impl QuestionKind {
    pub fn parse(s: &str) -> Result<Self, String> {
        match s {
            "enps" => Ok(Self::Enps),
            "scale" => Ok(Self::Scale),
            "choice" => Ok(Self::Choice),
            "text" => Ok(Self::Text),
            other => Err(format!(
                "`{other}` is not a question kind: use enps, scale, choice or text"
            )),
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Enps => "enps",
            Self::Scale => "scale",
            Self::Choice => "choice",
            Self::Text => "text",
        }
    }
}

/// The eNPS scale: 1–10 by default as the product brief asks, or the standard 0–10.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EnpsScale {
    OneToTen,
    ZeroToTen,
}

impl EnpsScale {
    pub fn parse(s: &str) -> Result<Self, String> {
        match s {
            "1-10" => Ok(Self::OneToTen),
            "0-10" => Ok(Self::ZeroToTen),
            other => Err(format!(
                "`{other}` is not an eNPS scale: use \"1-10\" or \"0-10\""
            )),
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::OneToTen => "1-10",
            Self::ZeroToTen => "0-10",
        }
    }

    pub fn range(self) -> std::ops::RangeInclusive<i32> {
        match self {
            Self::OneToTen => 1..=10,
            Self::ZeroToTen => 0..=10,
        }
    }
}

/// A question as the survey defines it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Question {
    pub kind: QuestionKind,
    pub prompt: String,
    pub options: Vec<String>,
    pub required: bool,
    /// What a `scale` question measures, for key-driver reports.
    pub driver: Option<Driver>,
}

/// A question as a client sends it.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct QuestionInput {
    /// `enps`, `scale`, `choice` or `text`.
    #[schema(pattern = "^(enps|scale|choice|text)$")]
    pub kind: String,
    pub prompt: String,
    /// For `choice`: 2–8 distinct options.
    #[serde(default)]
    pub options: Option<Vec<String>>,
    /// Defaults to true, except for `text` questions.
    #[serde(default)]
    pub required: Option<bool>,
    /// For `scale` questions: the engagement driver it measures (`recognition`,
    /// `growth`, `manager`, `wellbeing`, `alignment`, `autonomy`, `peers`,
    /// `environment`, `pay`, `satisfaction`, `stay_intent`).
    #[serde(default)]
    pub driver: Option<String>,
}

/// Checks the question list, reporting problems as `questions[i].field`.
pub fn parse_questions(
    input: &[QuestionInput],
    errors: &mut BTreeMap<String, String>,
) -> Vec<Question> {
    parse_questions_up_to(input, MAX_QUESTIONS, errors)
}

/// As `parse_questions`, for a list of up to `max` questions: a rotating
/// survey's pool may exceed what one form asks (see `domain::rotation`).
pub fn parse_questions_up_to(
    input: &[QuestionInput],
    max: usize,
    errors: &mut BTreeMap<String, String>,
) -> Vec<Question> {
    if input.is_empty() {
        errors.insert("questions".into(), "add at least one question".into());
    }
    if input.len() > max {
        let what = if max == MAX_QUESTIONS {
            "a pulse survey"
        } else {
            "a rotating survey"
        };
        errors.insert(
            "questions".into(),
            format!(
                "{what} has at most {max} questions; this one has {}",
                input.len()
            ),
        );
    }
    let mut out = Vec::new();
    let mut enps_seen = false;
    for (i, q) in input.iter().enumerate() {
        let key = |f: &str| format!("questions[{i}].{f}");
        let kind = match QuestionKind::parse(q.kind.trim()) {
            Ok(k) => k,
            Err(e) => {
                errors.insert(key("kind"), e);
                continue;
            }
        };
        let prompt = q.prompt.trim().to_string();
        if prompt.is_empty() {
            errors.insert(key("prompt"), "is required".into());
        } else if prompt.chars().count() > 500 {
            errors.insert(key("prompt"), "is longer than 500 characters".into());
        }
        if kind == QuestionKind::Enps {
            if enps_seen {
                errors.insert(key("kind"), "a survey asks the eNPS question once".into());
            }
            enps_seen = true;
        }
        let options: Vec<String> = q
            .options
            .iter()
            .flatten()
            .map(|o| o.trim().to_string())
            .collect();
        match kind {
            QuestionKind::Choice => {
                let distinct: HashSet<&str> = options.iter().map(String::as_str).collect();
                if !(2..=8).contains(&options.len()) {
                    errors.insert(
                        key("options"),
                        format!("a choice needs 2 to 8 options, not {}", options.len()),
                    );
                } else if options
                    .iter()
                    .any(|o| o.is_empty() || o.chars().count() > 200)
                {
                    errors.insert(
                        key("options"),
                        "each option needs 1 to 200 characters".into(),
                    );
                } else if distinct.len() != options.len() {
                    errors.insert(key("options"), "options must differ from each other".into());
                }
            }
            _ if !options.is_empty() => {
                errors.insert(
                    key("options"),
                    format!("only choice questions take options, not {}", kind.as_str()),
                );
            }
            _ => {}
        }
        let driver = match q.driver.as_deref().map(str::trim).filter(|d| !d.is_empty()) {
            None => None,
            Some(_) if kind != QuestionKind::Scale => {
                errors.insert(
                    key("driver"),
                    format!(
                        "only scale questions measure a driver, not {}",
                        kind.as_str()
                    ),
                );
                None
            }
            Some(d) => match Driver::parse(d) {
                Ok(d) => Some(d),
                Err(e) => {
                    errors.insert(key("driver"), e);
                    None
                }
            },
        };
        out.push(Question {
            kind,
            prompt,
            options,
            required: q.required.unwrap_or(kind != QuestionKind::Text),
            driver,
        });
    }
    out
}

/// The anonymity threshold: never below 3, 5 unless the survey says otherwise.
pub fn parse_min_group_size(v: Option<i32>) -> Result<i32, String> {
    match v.unwrap_or(DEFAULT_MIN_GROUP) {
        n if n < MIN_GROUP_FLOOR => Err(format!(
            "must be at least {MIN_GROUP_FLOOR} so no one can be singled out"
        )),
        n if n > 1000 => Err("must be at most 1000".into()),
        n => Ok(n),
    }
}

/// What someone answered to one question, as sent.
#[derive(Debug, Clone, Default, Deserialize, Serialize, utoipa::ToSchema)]
pub struct RawAnswer {
    pub question_id: i32,
    pub score: Option<i32>,
    pub choice: Option<String>,
    pub text: Option<String>,
}

/// A checked answer, ready to store.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Answer {
    Score(i32),
    Enps { score: i32, scale: EnpsScale },
    Choice(String),
    Text(String),
}

/// Checks one answer against its question. `Ok(None)` is a skipped optional question.
pub fn check_answer(
    q: &Question,
    scale: EnpsScale,
    raw: Option<&RawAnswer>,
) -> Result<Option<Answer>, String> {
    let missing = || {
        if q.required {
            Err("please answer this question".to_string())
        } else {
            Ok(None)
        }
    };
    let Some(raw) = raw else { return missing() };
    match q.kind {
        QuestionKind::Enps => match raw.score {
            None => missing(),
            Some(s) if scale.range().contains(&s) => Ok(Some(Answer::Enps { score: s, scale })),
            Some(s) => Err(format!(
                "{s} is outside the scale: choose {} to {}",
                scale.range().start(),
                scale.range().end()
            )),
        },
        QuestionKind::Scale => match raw.score {
            None => missing(),
            Some(s) if (1..=5).contains(&s) => Ok(Some(Answer::Score(s))),
            Some(s) => Err(format!("{s} is outside the scale: choose 1 to 5")),
        },
        QuestionKind::Choice => match raw
            .choice
            .as_deref()
            .map(str::trim)
            .filter(|c| !c.is_empty())
        {
            None => missing(),
            Some(c) if q.options.iter().any(|o| o == c) => Ok(Some(Answer::Choice(c.to_string()))),
            Some(c) => Err(format!("`{c}` is not one of the options")),
        },
        QuestionKind::Text => match raw.text.as_deref().map(str::trim).filter(|t| !t.is_empty()) {
            None => missing(),
            Some(t) if t.chars().count() > MAX_TEXT_ANSWER => Err(format!(
                "please keep it under {MAX_TEXT_ANSWER} characters (this is {})",
                t.chars().count()
            )),
            Some(t) => Ok(Some(Answer::Text(t.to_string()))),
        },
    }
}

/// Checks a whole submission against the survey's questions, given by id: the
/// answers to store, or every problem keyed by question id. An answer to a
/// question the survey does not ask, or two answers to one, are refused rather
/// than one of them silently chosen.
pub fn check_answers(
    questions: &[(i32, Question)],
    scale: EnpsScale,
    answers: &[RawAnswer],
) -> Result<Vec<(i32, Answer)>, BTreeMap<i32, String>> {
    let mut given: HashMap<i32, &RawAnswer> = HashMap::new();
    let mut errors = BTreeMap::new();
    for a in answers {
        if !questions.iter().any(|(id, _)| *id == a.question_id) {
            errors.insert(
                a.question_id,
                "this question is not part of the survey".into(),
            );
        } else if given.insert(a.question_id, a).is_some() {
            errors.insert(a.question_id, "answered twice".into());
        }
    }
    let mut checked = Vec::new();
    for (id, q) in questions {
        match check_answer(q, scale, given.get(id).copied()) {
            Ok(Some(a)) => checked.push((*id, a)),
            Ok(None) => {}
            Err(e) => drop(errors.insert(*id, e)),
        }
    }
    if errors.is_empty() {
        Ok(checked)
    } else {
        Err(errors)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn q(kind: &str, options: Option<Vec<&str>>) -> QuestionInput {
        QuestionInput {
            kind: kind.into(),
            prompt: "Prompt".into(),
            options: options.map(|o| o.into_iter().map(String::from).collect()),
            required: None,
            driver: None,
        }
    }

    #[test]
    fn question_lists_are_checked_per_field() {
        let mut errors = BTreeMap::new();
        let qs = parse_questions(
            &[
                q("enps", None),
                q("text", None),
                q("choice", Some(vec!["A"])),
            ],
            &mut errors,
        );
        assert_eq!(
            errors.keys().collect::<Vec<_>>(),
            vec!["questions[2].options"]
        );
        assert!(qs[0].required && !qs[1].required);

        let mut errors = BTreeMap::new();
        parse_questions(&vec![q("scale", None); 11], &mut errors);
        assert!(errors["questions"].contains("at most 10"));
        let mut errors = BTreeMap::new();
        parse_questions(&[], &mut errors);
        assert!(errors.contains_key("questions"));
        let mut errors = BTreeMap::new();
        parse_questions(
            &[
                q("stars", None),
                q("enps", None),
                q("enps", None),
                q("scale", Some(vec!["x", "y"])),
            ],
            &mut errors,
        );
        assert!(errors.contains_key("questions[0].kind"));
        assert!(errors.contains_key("questions[2].kind"));
        assert!(errors.contains_key("questions[3].options"));
        let mut errors = BTreeMap::new();
        parse_questions(&[q("choice", Some(vec!["A", "A"]))], &mut errors);
        assert!(errors["questions[0].options"].contains("differ"));
    }

    #[test]
    fn only_scale_questions_measure_a_known_driver() {
        let with = |kind: &str, driver: &str| QuestionInput {
            driver: Some(driver.into()),
            ..q(kind, None)
        };
        let mut errors = BTreeMap::new();
        let qs = parse_questions(&[with("scale", "growth")], &mut errors);
        assert!(errors.is_empty(), "{errors:?}");
        assert_eq!(qs[0].driver, Some(Driver::Growth));
        parse_questions(
            &[with("enps", "growth"), with("scale", "mood")],
            &mut errors,
        );
        assert!(errors["questions[0].driver"].contains("only scale"));
        assert!(errors["questions[1].driver"].contains("not a driver"));
    }

    #[test]
    fn min_group_size_never_below_three() {
        assert_eq!(parse_min_group_size(None), Ok(5));
        assert_eq!(parse_min_group_size(Some(3)), Ok(3));
        assert!(parse_min_group_size(Some(2)).is_err());
    }

    #[test]
    fn answers_respect_scales_options_and_required() {
        let enps = Question {
            kind: QuestionKind::Enps,
            prompt: "p".into(),
            options: vec![],
            required: true,
            driver: None,
        };
        let raw = |score| RawAnswer {
            question_id: 1,
            score: Some(score),
            ..Default::default()
        };
        assert_eq!(
            check_answer(&enps, EnpsScale::ZeroToTen, Some(&raw(0))),
            Ok(Some(Answer::Enps {
                score: 0,
                scale: EnpsScale::ZeroToTen
            }))
        );
        assert!(check_answer(&enps, EnpsScale::OneToTen, Some(&raw(0)))
            .unwrap_err()
            .contains("1 to 10"));
        assert!(check_answer(&enps, EnpsScale::OneToTen, Some(&raw(11))).is_err());
        assert!(check_answer(&enps, EnpsScale::OneToTen, None).is_err());

        let choice = Question {
            kind: QuestionKind::Choice,
            prompt: "p".into(),
            options: vec!["A".into(), "B".into()],
            required: true,
            driver: None,
        };
        let pick = |c: &str| RawAnswer {
            question_id: 1,
            choice: Some(c.into()),
            ..Default::default()
        };
        assert_eq!(
            check_answer(&choice, EnpsScale::OneToTen, Some(&pick("B"))),
            Ok(Some(Answer::Choice("B".into())))
        );
        assert!(check_answer(&choice, EnpsScale::OneToTen, Some(&pick("C"))).is_err());

        let text = Question {
            kind: QuestionKind::Text,
            prompt: "p".into(),
            options: vec![],
            required: false,
            driver: None,
        };
        let say = |t: String| RawAnswer {
            question_id: 1,
            text: Some(t),
            ..Default::default()
        };
        assert_eq!(
            check_answer(&text, EnpsScale::OneToTen, Some(&say("  ".into()))),
            Ok(None)
        );
        assert!(check_answer(&text, EnpsScale::OneToTen, Some(&say("é".repeat(2001)))).is_err());
        assert!(check_answer(&text, EnpsScale::OneToTen, Some(&say("é".repeat(2000)))).is_ok());
        let scale = Question {
            kind: QuestionKind::Scale,
            prompt: "p".into(),
            options: vec![],
            required: true,
            driver: None,
        };
        assert!(check_answer(&scale, EnpsScale::OneToTen, Some(&raw(6))).is_err());
    }

    #[test]
    fn a_submission_answers_asked_questions_once_each() {
        let question = |kind, required| Question {
            kind,
            prompt: "p".into(),
            options: vec![],
            required,
            driver: None,
        };
        let questions = [
            (4, question(QuestionKind::Scale, true)),
            (9, question(QuestionKind::Text, false)),
        ];
        let score = |question_id, s| RawAnswer {
            question_id,
            score: Some(s),
            ..Default::default()
        };
        assert_eq!(
            check_answers(&questions, EnpsScale::OneToTen, &[score(4, 2)]),
            Ok(vec![(4, Answer::Score(2))])
        );
        let errors = check_answers(
            &questions,
            EnpsScale::OneToTen,
            &[score(4, 2), score(4, 3), score(7, 1)],
        )
        .unwrap_err();
        assert_eq!(errors[&4], "answered twice");
        assert!(errors[&7].contains("not part of the survey"));
        let errors = check_answers(&questions, EnpsScale::OneToTen, &[]).unwrap_err();
        assert_eq!(errors.keys().collect::<Vec<_>>(), vec![&4]);
    }
}

/// When a survey goes out, as a client sends it.
#[derive(Debug, Clone, Deserialize, Serialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ScheduleInput {
    /// `once`, `weekly`, `biweekly`, `monthly` or `quarterly`.
    #[schema(pattern = "^(once|weekly|biweekly|monthly|quarterly)$")]
    pub cadence: String,
    /// YYYY-MM-DD, the first local send date.
    #[schema(format = Date)]
    pub starts_on: String,
    /// HH:MM local time.
    #[schema(pattern = "^([01][0-9]|2[0-3]):[0-5][0-9]$")]
    pub send_time: String,
    /// IANA zone, e.g. Europe/Paris.
    pub timezone: String,
    /// How many days a round stays open.
    #[schema(minimum = 1)]
    pub open_days: i32,
    /// Days after sending when non-respondents get one reminder; none when absent.
    #[serde(default)]
    pub reminder_after_days: Option<i32>,
}

/// A checked schedule with its round window.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SurveySchedule {
    pub schedule: crate::domain::schedule::Schedule,
    pub open_days: i32,
    pub reminder_after_days: Option<i32>,
}

/// Checks a schedule, reporting problems as `schedule.field`.
pub fn parse_schedule(
    s: &ScheduleInput,
    errors: &mut BTreeMap<String, String>,
) -> Option<SurveySchedule> {
    use crate::domain::schedule::{parse_send_time, parse_timezone, Cadence, Schedule};
    let mut bad = |f: &str, why: String| drop(errors.insert(format!("schedule.{f}"), why));
    let cadence = Cadence::parse(&s.cadence);
    if cadence.is_none() {
        bad(
            "cadence",
            format!(
                "`{}` is not a cadence: use once, weekly, biweekly, monthly or quarterly",
                s.cadence
            ),
        );
    }
    let starts_on = crate::domain::people::parse_date(&s.starts_on)
        .map_err(|e| bad("starts_on", e))
        .ok();
    let send_time = parse_send_time(&s.send_time)
        .map_err(|e| bad("send_time", e))
        .ok();
    let timezone = parse_timezone(&s.timezone)
        .map_err(|e| bad("timezone", e))
        .ok();
    // A round must close before the next one opens, or answers would mix:
    // no longer than the shortest gap between two rounds of the cadence. A
    // month can be 28 days; three months can be 89 (26 Feb to 26 May, or
    // 31 Jan to 30 Apr).
    let longest = match cadence {
        Some(Cadence::Weekly) => 7,
        Some(Cadence::Biweekly) => 14,
        Some(Cadence::Monthly) => 28,
        Some(Cadence::Quarterly) => 89,
        _ => 90,
    };
    if !(1..=longest).contains(&s.open_days) {
        bad(
            "open_days",
            format!("must be between 1 and {longest} for this cadence"),
        );
    }
    if let Some(r) = s.reminder_after_days {
        if r < 1 || r >= s.open_days {
            bad(
                "reminder_after_days",
                "must be at least 1 and less than open_days".into(),
            );
        }
    }
    Some(SurveySchedule {
        schedule: Schedule {
            cadence: cadence?,
            starts_on: starts_on?,
            send_time: send_time?,
            timezone: timezone?,
        },
        open_days: s.open_days,
        reminder_after_days: s.reminder_after_days,
    })
    .filter(|_| !errors.keys().any(|k| k.starts_with("schedule.")))
}

#[cfg(test)]
mod schedule_input_tests {
    use super::*;

    fn input(cadence: &str, tz: &str, open: i32, reminder: Option<i32>) -> ScheduleInput {
        ScheduleInput {
            cadence: cadence.into(),
            starts_on: "2026-12-07".into(),
            send_time: "09:00".into(),
            timezone: tz.into(),
            open_days: open,
            reminder_after_days: reminder,
        }
    }

    #[test]
    fn checks_every_schedule_field() {
        let mut errors = BTreeMap::new();
        assert!(
            parse_schedule(&input("weekly", "Europe/Paris", 5, Some(2)), &mut errors).is_some()
        );
        assert!(errors.is_empty());
        let mut errors = BTreeMap::new();
        assert!(parse_schedule(&input("daily", "Mars/Olympus", 8, Some(9)), &mut errors).is_none());
        for f in ["cadence", "timezone", "reminder_after_days"] {
            assert!(
                errors.contains_key(&format!("schedule.{f}")),
                "{f}: {errors:?}"
            );
        }
        let mut errors = BTreeMap::new();
        parse_schedule(&input("weekly", "UTC", 8, None), &mut errors);
        assert!(errors["schedule.open_days"].contains("between 1 and 7"));
        let mut errors = BTreeMap::new();
        parse_schedule(&input("once", "UTC", 0, None), &mut errors);
        assert!(errors.contains_key("schedule.open_days"));
    }

    /// Found by the schedule fuzz target: a quarterly round opened on 26 Feb
    /// and open 90 days would still be open when the next opens on 26 May.
    #[test]
    fn a_quarterly_round_closes_before_the_shortest_quarter_ends() {
        let mut errors = BTreeMap::new();
        let mut feb = input("quarterly", "UTC", 90, None);
        feb.starts_on = "2027-02-26".into();
        assert!(parse_schedule(&feb, &mut errors).is_none());
        assert!(errors["schedule.open_days"].contains("between 1 and 89"));
        feb.open_days = 89;
        let checked = parse_schedule(&feb, &mut BTreeMap::new()).unwrap();
        let first = checked
            .schedule
            .next_after(chrono::DateTime::UNIX_EPOCH)
            .unwrap();
        let second = checked.schedule.next_after(first).unwrap();
        assert!(checked.schedule.closes_at(first, 89) <= second);
    }
}
