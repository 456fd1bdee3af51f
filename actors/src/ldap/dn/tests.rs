//! `Dn`: parsing (RFC 4514 §3 and real servers' spellings), rendering (§2.4), AD's
//! comparison, and a proptest that rendering and parsing are inverse.

use super::parse::BAD_UTF8;
use std::collections::hash_map::DefaultHasher;
use std::collections::HashSet;
use std::hash::{Hash, Hasher};

use proptest::prelude::*;

use super::*;

fn dn(s: &str) -> Dn {
    Dn::parse(s).unwrap_or_else(|e| panic!("{e}"))
}

fn hash_of(dn: &Dn) -> u64 {
    let mut h = DefaultHasher::new();
    dn.hash(&mut h);
    h.finish()
}

fn assert_same(a: &Dn, b: &Dn) {
    assert_eq!(a, b, "{a} vs {b}");
    assert_eq!(hash_of(a), hash_of(b), "hash of {a} vs {b}");
}

fn values(dn: &Dn) -> Vec<Vec<(String, String)>> {
    dn.rdns().iter().map(|r| r.values().map(|(t, v)| (t.to_owned(), v.to_owned())).collect()).collect()
}

#[test]
fn the_brief_example_unescapes_and_compares_across_spellings() {
    let a = dn(r"CN=R&D\, Lab \#1,OU=x");
    assert_eq!(a.leaf_value(), Some("R&D, Lab #1"));
    assert_eq!(a.leaf_type(), Some("CN"));
    assert_eq!(a.rdns().len(), 2);
    for other in [r"cn=r&d\2C lab #1,ou=X", r"CN = R&D\2c Lab \23\31 , OU = x"] {
        assert_same(&a, &dn(other));
    }
    let set: HashSet<Dn> = [r"CN=R&D\, Lab \#1,OU=x", r"cn=r&d\2C lab #1,ou=X"].iter().map(|s| dn(s)).collect();
    assert_eq!(set.len(), 1);
    // Rendering is canonical: types as written, minimal escapes.
    assert_eq!(dn(r"cn=r&d\2C lab \23\31,ou=X").to_string(), r"cn=r&d\, lab #1,ou=X");
    assert_eq!(dn(r"CN = R&D\2c Lab \23\31 , OU = x").to_string(), r"CN=R&D\, Lab #1,OU=x");
}

#[test]
fn the_root_is_the_empty_string() {
    for s in ["", "   "] {
        let root = dn(s);
        assert!(root.is_root());
        assert_eq!(root, Dn::root());
        assert_eq!(root.parent(), None);
        assert_eq!(root.leaf_value(), None);
        assert_eq!(root.leaf_type(), None);
        assert_eq!(root.to_string(), "");
    }
    assert!(!dn("DC=a").is_root());
    assert_eq!(Dn::default(), Dn::root());
}

#[test]
fn samba_re_escaped_spellings_are_the_same_dn() {
    // Samba writes `#` inside a value as `\#`, `;` as `\3B`, `,` as `\,`.
    assert_same(&dn(r"CN=a\#b,DC=x"), &dn("CN=a#b,DC=x"));
    assert_same(&dn(r"CN=a\3Bb,DC=x"), &dn(r"CN=a\;b,DC=x"));
    assert_eq!(dn(r"CN=a\3Bb,DC=x").leaf_value(), Some("a;b"));
    assert_same(&dn(r"CN=Smith\, John,DC=x"), &dn(r"CN=Smith\2C John,DC=x"));
    assert_same(&dn(r"CN=Smith\, John,DC=x"), &dn(r#"CN="Smith, John",DC=x"#));
    assert_eq!(dn(r"CN=a\3Bb\23\2c,DC=x").to_string(), r"CN=a\;b#\,,DC=x");
}

#[test]
fn multi_valued_rdns_compare_as_sets_and_render_in_written_order() {
    let a = dn("CN=a+UID=b,DC=x");
    assert_same(&a, &dn("uid=B + cn=A,dc=X"));
    assert_eq!(values(&a)[0], vec![("CN".into(), "a".into()), ("UID".into(), "b".into())]);
    assert_eq!(dn("uid=B + cn=A,dc=X").to_string(), "uid=B+cn=A,dc=X");
    assert_ne!(a, dn("CN=a,DC=x"));
    assert_ne!(a, dn("CN=a+UID=c,DC=x"));
    assert_ne!(a, dn("CN=a+UID=b+OU=c,DC=x"));
    // `+` inside a value is escaped and does not split the RDN.
    assert_eq!(dn(r"CN=a\+UID=b").rdns()[0].values().count(), 1);
}

#[test]
fn types_compare_case_insensitively_and_by_oid() {
    let a = dn("CN=x,OU=y,O=z,DC=com,C=fr,L=p,ST=q,STREET=r,UID=s");
    let b = dn("2.5.4.3=x,2.5.4.11=y,2.5.4.10=z,0.9.2342.19200300.100.1.25=com,2.5.4.6=fr,\
                2.5.4.7=p,2.5.4.8=q,2.5.4.9=r,0.9.2342.19200300.100.1.1=s");
    assert_same(&a, &b);
    assert_same(&dn("OID.2.5.4.3=x"), &dn("cn=x"));
    assert_same(&dn("oid.2.5.4.3=x"), &dn("commonName=x"));
    assert_eq!(dn("OID.2.5.4.3=x").leaf_type(), Some("2.5.4.3"));
    assert_same(&dn("1.2.3=x"), &dn("1.02.3=x"));
    assert_ne!(dn("1.2.3=x"), dn("1.2.4=x"));
    assert_ne!(dn("cn=x"), dn("ou=x"));
    assert_same(&dn("x-Custom1=v"), &dn("X-CUSTOM1=V"));
}

#[test]
fn spaces_around_separators_are_ignored_and_escaped_ones_kept() {
    let a = dn("  CN = a b  ,  OU = c  ");
    assert_same(&a, &dn("CN=a b,OU=c"));
    assert_eq!(a.leaf_value(), Some("a b"));
    assert_eq!(dn(r"CN=\ a\ ,DC=x").leaf_value(), Some(" a "));
    assert_eq!(dn(r"CN=\20a\20 ,DC=x").leaf_value(), Some(" a "));
    assert_eq!(dn(r"CN=a \ ").leaf_value(), Some("a  "));
    assert_eq!(dn(r#"CN=" a ""#).leaf_value(), Some(" a "));
    assert_ne!(dn(r"CN=\ a"), dn("CN=a"));
    assert_eq!(dn(r"CN=\ a\ ").to_string(), r"CN=\ a\ ");
}

#[test]
fn hex_pairs_form_utf8_and_values_fold_case() {
    assert_eq!(dn(r"CN=\C3\A9t\C3\A9").leaf_value(), Some("été"));
    assert_same(&dn(r"CN=\C3\A9t\C3\A9"), &dn("cn=ÉTÉ"));
    assert_same(&dn("CN=ΑΣ"), &dn("CN=ας"));
    assert_same(&dn("CN=ΑΣ"), &dn("CN=ασ"));
    assert_eq!(dn(r"CN=a\00b").leaf_value(), Some("a\0b"));
    assert_eq!(dn(r"CN=a\/b\*").leaf_value(), Some("a/b*"));
}

#[test]
fn sharp_values_are_ber_strings_or_kept_as_hex() {
    assert_eq!(dn("CN=#0C026869").leaf_value(), Some("hi"));
    assert_eq!(dn("CN=#13024869 ,DC=x").leaf_value(), Some("Hi"));
    assert_eq!(dn("CN=#04024869").leaf_value(), Some("Hi"));
    assert_same(&dn("CN=#16024869"), &dn("CN=hi"));
    let raw = dn("CN=#0302ABCD,DC=x");
    assert_eq!(raw.leaf_value(), Some("#0302abcd"));
    assert_eq!(raw.to_string(), "CN=#0302abcd,DC=x");
    assert_same(&raw, &dn("cn=#0302abcd,dc=X"));
    assert_ne!(raw, dn(r"CN=\#0302abcd,DC=x"));
    // A length that does not match, or non-ASCII in a PrintableString, stays hex.
    assert_eq!(dn("CN=#0C034869").leaf_value(), Some("#0c034869"));
    assert_eq!(dn("CN=#1302C3A9").leaf_value(), Some("#1302c3a9"));
}

#[test]
fn semicolons_separate_rdns_and_other_specials_are_lenient() {
    assert_same(&dn("CN=a;DC=b"), &dn("CN=a,DC=b"));
    assert_eq!(dn("CN=a ; DC=b").to_string(), "CN=a,DC=b");
    assert_eq!(dn(r#"CN=a=b<c>"d""#).leaf_value(), Some(r#"a=b<c>"d""#));
    assert_eq!(dn(r#"CN=a=b<c>"d""#).to_string(), r#"CN=a\=b\<c\>\"d\""#);
}

#[test]
fn parent_and_is_within_compare_rdn_by_rdn() {
    let staff = dn("OU=Staff,OU=y,DC=a");
    let alice = dn("CN=Alice,OU=Staff,OU=y,DC=a");
    assert_eq!(alice.parent(), Some(staff.clone()));
    assert_eq!(dn("DC=a").parent(), Some(Dn::root()));
    assert!(staff.is_within(&staff));
    assert!(staff.is_within(&dn("ou=staff , ou=Y,dc=A")));
    assert!(alice.is_within(&staff));
    assert!(!staff.is_within(&alice));
    assert!(!dn("CN=Bob,OU=Other,OU=y,DC=a").is_within(&staff));
    assert!(!dn("OU=Other,OU=y,DC=a").is_within(&staff));
    assert!(!dn(r"CN=x\,OU=Staff,DC=a").is_within(&staff));
    assert!(!dn(r"CN=x\,OU=Staff,OU=y,DC=a").is_within(&staff));
    assert!(alice.is_within(&Dn::root()));
    assert!(Dn::root().is_within(&Dn::root()));
    assert!(!Dn::root().is_within(&staff));
}

#[test]
fn child_escapes_its_value() {
    let base = dn("OU=Staff,DC=a");
    let c = base.child("CN", " #Smith, John+\"x\";<>\\ ");
    assert_eq!(c.to_string(), r#"CN=\ #Smith\, John\+\"x\"\;\<\>\\\ ,OU=Staff,DC=a"#);
    assert_eq!(c.leaf_value(), Some(" #Smith, John+\"x\";<>\\ "));
    assert_same(&dn(&c.to_string()), &c);
    assert!(c.is_within(&base));
    assert_eq!(c.parent(), Some(base.clone()));
    assert_eq!(base.child("CN", "a\0b").to_string(), r"CN=a\00b,OU=Staff,DC=a");
    assert_eq!(base.child("CN", "#1").to_string(), r"CN=\#1,OU=Staff,DC=a");
    assert_eq!(Dn::root().child("DC", "").to_string(), "DC=");
    assert_same(&base.child("OID.2.5.4.3", "x"), &dn("CN=x,OU=Staff,DC=a"));
}

#[test]
fn try_child_refuses_bad_types() {
    let base = dn("DC=a");
    assert_eq!(base.try_child("CN", "x"), Ok(dn("CN=x,DC=a")));
    assert_eq!(base.try_child("2.5.4.3", "x"), Ok(dn("CN=x,DC=a")));
    for bad in ["", "C N", "CN=", "-a", "2.5.", "é"] {
        assert!(base.try_child(bad, "x").is_err(), "{bad:?}");
    }
}

fn error(s: &str) -> DnError {
    match Dn::parse(s) {
        Ok(d) => panic!("{s:?} parsed as {d}"),
        Err(e) => e,
    }
}

#[test]
fn malformed_dns_say_where_and_why() {
    let e = error("CN");
    assert_eq!((e.position, e.reason), (2, "an attribute type must be followed by `=`"));
    assert_eq!(
        e.to_string(),
        "not a distinguished name (RFC 4514): an attribute type must be followed by `=` at character 2 of `CN`"
    );
    assert_eq!(error("=x").position, 0);
    assert_eq!(error(r"CN=a\").position, 4);
    assert_eq!(error(r"CN=a\G1").position, 4);
    assert_eq!(error(r"CN=a\0").position, 4);
    let e = error(r"CN=ok\C3\28");
    assert_eq!((e.position, e.reason), (5, BAD_UTF8));
    assert_eq!(error(r"CN=\41\FF,DC=a").position, 6);
    assert_eq!(error(r"CN=\C3").reason, BAD_UTF8);
    assert_eq!(error("CN=a,").position, 5);
    assert_eq!(error("CN=a,,DC=b").position, 5);
    assert_eq!(error(",CN=a").position, 0);
    assert_eq!(error("CN=a+").position, 5);
    assert_eq!(error("CN=#").position, 3);
    assert_eq!(error("CN=#abc").position, 7);
    assert_eq!(error("CN=#ab x").position, 7);
    assert_eq!(error("CN=#foo").position, 5);
    assert_eq!(error("CN=#xyz").position, 3);
    assert_eq!(error(r#"CN="abc"#).position, 3);
    assert_eq!(error(r#"CN="a"b"#).position, 6);
    assert_eq!(error("2.5..4=x").position, 4);
    assert_eq!(error("C N=x").position, 2);
    assert_eq!(error("CN=a\0b").position, 4);
    // Positions count characters, not bytes.
    assert_eq!(error(r"CN=é\").position, 4);
}

// === property tests ===

fn attr_type() -> impl Strategy<Value = String> {
    prop_oneof![
        Just("CN".to_owned()),
        Just("ou".to_owned()),
        Just("DC".to_owned()),
        Just("2.5.4.3".to_owned()),
        "[a-zA-Z][a-zA-Z0-9-]{0,6}",
        "[0-9]{1,3}(\\.[0-9]{1,3}){0,3}",
    ]
}

fn value() -> impl Strategy<Value = String> {
    prop_oneof![any::<String>(), "[ ,+\"\\\\<>;=#aZ\u{e9}\u{3a3}\u{3c2}\\x00\\t]{0,8}",]
}

fn random_dn() -> impl Strategy<Value = Vec<Vec<(String, String)>>> {
    proptest::collection::vec(proptest::collection::vec((attr_type(), value()), 1..4), 0..5)
}

fn build(rdns: &[Vec<(String, String)>], change: impl Fn(&str) -> String) -> Dn {
    let rdns = rdns
        .iter()
        .map(|avas| Rdn::new(avas.iter().map(|(ty, v)| Ava { ty: ty.clone(), value: change(v), ber: false }).collect()))
        .collect();
    Dn { rdns }
}

/// Swaps the case of each character whose other case folds back to the same thing
/// (not `ß` → `SS`, `ı` → `I`, …).
fn swap_case(s: &str) -> String {
    s.chars()
        .flat_map(|c| {
            let other: String = if c.is_lowercase() { c.to_uppercase().collect() } else { c.to_lowercase().collect() };
            if fold_case(&other) == fold_case(&c.to_string()) {
                other.chars().collect::<Vec<_>>()
            } else {
                vec![c]
            }
        })
        .collect()
}

proptest! {
    #[test]
    fn rendering_then_parsing_gives_back_the_same_dn(rdns in random_dn()) {
        let original = build(&rdns, str::to_owned);
        let text = original.to_string();
        let back = Dn::parse(&text).map_err(|e| TestCaseError::fail(e.to_string()))?;
        prop_assert_eq!(&back, &original);
        prop_assert_eq!(values(&back), values(&original));
        prop_assert_eq!(back.to_string(), text);
    }

    #[test]
    fn changing_the_case_of_values_keeps_equality(rdns in random_dn()) {
        let original = build(&rdns, str::to_owned);
        for changed in [build(&rdns, str::to_lowercase), build(&rdns, str::to_ascii_uppercase), build(&rdns, swap_case)] {
            prop_assert_eq!(&changed, &original);
            prop_assert_eq!(hash_of(&changed), hash_of(&original));
        }
    }

    #[test]
    fn whatever_parses_renders_to_itself(s in prop_oneof![any::<String>(), "[a-cA-C0-9 =,;+#\"\\\\.]{0,16}"]) {
        if let Ok(parsed) = Dn::parse(&s) {
            let text = parsed.to_string();
            let back = Dn::parse(&text).map_err(|e| TestCaseError::fail(format!("{s:?} → {text:?}: {e}")))?;
            prop_assert_eq!(&back, &parsed);
            prop_assert_eq!(values(&back), values(&parsed));
        }
    }
}

#[test]
fn an_equals_sign_in_a_value_is_written_escaped() {
    // Samba refuses `OU=a5 x=y,…` in an add (result 34); `\=` is a valid pair (RFC 4514 §3).
    let dn = Dn::parse("OU=a5 x=y,DC=example,DC=test").expect("parses");
    assert_eq!(dn.to_string(), "OU=a5 x\\=y,DC=example,DC=test");
    assert_eq!(Dn::parse(&dn.to_string()).expect("round trip"), dn);
}

#[test]
fn the_ad_form_has_short_types_and_one_value_per_rdn() {
    let written = "cn = Tier 0 Admins , OID.2.5.4.11=team \\232 ,organizationalUnitName=x\\=y,DC=example,dc=test";
    assert_eq!(dn(written).to_ad_string().expect("ad form"), "CN=Tier 0 Admins,OU=team #2,OU=x\\=y,DC=example,DC=test");
    assert_eq!(dn(&dn(written).to_ad_string().expect("ad form")), dn(written));
    assert!(dn("OU=x+CN=y,DC=a").to_ad_string().is_err());
    assert!(dn("1.2.3.4=x,DC=a").to_ad_string().is_err());
}

#[test]
fn match_keys_agree_exactly_when_dns_are_equal() {
    use super::match_key;
    assert_eq!(match_key("CN=Team \\#2,DC=Example,DC=test"), match_key("cn=team #2, dc=example,dc=TEST"));
    assert_eq!(match_key("cn=a+sn=b,dc=x"), match_key("SN=B+CN=A,DC=X"), "an RDN is a set");
    assert_eq!(match_key("cn=R\\2CD,dc=x"), match_key("cn=R\\,D,dc=x"));
    assert_ne!(match_key("cn=a\\,b,dc=x"), match_key("cn=a,cn=b,dc=x"), "an escaped comma is not a separator");
    assert_ne!(match_key("cn=a,dc=x"), match_key("cn=a,dc=y"));
}
