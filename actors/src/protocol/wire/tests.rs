use super::*;
use serde_json::json;

#[test]
fn commands_parse_by_type_and_unknown_ones_are_kept() {
    let c = Command::parse(&json!({"id": "c-19", "type": "cancel_job", "job_id": "j-100"}));
    assert_eq!(c, Some(Command::CancelJob { id: "c-19".into(), job_id: "j-100".into() }));
    let u = Command::parse(&json!({"id": "c-1", "type": "reboot"})).unwrap();
    assert_eq!(u.id(), "c-1");
    assert!(matches!(u, Command::Unknown { .. }));
    assert_eq!(Command::parse(&json!({"type": "cancel_job"})), None);
}

#[test]
fn command_numbers_and_ids_are_bounded() {
    let s = Command::parse(&json!({"id": "c", "type": "stream_logs", "request_id": "ls", "duration_s": u64::MAX}));
    assert!(matches!(s, Some(Command::StreamLogs { duration_s: 86_400, .. })), "{s:?}");
    let s = Command::parse(&json!({"id": "c", "type": "stream_logs", "request_id": "ls", "duration_s": 0}));
    assert!(matches!(s, Some(Command::StreamLogs { duration_s: 1, .. })), "{s:?}");
    let long = "x".repeat(129);
    assert_eq!(Command::parse(&json!({"id": long, "type": "cancel_job", "job_id": "j"})), None);
    assert_eq!(Command::parse(&json!({"id": "c", "type": "cancel_job", "job_id": long})), None);
    assert_eq!(Command::parse(&json!({"id": "c", "type": "upload_logs", "request_id": long})), None);
}

#[test]
fn register_answers_with_absurd_numbers_parse() {
    let r: RegisterResponse = serde_json::from_value(
        json!({"connector_id": "c", "heartbeat_interval_s": u64::MAX, "poll_timeout_s": 0, "server_time": "x"}),
    )
    .unwrap();
    assert_eq!((r.heartbeat_interval_s, r.poll_timeout_s), (u64::MAX, 0), "bounded by the session, not here");
    let r: RegisterResponse =
        serde_json::from_value(json!({"connector_id": "c", "heartbeat_interval_s": -5, "poll_timeout_s": 1e300}))
            .unwrap();
    assert_eq!((r.heartbeat_interval_s, r.poll_timeout_s), (0, u64::MAX));
    let r: RegisterResponse = serde_json::from_value(json!({"connector_id": "c", "poll_timeout_s": 2.7})).unwrap();
    assert_eq!((r.heartbeat_interval_s, r.poll_timeout_s), (30, 2));
}
