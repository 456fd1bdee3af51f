use super::GroupType;

#[test]
fn scopes_and_kinds_decode_from_the_signed_text() {
    let g = |t: &str| GroupType::parse(t).map(|g| (g.scope(), g.kind()));
    assert_eq!(g("-2147483646"), Some((Some("global"), "security")));
    assert_eq!(g("-2147483644"), Some((Some("domain_local"), "security")));
    assert_eq!(g("-2147483640"), Some((Some("universal"), "security")));
    assert_eq!(g("2"), Some((Some("global"), "distribution")));
    assert_eq!(g("8"), Some((Some("universal"), "distribution")));
    assert_eq!(g("-2147483643"), Some((Some("builtin_local"), "security")));
    assert_eq!(g("x"), None);
}
