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

/// The service account's password expiry (Active Directory password and keytab binds;
/// `Unknown` elsewhere), read with `ldap` within `timeout`.
///
/// Errors: the search's failure (the connection lost, a timeout).
pub async fn password(ldap: &Ldap, s: &DirectorySettings, timeout: Duration) -> Result<PasswordExpiry, LdapFailure> {
    // A keytab holds keys derived from the password: they stop working with it too.
    if s.kind != DirectoryKind::ActiveDirectory || matches!(s.bind, ServiceBind::Certificate(_)) {
        return Ok(PasswordExpiry::Unknown);
    }
    let entries =
        RawEntry::search(ldap.clone(), timeout, &s.bind_dn, Scope::Base, "(objectClass=*)", &[PASSWORD_EXPIRY]).await?;
    let value = entries.first().and_then(|e| e.first_text(PASSWORD_EXPIRY).map(str::to_owned));
    Ok(match value {
        None => PasswordExpiry::Unknown,
        Some(v) => match filetime_to_unix_s(&v) {
            Some(at) => PasswordExpiry::At(at),
            None if v.trim() == i64::MAX.to_string() => PasswordExpiry::Never,
            None => PasswordExpiry::Unknown,
        },
    })
}

/// Every expiry known now: the certificate's, and the password's when read.
pub fn all(s: &DirectorySettings, password: PasswordExpiry, now_s: i64) -> Vec<Expiry> {
    let mut out: Vec<Expiry> = certificate(s, now_s).into_iter().collect();
    if let PasswordExpiry::At(at) = password {
        out.push(Expiry::at(Credential::ServicePassword, at, now_s));
    }
    out
}
