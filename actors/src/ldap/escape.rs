//! User input never reaches a filter or a DN unescaped (RFC 4515, RFC 4514).

/// Longest user name searched for; longer ones match nobody without asking the server.
pub const MAX_USERNAME_BYTES: usize = 1024;

/// RFC 4515 escaping of an assertion value: `\ * ( )` and NUL as `\xx`.
pub fn filter_value(value: &str) -> String {
    ldap3::ldap_escape(value).into_owned()
}

/// Escapes raw bytes for a filter (e.g. an objectGUID): every byte as `\xx`.
pub fn filter_bytes(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("\\{b:02x}")).collect()
}

/// RFC 4514 escaping of an RDN attribute value.
pub fn dn_value(value: &str) -> String {
    ldap3::dn_escape(value).into_owned()
}

/// The directory's user filter with `{username}` replaced by the escaped name.
pub fn user_filter(template: &str, username: &str) -> String {
    template.replace("{username}", &filter_value(username))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn injection_attempts_are_escaped() {
        let f = user_filter("(&(objectClass=person)(uid={username}))", "*)(uid=*");
        assert_eq!(f, "(&(objectClass=person)(uid=\\2a\\29\\28uid=\\2a))");
        assert_eq!(filter_value("a\0b\\"), "a\\00b\\5c");
        assert_eq!(dn_value(" #Smith, John+\"x\" "), "\\20#Smith\\2c John\\2b\\22x\\22\\20");
        assert_eq!(filter_bytes(&[0x00, 0xff]), "\\00\\ff");
        // Every filter built from user input still parses as exactly one filter.
        for nasty in ["*", "*)(uid=*", "\0", "((((", "\\", "a)(|(uid=*"] {
            assert!(ldap3::parse_filter(user_filter("(uid={username})", nasty)).is_ok(), "{nasty:?}");
        }
    }
}
