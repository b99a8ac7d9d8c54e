//! Answering a survey: the API's JSON body and the answer page's form, read and checked against fixed questions.
#![no_main]

use libfuzzer_sys::fuzz_target;
use pulse::domain::survey::{
    check_answers, Answer, EnpsScale, Question, QuestionKind, RawAnswer, MAX_TEXT_ANSWER,
};
use pulse::routes::api::responses::ResponseInput;
use pulse::routes::pages::answer::{form_answers, form_values};
use std::collections::{BTreeMap, BTreeSet};

fn question(kind: QuestionKind, options: &[&str], required: bool) -> Question {
    Question {
        kind,
        prompt: format!("A {} question", kind.as_str()),
        options: options.iter().map(|o| o.to_string()).collect(),
        required,
        driver: None,
    }
}

/// Two surveys between them ask every kind, required and optional; ids have
/// gaps, as they do in a database.
fn survey(second: bool) -> Vec<(i32, Question)> {
    use QuestionKind::*;
    if second {
        vec![
            (11, question(Enps, &[], false)),
            (12, question(Choice, &["A", "B", "Ça va", "Not this week"], false)),
            (14, question(Text, &[], true)),
            (15, question(Scale, &[], false)),
        ]
    } else {
        vec![
            (1, question(Enps, &[], true)),
            (2, question(Scale, &[], true)),
            (3, question(Choice, &["Yes", "No", "Not sure"], true)),
            (5, question(Text, &[], false)),
            (8, question(Scale, &[], false)),
        ]
    }
}

fuzz_target!(|data: &[u8]| {
    let Some((&flags, body)) = data.split_first() else {
        return;
    };
    let scale = if flags & 1 == 0 {
        EnpsScale::OneToTen
    } else {
        EnpsScale::ZeroToTen
    };
    let questions = survey(flags & 2 != 0);
    if flags & 4 == 0 {
        // As `web::Json` reads the body of POST /api/v1/responses.
        if let Ok(input) = serde_json::from_slice::<ResponseInput>(body) {
            json_round_trip(&input.answers);
            check(&questions, scale, &input.answers);
        }
    } else if let Ok(fields) = serde_urlencoded::from_bytes::<Vec<(String, String)>>(body) {
        // As `web::Form` reads the body the answer page posts.
        if let Some(answers) = form(&questions, fields) {
            check(&questions, scale, &answers);
        }
    }
});

/// What a client sends is what the server reads back.
fn json_round_trip(answers: &[RawAnswer]) {
    let again: Vec<RawAnswer> =
        serde_json::from_str(&serde_json::to_string(answers).unwrap()).unwrap();
    assert_eq!(answers.len(), again.len());
    for (a, b) in answers.iter().zip(&again) {
        assert_eq!(
            (a.question_id, a.score, &a.choice, &a.text),
            (b.question_id, b.score, &b.choice, &b.text)
        );
    }
}

/// The page's form reading: the last field `q<id>` counts, a blank one is no
/// answer, and only a numeric question can refuse a value.
fn form(questions: &[(i32, Question)], fields: Vec<(String, String)>) -> Option<Vec<RawAnswer>> {
    let mut last = BTreeMap::new();
    for (name, value) in &fields {
        if let Some(id) = name.strip_prefix('q').and_then(|n| n.parse::<i32>().ok()) {
            last.insert(id, value.clone());
        }
    }
    let values = form_values(fields);
    assert_eq!(values.len(), last.len());
    for (id, value) in &last {
        assert_eq!(values.get(id), Some(value));
    }
    let kinds: Vec<(i32, &str)> = questions.iter().map(|(id, q)| (*id, q.kind.as_str())).collect();
    let given = |id: i32| values.get(&id).filter(|v| !v.trim().is_empty());
    let numeric = |q: &Question| matches!(q.kind, QuestionKind::Enps | QuestionKind::Scale);
    match form_answers(&kinds, &values) {
        Ok(answers) => {
            let answered: Vec<i32> = answers.iter().map(|a| a.question_id).collect();
            let expected: Vec<i32> = questions
                .iter()
                .filter(|(id, _)| given(*id).is_some())
                .map(|(id, _)| *id)
                .collect();
            assert_eq!(answered, expected);
            for (a, (_, q)) in answers.iter().zip(questions.iter().filter(|(id, _)| given(*id).is_some())) {
                let value = given(a.question_id).unwrap();
                match q.kind {
                    QuestionKind::Enps | QuestionKind::Scale => {
                        assert_eq!(a.score, value.trim().parse().ok());
                        assert!(a.choice.is_none() && a.text.is_none());
                    }
                    QuestionKind::Choice => {
                        assert_eq!(a.choice.as_ref(), Some(value));
                        assert!(a.score.is_none() && a.text.is_none());
                    }
                    QuestionKind::Text => {
                        assert_eq!(a.text.as_ref(), Some(value));
                        assert!(a.score.is_none() && a.choice.is_none());
                    }
                }
            }
            Some(answers)
        }
        Err(errors) => {
            let refused: BTreeSet<i32> = errors.keys().copied().collect();
            let not_numbers: BTreeSet<i32> = questions
                .iter()
                .filter(|(id, q)| {
                    numeric(q) && given(*id).is_some_and(|v| v.trim().parse::<i32>().is_err())
                })
                .map(|(id, _)| *id)
                .collect();
            assert_eq!(refused, not_numbers);
            None
        }
    }
}

/// `check_answers`, as `answering::submit` calls it, against what each kind allows.
fn check(questions: &[(i32, Question)], scale: EnpsScale, answers: &[RawAnswer]) {
    let result = check_answers(questions, scale, answers);
    // The order in which a client lists its answers changes nothing.
    let reversed: Vec<RawAnswer> = answers.iter().rev().cloned().collect();
    let again = check_answers(questions, scale, &reversed);
    match (&result, &again) {
        (Ok(a), Ok(b)) => assert_eq!(a, b),
        (Err(a), Err(b)) => assert!(a.keys().eq(b.keys())),
        _ => panic!("order matters: {result:?} vs {again:?}"),
    }
    let asked: BTreeSet<i32> = questions.iter().map(|(id, _)| *id).collect();
    match result {
        Ok(checked) => {
            let mut sent = BTreeSet::new();
            for a in answers {
                assert!(asked.contains(&a.question_id), "{} not asked", a.question_id);
                assert!(sent.insert(a.question_id), "{} answered twice", a.question_id);
            }
            let ids: Vec<i32> = checked.iter().map(|(id, _)| *id).collect();
            let in_order: Vec<i32> = questions
                .iter()
                .map(|(id, _)| *id)
                .filter(|id| ids.contains(id))
                .collect();
            assert_eq!(ids, in_order, "stored out of order or twice");
            for (id, q) in questions {
                let stored = checked.iter().find(|(i, _)| i == id).map(|(_, a)| a);
                let raw = answers.iter().find(|a| a.question_id == *id);
                if q.required {
                    assert!(stored.is_some(), "required question {id} unanswered");
                }
                let Some(stored) = stored else { continue };
                let raw = raw.expect("an answer stored for a question not answered");
                match (q.kind, stored) {
                    (QuestionKind::Enps, Answer::Enps { score, scale: s }) => {
                        assert_eq!(*s, scale);
                        assert!(scale.range().contains(score));
                        assert_eq!(raw.score, Some(*score));
                    }
                    (QuestionKind::Scale, Answer::Score(score)) => {
                        assert!((1..=5).contains(score));
                        assert_eq!(raw.score, Some(*score));
                    }
                    (QuestionKind::Choice, Answer::Choice(choice)) => {
                        assert!(q.options.contains(choice), "{choice:?}");
                        assert_eq!(raw.choice.as_deref().map(str::trim), Some(choice.as_str()));
                    }
                    (QuestionKind::Text, Answer::Text(text)) => {
                        assert!(!text.is_empty() && text.trim() == text);
                        assert!(text.chars().count() <= MAX_TEXT_ANSWER);
                        assert_eq!(raw.text.as_deref().map(str::trim), Some(text.as_str()));
                    }
                    (kind, a) => panic!("a {} question stored {a:?}", kind.as_str()),
                }
            }
        }
        Err(errors) => {
            assert!(!errors.is_empty());
            let sent: BTreeSet<i32> = answers.iter().map(|a| a.question_id).collect();
            for (id, message) in &errors {
                assert!(asked.contains(id) || sent.contains(id), "error for {id}");
                assert!(!message.is_empty());
            }
        }
    }
}
