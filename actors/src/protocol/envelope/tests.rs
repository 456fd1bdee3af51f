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

#[test]
fn absurd_numbers_and_times_are_clamped_or_refused() {
    let base = json!({"id": "j", "type": "ldap.authenticate", "lease_s": 0, "attempt": u64::MAX,
        "payload": {"directory": "corp", "username": "a", "password": "b"}});
    let e = Envelope::parse(&base, NOW).unwrap();
    assert_eq!((e.lease_s, e.attempt), (1, 1_000_000));
    for (field, when) in [
        ("deadline", "9999-12-31T23:59:59Z"),
        ("deadline", "1970-01-01T00:00:00Z"),
        ("created_at", "1970-01-01T00:00:01Z"),
    ] {
        let mut raw = base.clone();
        raw[field] = json!(when);
        let e = Envelope::parse(&raw, NOW).unwrap();
        let why = e.invalid.map(|i| i.message).unwrap_or_default();
        assert!(why.contains(&format!("`{field}`")) && why.contains("year"), "{field} {when}: {why}");
    }
    let mut far = base.clone();
    far["deadline"] = json!(crate::time::rfc3339(NOW + 200 * 24 * 3_600_000));
    let e = Envelope::parse(&far, NOW).unwrap();
    assert!(e.invalid.is_none(), "{:?}", e.invalid);
    assert_eq!(e.deadline_ms, NOW + 30 * 24 * 3_600_000, "kept at most 30 days");
    let mut huge_id = base.clone();
    huge_id["id"] = json!("i".repeat(1 << 20));
    assert!(Envelope::parse(&huge_id, NOW).unwrap_err().reason.contains("longer than 128"));
}

#[test]
fn times_move_to_the_local_clock_by_the_measured_offset() {
    // The server's clock is 30 s behind the local one: a login offered now has a
    // deadline 30 s after the server's now, which is the local now + 0 s unconverted.
    let server_now = NOW - 30_000;
    let raw = json!({"id": "j", "type": "ldap.authenticate", "created_at": crate::time::rfc3339(server_now),
        "payload": {"directory": "corp", "username": "a", "password": "b"}});
    let mut e = Envelope::parse(&raw, server_now).unwrap();
    assert_eq!(e.deadline_ms, NOW, "on the server's clock");
    e.to_local_clock(-30_000);
    assert_eq!((e.created_at_ms, e.deadline_ms), (NOW, NOW + 30_000), "30 s left on the local clock");
    e.to_local_clock(i64::MIN);
    assert!(e.deadline_ms > NOW + 30_000, "saturates, never panics");
    e.to_local_clock(i64::MAX);
    e.to_local_clock(i64::MAX);
    assert_eq!(e.created_at_ms, 0, "saturates at the epoch");
}
