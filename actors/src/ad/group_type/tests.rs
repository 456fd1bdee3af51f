use super::*;

#[test]
fn values_are_the_signed_integers_ad_stores() {
    assert_eq!(group_type(GroupScope::Global, GroupKind::Security), "-2147483646");
    assert_eq!(group_type(GroupScope::DomainLocal, GroupKind::Security), "-2147483644");
    assert_eq!(group_type(GroupScope::Universal, GroupKind::Security), "-2147483640");
    assert_eq!(group_type(GroupScope::Global, GroupKind::Distribution), "2");
    assert_eq!(group_type(GroupScope::Universal, GroupKind::Distribution), "8");
}

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

#[test]
fn every_scope_written_reads_back_as_written() {
    for (scope, word) in [
        (GroupScope::Global, "global"),
        (GroupScope::DomainLocal, "domain_local"),
        (GroupScope::Universal, "universal"),
    ] {
        for (kind, kword) in [(GroupKind::Security, "security"), (GroupKind::Distribution, "distribution")] {
            let t = GroupType::parse(&group_type(scope, kind)).expect("parses");
            assert_eq!((t.scope(), t.kind()), (Some(word), kword));
        }
    }
}
