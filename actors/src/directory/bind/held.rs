//! Reading when the credentials the service account holds expire: the client
//! certificate's `notAfter` (known since load) and, on Active Directory, the password's
//! `msDS-UserPasswordExpiryTimeComputed` read from `bind_dn` (a constructed attribute:
//! MS-ADTS 3.1.1.4.5.20; the DC applies the domain and fine-grained policies itself).

use std::time::Duration;

use ldap3::{Ldap, Scope};

use super::expiry::{filetime_to_unix_s, Credential, Expiry};
use super::ServiceBind;
use crate::directory::settings::{DirectoryKind, DirectorySettings};
use crate::ldap::codes::LdapFailure;
use crate::ldap::entry::RawEntry;

const PASSWORD_EXPIRY: &str = "msDS-UserPasswordExpiryTimeComputed";
const KEY_VERSION: &str = "msDS-KeyVersionNumber";
const SAM_ACCOUNT_NAME: &str = "sAMAccountName";
const USER_PRINCIPAL_NAME: &str = "userPrincipalName";
/// What is read of `bind_dn`'s entry.
const ATTRIBUTES: [&str; 4] = [PASSWORD_EXPIRY, KEY_VERSION, SAM_ACCOUNT_NAME, USER_PRINCIPAL_NAME];

/// What the DC says of the service account's password.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PasswordExpiry {
    /// It never expires (DONT_EXPIRE_PASSWORD, or no maximum age).
    Never,
    /// It expires at this unix second.
    At(i64),
    /// The attribute is not readable to the account, or this is no password bind.
    Unknown,
}

/// The client certificate's expiry, when the service account binds with one.
pub fn certificate(s: &DirectorySettings, now_s: i64) -> Option<Expiry> {
    match &s.bind {
        ServiceBind::Certificate(c) => Some(Expiry::at(Credential::ClientCertificate, c.not_after_s, now_s)),
        ServiceBind::Password(_) | ServiceBind::Keytab(_) => None,
    }
}

/// What the DC says of the service account, read now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Held {
    pub password: PasswordExpiry,
    /// The account's `msDS-KeyVersionNumber` (keytab binds on AD, when readable): a
    /// password change raises it, and a keytab without that version stops working at
    /// the next ticket renewal.
    pub key_version: Option<u32>,
    /// Keytab binds: `bind_dn`'s entry is not the account of `bind_principal` (neither
    /// its `userPrincipalName` nor its `sAMAccountName` matches), so its key version says
    /// nothing of the keytab and is not used.
    pub other_account: bool,
}

impl Held {
    pub const UNKNOWN: Held = Held { password: PasswordExpiry::Unknown, key_version: None, other_account: false };
}

/// Whether `entry` is the account of `principal` (`name@REALM`): its `userPrincipalName`
/// is the principal, or its `sAMAccountName` is the name part (both compared without
/// case, as AD does). An entry showing neither attribute counts as the account.
pub fn is_account_of(entry: &RawEntry, principal: &str) -> bool {
    let upn = entry.first_text(USER_PRINCIPAL_NAME);
    let sam = entry.first_text(SAM_ACCOUNT_NAME);
    if upn.is_none() && sam.is_none() {
        return true;
    }
    let name = principal.rsplit_once('@').map_or(principal, |(n, _)| n);
    upn.is_some_and(|u| u.eq_ignore_ascii_case(principal)) || sam.is_some_and(|s| s.eq_ignore_ascii_case(name))
}

/// The account `entry` names, for messages: its `userPrincipalName`, else `sAMAccountName`.
pub fn account_name(entry: &RawEntry) -> Option<&str> {
    entry.first_text(USER_PRINCIPAL_NAME).or_else(|| entry.first_text(SAM_ACCOUNT_NAME))
}

/// The service account's password expiry and key version (Active Directory password and
/// keytab binds; unknown elsewhere), read with `ldap` within `timeout`.
///
/// Errors: the search's failure (the connection lost, a timeout).
pub async fn read(ldap: &Ldap, s: &DirectorySettings, timeout: Duration) -> Result<Held, LdapFailure> {
    // A keytab holds keys derived from the password: they stop working with it too.
    if s.kind != DirectoryKind::ActiveDirectory || matches!(s.bind, ServiceBind::Certificate(_)) {
        return Ok(Held::UNKNOWN);
    }
    let entries =
        RawEntry::search(ldap.clone(), timeout, &s.bind_dn, Scope::Base, "(objectClass=*)", &ATTRIBUTES).await?;
    let entry = entries.first();
    let other_account = match (&s.bind, entry) {
        (ServiceBind::Keytab(k), Some(e)) => !is_account_of(e, &k.principal),
        _ => false,
    };
    let key_version = match s.bind {
        ServiceBind::Keytab(_) if !other_account => entry.and_then(|e| e.first_text(KEY_VERSION)?.trim().parse().ok()),
        _ => None,
    };
    let value = entry.and_then(|e| e.first_text(PASSWORD_EXPIRY).map(str::to_owned));
    Ok(Held { password: password_of(value), key_version, other_account })
}

fn password_of(value: Option<String>) -> PasswordExpiry {
    match value {
        None => PasswordExpiry::Unknown,
        Some(v) => match filetime_to_unix_s(&v) {
            Some(at) => PasswordExpiry::At(at),
            None if v.trim() == i64::MAX.to_string() => PasswordExpiry::Never,
            None => PasswordExpiry::Unknown,
        },
    }
}

/// Every expiry known now: the certificate's, the password's when read, and a keytab
/// whose keys are not the account's current ones (as expiring now).
pub fn all(s: &DirectorySettings, held: &Held, now_s: i64) -> Vec<Expiry> {
    let mut out: Vec<Expiry> = certificate(s, now_s).into_iter().collect();
    if let PasswordExpiry::At(at) = held.password {
        out.push(Expiry::at(Credential::ServicePassword, at, now_s));
    }
    if let (ServiceBind::Keytab(k), true) = (&s.bind, held.other_account) {
        let mut e = Expiry::at(Credential::KeytabKeys, now_s, now_s);
        e.detail = Some(format!(
            "bind_dn {} is another account than bind_principal {}: the keytab's key version cannot be compared with \
             its account's; set bind_dn to the DN of {}'s account",
            s.bind_dn, k.principal, k.principal
        ));
        out.push(e);
    }
    if let (ServiceBind::Keytab(k), Some(v)) = (&s.bind, held.key_version) {
        // The file is read again: a keytab exported anew ends the warning at once.
        let held_versions = super::keytab::held_versions(k);
        if !held_versions.is_empty() && !held_versions.contains(&v) {
            let list = held_versions.iter().map(u32::to_string).collect::<Vec<_>>().join(", ");
            let mut e = Expiry::at(Credential::KeytabKeys, now_s, now_s);
            e.detail = Some(format!(
                "the keytab's keys (version {list}) are not the account's current ones (version {v}): its password \
                 changed; export the keytab again before the next ticket renewal fails"
            ));
            out.push(e);
        }
    }
    out
}

#[cfg(test)]
mod tests {
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
        let expiring =
            Held { password: PasswordExpiry::At(now + 5 * 86_400), key_version: Some(2), other_account: false };
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
}
