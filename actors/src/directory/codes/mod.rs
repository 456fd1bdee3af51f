//! LDAP result codes and Active Directory diagnostic data codes, mapped in one table to
//! the protocol's error codes and login reasons.

use crate::errors::{ErrorCode, JobError};

/// LDAP result codes (RFC 4511 §4.1.9 and Appendix A), named once.
pub mod rc {
    pub const SUCCESS: u32 = 0;
    pub const NO_SUCH_ATTRIBUTE: u32 = 16;
    pub const CONSTRAINT_VIOLATION: u32 = 19;
    pub const ATTRIBUTE_OR_VALUE_EXISTS: u32 = 20;
    pub const NO_SUCH_OBJECT: u32 = 32;
    pub const INVALID_CREDENTIALS: u32 = 49;
    pub const INSUFFICIENT_ACCESS_RIGHTS: u32 = 50;
    pub const UNWILLING_TO_PERFORM: u32 = 53;
    pub const ENTRY_ALREADY_EXISTS: u32 = 68;
}

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
        let r = res.map_err(LdapFailure::from_ldap)?;
        if r.rc == 0 {
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
pub fn code_for(rc: u32, data: Option<&str>) -> ErrorCode {
    match (rc, data) {
        // constraintViolation with data 0000052D: password complexity, history or length.
        (19, Some("52d")) | (53, Some("52d")) => ErrorCode::PasswordPolicy,
        // AD answers a wrong old password of a self-service change with 19 / data 56.
        (19, Some("56")) => ErrorCode::InvalidCredentials,
        (19, _) => ErrorCode::ConstraintViolation,
        (32, _) => ErrorCode::UserNotFound, // noSuchObject
        (49, _) => ErrorCode::InvalidCredentials,
        (50, _) => ErrorCode::InsufficientAccess,
        (68, _) => ErrorCode::AlreadyExists,
        // busy, unavailable, unwillingToPerform on a DC shutting down, other/loopDetect.
        (51, _) | (52, _) => ErrorCode::DirectoryUnavailable,
        (3, _) => ErrorCode::Timeout,
        (20, _) | (21, _) | (65, _) | (67, _) | (69, _) => ErrorCode::ConstraintViolation,
        (53, _) => ErrorCode::ConstraintViolation,
        _ => ErrorCode::Internal,
    }
}

/// The hex `data` code of an AD diagnostic message ("…, data 52e, v4563"), lower-case,
/// without leading zeros.
pub fn ad_data_code(text: &str) -> Option<String> {
    let code: String = match text.find("data ") {
        Some(i) => text[i + 5..].chars().take_while(|c| c.is_ascii_hexdigit()).collect(),
        // Samba and AD also lead with the code itself: "0000052D: Constraint violation …".
        None => {
            let lead: String = text.chars().take_while(|c| c.is_ascii_hexdigit()).collect();
            if lead.len() == 8 && text[8..].starts_with(':') {
                lead
            } else {
                String::new()
            }
        }
    };
    if code.is_empty() {
        return None;
    }
    let trimmed = code.trim_start_matches('0');
    Some(if trimmed.is_empty() { "0".into() } else { trimmed.to_lowercase() })
}

/// Why a login failed, as the protocol names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LoginReason {
    InvalidCredentials,
    UserNotFound,
    AccountDisabled,
    AccountLocked,
    AccountExpired,
    PasswordExpired,
    PasswordMustChange,
}

impl LoginReason {
    pub fn as_str(self) -> &'static str {
        match self {
            LoginReason::InvalidCredentials => "invalid_credentials",
            LoginReason::UserNotFound => "user_not_found",
            LoginReason::AccountDisabled => "account_disabled",
            LoginReason::AccountLocked => "account_locked",
            LoginReason::AccountExpired => "account_expired",
            LoginReason::PasswordExpired => "password_expired",
            LoginReason::PasswordMustChange => "password_must_change",
        }
    }
}

/// AD's bind data codes (rc 49).
pub fn ad_login_reason(data: &str) -> LoginReason {
    match data {
        "525" => LoginReason::UserNotFound,
        "52e" => LoginReason::InvalidCredentials,
        // 530: not permitted at this time; 531: not at this workstation; 533: disabled.
        "530" | "531" | "533" => LoginReason::AccountDisabled,
        "532" => LoginReason::PasswordExpired,
        "701" => LoginReason::AccountExpired,
        "773" => LoginReason::PasswordMustChange,
        "775" => LoginReason::AccountLocked,
        _ => LoginReason::InvalidCredentials,
    }
}

/// The OpenLDAP ppolicy response control's error (draft-behera): 0 passwordExpired,
/// 1 accountLocked, 2 changeAfterReset; others are about password changes.
pub fn ppolicy_login_reason(error: u8) -> Option<LoginReason> {
    match error {
        0 => Some(LoginReason::PasswordExpired),
        1 => Some(LoginReason::AccountLocked),
        2 => Some(LoginReason::PasswordMustChange),
        _ => None,
    }
}

pub const PPOLICY_OID: &str = "1.3.6.1.4.1.42.2.27.8.5.1";

/// Reads the `error` field of a ppolicy response control value:
/// `SEQUENCE { warning [0] … OPTIONAL, error [1] ENUMERATED OPTIONAL }`.
pub fn ppolicy_error(value: &[u8]) -> Option<u8> {
    let (tag, body) = tlv(value)?;
    if tag != 0x30 {
        return None;
    }
    let mut rest = body;
    while !rest.is_empty() {
        let (tag, inner) = tlv(rest)?;
        let consumed = header_len(rest)? + inner.len();
        if tag == 0x81 {
            return inner.last().copied();
        }
        rest = rest.get(consumed..)?;
    }
    None
}

fn header_len(b: &[u8]) -> Option<usize> {
    let first = *b.get(1)?;
    Some(if first < 0x80 { 2 } else { 2 + (first & 0x7f) as usize })
}

fn tlv(b: &[u8]) -> Option<(u8, &[u8])> {
    let tag = *b.first()?;
    let first = *b.get(1)?;
    let (len, start) = if first < 0x80 {
        (first as usize, 2)
    } else {
        let n = (first & 0x7f) as usize;
        let mut len = 0usize;
        for i in 0..n {
            len = (len << 8) | *b.get(2 + i)? as usize;
        }
        (len, 2 + n)
    };
    Some((tag, b.get(start..start + len)?))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ad_data_codes_are_read_from_the_diagnostic_text() {
        let text = "80090308: LdapErr: DSID-0C09041C, comment: AcceptSecurityContext error, data 52e, v4563";
        assert_eq!(ad_data_code(text).as_deref(), Some("52e"));
        assert_eq!(
            ad_data_code("0000052D: Constraint violation - check_password_restrictions, data 0000052D").as_deref(),
            Some("52d")
        );
        assert_eq!(ad_data_code("no code here"), None);
        let samba = "0000052D: Constraint violation - check_password_restrictions: the password is too short.";
        assert_eq!(ad_data_code(samba).as_deref(), Some("52d"));
        assert_eq!(code_for(19, ad_data_code(samba).as_deref()), ErrorCode::PasswordPolicy);
        assert_eq!(ad_login_reason("775"), LoginReason::AccountLocked);
        assert_eq!(ad_login_reason("533"), LoginReason::AccountDisabled);
    }

    #[test]
    fn result_codes_map_to_protocol_codes() {
        assert_eq!(code_for(19, Some("52d")), ErrorCode::PasswordPolicy);
        assert_eq!(code_for(50, None), ErrorCode::InsufficientAccess);
        assert_eq!(code_for(51, None), ErrorCode::DirectoryUnavailable);
        assert_eq!(code_for(68, None), ErrorCode::AlreadyExists);
    }

    #[test]
    fn ppolicy_control_error_is_parsed() {
        // SEQUENCE { error [1] 1 } = account locked
        assert_eq!(ppolicy_error(&[0x30, 0x03, 0x81, 0x01, 0x01]), Some(1));
        // SEQUENCE { warning [0] { graceAuthNsRemaining [1] 2 }, error [1] 0 }
        assert_eq!(ppolicy_error(&[0x30, 0x08, 0xa0, 0x03, 0x81, 0x01, 0x02, 0x81, 0x01, 0x00]), Some(0));
        assert_eq!(ppolicy_error(&[0x30, 0x00]), None);
        assert_eq!(ppolicy_error(&[0x30, 0x05, 0x81]), None);
    }
}
