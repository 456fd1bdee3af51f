use super::*;

#[test]
fn range_options_are_read() {
    assert_eq!(ranged("member;range=0-1499"), Some(("member", Some(1499))));
    assert_eq!(ranged("member;range=1500-*"), Some(("member", None)));
    assert_eq!(ranged("member"), None);
}
