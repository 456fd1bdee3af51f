use super::*;

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
