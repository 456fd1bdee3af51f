//! Why a login failed: from AD's bind data codes ([`ad_login_reason`]) or OpenLDAP's
//! password-policy response control ([`ppolicy_login_reason`]).

use super::ad_data::*;

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

/// AD's bind data codes (with result code `invalidCredentials`).
pub fn ad_login_reason(data: &str) -> LoginReason {
    match data {
        NO_SUCH_USER => LoginReason::UserNotFound,
        LOGON_FAILURE => LoginReason::InvalidCredentials,
        // Not permitted at this time, not at this workstation, disabled.
        INVALID_LOGON_HOURS | INVALID_WORKSTATION | ACCOUNT_DISABLED => LoginReason::AccountDisabled,
        PASSWORD_EXPIRED => LoginReason::PasswordExpired,
        ACCOUNT_EXPIRED => LoginReason::AccountExpired,
        PASSWORD_MUST_CHANGE => LoginReason::PasswordMustChange,
        ACCOUNT_LOCKED_OUT => LoginReason::AccountLocked,
        _ => LoginReason::InvalidCredentials,
    }
}

/// The OpenLDAP ppolicy response control's error (draft-behera-ldap-password-policy
/// §6.2): 0 passwordExpired, 1 accountLocked, 2 changeAfterReset; others are about
/// password changes.
pub fn ppolicy_login_reason(error: u8) -> Option<LoginReason> {
    match error {
        0 => Some(LoginReason::PasswordExpired),
        1 => Some(LoginReason::AccountLocked),
        2 => Some(LoginReason::PasswordMustChange),
        _ => None,
    }
}
