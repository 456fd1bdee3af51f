use super::*;

fn policy(ous: &[&str]) -> ScopePolicy {
    let mut p = ScopePolicy::defaults(&Dn::parse("DC=example,DC=test").expect("dn"));
    p.allowed_ous = ous.iter().map(|o| Dn::parse(o).expect("dn")).collect();
    p
}

#[test]
fn scope_is_judged_on_parsed_dns() {
    let p = policy(&["OU=Team #2,DC=example,DC=test"]);
    assert!(within_scope(&p, "CN=Alice,OU=Team \\#2,DC=example,DC=test").is_ok());
    assert!(within_scope(&p, "cn=alice,ou=team \\232,dc=EXAMPLE,dc=test").is_ok());
    assert!(within_scope(&p, "CN=x\\,OU=Team #2,DC=example,DC=test").is_err());
    assert!(within_scope(&p, "CN=Alice,OU=Team #20,DC=example,DC=test").is_err());
    assert!(same_dn("CN=R&D\\, Lab \\#1,OU=Staff,DC=x", "cn=r&d\\2c lab #1,ou=staff,dc=X"));
}
