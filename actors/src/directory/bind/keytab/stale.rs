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
//! - the KDC refused the file's key once (pre-authentication failed, the client revoked):
//!   not offered again until the file changes (its length or modification time).
//!
//! The file is looked at again at each bind, so a keytab exported anew is used at once,
//! no restart.

use std::collections::HashMap;
use std::sync::{LazyLock, Mutex};
use std::time::SystemTime;

use super::versions::key_versions;
use super::KeytabBind;

/// Per private credential cache (one per directory) and principal (a reload may name
/// another account): what is known against its keytab.
#[derive(Default)]
struct Known {
    /// The account's `msDS-KeyVersionNumber` as last read.
    account_version: Option<u32>,
    /// The keytab file (length, modification time) whose key the KDC refused, and how.
    refused: Option<((u64, SystemTime), String)>,
}

static KNOWN: LazyLock<Mutex<HashMap<String, Known>>> = LazyLock::new(|| Mutex::new(HashMap::new()));

/// `KRB5KDC_ERR_CLIENT_REVOKED` and `KRB5KDC_ERR_PREAUTH_FAILED` (RFC 4120 §7.5.9 codes 18
/// and 24, MIT's error table base -1765328384): the KDC refused the key, or the account
/// is locked or disabled. The GSS minor status carries them as unsigned.
const REFUSED: [i32; 2] = [-1_765_328_384 + 18, -1_765_328_384 + 24];

fn key(k: &KeytabBind) -> String {
    format!("{} {}", k.ccache, k.principal)
}

fn path(k: &KeytabBind) -> &str {
    k.keytab.strip_prefix("FILE:").unwrap_or(&k.keytab)
}

fn file_state(k: &KeytabBind) -> Option<(u64, SystemTime)> {
    let meta = std::fs::metadata(path(k)).ok()?;
    Some((meta.len(), meta.modified().ok()?))
}

/// Records the account's key version as the directory read it.
pub fn account_version_read(k: &KeytabBind, version: u32) {
    if let Ok(mut known) = KNOWN.lock() {
        known.entry(key(k)).or_default().account_version = Some(version);
    }
}

/// Records a failed acquisition with the keytab: when the KDC refused the key (`minor`,
/// MIT's krb5 error code), the file as it is now is not offered again.
pub fn acquisition_failed(k: &KeytabBind, minor: u32, text: &str) {
    if !REFUSED.contains(&(minor as i32)) {
        return;
    }
    if let (Ok(mut known), Some(state)) = (KNOWN.lock(), file_state(k)) {
        known.entry(key(k)).or_default().refused = Some((state, text.to_owned()));
    }
}

/// Why the keytab must not be offered to the KDC now, or `None`.
pub fn behind(k: &KeytabBind) -> Option<String> {
    let known = KNOWN.lock().ok()?;
    let known = known.get(&key(k))?;
    let path = path(k);
    if let Some((state, why)) = &known.refused {
        if file_state(k).as_ref() == Some(state) {
            return Some(format!(
                "the KDC refused the key of {} in {path} ({why}): export the keytab again (it is read at the next \
                 bind, no restart); the same file is not offered again, as each refusal counts toward the account's \
                 lockout",
                k.principal
            ));
        }
    }
    let account = known.account_version?;
    let held = key_versions(&std::fs::read(path).ok()?, &k.principal)?;
    if held.is_empty() || held.contains(&account) {
        return None;
    }
    let list = held.iter().map(u32::to_string).collect::<Vec<_>>().join(", ");
    Some(format!(
        "{path} holds key version {list} of {}, but the account is at {account} (its password changed): export the \
         keytab again (it is read at the next bind, no restart); the old key is not offered to the KDC meanwhile, as \
         each refusal counts toward the account's lockout",
        k.principal
    ))
}

#[cfg(test)]
mod tests {
    use super::super::versions::tests::record;
    use super::*;

    fn keytab_at(path: &std::path::Path, kvno: u8) {
        let mut kt = vec![5, 2];
        kt.extend(record(&["svc"], "EXAMPLE.TEST", kvno, None));
        std::fs::write(path, kt).unwrap();
    }

    fn bind(path: &std::path::Path, cache: &str) -> KeytabBind {
        KeytabBind {
            keytab: format!("FILE:{}", path.display()),
            principal: "svc@EXAMPLE.TEST".into(),
            spn_host: None,
            ccache: format!("MEMORY:test-{cache}"),
            key_versions: vec![],
        }
    }

    #[test]
    fn a_keytab_without_the_account_s_key_version_is_behind_until_exported_again() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("svc.keytab");
        keytab_at(&file, 2);
        let k = bind(&file, "version");
        assert_eq!(behind(&k), None, "nothing known yet");
        account_version_read(&k, 2);
        assert_eq!(behind(&k), None);
        account_version_read(&k, 3);
        let why = behind(&k).unwrap();
        assert!(why.contains("holds key version 2 of svc@EXAMPLE.TEST, but the account is at 3"), "{why}");
        keytab_at(&file, 3);
        assert_eq!(behind(&k), None, "the new keytab is read at once");
    }

    #[test]
    fn a_key_the_kdc_refused_is_not_offered_again_until_the_file_changes() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("svc.keytab");
        keytab_at(&file, 2);
        let k = bind(&file, "refused");
        // The KDC unreachable is no refusal of the key.
        acquisition_failed(&k, (-1_765_328_228i32) as u32, "Cannot contact any KDC");
        assert_eq!(behind(&k), None);
        acquisition_failed(&k, REFUSED[1] as u32, "Preauthentication failed");
        let why = behind(&k).unwrap();
        assert!(why.contains("the KDC refused the key") && why.contains("Preauthentication failed"), "{why}");
        let mut longer = std::fs::read(&file).unwrap();
        longer.extend(record(&["svc"], "EXAMPLE.TEST", 3, None));
        std::fs::write(&file, longer).unwrap();
        assert_eq!(behind(&k), None, "a changed file is offered again");
    }
}
