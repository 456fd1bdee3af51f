use super::holding_context;
use crate::ldap::entry::RawEntry;

#[test]
fn the_group_base_is_the_longest_naming_context_that_holds_base_dn() {
    let root = RawEntry {
        dn: String::new(),
        attributes: vec![(
            "namingContexts".into(),
            vec![b"dc=example,dc=com".to_vec(), b"dc=other,dc=org".to_vec(), b"ou=Sub, dc=Example,dc=com".to_vec()],
        )],
    };
    assert_eq!(holding_context(&root, "ou=people,dc=example,dc=com").as_deref(), Some("dc=example,dc=com"));
    assert_eq!(holding_context(&root, "OU=x,OU=sub,DC=example,DC=com").as_deref(), Some("ou=Sub, dc=Example,dc=com"));
    assert_eq!(holding_context(&root, "dc=elsewhere"), None);
}
