use super::*;
use crate::ldap::withheld::Withholding;

fn entry(attrs: Vec<(&str, Vec<&[u8]>)>) -> RawEntry {
    RawEntry {
        dn: "CN=Alice\\2C Example,OU=Staff,DC=example,DC=test".into(),
        attributes: attrs
            .into_iter()
            .map(|(n, v)| (n.to_owned(), v.into_iter().map(<[u8]>::to_vec).collect()))
            .collect(),
    }
}

#[test]
fn guids_sids_binary_and_enabled_follow_the_protocol() {
    let guid: [u8; 16] =
        [0xb6, 0xc7, 0xf0, 0xb7, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08, 0x09, 0x0a, 0x0b, 0x0c];
    let sid: Vec<u8> = vec![1, 4, 0, 0, 0, 0, 0, 5, 21, 0, 0, 0, 1, 0, 0, 0, 2, 0, 0, 0, 0xe9, 0x03, 0, 0];
    let e = entry(vec![
        ("objectGUID", vec![&guid]),
        ("objectSid", vec![&sid]),
        ("sAMAccountName", vec![b"alice"]),
        ("thumbnailPhoto", vec![b"\xff\xd8\xff"]),
        ("userAccountControl", vec![b"66050"]),
        ("unicodePwd", vec![b"secret"]),
        ("mail", vec![b"a@x.test", "\u{e9}l\u{e8}ve@x.test".as_bytes()]),
    ]);
    let r = build(DirectoryKind::ActiveDirectory, &e);
    assert_eq!(r["guid"], "b7f0c7b6-0201-0403-0506-0708090a0b0c");
    assert_eq!(r["attributes"]["objectSid"][0], "S-1-5-21-1-2-1001");
    assert_eq!(r["binary_attributes"]["thumbnailPhoto"][0], "/9j/");
    assert_eq!(r["enabled"], false);
    assert!(r["attributes"].get("unicodePwd").is_none());
    assert_eq!(r["attributes"]["mail"][1], "\u{e9}l\u{e8}ve@x.test");
    assert_eq!(guid_bytes("b7f0c7b6-0201-0403-0506-0708090a0b0c"), Some(guid));
    let direct: Value = serde_json::from_str(&to_json(DirectoryKind::ActiveDirectory, &e)).unwrap();
    assert_eq!(direct, r, "the direct writer and the Value builder disagree");
}

#[test]
fn ldap_entries_use_entry_uuid_and_have_no_enabled_flag() {
    let e = entry(vec![("entryUUID", vec![b"0f6e-uuid"]), ("userPassword", vec![b"{SSHA}x"]), ("uid", vec![b"a"])]);
    let r = build(DirectoryKind::Ldap, &e);
    assert_eq!((r["guid"].as_str(), r["enabled"].is_null()), (Some("0f6e-uuid"), true));
    assert!(r["attributes"].get("userPassword").is_none());
}

/// A Windows DC answers a group of more than MaxValRange (1,500) members with an empty
/// `member` and `member;range=0-1499` ([MS-ADTS] 3.1.1.3.1.3.3 "Range Retrieval of
/// Attribute Values"); the import appends the followed ranges to the ranged one.
#[test]
fn ranged_values_are_one_key_under_the_plain_name() {
    let e = entry(vec![
        ("cn", vec![b"Big"]),
        ("member", vec![]),
        ("member;range=0-1499", vec![b"CN=a", b"CN=b"]),
        ("memberOf;range=0-*", vec![b"CN=g"]),
    ]);
    let text = to_json(DirectoryKind::ActiveDirectory, &e);
    assert_eq!(text.matches("\"member\"").count(), 1, "member emitted more than once: {text}");
    let r: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(r["attributes"]["member"], json!(["CN=a", "CN=b"]));
    assert_eq!(r["attributes"]["memberOf"], json!(["CN=g"]));
    assert!(r["attributes"].as_object().unwrap().keys().all(|k| !k.contains(";range=")));
    assert_eq!(build(DirectoryKind::ActiveDirectory, &e), r);
}

/// As import.rs renames the first ranged part before the builder sees it: `member` twice.
#[test]
fn a_placeholder_beside_a_renamed_part_is_not_a_second_key() {
    let e = entry(vec![("member", vec![]), ("member", vec![b"CN=a", b"CN=b"])]);
    let text = to_json(DirectoryKind::ActiveDirectory, &e);
    assert_eq!(text.matches("\"member\"").count(), 1, "member emitted more than once: {text}");
    let r: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(r["attributes"]["member"], json!(["CN=a", "CN=b"]));
}

/// Secrets that arrive (with `*`, or whatever was asked) never reach the record, and the
/// builder says which it dropped.
#[test]
fn returned_secrets_are_dropped_and_named() {
    let e = entry(vec![
        ("objectGUID", vec![&[7u8; 16]]),
        ("sAMAccountName", vec![b"alice"]),
        ("unixUserPassword", vec![b"{CRYPT}xyz"]),
        ("userPassword;binary", vec![b"\xff\x00secret"]),
        ("sambaNTPassword", vec![b"8846F7EAEE8FB117AD06BDD830B7586C"]),
        ("msLAPS-Password", vec![b"{\"p\":\"x\"}"]),
        ("msPKIRoamingTimeStamp", vec![b"roamingstamp"]),
        ("mail", vec![b"alice@example.test"]),
        ("thumbnailPhoto", vec![b"\xff\xd8\xff"]),
    ]);
    let mut w = Withholding::with_confidential(["msPKIRoamingTimeStamp"]);
    let text = to_json_with(DirectoryKind::ActiveDirectory, &e, &mut w);
    let r: Value = serde_json::from_str(&text).unwrap();
    let keys = |m: &str| r[m].as_object().map(|o| o.keys().cloned().collect::<Vec<_>>()).unwrap_or_default();
    assert_eq!(keys("attributes"), ["mail", "sAMAccountName"]);
    assert_eq!(keys("binary_attributes"), ["thumbnailPhoto"]);
    for secret in ["xyz", "secret", "8846F7", "roamingstamp", "\\\"p\\\""] {
        assert!(!text.contains(secret), "{secret} exported: {text}");
    }
    let dropped = ["unixUserPassword", "userPassword", "sambaNTPassword", "msLAPS-Password", "msPKIRoamingTimeStamp"];
    assert_eq!(w.withheld(), dropped.map(String::from).as_slice());
    // The fixed lists apply without a schema too, and the Value builder agrees.
    let fixed: Value = serde_json::from_str(&to_json(DirectoryKind::ActiveDirectory, &e)).unwrap();
    assert_eq!(fixed["attributes"].as_object().map(|o| o.len()), Some(3), "only the confidential one is left");
    assert_eq!(
        build_with(DirectoryKind::ActiveDirectory, &e, &mut Withholding::with_confidential(["msPKIRoamingTimeStamp"])),
        r
    );
}
