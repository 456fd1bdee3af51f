//! What went wrong talking to a directory ([`LdapFailure`]), and the one table from a
//! result code (with AD's data code) to the protocol's error code ([`code_for`]).

use super::{ad_data, ad_data_code, rc};
use crate::errors::{ErrorCode, JobError};

/// What went wrong talking to a directory.
#[derive(Debug, Clone, thiserror::Error, PartialEq)]
pub enum LdapFailure {
    #[error("cannot connect: {0}")]
    Connect(String),
    #[error("the connection was lost: {0}")]
    Lost(String),
    #[error("the directory did not answer in time")]
    Timeout,
    #[error("the directory answered result code {rc}: {text}")]
    Result { rc: u32, text: String },
    #[error("unreadable answer from the directory: {0}")]
    Protocol(String),
}

impl LdapFailure {
    /// An operation's outcome: `Ok` only for result code 0.
    pub fn checked(res: Result<ldap3::LdapResult, ldap3::LdapError>) -> Result<(), LdapFailure> {
        LdapFailure::success(res.map_err(LdapFailure::from_ldap)?)
    }

    /// `Ok` for `success`, else the result as a [`LdapFailure::Result`].
    pub fn success(r: ldap3::LdapResult) -> Result<(), LdapFailure> {
        if r.rc == rc::SUCCESS {
            Ok(())
        } else {
            Err(LdapFailure::Result { rc: r.rc, text: r.text })
        }
    }

    pub fn from_ldap(e: ldap3::LdapError) -> LdapFailure {
        match e {
            ldap3::LdapError::Timeout { .. } => LdapFailure::Timeout,
            ldap3::LdapError::LdapResult { result } => LdapFailure::Result { rc: result.rc, text: result.text },
            other => LdapFailure::Lost(other.to_string()),
        }
    }

    pub fn rc(&self) -> Option<u32> {
        match self {
            LdapFailure::Result { rc, .. } => Some(*rc),
            _ => None,
        }
    }

    /// The directory refused the bind's name or password ([`rc::INVALID_CREDENTIALS`]).
    pub fn is_invalid_credentials(&self) -> bool {
        self.rc() == Some(rc::INVALID_CREDENTIALS)
    }

    /// The directory cut a search short at its size limit ([`rc::SIZE_LIMIT_EXCEEDED`]).
    pub fn is_size_limit_exceeded(&self) -> bool {
        self.rc() == Some(rc::SIZE_LIMIT_EXCEEDED)
    }

    /// The job error, with `ldap_result_code` and AD's `data` code in `details`.
    pub fn to_job_error(&self, what: &str) -> JobError {
        let code = match self {
            LdapFailure::Connect(_) | LdapFailure::Lost(_) => ErrorCode::DirectoryUnavailable,
            LdapFailure::Timeout => ErrorCode::Timeout,
            LdapFailure::Protocol(_) => ErrorCode::Internal,
            LdapFailure::Result { rc, text } => code_for(*rc, ad_data_code(text).as_deref()),
        };
        let mut e = JobError::new(code, format!("{what}: {self}"));
        if let LdapFailure::Result { rc, text } = self {
            e = e.with_detail("ldap_result_code", *rc);
            if let Some(data) = ad_data_code(text) {
                e = e.with_detail("data", data);
            }
        }
        e
    }
}

/// Result code (and AD data code) → protocol error code. One line each.
pub fn code_for(code: u32, data: Option<&str>) -> ErrorCode {
    use ad_data::{INVALID_PASSWORD, PASSWORD_RESTRICTION};
    use rc::*;
    match (code, data) {
        // constraintViolation with data 0000052D: password complexity, history or length.
        (CONSTRAINT_VIOLATION, Some(PASSWORD_RESTRICTION)) | (UNWILLING_TO_PERFORM, Some(PASSWORD_RESTRICTION)) => {
            ErrorCode::PasswordPolicy
        }
        // AD answers a wrong old password of a self-service change with 19 / data 56.
        (CONSTRAINT_VIOLATION, Some(INVALID_PASSWORD)) => ErrorCode::InvalidCredentials,
        (CONSTRAINT_VIOLATION, _) => ErrorCode::ConstraintViolation,
        (NO_SUCH_OBJECT, _) => ErrorCode::UserNotFound,
        (INVALID_CREDENTIALS, _) => ErrorCode::InvalidCredentials,
        (INSUFFICIENT_ACCESS_RIGHTS, _) => ErrorCode::InsufficientAccess,
        (ENTRY_ALREADY_EXISTS, _) => ErrorCode::AlreadyExists,
        // busy, unavailable: a DC starting, shutting down or overloaded.
        (c, _) if is_unavailable(c) => ErrorCode::DirectoryUnavailable,
        (TIME_LIMIT_EXCEEDED, _) => ErrorCode::Timeout,
        (ATTRIBUTE_OR_VALUE_EXISTS, _)
        | (INVALID_ATTRIBUTE_SYNTAX, _)
        | (OBJECT_CLASS_VIOLATION, _)
        | (NOT_ALLOWED_ON_RDN, _)
        | (OBJECT_CLASS_MODS_PROHIBITED, _) => ErrorCode::ConstraintViolation,
        (UNWILLING_TO_PERFORM, _) => ErrorCode::ConstraintViolation,
        _ => ErrorCode::Internal,
    }
}
