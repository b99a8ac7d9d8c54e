//! AppError: every failure a request can meet, and how it is shown.
//!
//! Policy: a client's mistake becomes a 4xx whose message says what to fix
//! (and, for forms, which field); anything else is logged in full and shown as
//! a bare 500 that leaks no internals. Bad input never reaches the 500 arm.

use actix_web::http::{header, StatusCode};
use actix_web::{HttpResponse, ResponseError};
use serde::Serialize;
use std::collections::BTreeMap;

pub use crate::domain::people_csv::LineError as CsvLineError;

#[derive(Debug, thiserror::Error)]
pub enum AppError {
    #[error("{0}")]
    BadRequest(String),
    #[error("{message}")]
    Validation {
        message: String,
        fields: BTreeMap<String, String>,
    },
    #[error("the CSV file has {} bad line(s); nothing was imported", .0.len())]
    InvalidCsv(Vec<CsvLineError>),
    #[error("{0}")]
    Unauthorized(String),
    #[error("wrong email or password")]
    InvalidCredentials,
    #[error("{0}")]
    Forbidden(String),
    #[error("{0}")]
    NotFound(String),
    /// Answered with the `Allow` header the route gives it.
    #[error("{0}")]
    MethodNotAllowed(String),
    #[error("{message}")]
    Conflict { code: &'static str, message: String },
    #[error("{message}")]
    Gone { code: &'static str, message: String },
    #[error("{0}")]
    PayloadTooLarge(String),
    #[error("too many failed sign-ins; try again in {retry_after_secs} seconds")]
    RateLimited { retry_after_secs: u64 },
    #[error("the database is unavailable")]
    Unavailable(String),
    #[error("internal error")]
    Internal(#[from] anyhow::Error),
}

pub type AppResult<T> = Result<T, AppError>;

#[derive(Serialize, utoipa::ToSchema)]
pub struct ErrorBody {
    /// Stable machine-readable code, e.g. `validation_failed`.
    pub error: String,
    /// What went wrong and what to do about it, for a person.
    pub message: String,
    /// Per-field reasons, for forms.
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub fields: BTreeMap<String, String>,
    /// Every bad line of a CSV upload.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub errors: Option<Vec<CsvLineError>>,
}

impl AppError {
    /// A 422 for one field.
    pub fn field(field: &str, why: impl Into<String>) -> Self {
        let why = why.into();
        Self::Validation {
            message: format!("{field}: {why}"),
            fields: BTreeMap::from([(field.to_string(), why)]),
        }
    }

    /// A 422 for several fields at once, so a form shows every problem together.
    pub fn fields(fields: BTreeMap<String, String>) -> Self {
        let message = fields
            .iter()
            .map(|(k, v)| format!("{k}: {v}"))
            .collect::<Vec<_>>()
            .join("; ");
        Self::Validation { message, fields }
    }

    pub fn not_found(what: &str) -> Self {
        Self::NotFound(format!("{what} not found"))
    }

    pub fn code(&self) -> &'static str {
        match self {
            Self::BadRequest(_) => "bad_request",
            Self::Validation { .. } => "validation_failed",
            Self::InvalidCsv(_) => "invalid_csv",
            Self::Unauthorized(_) => "unauthorized",
            Self::InvalidCredentials => "invalid_credentials",
            Self::Forbidden(_) => "forbidden",
            Self::NotFound(_) => "not_found",
            Self::MethodNotAllowed(_) => "method_not_allowed",
            Self::Conflict { code, .. } | Self::Gone { code, .. } => code,
            Self::PayloadTooLarge(_) => "payload_too_large",
            Self::RateLimited { .. } => "rate_limited",
            Self::Unavailable(_) => "unavailable",
            Self::Internal(_) => "internal_error",
        }
    }

    pub fn body(&self) -> ErrorBody {
        let (fields, errors) = match self {
            Self::Validation { fields, .. } => (fields.clone(), None),
            Self::InvalidCsv(lines) => (BTreeMap::new(), Some(lines.clone())),
            _ => (BTreeMap::new(), None),
        };
        ErrorBody {
            error: self.code().into(),
            message: self.to_string(),
            fields,
            errors,
        }
    }
}

impl ResponseError for AppError {
    fn status_code(&self) -> StatusCode {
        match self {
            Self::BadRequest(_) => StatusCode::BAD_REQUEST,
            Self::Validation { .. } | Self::InvalidCsv(_) => StatusCode::UNPROCESSABLE_ENTITY,
            Self::Unauthorized(_) | Self::InvalidCredentials => StatusCode::UNAUTHORIZED,
            Self::Forbidden(_) => StatusCode::FORBIDDEN,
            Self::NotFound(_) => StatusCode::NOT_FOUND,
            Self::MethodNotAllowed(_) => StatusCode::METHOD_NOT_ALLOWED,
            Self::Conflict { .. } => StatusCode::CONFLICT,
            Self::Gone { .. } => StatusCode::GONE,
            Self::PayloadTooLarge(_) => StatusCode::PAYLOAD_TOO_LARGE,
            Self::RateLimited { .. } => StatusCode::TOO_MANY_REQUESTS,
            Self::Unavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
            Self::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    fn error_response(&self) -> HttpResponse {
        match self {
            Self::Internal(e) => tracing::error!(error = ?e, "request failed"),
            Self::Unavailable(e) => tracing::error!(error = %e, "database unavailable"),
            _ => {}
        }
        let mut res = HttpResponse::build(self.status_code());
        if let Self::RateLimited { retry_after_secs } = self {
            res.insert_header((header::RETRY_AFTER, retry_after_secs.to_string()));
        }
        if let Self::Unavailable(_) = self {
            res.insert_header((header::RETRY_AFTER, "1"));
        }
        res.json(self.body())
    }
}

impl From<diesel::result::Error> for AppError {
    fn from(e: diesel::result::Error) -> Self {
        match e {
            diesel::result::Error::NotFound => Self::NotFound("not found".into()),
            // Writers wait for one another (IMMEDIATE transactions, busy
            // timeout); one that waited longer still is told to retry, not
            // shown a crash.
            diesel::result::Error::DatabaseError(_, info)
                if info.message().contains("database is locked") =>
            {
                Self::Unavailable(format!("SQLite stayed locked: {}", info.message()))
            }
            other => Self::Internal(other.into()),
        }
    }
}

impl From<actix_web::error::BlockingError> for AppError {
    fn from(e: actix_web::error::BlockingError) -> Self {
        Self::Internal(anyhow::anyhow!("blocking task failed: {e}"))
    }
}

impl From<diesel::r2d2::PoolError> for AppError {
    fn from(e: diesel::r2d2::PoolError) -> Self {
        Self::Unavailable(e.to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use diesel::result::{DatabaseErrorKind, Error};

    #[test]
    fn a_lock_that_outlasts_the_busy_timeout_is_503_with_retry_after() {
        let locked = Error::DatabaseError(
            DatabaseErrorKind::Unknown,
            Box::new("database is locked".to_string()),
        );
        let e = AppError::from(locked);
        assert_eq!(e.status_code(), StatusCode::SERVICE_UNAVAILABLE);
        let res = e.error_response();
        assert_eq!(res.headers().get(header::RETRY_AFTER).unwrap(), "1");
        let other = Error::DatabaseError(DatabaseErrorKind::Unknown, Box::new("boom".to_string()));
        assert_eq!(
            AppError::from(other).status_code(),
            StatusCode::INTERNAL_SERVER_ERROR
        );
    }
}
