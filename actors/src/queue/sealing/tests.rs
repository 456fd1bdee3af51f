use super::*;
use serde_json::json;
use std::os::unix::fs::PermissionsExt;

#[test]
fn seals_round_trip_and_bind_to_the_job_id() {
    let dir = tempfile::tempdir().unwrap();
    let sealer = Sealer::open(dir.path()).unwrap();
    let mut payload =
        json!({"username": "a", "password": "Pw-123", "new_password": "N-9"}).as_object().unwrap().clone();
    let sealed = sealer.seal_secrets("j-1", &mut payload).unwrap();
    assert_eq!(payload.len(), 1);
    assert!(!String::from_utf8_lossy(&sealed).contains("Pw-123"));
    assert!(sealer.unseal_into("j-2", &sealed, &mut payload.clone()).is_err());
    // A key reopened from disk opens what the first one sealed.
    let again = Sealer::open(dir.path()).unwrap();
    again.unseal_into("j-1", &sealed, &mut payload).unwrap();
    assert_eq!(payload["password"], "Pw-123");
    let mode = fs::metadata(dir.path().join(KEY_FILE)).unwrap().permissions().mode();
    assert_eq!(mode & 0o777, 0o600);
}

#[test]
fn no_secret_fields_means_nothing_sealed() {
    let dir = tempfile::tempdir().unwrap();
    let sealer = Sealer::open(dir.path()).unwrap();
    let mut payload = json!({"directory": "corp"}).as_object().unwrap().clone();
    assert!(sealer.seal_secrets("j", &mut payload).is_none());
}

#[test]
fn password_like_attribute_values_are_sealed_in_every_attribute_map() {
    let dir = tempfile::tempdir().unwrap();
    let sealer = Sealer::open(dir.path()).unwrap();
    let original = json!({"directory": "ad", "sam_account_name": "x",
        "attributes": {"description": ["kept"], "userPassword": ["Clear-Pw-1"], "OID.2.5.4.35;binary": ["Clear-Pw-2"]},
        "replace": {"unicodePwd": ["Clear-Pw-3"]}});
    let mut payload = original.as_object().unwrap().clone();
    let sealed = sealer.seal_secrets("j-1", &mut payload).unwrap();
    let stored = Value::Object(payload.clone()).to_string();
    assert!(!stored.contains("Clear-Pw"), "{stored}");
    assert!(stored.contains("kept"));
    assert!(!String::from_utf8_lossy(&sealed).contains("Clear-Pw"));
    sealer.unseal_into("j-1", &sealed, &mut payload).unwrap();
    assert_eq!(Value::Object(payload), original);
}

#[test]
fn maps_of_the_wrong_type_and_secret_sounding_fields_are_sealed_whole() {
    let dir = tempfile::tempdir().unwrap();
    let sealer = Sealer::open(dir.path()).unwrap();
    let original = json!({"directory": "ad", "must_change_password": true,
        "attributes": [{"userPassword": ["Kiwi-1"]}], "replace": [["unicodePwd", "Kiwi-2"]], "Password": "Kiwi-3"});
    let mut payload = original.as_object().unwrap().clone();
    let sealed = sealer.seal_secrets("j-1", &mut payload).unwrap();
    let stored = Value::Object(payload.clone()).to_string();
    assert!(!stored.contains("Kiwi"), "{stored}");
    assert!(stored.contains("must_change_password"), "{stored}");
    sealer.unseal_into("j-1", &sealed, &mut payload).unwrap();
    assert_eq!(Value::Object(payload), original);
}
