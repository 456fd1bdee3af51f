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
