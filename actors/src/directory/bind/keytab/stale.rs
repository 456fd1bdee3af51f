//! A keytab that has fallen behind its account (the password changed, so the account's
//! key version rose): the KDC refuses the old key, and a domain controller counts each
//! failed pre-authentication as a wrong password toward the account's lockout (measured
//! on Samba 4.17 with `kinit -k`, threshold 3: three stale tries leave `badPwdCount: 3`
//! and `lockoutTime` set, and then even the new keytab is refused "client's credentials
//! have been revoked"), so a connector retrying its binds locks the service account out,
//! for every other use of it too. The keytab is not offered to
//! the KDC while it is known to be behind:
//! - the directory read the account's `msDS-KeyVersionNumber` ([`account_version_read`])
//!   and the keytab file lacks it; or
//! - the KDC refused the file's key once (pre-authentication failed): not offered again
//!   until the file changes (its length or modification time). "Client's credentials
//!   have been revoked" (the account locked out or disabled) says nothing of the key and
//!   is not kept: the file is offered again once the account is usable.
//!
//! Both are kept durably: a file behind the account's key version as soon as the
//! directory reads it, so that `check`, which cannot know the version before it binds,
//! does not offer it either.
//!
//! The file is looked at again at each bind, so a keytab exported anew is used at once,
//! no restart. A refusal outlives the process: `check` (a process of its own) and a
//! restarted service must not offer the same file again either, so refusals are kept in
//! a [`RefusalStore`] the composition root hands over ([`keep_refusals_in`]; a file in
//! the storage path), written before they are kept in memory.

use std::collections::HashMap;
use std::sync::{LazyLock, Mutex, OnceLock};
use std::time::UNIX_EPOCH;

use serde::{Deserialize, Serialize};

use super::versions::key_versions;
use super::KeytabBind;

/// A keytab file whose key of `principal` the KDC refused, as the file was then: it is
/// not offered again while its length and modification time are the same.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Refusal {
    /// The keytab's path (without MIT's `FILE:` prefix).
    pub keytab: String,
    /// `name@REALM`.
    pub principal: String,
    /// The file's length in bytes when refused.
    pub len: u64,
    /// The file's modification time when refused, in nanoseconds since the Unix epoch.
    pub modified_ns: u64,
    /// Why the file is not offered (the KDC's answer in the GSS library's words, or the
    /// key versions against the account's; no key material).
    pub why: String,
    /// The file's device and inode (Unix), so that another name of the same file (a hard
    /// link) is the same file; `None` where unknown.
    #[serde(default)]
    pub file_id: Option<(u64, u64)>,
}

/// Where refusals outlive the process (the composition root's file in the storage path).
pub trait RefusalStore: Send + Sync {
    /// Every refusal kept (empty when none was ever kept).
    ///
    /// Errors: kept refusals that cannot be read (no permission, a damaged file), in
    /// words; no keytab is offered then, as a refused one may be among them.
    fn load(&self) -> Result<Vec<Refusal>, String>;
    /// Changes what is kept with `change`, read and written under one lock, so that
    /// `check` and the service writing at once lose nothing.
    ///
    /// Errors: why it could not be read or written, in words.
    fn update(&self, change: &mut dyn FnMut(&mut Vec<Refusal>)) -> Result<(), String>;
}

static STORE: OnceLock<Box<dyn RefusalStore>> = OnceLock::new();

/// Keeps refusals in `store` from now on (once a process; later calls are ignored).
pub fn keep_refusals_in(store: Box<dyn RefusalStore>) {
    let _ = STORE.set(store);
}

/// The account's `msDS-KeyVersionNumber` as last read, per private credential cache and
/// principal (a reload may name another account).
static ACCOUNT_VERSIONS: LazyLock<Mutex<HashMap<String, u32>>> = LazyLock::new(|| Mutex::new(HashMap::new()));
/// Refusals known to this process (those of the store are read at each look too: `check`
/// and the service are two processes).
static REFUSED: Mutex<Vec<Refusal>> = Mutex::new(Vec::new());

/// MIT's krb5 error table base (`krb5/krb5_err.et`); KDC error codes are added to it.
const KRB5_ERROR_BASE: i32 = -1_765_328_384;
/// `KRB5KDC_ERR_PREAUTH_FAILED` (RFC 4120 §7.5.9, code 24): the KDC refused the key. The
/// GSS minor status carries it as unsigned.
const PREAUTH_FAILED: i32 = KRB5_ERROR_BASE + 24;
/// `KRB5KDC_ERR_CLIENT_REVOKED` (code 18): the account is locked out, disabled or
/// expired. It says nothing of the key, so the file is offered again once the account is
/// usable (a locked account's refusals do not count further toward its lockout).
const CLIENT_REVOKED: i32 = KRB5_ERROR_BASE + 18;

/// What to add to the GSS library's words for `minor`, when the KDC's answer is about the
/// account rather than the key.
pub fn account_hint(minor: u32) -> Option<&'static str> {
    (minor as i32 == CLIENT_REVOKED).then_some(
        "the KDC refuses the account itself (locked out, disabled or expired): unlock or enable it; the keytab is \
         offered again at the next bind",
    )
}

fn key(k: &KeytabBind) -> String {
    format!("{} {}", k.ccache, k.principal)
}

/// The keytab's path as MIT names it (`FILE:` dropped), resolved through symbolic links,
/// so one file reached by two paths is one file.
fn path(k: &KeytabBind) -> String {
    let named = k.file_path();
    std::fs::canonicalize(named).map_or_else(|_| named.to_owned(), |p| p.display().to_string())
}

/// The file's (length, modification time in ns since the epoch), `None` when unreadable.
fn file_state(path: &str) -> Option<(u64, u64)> {
    let meta = std::fs::metadata(path).ok()?;
    let modified = meta.modified().ok()?.duration_since(UNIX_EPOCH).ok()?;
    Some((meta.len(), u64::try_from(modified.as_nanos()).ok()?))
}

/// The file's device and inode (Unix; `None` elsewhere or when unreadable).
fn file_id(path: &str) -> Option<(u64, u64)> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::MetadataExt;
        let meta = std::fs::metadata(path).ok()?;
        Some((meta.dev(), meta.ino()))
    }
    #[cfg(not(unix))]
    {
        let _ = path;
        None
    }
}

/// Whether `r` is of the keytab at `path` (by its resolved path, or its device and inode:
/// a hard link is another path to the same file) and the principal of `k`.
fn same_file(r: &Refusal, path: &str, k: &KeytabBind) -> bool {
    r.principal == k.principal && (r.keytab == path || (r.file_id.is_some() && r.file_id == file_id(path)))
}

/// Whether `r` still describes the file on disk (a changed file is offered again).
fn current(r: &Refusal) -> bool {
    file_state(&r.keytab) == Some((r.len, r.modified_ns))
}

/// Records the account's key version as the directory read it. A keytab without it is
/// behind: that file is kept as not to be offered (durably, so that `check`, a process
/// of its own, does not offer it either).
pub fn account_version_read(k: &KeytabBind, version: u32) {
    if let Ok(mut known) = ACCOUNT_VERSIONS.lock() {
        known.insert(key(k), version);
    }
    if let Some(why) = version_behind(k, version) {
        if matches!(refusal_of(k), Ok(None)) {
            keep(k, why);
        }
    }
}

/// Why the keytab is behind `account` (every key version it holds of the principal is
/// older: the password changed after the export), or `None`. A keytab holding a version
/// the account does not report, but no older one only, is not behind: the KDC does not
/// compare key versions (a keytab written with `ktutil -k N`, a DC that has not yet
/// replicated a reset), so such a keytab still works and is offered.
fn version_behind(k: &KeytabBind, account: u32) -> Option<String> {
    let held = key_versions(&std::fs::read(path(k)).ok()?, &k.principal)?;
    if held.is_empty() || held.iter().any(|v| *v >= account) {
        return None;
    }
    let list = held.iter().map(u32::to_string).collect::<Vec<_>>().join(", ");
    Some(format!(
        "it holds key version {list} of {}, but the account is at {account} (its password changed)",
        k.principal
    ))
}

/// Records a failed acquisition with the keytab: when the KDC refused the key (`minor`,
/// MIT's krb5 error code), the file as it is now is not offered again, by this process
/// or any later one.
pub fn acquisition_failed(k: &KeytabBind, minor: u32, text: &str) {
    if minor as i32 == PREAUTH_FAILED {
        keep(k, format!("the KDC refused the key of {} ({text})", k.principal));
    }
}

/// Keeps the file of `k` as it is now as not to be offered, for `why`: in the store first;
/// when it cannot be written, still in memory with the failure logged, as an offered
/// stale key counts toward lockout.
fn keep(k: &KeytabBind, why: String) {
    let path = path(k);
    let Some((len, modified_ns)) = file_state(&path) else { return };
    let refusal = Refusal {
        keytab: path.clone(),
        principal: k.principal.clone(),
        len,
        modified_ns,
        why,
        file_id: file_id(&path),
    };
    if let Some(store) = STORE.get() {
        let mut change = |all: &mut Vec<Refusal>| {
            all.retain(|r| !same_file(r, &path, k) && current(r));
            all.push(refusal.clone());
        };
        if let Err(e) = store.update(&mut change) {
            tracing::warn!(keytab = %path, error = %e, "cannot keep the keytab's refusal on disk: a restart may offer it again");
        }
    }
    if let Ok(mut known) = REFUSED.lock() {
        known.retain(|r| !same_file(r, &path, k));
        known.push(refusal);
    }
}

/// The refusal of the keytab of `k` as the file is now, from memory or the store (each
/// looked at for the file as it is now: another process may have refused a newer one).
///
/// Errors: the store's, when its refusals cannot be read.
fn refusal_of(k: &KeytabBind) -> Result<Option<Refusal>, String> {
    let path = path(k);
    let mine = REFUSED.lock().ok().and_then(|known| known.iter().find(|r| same_file(r, &path, k)).cloned());
    if let Some(r) = mine.filter(current) {
        return Ok(Some(r));
    }
    let Some(store) = STORE.get() else { return Ok(None) };
    Ok(store.load()?.into_iter().find(|r| same_file(r, &path, k) && current(r)))
}

/// Why the keytab must not be offered to the KDC now, or `None`.
pub fn behind(k: &KeytabBind) -> Option<String> {
    let path = path(k);
    let why = match refusal_of(k) {
        Ok(Some(r)) => r.why,
        Err(e) => {
            return Some(format!(
                "{path} is not offered to the KDC: the keytab refusals kept in the storage path cannot be read ({e}), \
                 and a key the KDC refused may be among them (each refusal counts toward the account's lockout): run \
                 this as the service's user, or remove the file if it is damaged"
            ))
        }
        Ok(None) => version_behind(k, *ACCOUNT_VERSIONS.lock().ok()?.get(&key(k))?)?,
    };
    Some(format!(
        "{path} is not offered to the KDC: {why}: export the keytab again (it is read at the next bind, no restart); \
         the same file is not offered again, as each refusal counts toward the account's lockout"
    ))
}

#[cfg(test)]
mod tests;
