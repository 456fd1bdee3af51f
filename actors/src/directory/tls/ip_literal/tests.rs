use super::*;

#[test]
fn a_stand_in_name_round_trips_and_is_a_valid_dns_name() {
    for ip in ["::1", "2001:db8::1", "fe80::1:2:3:4", "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff"] {
        let ip: Ipv6Addr = ip.parse().unwrap();
        let name = stand_in(ip);
        assert_eq!(decode(&name), Some(ip));
        assert!(ServerName::try_from(name.clone()).is_ok(), "{name}");
    }
    assert_eq!(decode("v6-1.ip-literal.invalid"), None);
    assert_eq!(decode("dc01.example.test"), None);
}

#[test]
fn only_ipv6_literal_urls_are_renamed() {
    let v6 = url::Url::parse("ldaps://[::1]:636").unwrap();
    assert_eq!(url_for_ldap3(&v6).host_str(), Some(stand_in(Ipv6Addr::LOCALHOST).as_str()));
    assert_eq!(url_for_ldap3(&v6).port(), Some(636));
    for same in ["ldaps://127.0.0.1:636", "ldap://dc01.example.test"] {
        let u = url::Url::parse(same).unwrap();
        assert_eq!(url_for_ldap3(&u).as_str(), u.as_str());
    }
}
