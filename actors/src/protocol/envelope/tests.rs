use super::*;
use serde_json::json;

const NOW: u64 = 1_795_000_000_000;

#[test]
fn defaults_follow_the_protocol() {
    let raw = json!({"id": "j-1", "type": "ldap.authenticate", "created_at": "2026-11-27T10:00:00Z",
        "payload": {"directory": "corp", "username": "alice", "password": "pw"}});
    let e = Envelope::parse(&raw, NOW).unwrap();
    assert_eq!(e.lane, Lane::Interactive);
    assert_eq!(e.deadline_ms - e.created_at_ms, 30_000);
    assert_eq!(e.ordering_key, "obj:corp:user:username=alice");
    assert!(e.invalid.is_none());
    let imp = json!({"id": "j-2", "type": "ldap.import", "payload": {"directory": "corp", "mode": "full"}});
    let e = Envelope::parse(&imp, NOW).unwrap();
    assert_eq!((e.lane, e.deadline_ms), (Lane::Bulk, NOW + 24 * 3_600_000));
}

#[test]
fn explicit_fields_win() {
    let raw = json!({"id": "j-1", "type": "ad.disable_user", "priority": "bulk", "ordering_key": "wf-42",
        "deadline": "2026-11-27T10:15:00Z", "payload": {"directory": "corp", "user": {"dn": "CN=a,DC=x"}}});
    let e = Envelope::parse(&raw, NOW).unwrap();
    assert_eq!(e.lane, Lane::Bulk);
    assert_eq!(e.ordering_key, "k:wf-42");
    assert_eq!(Some(e.deadline_ms), parse_rfc3339("2026-11-27T10:15:00Z"));
}

#[test]
fn unusable_ids_are_rejected_and_bad_fields_are_named() {
    assert!(Envelope::parse(&json!({"type": "x"}), NOW).is_err());
    assert!(Envelope::parse(&json!({"id": 5}), NOW).is_err());
    assert!(Envelope::parse(&json!({"id": "a".repeat(129)}), NOW).is_err());
    assert!(Envelope::parse(&json!([1, 2]), NOW).is_err());
    let e = Envelope::parse(
        &json!({"id": "j", "type": "ldap.authenticate", "priority": "urgent",
        "payload": {"directory": "corp", "username": "a", "password": "b"}}),
        NOW,
    )
    .unwrap();
    assert!(e.invalid.unwrap().message.contains("`priority`"));
    let e = Envelope::parse(&json!({"id": "j", "type": "ldap.authenticate", "payload": {"directory": "corp"}}), NOW)
        .unwrap();
    assert!(e.invalid.unwrap().message.contains("username"));
}

#[test]
fn an_oversized_job_is_invalid_and_its_payload_is_not_kept() {
    let big = "x".repeat(MAX_JOB_BYTES + 1);
    let e = Envelope::parse(&json!({"id": "j", "type": "test.noop", "payload": {"blob": big}}), 0).unwrap();
    assert!(e.invalid.unwrap().message.contains("bytes"));
    assert!(e.payload.is_empty());
}
