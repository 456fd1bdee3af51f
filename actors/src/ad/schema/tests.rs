use super::*;

/// An attributeSchema entry as a DC returns it (values from Samba's copy of the Windows
/// Server v1903 schema, source4/setup/ad-schema/AD_DS_Attributes_Windows_Server_v1903.ldf).
fn attribute(name: &str, oid: &str, syntax: &str, single: bool, search_flags: i64, system_only: bool) -> RawEntry {
    let text = |v: &str| vec![v.as_bytes().to_vec()];
    let flag = |b: bool| text(if b { "TRUE" } else { "FALSE" });
    RawEntry {
        dn: format!("CN={name},CN=Schema,CN=Configuration,DC=example,DC=com"),
        attributes: vec![
            ("lDAPDisplayName".into(), text(name)),
            ("attributeID".into(), text(oid)),
            ("attributeSyntax".into(), text(syntax)),
            ("isSingleValued".into(), flag(single)),
            ("searchFlags".into(), text(&search_flags.to_string())),
            ("systemOnly".into(), flag(system_only)),
        ],
    }
}

fn linked(mut entry: RawEntry, link_id: i64) -> RawEntry {
    entry.attributes.push(("linkID".into(), vec![link_id.to_string().into_bytes()]));
    entry
}

/// A small schema with the real OIDs and syntaxes, shared with the attribute policy tests.
pub(crate) fn fixture() -> Schema {
    let mut defunct = attribute("mail", "1.2.840.113556.1.4.99999", "2.5.5.12", true, 0, false);
    defunct.attributes.push(("isDefunct".into(), vec![b"TRUE".to_vec()]));
    let mut nameless = attribute("x", "1.2.3.4", "2.5.5.12", true, 0, false);
    nameless.attributes.retain(|(n, _)| n != "lDAPDisplayName");
    Schema::from_entries(vec![
        defunct,
        nameless,
        attribute("cn", "2.5.4.3", "2.5.5.12", true, 1, false),
        attribute("mail", "0.9.2342.19200300.100.1.3", "2.5.5.12", true, 1, false),
        attribute("otherMailbox", "1.2.840.113556.1.4.651", "2.5.5.12", false, 0, false),
        attribute("displayName", "1.2.840.113556.1.2.13", "2.5.5.12", true, 5, false),
        attribute("unixHomeDirectory", "1.3.6.1.1.1.1.3", "2.5.5.5", true, 0, false),
        attribute("unicodePwd", "1.2.840.113556.1.4.90", "2.5.5.10", true, 0, false),
        attribute("userPassword", "2.5.4.35", "2.5.5.10", false, 0, false),
        attribute("unixUserPassword", "1.2.840.113556.1.4.1910", "2.5.5.10", false, 128, false),
        attribute("servicePrincipalName", "1.2.840.113556.1.4.771", "2.5.5.12", false, 1, false),
        attribute("userAccountControl", "1.2.840.113556.1.4.8", "2.5.5.9", true, 25, false),
        attribute("isCriticalSystemObject", "1.2.840.113556.1.4.868", "2.5.5.8", true, 0, false),
        attribute("objectSid", "1.2.840.113556.1.4.146", "2.5.5.17", true, 9, true),
        attribute("whenChanged", "1.2.840.113556.1.2.3", "2.5.5.11", true, 0, true),
        attribute("msDS-LastKnownRDN", "1.2.840.113556.1.4.2067", "2.5.5.12", true, 0, true),
        linked(attribute("member", "2.5.4.31", "2.5.5.1", false, 0, false), 2),
        linked(attribute("memberOf", "1.2.840.113556.1.2.102", "2.5.5.1", false, 16, true), 3),
        linked(attribute("manager", "0.9.2342.19200300.100.1.10", "2.5.5.1", true, 16, false), 42),
        linked(attribute("msDS-KeyCredentialLink", "1.2.840.113556.1.4.2328", "2.5.5.7", false, 0, false), 2220),
    ])
}

#[test]
fn entries_become_attribute_definitions() {
    let schema = fixture();
    assert_eq!(schema.len(), 18, "the defunct and the nameless entries are left out");
    let mail = schema.resolve("mail").map(|r| r.def.clone());
    assert_eq!(mail.map(|d| d.oid), Ok("0.9.2342.19200300.100.1.3".to_owned()), "the active mail, not the defunct one");
    let pwd = schema.resolve("unixUserPassword").map(|r| r.def.clone()).ok();
    assert!(pwd.as_ref().is_some_and(|d| d.confidential && !d.single_valued && d.matching == Matching::Octet));
    let member_of = schema.resolve("memberOf").map(|r| r.def.clone()).ok();
    assert!(member_of.as_ref().is_some_and(|d| d.system_only && d.link_id == Some(3) && d.matching == Matching::Dn));
    let cn = schema.resolve("cn").map(|r| r.def.clone()).ok();
    assert!(cn.as_ref().is_some_and(|d| d.single_valued && !d.confidential && !d.system_only && d.link_id.is_none()));
}

#[test]
fn names_oids_and_options_resolve_to_one_attribute() {
    let schema = fixture();
    let name = |w: &str| schema.resolve(w).map(|r| r.def.name.clone());
    for written in
        ["unicodePwd", "UNICODEPWD", "1.2.840.113556.1.4.90", "OID.1.2.840.113556.1.4.90", "oid.1.2.840.113556.1.4.90"]
    {
        assert_eq!(name(written), Ok("unicodePwd".to_owned()), "{written}");
    }
    assert_eq!(name("ServicePrincipalName"), Ok("servicePrincipalName".to_owned()));
    let ranged = schema.resolve("member;range=0-*");
    assert_eq!(
        ranged.as_ref().map(|r| (r.def.name.as_str(), r.options.clone())),
        Ok(("member", vec!["range=0-*".to_owned()]))
    );
    let tagged = schema.resolve("OID.2.5.4.3;lang-en;binary");
    assert_eq!(
        tagged.map(|r| (r.def.name.as_str(), r.options)),
        Ok(("cn", vec!["lang-en".to_owned(), "binary".to_owned()]))
    );
}

#[test]
fn unknown_or_malformed_descriptions_are_refused() {
    let schema = fixture();
    for written in
        ["", "noSuchAttribute", "1.2.840.113556.1.4.090", "OID.", "OID.cn", "cn;", "cn;;binary", "1.2.3.4", "x"]
    {
        assert_eq!(schema.resolve(written), Err(UnknownAttribute { written: written.to_owned() }), "{written:?}");
    }
}

#[test]
fn syntaxes_decide_the_matching() {
    assert_eq!(Matching::of_syntax("2.5.5.12"), Matching::CaseIgnore);
    assert_eq!(Matching::of_syntax("2.5.5.2"), Matching::CaseIgnore);
    assert_eq!(Matching::of_syntax("2.5.5.5"), Matching::CaseExact);
    assert_eq!(Matching::of_syntax("2.5.5.17"), Matching::Octet);
    assert_eq!(Matching::of_syntax("2.5.5.7"), Matching::Dn);
    assert_eq!(Matching::of_syntax("2.5.5.16"), Matching::Integer);
    assert_eq!(Matching::of_syntax("2.5.5.8"), Matching::Boolean);
    assert_eq!(Matching::of_syntax("2.5.5.11"), Matching::Time);
    assert_eq!(Matching::of_syntax("9.9.9"), Matching::Octet);
}

fn same(schema: &Schema, attribute: &str, a: &str, b: &str) -> bool {
    schema.resolve(attribute).is_ok_and(|r| r.def.same_value(a.as_bytes(), b.as_bytes()))
}

#[test]
fn values_compare_by_the_attribute_matching_rule() {
    let s = fixture();
    assert!(same(&s, "otherMailbox", "repro.alt1@other.example", "REPRO.ALT1@OTHER.EXAMPLE"));
    assert!(same(&s, "displayName", "Ödön Ärpád", "ÖDÖN ÄRPÁD"));
    assert!(!same(&s, "displayName", "Ödön", "Ödön "));
    assert!(!same(&s, "userPassword", "Secret", "SECRET"), "octets differ by case");
    assert!(same(&s, "userPassword", "Secret", "Secret"));
    assert!(!same(&s, "unixHomeDirectory", "/home/Ann", "/home/ann"), "IA5 is case-exact in AD");
    assert!(same(&s, "isCriticalSystemObject", "true", "TRUE"));
    assert!(!same(&s, "isCriticalSystemObject", "TRUE", "FALSE"));
    assert!(same(&s, "userAccountControl", "512", "0512"));
    assert!(!same(&s, "userAccountControl", "512", "514"));
    assert!(same(&s, "manager", "CN=Ann,OU=Staff,DC=example,DC=com", "cn=ann,ou=staff,dc=EXAMPLE,dc=com"));
}

#[test]
fn values_that_are_not_text_compare_as_bytes() {
    let def = fixture().resolve("displayName").map(|r| r.def.clone());
    assert_eq!(def.as_ref().map(|d| d.same_value(&[0xff, 0x41], &[0xff, 0x41])), Ok(true));
    assert_eq!(def.as_ref().map(|d| d.same_value(&[0xff, 0x41], &[0xff, 0x61])), Ok(false));
}

#[test]
fn dn_values_with_different_escapes_are_equal() {
    let s = fixture();
    assert!(same(
        &s,
        "manager",
        r"CN=Doe\, Ann,OU=Staff,DC=example,DC=com",
        r"cn=doe\2c ann, ou=staff, dc=example, dc=com"
    ));
    assert!(!same(&s, "manager", "CN=Ann,OU=Staff,DC=example,DC=com", "CN=Ann,OU=Other,DC=example,DC=com"));
    assert!(same(
        &s,
        "msDS-KeyCredentialLink",
        "B:4:0A0B:CN=Ann,DC=example,DC=com",
        "b:4:0a0b:cn=ann,dc=example,dc=com"
    ));
}

#[test]
fn times_compare_as_instants() {
    let s = fixture();
    assert!(same(&s, "whenChanged", "20240301120000.0Z", "20240301120000Z"));
    assert!(same(&s, "whenChanged", "20240301120000.0Z", "20240301133000+0130"));
    assert!(same(&s, "whenChanged", "20240301120000Z", "240301120000Z"), "UTC-Time and Generalized-Time");
    assert!(!same(&s, "whenChanged", "20240301120000Z", "20240301120001Z"));
    assert!(!same(&s, "whenChanged", "20240301120000", "20240301120000Z"), "a local time is not comparable");
    assert_eq!(time_key("19700101000000Z"), Some(0));
    assert_eq!(time_key("20000301000000.0Z"), Some(11_017 * 86_400));
    assert_eq!(time_key("20241301000000Z"), None);
}
