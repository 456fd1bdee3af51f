use super::*;
use serde_json::json;

fn parse(t: &str, v: Value) -> Result<JobKind, JobError> {
    JobKind::parse(t, v.as_object().unwrap())
}

#[test]
fn refs_need_exactly_one_field() {
    let two = json!({"directory": "corp", "user": {"dn": "CN=a", "guid": "x"}});
    assert!(parse("ad.enable_user", two).unwrap_err().message.contains("exactly one"));
    let none = json!({"directory": "corp", "user": {}});
    assert!(parse("ad.delete_user", none).is_err());
    let bad_key = json!({"directory": "corp", "user": {"uid": "a"}});
    assert!(parse("ad.delete_user", bad_key).unwrap_err().message.contains("uid"));
    let ok = json!({"directory": "corp", "user": {"sam_account_name": "Alice"}, "group": {"name": "g"}});
    let k = parse("ad.add_to_group", ok).unwrap();
    assert_eq!(k.default_ordering_key("j"), "obj:corp:user:sam_account_name=alice");
}

#[test]
fn unknown_types_and_wrong_field_types_are_invalid() {
    assert!(parse("ad.format_disk", json!({})).unwrap_err().message.contains("ad.format_disk"));
    let e = parse("ldap.authenticate", json!({"directory": "corp", "username": 5, "password": "x"})).unwrap_err();
    assert!(e.message.contains("invalid type"), "{}", e.message);
    let e = parse("ldap.import", json!({"directory": "corp", "mode": "sideways"})).unwrap_err();
    assert!(e.message.contains("sideways"));
}

#[test]
fn a_password_never_shows_in_debug_output() {
    let k = parse("ldap.authenticate", json!({"directory": "c", "username": "u", "password": "Zebra-42!"})).unwrap();
    assert!(!format!("{k:?}").contains("Zebra-42!"));
}

#[test]
fn a_create_orders_by_its_account_name_and_by_its_target_dn() {
    let a = json!({"directory": "ad", "parent_dn": "OU=Team #2,DC=example,DC=test", "sam_account_name": "JSmith1", "display_name": "John Smith"});
    let b = json!({"directory": "ad", "parent_dn": "ou=team \\#2, dc=Example,dc=test", "sam_account_name": "jsmith2", "display_name": "JOHN SMITH"});
    let (ka, kb) = (parse("ad.create_user", a).unwrap(), parse("ad.create_user", b).unwrap());
    let (ka, kb) = (ka.default_ordering_key("1"), kb.default_ordering_key("2"));
    let keys = |k: &str| k.split(crate::queue::KEY_SEPARATOR).map(str::to_owned).collect::<Vec<_>>();
    assert_eq!(keys(&ka)[0], "obj:ad:user:sam_account_name=jsmith1");
    assert_eq!(keys(&ka)[1], keys(&kb)[1], "one target DN, one line: {ka} / {kb}");
    assert_ne!(keys(&ka)[0], keys(&kb)[0]);
}

#[test]
fn a_secret_of_the_wrong_type_is_not_quoted_in_the_error() {
    let cases = [
        ("ad.reset_password", json!({"directory": "ad", "user": {"dn": "CN=a"}, "new_password": 8701062})),
        (
            "ad.create_user",
            json!({"directory": "ad", "parent_dn": "OU=x", "sam_account_name": "a",
            "attributes": {"userPassword": "Zebra-String-N"}}),
        ),
        ("ldap.authenticate", json!({"directory": "ad", "username": "u", "password": ["Zebra-In-A-List"]})),
    ];
    for (t, v) in cases {
        let e = parse(t, v).unwrap_err();
        assert!(!e.message.contains("8701062") && !e.message.contains("Zebra"), "{}", e.message);
        assert!(e.message.contains("invalid type: a "), "{}", e.message);
    }
}

#[test]
fn an_empty_or_blank_ad_password_field_is_an_invalid_job() {
    let user = json!({"sam_account_name": "alice"});
    let cases = [
        (
            "ad.change_password",
            json!({"directory": "ad", "user": user, "old_password": "", "new_password": "N-1x!"}),
            "old_password",
        ),
        (
            "ad.change_password",
            json!({"directory": "ad", "user": user, "old_password": " \t", "new_password": "N-1x!"}),
            "old_password",
        ),
        (
            "ad.change_password",
            json!({"directory": "ad", "user": user, "old_password": "O-1x!", "new_password": "\n"}),
            "new_password",
        ),
        ("ad.reset_password", json!({"directory": "ad", "user": user, "new_password": ""}), "new_password"),
        (
            "ad.create_user",
            json!({"directory": "ad", "parent_dn": "OU=x", "sam_account_name": "a", "password": "  "}),
            "password",
        ),
    ];
    for (t, v, field) in cases {
        let e = parse(t, v).unwrap_err();
        assert_eq!(e.code, crate::errors::ErrorCode::InvalidJob, "{t}");
        assert!(e.message.contains(&format!("`{field}`")) && e.message.contains("empty"), "{}", e.message);
    }
    let ok = json!({"directory": "ad", "user": user, "old_password": "O-1x!", "new_password": "N-1x!"});
    assert!(parse("ad.change_password", ok).is_ok());
    // A login with an empty password is a failed login, not a bad job (PROTOCOL.md §3).
    assert!(parse("ldap.authenticate", json!({"directory": "ad", "username": "u", "password": ""})).is_ok());
}

#[test]
fn a_secret_of_any_json_type_is_not_quoted_in_the_error() {
    let values = [json!(123456), json!(1234.5), json!(true), json!(["Zebra-1"]), json!({"Zebra": "Zebra-2"})];
    for v in values {
        for (t, field) in [("ldap.authenticate", "password"), ("ad.reset_password", "new_password")] {
            let mut p = json!({"directory": "ad", "username": "u", "user": {"dn": "CN=a"}});
            p[field] = v.clone();
            let e = parse(t, p).unwrap_err();
            let m = &e.message;
            assert!(
                !m.contains("123456") && !m.contains("1234.5") && !m.contains("Zebra") && !m.contains("true"),
                "{m}"
            );
        }
    }
}

#[test]
fn the_group_and_move_jobs_parse_with_their_defaults_and_order_by_their_object() {
    let g = json!({"directory": "ad", "parent_dn": "OU=Team #2,DC=example,DC=test", "name": "R&D, Lab #1"});
    let JobKind::CreateGroup(p) = parse("ad.create_group", g.clone()).unwrap() else { panic!("not a create_group") };
    assert_eq!((p.scope, p.kind, p.sam()), (GroupScope::Global, GroupKind::Security, "R&D, Lab #1"));
    let key = parse("ad.create_group", g).unwrap().default_ordering_key("j");
    assert!(key.starts_with("obj:ad:group:sam_account_name=r&d, lab #1"), "{key}");
    assert!(key.contains("cn=r&d\\, lab #1,ou=team #2"), "{key}");
    let bad_scope = json!({"directory": "ad", "parent_dn": "OU=x", "name": "g", "scope": "forest"});
    assert!(parse("ad.create_group", bad_scope).unwrap_err().message.contains("forest"));
    let blank = json!({"directory": "ad", "parent_dn": "OU=x", "name": "  "});
    assert!(parse("ad.create_group", blank).unwrap_err().message.contains("name"));
    let del = parse("ad.delete_group", json!({"directory": "ad", "group": {"name": "Sales"}})).unwrap();
    assert_eq!(del.default_ordering_key("j"), "obj:ad:group:name=sales");
    let neither = json!({"directory": "ad", "user": {"sam_account_name": "a"}});
    assert!(parse("ad.move_user", neither).unwrap_err().message.contains("new_parent_dn"));
    let mv = json!({"directory": "ad", "user": {"sam_account_name": "A"}, "new_cn": "Smith, John"});
    assert_eq!(parse("ad.move_user", mv).unwrap().default_ordering_key("j"), "obj:ad:user:sam_account_name=a");
}
