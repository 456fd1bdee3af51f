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
mod tests;
