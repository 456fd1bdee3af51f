use super::*;

/// A user in more groups than MaxValRange, as a Windows DC answers the login's search
/// (an empty `memberOf` beside the first part): one `memberOf`, every group.
#[test]
fn a_ranged_entry_gives_the_login_one_member_of() {
    let entry = RawEntry {
        dn: "CN=Alice,OU=Staff,DC=example,DC=test".into(),
        attributes: vec![
            ("sAMAccountName".into(), vec![b"alice".to_vec()]),
            ("memberOf".into(), vec![]),
            ("memberOf;range=0-1".into(), vec![b"CN=g1".to_vec(), b"CN=g2".to_vec()]),
            ("memberOf;range=2-*".into(), vec![b"CN=g3".to_vec()]),
        ],
    };
    let attrs = text_attributes(&entry, &user_attributes(DirectoryKind::ActiveDirectory));
    assert_eq!(attrs, json!({"sAMAccountName": ["alice"], "memberOf": ["CN=g1", "CN=g2", "CN=g3"]}));
}
