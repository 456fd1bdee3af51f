use std::time::Duration;

use super::*;
use crate::directory::bind::KeytabBind;
use crate::directory::{LoginSettings, PlainUrlSecurity, ScopePolicy};
use crate::ldap::dn::Dn;

fn keytab_settings(key_versions: Vec<u32>) -> DirectorySettings {
    DirectorySettings {
        name: "ad".into(),
        kind: DirectoryKind::ActiveDirectory,
        urls: vec![url::Url::parse("ldaps://dc1.example.test").unwrap()],
        discovery: None,
        forest: Default::default(),
        bind_dn: "CN=svc,DC=example,DC=test".into(),
        bind: ServiceBind::Keytab(KeytabBind {
            keytab: "FILE:/k".into(),
            principal: "svc@EXAMPLE.TEST".into(),
            spn_host: None,
            ccache: "MEMORY:x".into(),
            key_versions,
        }),
        base_dn: "DC=example,DC=test".into(),
        ca_pem: None,
        user_filter: "(sAMAccountName={username})".into(),
        plain_urls: PlainUrlSecurity::StartTls,
        pool_min: 1,
        pool_max: 1,
        connect_timeout: Duration::from_secs(1),
        operation_timeout: Duration::from_secs(1),
        policy: ScopePolicy::defaults(&Dn::root()),
        withhold_attributes: Vec::new(),
        login: LoginSettings::default(),
    }
}

#[test]
fn a_keytab_behind_the_accounts_key_version_warns_now_and_a_current_one_does_not() {
    let now = 1_800_000_000;
    let stale = Held { password: PasswordExpiry::Never, key_version: Some(3), other_account: false };
    let found = all(&keytab_settings(vec![2]), &stale, now);
    assert_eq!(found.len(), 1, "{found:?}");
    assert!(found[0].warns() && found[0].credential == Credential::KeytabKeys);
    assert!(found[0].sentence().contains("(version 2) are not the account's current ones (version 3)"));
    assert!(all(&keytab_settings(vec![2, 3]), &stale, now).is_empty(), "the keytab holds version 3");
    assert!(all(&keytab_settings(vec![]), &stale, now).is_empty(), "an unreadable keytab says nothing");
    let expiring = Held { password: PasswordExpiry::At(now + 5 * 86_400), key_version: Some(2), other_account: false };
    let found = all(&keytab_settings(vec![2]), &expiring, now);
    assert_eq!(found.iter().map(|e| e.credential).collect::<Vec<_>>(), vec![Credential::ServicePassword]);
}

fn entry(attrs: &[(&str, &str)]) -> RawEntry {
    RawEntry {
        dn: "CN=x,DC=example,DC=test".into(),
        attributes: attrs.iter().map(|(n, v)| (n.to_string(), vec![v.as_bytes().to_vec()])).collect(),
    }
}

#[test]
fn the_account_of_a_principal_is_told_by_its_upn_or_sam_account_name() {
    let svc = entry(&[("sAMAccountName", "svc-connector"), ("userPrincipalName", "svc-connector@example.test")]);
    assert!(is_account_of(&svc, "svc-connector@EXAMPLE.TEST"), "the UPN, without case");
    assert!(is_account_of(&entry(&[("sAMAccountName", "SVC-Connector")]), "svc-connector@EXAMPLE.TEST"));
    assert!(!is_account_of(&svc, "administrator@EXAMPLE.TEST"));
    assert!(is_account_of(&entry(&[]), "a@B"), "nothing readable: not told apart");
    assert_eq!(account_name(&svc), Some("svc-connector@example.test"));
}

#[test]
fn a_bind_dn_of_another_account_warns_and_its_key_version_is_not_compared() {
    let now = 1_800_000_000;
    let other = Held { password: PasswordExpiry::Never, key_version: None, other_account: true };
    let found = all(&keytab_settings(vec![2]), &other, now);
    assert_eq!(found.len(), 1, "{found:?}");
    assert!(found[0].sentence().contains("is another account than bind_principal svc@EXAMPLE.TEST"), "{found:?}");
}

#[test]
fn a_keytab_exported_again_ends_the_warning_without_a_reload() {
    use crate::directory::bind::keytab::versions::tests::record;
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("svc.keytab");
    let write = |kvno: u8| {
        let mut kt = vec![5, 2];
        kt.extend(record(&["svc"], "EXAMPLE.TEST", kvno, None));
        std::fs::write(&file, kt).unwrap();
    };
    write(2);
    let mut s = keytab_settings(vec![2]);
    if let ServiceBind::Keytab(k) = &mut s.bind {
        k.keytab = format!("FILE:{}", file.display());
    }
    let now = 1_800_000_000;
    let held = Held { password: PasswordExpiry::Never, key_version: Some(3), other_account: false };
    assert_eq!(all(&s, &held, now).len(), 1, "version 2 held, the account at 3");
    write(3);
    assert!(all(&s, &held, now).is_empty(), "the file is read again; the settings still say version 2");
}
