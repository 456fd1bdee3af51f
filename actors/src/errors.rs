//! The protocol's job error codes (PROTOCOL.md §3 "Error codes") and the one place that
//! decides, for each, whether the connector retries it.
//!
//! Every boundary (LDAP, AD, the queue, payload parsing) has its own typed error; each
//! converts into a [`JobError`] here, so the mapping to wire codes lives in one file.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ErrorCode {
    InvalidJob,
    UnknownDirectory,
    UserNotFound,
    GroupNotFound,
    AlreadyExists,
    InvalidCredentials,
    PasswordPolicy,
    InsufficientAccess,
    ForbiddenByPolicy,
    ConstraintViolation,
    DirectoryUnavailable,
    Timeout,
    Cancelled,
    DeadlineExceeded,
    Internal,
}

impl ErrorCode {
    /// Whether a job failing with this code is run again (with backoff, until its
    /// deadline). One line per code, with the reason.
    pub fn retryable(self) -> bool {
        match self {
            // The job itself is wrong: running it again gives the same answer.
            ErrorCode::InvalidJob | ErrorCode::UnknownDirectory => false,
            // The directory answered definitively about the data.
            ErrorCode::UserNotFound | ErrorCode::GroupNotFound | ErrorCode::AlreadyExists => false,
            ErrorCode::InvalidCredentials | ErrorCode::PasswordPolicy => false,
            ErrorCode::InsufficientAccess | ErrorCode::ForbiddenByPolicy => false,
            ErrorCode::ConstraintViolation => false,
            // Transient: the directory may be back, or less busy, on the next try.
            ErrorCode::DirectoryUnavailable | ErrorCode::Timeout => true,
            // Terminal by definition.
            ErrorCode::Cancelled | ErrorCode::DeadlineExceeded => false,
            // A bug or an unexpected state: retrying hides it and may repeat a side effect.
            ErrorCode::Internal => false,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            ErrorCode::InvalidJob => "invalid_job",
            ErrorCode::UnknownDirectory => "unknown_directory",
            ErrorCode::UserNotFound => "user_not_found",
            ErrorCode::GroupNotFound => "group_not_found",
            ErrorCode::AlreadyExists => "already_exists",
            ErrorCode::InvalidCredentials => "invalid_credentials",
            ErrorCode::PasswordPolicy => "password_policy",
            ErrorCode::InsufficientAccess => "insufficient_access",
            ErrorCode::ForbiddenByPolicy => "forbidden_by_policy",
            ErrorCode::ConstraintViolation => "constraint_violation",
            ErrorCode::DirectoryUnavailable => "directory_unavailable",
            ErrorCode::Timeout => "timeout",
            ErrorCode::Cancelled => "cancelled",
            ErrorCode::DeadlineExceeded => "deadline_exceeded",
            ErrorCode::Internal => "internal",
        }
    }
}

/// A job's failure as it goes on the wire (`"error": {...}` of a result).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct JobError {
    pub code: ErrorCode,
    pub message: String,
    pub retryable: bool,
    #[serde(default)]
    pub details: Map<String, Value>,
}

impl JobError {
    pub fn new(code: ErrorCode, message: impl Into<String>) -> Self {
        JobError { code, message: message.into(), retryable: code.retryable(), details: Map::new() }
    }

    pub fn invalid_job(message: impl Into<String>) -> Self {
        JobError::new(ErrorCode::InvalidJob, message)
    }

    pub fn internal(message: impl Into<String>) -> Self {
        JobError::new(ErrorCode::Internal, message)
    }

    pub fn with_detail(mut self, key: &str, value: impl Into<Value>) -> Self {
        self.details.insert(key.to_owned(), value.into());
        self
    }
}

impl std::fmt::Display for JobError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.code.as_str(), self.message)
    }
}

impl std::error::Error for JobError {}

pub mod reply;
pub mod tls;
pub use reply::{Reply, Transient};
pub use tls::TlsProblem;

#[cfg(test)]
mod tests;
