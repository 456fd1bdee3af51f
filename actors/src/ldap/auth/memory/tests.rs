use std::sync::Arc;
use std::time::{Duration, Instant};

use super::LoginMemories;
use crate::directory::{DirectoryKind, DirectorySettings, LoginSettings, PlainUrlSecurity, ScopePolicy};
use crate::ldap::auth::dc_failures::DirectoryCount;
use crate::ldap::auth::shield::Admission;
use crate::ldap::dn::Dn;
use crate::secret::Secret;

fn settings(url: &str, limit: u32) -> DirectorySettings {
    DirectorySettings {
        name: "corp".into(),
        kind: DirectoryKind::Ldap,
        urls: vec![url::Url::parse(url).unwrap()],
        discovery: None,
        bind_dn: "cn=svc".into(),
        bind: crate::directory::ServiceBind::Password(Secret::new("pw")),
        base_dn: "dc=x".into(),
        ca_pem: None,
        user_filter: "(uid={username})".into(),
        plain_urls: PlainUrlSecurity::None,
        pool_min: 1,
        pool_max: 4,
        connect_timeout: Duration::from_secs(1),
        operation_timeout: Duration::from_secs(1),
        policy: ScopePolicy::defaults(&Dn::root()),
        withhold_attributes: Vec::new(),
        login: LoginSettings { failure_limit: limit, ..LoginSettings::default() },
        forest: Default::default(),
    }
}

/// A reload that gives a directory new URLs makes a new directory actor: the shield's
/// counts must survive it, or a reload would reopen every account a spray was held off.
#[tokio::test]
async fn a_directory_made_again_keeps_its_shield_counts_unless_its_login_settings_changed() {
    let memories = LoginMemories::default();
    let first = memories.of(&settings("ldap://a", 2));
    let now = Instant::now();
    for _ in 0..2 {
        match first.shield.admit("cn=victim", DirectoryCount::default(), || now).await {
            Admission::Bind(attempt) => {
                attempt.failed(now);
            }
            Admission::Refuse { .. } => panic!("refused before the limit"),
        }
    }
    let again = memories.of(&settings("ldap://b", 2));
    assert!(Arc::ptr_eq(&first, &again));
    let verdict = again.shield.admit("cn=victim", DirectoryCount::default(), || now).await;
    assert!(matches!(verdict, Admission::Refuse { .. }), "the counts survived");
    let changed = memories.of(&settings("ldap://b", 3));
    assert!(!Arc::ptr_eq(&first, &changed), "a new limit starts a fresh memory");
}
