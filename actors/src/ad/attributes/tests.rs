use super::*;
use crate::ad::schema::tests::fixture;

fn open() -> AttributePolicy {
    AttributePolicy::default()
}

fn refused(written: &str, policy: &AttributePolicy) -> JobError {
    match check_writable(&fixture(), policy, written) {
        Ok(r) => JobError::internal(format!("{written} was allowed as {}", r.def.name)),
        Err(e) => e,
    }
}

#[test]
fn security_attributes_are_refused_in_every_spelling() {
    for (written, name) in [
        ("unicodePwd", "unicodePwd"),
        ("1.2.840.113556.1.4.90", "unicodePwd"),
        ("userPassword;binary", "userPassword"),
        ("ServicePrincipalName", "servicePrincipalName"),
        ("OID.1.2.840.113556.1.4.771", "servicePrincipalName"),
        ("member;range=0-*", "member"),
        ("msds-keycredentiallink", "msDS-KeyCredentialLink"),
        ("USERACCOUNTCONTROL", "userAccountControl"),
    ] {
        let e = refused(written, &open());
        assert_eq!(e.code, ErrorCode::ForbiddenByPolicy, "{written}: {e}");
        assert!(e.message.contains(&format!("`{written}`")) && e.message.contains(name), "{}", e.message);
        assert!(e.message.contains("security-relevant"), "{}", e.message);
        assert_eq!(e.details.get("resolved").and_then(|v| v.as_str()), Some(name));
    }
}

#[test]
fn system_only_attributes_are_refused() {
    for written in ["msDS-LastKnownRDN", "whenChanged", "1.2.840.113556.1.2.3"] {
        let e = refused(written, &open());
        assert_eq!(e.code, ErrorCode::ForbiddenByPolicy);
        assert!(e.message.contains("system-only"), "{}", e.message);
    }
}

#[test]
fn ordinary_attributes_are_allowed_with_their_options() {
    let schema = fixture();
    let ok = check_writable(&schema, &open(), "otherMailbox");
    assert_eq!(ok.map(|r| r.def.oid.clone()), Ok("1.2.840.113556.1.4.651".to_owned()));
    let tagged = check_writable(&schema, &open(), "OID.2.5.4.3;lang-en");
    assert_eq!(tagged.map(|r| (r.def.name.clone(), r.options)), Ok(("cn".to_owned(), vec!["lang-en".to_owned()])));
}

#[test]
fn unknown_attributes_make_the_job_invalid() {
    let e = refused("noSuchAttribute", &open());
    assert_eq!(e.code, ErrorCode::InvalidJob);
    assert!(e.message.contains("noSuchAttribute"), "{}", e.message);
    assert_eq!(refused("cn;", &open()).code, ErrorCode::InvalidJob);
}

#[test]
fn a_security_attribute_this_schema_lacks_is_still_refused_as_such() {
    // Samba 4.17 (2008 R2 schema) has no msDS-KeyCredentialLink; a job naming it is
    // refused for what it is, not as a typo.
    let empty = Schema::default();
    for written in ["msDS-KeyCredentialLink", "msds-keycredentiallink;binary", "1.2.840.113556.1.4.90"] {
        let e = check_writable(&empty, &open(), written).expect_err("refused");
        assert_eq!(e.code, ErrorCode::ForbiddenByPolicy, "{written}: {e}");
    }
}

#[test]
fn writable_attributes_narrow_and_never_widen() {
    let schema = fixture();
    let policy = AttributePolicy {
        writable: Some(vec!["MAIL".into(), "1.2.840.113556.1.4.651".into(), "unicodePwd".into(), "typo".into()]),
    };
    assert!(check_writable(&schema, &policy, "mail").is_ok());
    assert!(check_writable(&schema, &policy, "OID.0.9.2342.19200300.100.1.3").is_ok());
    assert!(check_writable(&schema, &policy, "otherMailbox").is_ok(), "listed by OID, written by name");
    let e = refused("displayName", &policy);
    assert_eq!(e.code, ErrorCode::ForbiddenByPolicy);
    assert!(e.message.contains("writable_attributes"), "{}", e.message);
    assert!(refused("unicodePwd", &policy).message.contains("security-relevant"));
    let nothing = AttributePolicy { writable: Some(Vec::new()) };
    assert_eq!(refused("otherMailbox", &nothing).code, ErrorCode::ForbiddenByPolicy);
}

#[test]
fn secret_attributes_are_known_without_a_schema() {
    for written in [
        "unicodePwd",
        "UNICODEPWD;binary",
        "1.2.840.113556.1.4.90",
        "OID.1.2.840.113556.1.4.90",
        "oid.1.2.840.113556.1.4.090",
        "userPassword;binary",
        "2.5.4.35",
        "unixUserPassword",
        "msSFU30Password",
        "clearTextPassword",
        "supplementalCredentials",
        "msLAPS-Password",
        "1.2.840.113556.1.6.44.1.3",
        " unicodePwd ",
    ] {
        assert!(is_secret_attribute(written), "{written}");
    }
    for written in ["mail", "cn", "2.5.4.3", "OID.2.5.4.3", "", "OID.", "pwdLastSet", "1.2.840.113556.1.4.9"] {
        assert!(!is_secret_attribute(written), "{written}");
    }
}

#[test]
fn every_schema_secret_is_a_security_attribute_listed_once() {
    for (name, _) in SECRET_ATTRIBUTES.iter().filter(|(n, _)| *n != "clearTextPassword") {
        assert!(SECURITY_ATTRIBUTES.contains(name), "{name}");
    }
    let mut lower: Vec<String> = SECURITY_ATTRIBUTES.iter().map(|s| s.to_ascii_lowercase()).collect();
    lower.sort();
    lower.dedup();
    assert_eq!(lower.len(), SECURITY_ATTRIBUTES.len());
}

#[test]
fn names_paths_and_categories_that_move_or_hijack_an_account_are_refused() {
    // Found by review: objectCategory hides a user from every search; home and profile
    // paths load from a server of the writer's choice; UPN/sAMAccountName feed ESC9/ESC10.
    for written in [
        "objectCategory",
        "homeDirectory",
        "homeDrive",
        "msTSProfilePath",
        "msTSHomeDirectory",
        "userParameters",
        "userPrincipalName",
        "sAMAccountName",
    ] {
        let e = refused(written, &open());
        assert_eq!(e.code, ErrorCode::ForbiddenByPolicy, "{written}: {e}");
    }
}
