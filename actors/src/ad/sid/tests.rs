use super::Sid;

#[test]
fn string_and_binary_forms_round_trip() {
    let s = Sid::parse("S-1-5-21-1004336348-1177238915-682003330-512").expect("parses");
    assert_eq!(s.to_string(), "S-1-5-21-1004336348-1177238915-682003330-512");
    assert_eq!(Sid::from_bytes(s.as_bytes()), Some(s.clone()));
    assert_eq!(s.rid(), Some(512));
    let domain = Sid::parse("S-1-5-21-1-2-3").expect("parses");
    assert_eq!(domain.with_rid(519).to_string(), "S-1-5-21-1-2-3-519");
    assert_eq!(Sid::parse("S-1-5-32-544").map(|s| s.to_string()).as_deref(), Some("S-1-5-32-544"));
    assert!(Sid::parse("S-2-5").is_none() && Sid::parse("Domain Admins").is_none());
    assert!(Sid::from_bytes(&[1, 2, 0, 0, 0, 0, 0, 5, 1]).is_none());
}

#[test]
fn a_principal_s_domain_is_its_sid_without_the_rid() {
    let user = Sid::parse("S-1-5-21-1004336348-1177238915-682003330-1105").expect("parses");
    let domain = user.domain().expect("has a RID");
    assert_eq!(domain.to_string(), "S-1-5-21-1004336348-1177238915-682003330");
    assert_eq!(domain.with_rid(513).to_string(), "S-1-5-21-1004336348-1177238915-682003330-513");
    assert_eq!(Sid::from_bytes(domain.as_bytes()), Some(domain.clone()), "a well-formed binary SID");
    let bare = Sid::parse("S-1-5").expect("parses");
    assert_eq!(bare.domain(), None);
}
