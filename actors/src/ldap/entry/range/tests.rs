use super::*;

fn entry(attrs: &[(&str, &[&str])]) -> RawEntry {
    RawEntry {
        dn: "CN=Big Group,OU=Staff,DC=example,DC=test".into(),
        attributes: attrs
            .iter()
            .map(|(n, v)| ((*n).to_owned(), v.iter().map(|s| s.as_bytes().to_vec()).collect()))
            .collect(),
    }
}

fn texts(m: &Merged<'_>) -> Vec<String> {
    m.values().map(|v| String::from_utf8_lossy(v).into_owned()).collect()
}

#[test]
fn range_options_are_read_with_their_bounds() {
    assert_eq!(range_of("member;range=0-1499"), Some(Range { base: "member", low: 0, high: Some(1499) }));
    assert_eq!(range_of("memberOf;Range=1500-*"), Some(Range { base: "memberOf", low: 1500, high: None }));
    assert_eq!(range_of("userCertificate;binary;range=0-*").map(|r| r.base), Some("userCertificate;binary"));
    for not_ranged in ["member", "userCertificate;binary", "member;range=x-1", "member;range=0", "member;range=0-y"] {
        assert_eq!(range_of(not_ranged), None, "{not_ranged}");
    }
    assert_eq!(plain_name("member;range=0-1499"), "member");
    assert_eq!(plain_name("userCertificate;binary"), "userCertificate;binary");
}

/// What a Windows DC sends for a group above MaxValRange: an empty `member` and the
/// first part ([MS-ADTS] 3.1.1.3.1.3.3), here with the followed parts appended.
#[test]
fn a_windows_placeholder_and_its_parts_become_one_attribute_in_range_order() {
    let e = entry(&[
        ("cn", &["Big Group"]),
        ("member", &[]),
        ("member;range=0-1", &["CN=a", "CN=b"]),
        ("objectClass", &["group"]),
        ("member;range=4-*", &["CN=e"]),
        ("member;range=2-3", &["CN=c", "CN=d"]),
    ]);
    let merged = e.merged();
    let names: Vec<&str> = merged.iter().map(|m| m.name).collect();
    assert_eq!(names, ["cn", "member", "objectClass"]);
    assert_eq!(texts(&merged[1]), ["CN=a", "CN=b", "CN=c", "CN=d", "CN=e"]);
    assert_eq!(merged[1].len(), 5);
}

#[test]
fn repeated_parts_and_renamed_parts_are_merged_once() {
    // A DC that answers one follow-up with two parts starting at the same value.
    let e = entry(&[
        ("member;range=0-1", &["a", "b"]),
        ("member;range=2-3", &["c", "d"]),
        ("member;range=2-*", &["c", "d", "e"]),
    ]);
    assert_eq!(texts(&e.merged()[0]), ["a", "b", "c", "d"]);
    // The import renames the first part to `member` before it reaches the builder.
    let renamed = entry(&[("member", &[]), ("Member", &["a", "b", "c"]), ("mail", &["x@y"])]);
    let merged = renamed.merged();
    assert_eq!(merged.len(), 2);
    assert_eq!((merged[0].name, texts(&merged[0])), ("member", vec!["a".into(), "b".into(), "c".into()]));
}

#[test]
fn merge_ranges_rewrites_the_entry_and_leaves_a_plain_one_alone() {
    let mut e = entry(&[("memberOf", &[]), ("memberOf;range=0-*", &["CN=g1", "CN=g2"])]);
    e.merge_ranges();
    assert_eq!(e, entry(&[("memberOf", &["CN=g1", "CN=g2"])]));
    let plain = entry(&[("cn", &["x"]), ("mail", &["m"])]);
    let mut same = plain.clone();
    same.merge_ranges();
    assert_eq!(same, plain);
}

#[test]
fn a_follow_up_part_is_the_one_that_continues() {
    let answer = entry(&[("member;range=1500-2999", &["x"; 3]), ("member;range=1500-*", &["x"]), ("cn", &["g"])]);
    let (name, values) = next_part(answer, "member", 1499).unwrap_or_default();
    assert_eq!((name.as_str(), values.len()), ("member;range=1500-2999", 3));
    assert_eq!(next_part(entry(&[("member;range=0-*", &["a"])]), "member", 1499), None);
}
