use super::*;
use crate::errors::ErrorCode;

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

#[test]
fn every_named_ad_data_code_gives_its_login_reason() {
    use super::ad_data::*;
    let table = [
        (NO_SUCH_USER, LoginReason::UserNotFound),
        (LOGON_FAILURE, LoginReason::InvalidCredentials),
        (INVALID_LOGON_HOURS, LoginReason::AccountDisabled),
        (INVALID_WORKSTATION, LoginReason::AccountDisabled),
        (ACCOUNT_DISABLED, LoginReason::AccountDisabled),
        (PASSWORD_EXPIRED, LoginReason::PasswordExpired),
        (ACCOUNT_EXPIRED, LoginReason::AccountExpired),
        (PASSWORD_MUST_CHANGE, LoginReason::PasswordMustChange),
        (ACCOUNT_LOCKED_OUT, LoginReason::AccountLocked),
    ];
    for (data, reason) in table {
        assert_eq!(ad_login_reason(data), reason, "data {data}");
    }
    // The names hold the codes AD writes (Win32 error codes in hex).
    assert_eq!(u32::from_str_radix(LOGON_FAILURE, 16), Ok(1326));
    assert_eq!(u32::from_str_radix(ACCOUNT_LOCKED_OUT, 16), Ok(1909));
    assert_eq!(u32::from_str_radix(PASSWORD_RESTRICTION, 16), Ok(1325));
}

#[test]
fn predicates_name_the_codes_they_accept() {
    assert!(rc::is_unavailable(rc::BUSY) && rc::is_unavailable(rc::UNAVAILABLE));
    assert!(!rc::is_unavailable(rc::UNWILLING_TO_PERFORM));
    assert!(rc::is_complete_or_size_limited(rc::SUCCESS));
    assert!(rc::is_complete_or_size_limited(rc::SIZE_LIMIT_EXCEEDED));
    assert!(!rc::is_complete_or_size_limited(rc::NO_SUCH_OBJECT));
    let refused = LdapFailure::Result { rc: rc::INVALID_CREDENTIALS, text: String::new() };
    assert!(refused.is_invalid_credentials() && !refused.is_size_limit_exceeded());
    assert!(!LdapFailure::Timeout.is_invalid_credentials());
    assert_eq!(code_for(rc::BUSY, None), ErrorCode::DirectoryUnavailable);
    assert_eq!(code_for(rc::TIME_LIMIT_EXCEEDED, None), ErrorCode::Timeout);
    assert_eq!(code_for(rc::UNWILLING_TO_PERFORM, None), ErrorCode::ConstraintViolation);
}
