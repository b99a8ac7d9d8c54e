//! Answering a survey: from a link token to one anonymous response, or a clear refusal.

use crate::db::DbConnection;
use crate::domain::survey::RawAnswer;
use crate::error::AppError;
use crate::repo::{self, rounds::Invitation, rounds::Round, surveys::QuestionRow, surveys::Survey};
use crate::tokens::sha256_hex;
use chrono::{DateTime, Utc};
use std::collections::BTreeMap;

pub mod batch;
mod writer;

pub use writer::Writer;

/// Why a link no longer takes an answer. Pages show the three alike, so a
/// link reveals nothing; the API names them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    InvalidToken,
    RoundClosed,
    AlreadyAnswered,
}

impl Refusal {
    pub fn error(self) -> AppError {
        let (code, message) = match self {
            Self::InvalidToken => ("invalid_token", "this survey link is not valid"),
            Self::RoundClosed => ("round_closed", "this survey round has closed"),
            Self::AlreadyAnswered => ("already_answered", "this survey link has already been used"),
        };
        AppError::Gone {
            code,
            message: message.into(),
        }
    }
}

/// What the answering form shows.
pub struct OpenForm {
    pub invitation: Invitation,
    pub round: Round,
    pub survey: Survey,
    pub questions: Vec<QuestionRow>,
    /// "What we changed since last time": actions done since the survey's previous round.
    pub changes: Vec<crate::action_plans::Change>,
}

/// Looks the token up without changing anything: mail scanners open links.
pub fn open(
    conn: &mut DbConnection,
    token: &str,
    now: DateTime<Utc>,
) -> Result<Result<OpenForm, Refusal>, AppError> {
    let Some(invitation) = repo::rounds::invitation_by_token(conn, &sha256_hex(token))? else {
        return Ok(Err(Refusal::InvalidToken));
    };
    let round = repo::rounds::find(conn, invitation.round_id)?
        .ok_or_else(|| AppError::not_found("round"))?;
    if round.status != "open" || now.naive_utc() >= round.closes_at {
        return Ok(Err(Refusal::RoundClosed));
    }
    if invitation.responded {
        return Ok(Err(Refusal::AlreadyAnswered));
    }
    let survey =
        repo::surveys::find(conn, round.survey_id)?.ok_or_else(|| AppError::not_found("survey"))?;
    let questions = repo::surveys::questions(conn, survey.id, round.question_version)?;
    let questions = match repo::rotations::per_round(conn, survey.id, round.question_version)? {
        Some(k) => asked(questions, k, round.id, link_key(token)),
        None => questions,
    };
    let changes = crate::action_plans::changed_since_last_time(
        conn,
        invitation.employee_id,
        survey.id,
        round.scheduled_for,
        now.naive_utc(),
    )?;
    Ok(Ok(OpenForm {
        invitation,
        round,
        survey,
        questions,
        changes,
    }))
}

/// The key a link draws its rotating questions with: from the token itself,
/// which is never stored, so nothing in the database tells which questions a
/// person was asked, and so which response is theirs.
pub fn link_key(token: &str) -> u64 {
    use sha2::{Digest, Sha256};
    let digest = Sha256::digest(format!("pulse-rotation:{token}").as_bytes());
    let mut first = [0u8; 8];
    first.copy_from_slice(&digest[..8]);
    u64::from_be_bytes(first)
}

/// The questions of a rotating round that one link is asked, in survey order.
pub fn asked<T: AsQuestion>(
    questions: Vec<T>,
    per_round: usize,
    round_id: i32,
    key: u64,
) -> Vec<T> {
    let qs: Vec<_> = questions.iter().map(AsQuestion::as_question).collect();
    let keep = crate::domain::rotation::draw(&qs, per_round, round_id, key);
    questions
        .into_iter()
        .enumerate()
        .filter(|(i, _)| keep.contains(i))
        .map(|(_, q)| q)
        .collect()
}

/// A stored question row or a checked one: what the draw needs of either.
pub trait AsQuestion {
    fn as_question(&self) -> crate::domain::survey::Question;
}

impl AsQuestion for QuestionRow {
    fn as_question(&self) -> crate::domain::survey::Question {
        self.question()
    }
}

impl AsQuestion for (i32, crate::domain::survey::Question) {
    fn as_question(&self) -> crate::domain::survey::Question {
        self.1.clone()
    }
}

pub enum SubmitError {
    Refused(Refusal),
    /// Per question id: what to fix.
    Invalid(BTreeMap<i32, String>),
    Failed(AppError),
}

impl From<diesel::result::Error> for SubmitError {
    fn from(e: diesel::result::Error) -> Self {
        Self::Failed(e.into())
    }
}

impl From<AppError> for SubmitError {
    fn from(e: AppError) -> Self {
        Self::Failed(e)
    }
}

impl From<SubmitError> for AppError {
    fn from(e: SubmitError) -> Self {
        match e {
            SubmitError::Refused(r) => r.error(),
            SubmitError::Invalid(errors) => AppError::fields(
                errors
                    .into_iter()
                    .map(|(q, why)| (format!("answers.{q}"), why))
                    .collect(),
            ),
            SubmitError::Failed(e) => e,
        }
    }
}

/// One submission waiting for the writer: the token's hash (the token itself
/// goes no further than the handler), the answers as given, and when they came.
pub struct Submission {
    pub token_hash: String,
    /// `link_key` of the token: which questions a rotating round asked it.
    pub link_key: u64,
    pub answers: Vec<RawAnswer>,
    pub now: DateTime<Utc>,
    /// The hash of the private conversation link handed to the respondent, if any.
    pub conversation: Option<String>,
}

impl Submission {
    pub fn new(token: &str, answers: Vec<RawAnswer>, now: DateTime<Utc>) -> Self {
        Self {
            token_hash: sha256_hex(token),
            link_key: link_key(token),
            answers,
            now,
            conversation: None,
        }
    }

    /// Opens a private conversation on the response's comments, reached by
    /// `/c/<conversation_token>`: only its hash is stored, beside the anonymous response.
    pub fn with_conversation(mut self, conversation_token: &str) -> Self {
        self.conversation = Some(sha256_hex(conversation_token));
        self
    }

    /// Whether the answers hold a comment someone could reply to.
    pub fn has_comment(&self) -> bool {
        self.answers
            .iter()
            .any(|a| a.text.as_deref().is_some_and(|t| !t.trim().is_empty()))
    }
}
