use super::*;

#[test]
fn codes_serialize_as_the_protocol_spells_them() {
    for code in [ErrorCode::InvalidJob, ErrorCode::ForbiddenByPolicy, ErrorCode::DeadlineExceeded] {
        let json = serde_json::to_value(code).unwrap();
        assert_eq!(json, Value::String(code.as_str().to_owned()));
    }
}

#[test]
fn only_transient_codes_are_retryable() {
    assert!(ErrorCode::DirectoryUnavailable.retryable());
    assert!(ErrorCode::Timeout.retryable());
    assert!(!ErrorCode::InvalidJob.retryable());
    assert!(!ErrorCode::Internal.retryable());
}
