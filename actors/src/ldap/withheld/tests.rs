use super::*;

fn strings(names: &[&str]) -> Vec<String> {
    names.iter().map(|n| (*n).to_owned()).collect()
}

#[test]
fn secrets_of_every_schema_are_withheld_by_name_option_and_oid() {
    let never = |_: &str| false;
    for name in [
        "unixUserPassword",
        "msSFU30Password",
        "sambaNTPassword",
        "SAMBALMPASSWORD",
        "sambaPasswordHistory",
        "pwdHistory",
        "userPassword",
        "userPassword;binary",
        "unicodePwd",
        "supplementalCredentials",
        "ms-Mcs-AdmPwd",
        "msLAPS-Password",
        "msLAPS-EncryptedPassword",
        "mslaps-SomethingNewer",
        "msFVE-RecoveryPassword",
        "msDS-ManagedPassword",
        "authPassword",
        "userPKCS12",
        "krbPrincipalKey",
        "1.2.840.113556.1.4.1910",
        "OID.1.3.6.1.4.1.7165.2.1.25",
        "1.3.6.1.4.1.42.2.27.8.1.20;x-tag",
    ] {
        assert!(is_withheld(name, never), "{name} is exported");
    }
    for name in
        ["mail", "cn", "member", "memberOf;range=0-*", "pwdLastSet", "msDS-UserPasswordExpiryTimeComputed", "2.5.4.3"]
    {
        assert!(!is_withheld(name, never), "{name} is withheld");
    }
    assert!(is_withheld("msKds-RootKeyData;range=0-*", |b| b == "msKds-RootKeyData"));
}

#[test]
fn an_explicit_list_never_asks_for_a_secret_and_says_which_it_left_out() {
    let requested = strings(&[
        "mail",
        "unixUserPassword",
        "*",
        "userPassword;binary",
        "UNIXUSERPASSWORD",
        "+",
        "msTPM-OwnerInformation",
    ]);
    let plan = plan_attributes(&requested, |b| b.eq_ignore_ascii_case("msTPM-OwnerInformation"));
    assert_eq!(plan.request, strings(&["mail", "*", "+"]));
    assert_eq!(plan.withheld, strings(&["unixUserPassword", "userPassword", "msTPM-OwnerInformation"]));
    // Never an empty list: that asks for every attribute (RFC 4511 §4.5.1.8).
    let only = plan_attributes(&strings(&["sambaNTPassword"]), |_| false);
    assert_eq!((only.request, only.withheld), (strings(&["1.1"]), strings(&["sambaNTPassword"])));
    assert_eq!(plan_attributes(&[], |_| false), AttributePlan::default());
}

#[test]
fn a_withholding_knows_the_schema_s_confidential_attributes_and_what_it_dropped() {
    let mut w = Withholding::with_confidential(["msTPM-OwnerInformation", "1.2.840.113556.1.4.1966"]);
    assert!(w.withholds("mstpm-ownerinformation") && w.withholds("OID.1.2.840.113556.1.4.01966"));
    assert!(!w.withholds("mail"));
    assert_eq!(w.plan(&strings(&["cn", "msTPM-OwnerInformation"])), strings(&["cn"]));
    assert!(w.grown());
    w.dropped("unixUserPassword;binary");
    w.dropped("UNIXUSERPASSWORD");
    assert_eq!(w.withheld(), strings(&["msTPM-OwnerInformation", "unixUserPassword"]).as_slice());
    let journaled: Withholding = serde_json::from_value(serde_json::to_value(&w).unwrap()).unwrap();
    assert_eq!((journaled.withheld(), journaled.confidential.len()), (w.withheld(), 2));
}

#[test]
fn every_attribute_a_filter_tests_is_found() {
    let f = "(&(sAMAccountName=rv\\28x\\29)(|(unixUserPassword=Unix*)(!(OID.2.5.4.35;binary>=a)))(msFVE-RecoveryPassword:caseExactMatch:=1)(:dn:2.4.6:=x))";
    assert_eq!(
        filter_attributes(f),
        vec!["sAMAccountName", "unixUserPassword", "OID.2.5.4.35;binary", "msFVE-RecoveryPassword"]
    );
    let mut w = Withholding::default();
    assert!(filter_attributes(f).iter().filter(|a| w.withholds(a)).count() >= 3);
}
