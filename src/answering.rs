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
    pub answers: Vec<RawAnswer>,
    pub now: DateTime<Utc>,
    /// The hash of the private conversation link handed to the respondent, if any.
    pub conversation: Option<String>,
}

impl Submission {
    pub fn new(token: &str, answers: Vec<RawAnswer>, now: DateTime<Utc>) -> Self {
        Self {
            token_hash: sha256_hex(token),
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
