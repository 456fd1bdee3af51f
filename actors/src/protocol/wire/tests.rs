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
