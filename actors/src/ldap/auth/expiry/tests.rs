use super::{filetime, generalized, ldap};
use crate::ldap::entry::RawEntry;

fn entry(attrs: &[(&str, &str)]) -> RawEntry {
    RawEntry {
        dn: "uid=a,dc=x".into(),
        attributes: attrs.iter().map(|(n, v)| ((*n).to_owned(), vec![v.as_bytes().to_vec()])).collect(),
    }
}

#[test]
fn ad_filetimes_never_and_set() {
    assert_eq!(filetime("0"), None);
    assert_eq!(filetime("9223372036854775807"), None);
    // 2026-12-01T00:00:00Z = 1796083200 s since 1970.
    let ft = (1_796_083_200i64 * 10_000_000 + 116_444_736_000_000_000).to_string();
    assert_eq!(filetime(&ft).as_deref(), Some("2026-12-01T00:00:00Z"));
    assert_eq!(filetime("not a number"), None);
}

#[test]
fn must_change_is_a_time_already_past() {
    let e = entry(&[("msDS-UserPasswordExpiryTimeComputed", "0"), ("accountExpires", "0")]);
    assert_eq!(super::active_directory(&e), (Some("1970-01-01T00:00:00Z".into()), None));
}

#[test]
fn ldap_password_expiry_is_changed_time_plus_max_age() {
    assert_eq!(generalized("20261201000000Z"), Some(1_796_083_200));
    assert_eq!(generalized("20261201000000.123Z"), Some(1_796_083_200));
    let e = entry(&[("pwdChangedTime", "20261201000000Z"), ("shadowExpire", "20000")]);
    let (pw, account) = ldap(&e, Some(86_400));
    assert_eq!(pw.as_deref(), Some("2026-12-02T00:00:00Z"));
    assert_eq!(account.as_deref(), Some("2024-10-04T00:00:00Z"));
    assert_eq!(ldap(&e, Some(0)).0, None, "pwdMaxAge 0 is never");
    assert_eq!(ldap(&e, None).0, None);
    assert_eq!(ldap(&entry(&[("shadowExpire", "-1")]), None).1, None);
}
