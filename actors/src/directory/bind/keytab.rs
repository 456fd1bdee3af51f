//! SASL GSSAPI service binds with keys from a keytab (RFC 4752; issue #20). The
//! credentials come from MIT krb5's credential store (`gss_acquire_cred_from` with
//! `client_keytab` and `ccache`): the library gets a ticket-granting ticket from the
//! keytab when the private cache has none, and gets a new one when it nears its end, so
//! no `kinit` cron runs. The cache is the process's own `MEMORY:` cache, never the
//! user's. A credential handle is acquired for each connection, so every connect sees
//! the renewed ticket. Windows (SSPI) and the static musl build have no keytab support:
//! [`AVAILABLE`] says so and the config refuses `bind_keytab` there.

use std::time::Duration;

use ldap3::Ldap;

use crate::ldap::codes::LdapFailure;

/// Whether this build can bind with a keytab (the `kerberos` feature, on Unix).
pub const AVAILABLE: bool = cfg!(all(unix, feature = "kerberos"));

/// `bind_keytab`, `bind_principal` and `bind_spn_host` of `[directories.NAME]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeytabBind {
    /// MIT keytab name: `FILE:` and the path of `bind_keytab`. The GSS library reads the
    /// file itself, again at each renewal, so a rotated keytab is picked up.
    pub keytab: String,
    /// The service account's principal, `svc-connector@EXAMPLE.TEST` (`bind_principal`).
    pub principal: String,
    /// The host of the directory's service principal `ldap/<host>` (`bind_spn_host`);
    /// `None`: the URL's host.
    pub spn_host: Option<String>,
    /// The private credential cache, `MEMORY:integration-connector-<directory>-<principal>`
    /// (one per principal, so a reload naming another account starts clean; and
    /// `…-renew-N`, asked once the ticket there has ended and the library got no new
    /// one, to learn why: [`acquire`]).
    pub ccache: String,
    /// The key versions the keytab held for `principal` when the config was loaded
    /// ([`versions::key_versions`]; empty when unreadable).
    pub key_versions: Vec<u32>,
}

impl KeytabBind {
    /// The keytab's file path: `keytab` without MIT's `FILE:` prefix.
    pub fn file_path(&self) -> &str {
        self.keytab.strip_prefix("FILE:").unwrap_or(&self.keytab)
    }
}

/// Why no Kerberos credential could be had.
#[derive(Debug, thiserror::Error, Clone, PartialEq, Eq)]
pub enum KeytabError {
    #[error("this build has no Kerberos support (build with the `kerberos` feature on Linux)")]
    NotBuilt,
    #[error("no Kerberos credential for {principal} from {keytab}: {detail}")]
    Acquire { principal: String, keytab: String, detail: String },
}

/// A credential for the principal of `k` and how long its ticket lasts, from the keytab
/// through the credential store (blocking: may ask the KDC).
///
/// Errors: the GSS library's, with its major and minor messages (no such principal in
/// the keytab, the KDC unreachable, a wrong key version). Once the cached ticket has
/// ended and no new one came, MIT's answer is only "the referenced credential has
/// expired": the KDC is then asked from a second, empty cache, whose error says why
/// (`Cannot contact any KDC for realm …`, a key the KDC refuses), and the message says
/// the ticket has ended. A keytab known to be behind its account ([`stale`]) is not
/// offered to the KDC: the ticket held serves, then the error says the keytab is behind.
#[cfg(all(unix, feature = "kerberos"))]
pub fn acquire(k: &KeytabBind) -> Result<(Credential, Duration), KeytabError> {
    let failed = |detail: String| KeytabError::Acquire {
        principal: k.principal.clone(),
        keytab: k.keytab.clone(),
        detail: format!("{detail}{}", absent_principal(k).unwrap_or_default()),
    };
    // A keytab known to be behind its account is not offered to the KDC (`stale.rs`):
    // only the ticket held serves, until it ends.
    let behind = stale::behind(k);
    let keytab = behind.is_none().then_some(k.keytab.as_str());
    let cred = store::acquire(&k.principal, keytab, &k.ccache).map_err(|e| match &behind {
        Some(why) => failed(format!("no ticket is held and none is asked for: {why}")),
        None => {
            stale::acquisition_failed(k, e.minor, &e.text);
            failed(in_words(&e))
        }
    })?;
    match (cred.lifetime(), behind) {
        (Ok(lifetime), _) if !lifetime.is_zero() => Ok((cross_krb5::Cred::from(cred), lifetime)),
        (_, Some(why)) => Err(failed(format!("the ticket has ended and no new one is asked for: {why}"))),
        // MIT hands back the cache's ended ticket when the keytab got no new one, and
        // then says only "the referenced credential has expired" (gss_inquire_cred's
        // GSS_S_CREDENTIALS_EXPIRED, RFC 2744 §3.9.1), not why.
        (_, None) => renew_apart(k).map_err(|why| {
            failed(format!(
                "the ticket has ended and no new one could be had from the keytab: {why} (check that the KDC \
                 krb5.conf names answers on port 88, and that the keytab holds the account's current key)"
            ))
        }),
    }
}

/// The GSS library's words, with what to do when the KDC's answer is about the account.
#[cfg(all(unix, feature = "kerberos"))]
fn in_words(e: &store::GssFailure) -> String {
    match stale::account_hint(e.minor) {
        Some(hint) => format!("{}: {hint}", e.text),
        None => e.text.clone(),
    }
}

/// When the keytab holds no key of the principal, the principals it does hold, to add to
/// MIT's answer ("No credentials cache found" says nothing of the keytab).
#[cfg(all(unix, feature = "kerberos"))]
fn absent_principal(k: &KeytabBind) -> Option<String> {
    let path = k.file_path();
    let held = versions::principals(&std::fs::read(path).ok()?)?;
    if held.contains(&k.principal) {
        return None;
    }
    let held = if held.is_empty() { "no key at all".to_owned() } else { format!("keys of {}", held.join(", ")) };
    Some(format!(
        " ({path} holds {held}, none of {}: export the account's keys or correct bind_principal)",
        k.principal
    ))
}

/// The key versions the keytab holds for the principal now (the file read again, so a
/// keytab exported anew counts at once); those read at load when it is unreadable now.
pub fn held_versions(k: &KeytabBind) -> Vec<u32> {
    let path = k.file_path();
    std::fs::read(path)
        .ok()
        .and_then(|b| versions::key_versions(&b, &k.principal))
        .unwrap_or_else(|| k.key_versions.clone())
}

/// A credential asked of the KDC in a new, empty cache of its own, so that the library
/// says why it cannot have one (`Cannot contact any KDC for realm …`, a key the KDC
/// refuses); if the KDC answers now, that credential serves. Each try has a cache of its
/// own: a kept one would hand back its own ended ticket the same way.
#[cfg(all(unix, feature = "kerberos"))]
fn renew_apart(k: &KeytabBind) -> Result<(Credential, Duration), String> {
    static TRIES: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    let n = TRIES.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let cred = store::acquire(&k.principal, Some(&k.keytab), &format!("{}-renew-{n}", k.ccache)).map_err(|e| {
        stale::acquisition_failed(k, e.minor, &e.text);
        in_words(&e)
    })?;
    let lifetime = cred.lifetime().map_err(|e| e.to_string())?;
    Ok((cross_krb5::Cred::from(cred), lifetime))
}

/// What the GSS library hands over for a bind: ldap3's credential type with Kerberos,
/// none without (no value of it exists).
#[cfg(all(unix, feature = "kerberos"))]
pub type Credential = cross_krb5::Cred;
#[cfg(not(all(unix, feature = "kerberos")))]
#[derive(Debug)]
pub enum Credential {}

#[cfg(not(all(unix, feature = "kerberos")))]
pub fn acquire(_k: &KeytabBind) -> Result<(Credential, Duration), KeytabError> {
    Err(KeytabError::NotBuilt)
}

/// How long the ticket of `k` lasts from now (blocking: may ask the KDC for one).
///
/// Errors: as [`acquire`].
pub fn ticket_lifetime(k: &KeytabBind) -> Result<Duration, KeytabError> {
    acquire(k).map(|(_, lifetime)| lifetime)
}

/// Binds `ldap` by SASL GSSAPI as the principal of `k`, to service `ldap/<host>`.
///
/// Errors: no credential (as [`LdapFailure::Connect`]: the KDC or the keytab, not the
/// directory, failed), or the bind's result.
pub async fn bind(ldap: &mut Ldap, k: &KeytabBind, host: &str, timeout: Duration) -> Result<(), LdapFailure> {
    let k2 = k.clone();
    let acquired = tokio::task::spawn_blocking(move || acquire(&k2))
        .await
        .map_err(|e| LdapFailure::Connect(e.to_string()))?
        .map_err(|e| LdapFailure::Connect(e.to_string()))?;
    let host = k.spn_host.as_deref().unwrap_or(host);
    gssapi_bind(ldap, acquired.0, host, timeout).await
}

#[cfg(all(unix, feature = "kerberos"))]
async fn gssapi_bind(ldap: &mut Ldap, cred: Credential, host: &str, timeout: Duration) -> Result<(), LdapFailure> {
    match ldap.with_timeout(timeout).sasl_gssapi_cred_bind(cred, host).await {
        // The Kerberos side failed (no ticket for ldap/<host>, a ticket expired): said as
        // such, not as the lost connection ldap3's error would read as.
        Err(e @ (ldap3::LdapError::GssapiOperationError(_) | ldap3::LdapError::NoGssapiToken)) => {
            Err(LdapFailure::Connect(format!("Kerberos bind to service ldap/{host}: {e}")))
        }
        res => LdapFailure::checked(res),
    }
}

#[cfg(not(all(unix, feature = "kerberos")))]
async fn gssapi_bind(_: &mut Ldap, cred: Credential, _: &str, _: Duration) -> Result<(), LdapFailure> {
    match cred {}
}

pub mod stale;
#[cfg(all(unix, feature = "kerberos"))]
mod store;
pub mod versions;
