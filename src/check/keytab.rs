//! `directory.NAME.keytab` (keytab binds, issue #20): what the keytab holds for
//! `bind_principal`, printed whether or not the bind worked. After a bind: its key
//! versions beside the account's `msDS-KeyVersionNumber` (a password change moves the
//! account on; the running connector keeps its ticket until the next renewal, which then
//! fails: WARN so the keytab is exported again before that), and FAIL when `bind_dn` is
//! another account than the principal's. After a failed bind: FAIL when the keytab
//! holds no key of the principal (naming those it holds) or the KDC refused this file
//! before (it is not offered again: each refusal counts toward the account's lockout).

use connector_actors::directory::bind::held::{account_name, is_account_of};
use connector_actors::directory::bind::keytab::stale;
use connector_actors::directory::bind::keytab::versions::{key_versions, principals};
use connector_actors::directory::bind::keytab::KeytabBind;
use connector_actors::directory::{DirectorySettings, ServiceBind};
use connector_actors::ldap::entry::RawEntry;
use ldap3::{Ldap, Scope};

use super::{Check, Report};

const KVNO: &str = "msDS-KeyVersionNumber";
const ACCOUNT: [&str; 3] = [KVNO, "sAMAccountName", "userPrincipalName"];
const EXPORT: &str = "samba-tool domain exportkeytab --principal=… / ktpass";

fn line(d: &DirectorySettings) -> String {
    format!("directory.{}.keytab", d.name)
}

/// The key versions the keytab holds for the principal; `None` after a line that says
/// why there are none to compare (FAIL: no key of the principal; WARN: unreadable).
fn held(k: &KeytabBind, name: &str, r: &mut Report) -> Option<Vec<u32>> {
    let path = k.file_path();
    let bytes = match std::fs::read(path) {
        Ok(b) => b,
        Err(e) => {
            r.add(Check::warn(name, format!("cannot read {path}: {e}")));
            return None;
        }
    };
    match key_versions(&bytes, &k.principal) {
        Some(v) if !v.is_empty() => Some(v),
        Some(_) => {
            let held = principals(&bytes).unwrap_or_default();
            let held =
                if held.is_empty() { "no key at all".to_owned() } else { format!("keys of {}", held.join(", ")) };
            let fix = format!("export the keys of {} into {path} ({EXPORT}), or correct bind_principal", k.principal);
            r.add(Check::fail(name, format!("{path} holds {held}, none of {}", k.principal), fix));
            None
        }
        None => {
            r.add(Check::warn(name, format!("{path}: key versions not readable (not MIT's keytab format)")));
            None
        }
    }
}

fn versions_list(held: &[u32]) -> String {
    held.iter().map(u32::to_string).collect::<Vec<_>>().join(", ")
}

/// After a successful bind: the keytab's key versions against the account's.
pub async fn versions(d: &DirectorySettings, ldap: &Ldap, r: &mut Report) {
    let ServiceBind::Keytab(k) = &d.bind else { return };
    let name = line(d);
    let Some(held) = held(k, &name, r) else { return };
    let (path, list) = (k.file_path(), versions_list(&held));
    let found =
        RawEntry::search(ldap.clone(), d.operation_timeout, &d.bind_dn, Scope::Base, "(objectClass=*)", &ACCOUNT).await;
    let entry = match found.map(|e| e.into_iter().next()) {
        Ok(Some(e)) => e,
        Ok(None) => return r.add(unread(d, k, "was not found")),
        Err(e) => return r.add(unread(d, k, &format!("cannot be read ({e})"))),
    };
    if !is_account_of(&entry, &k.principal) {
        let e = &entry;
        let other = account_name(e).unwrap_or("another account");
        return r.add(Check::fail(
            name,
            format!(
                "bind_dn {} is {other}, not the account of bind_principal {}: its key version says nothing of the keytab",
                d.bind_dn, k.principal
            ),
            format!("set directories.{}.bind_dn to the DN of {}'s account", d.name, k.principal),
        ));
    }
    let account = entry.first_text(KVNO).and_then(|v| v.trim().parse::<u32>().ok());
    r.add(match account {
        None => Check::ok(
            name,
            format!("{path} holds key version {list} of {}; the account's is not readable", k.principal),
        ),
        Some(v) if held.contains(&v) => Check::ok(
            name,
            format!("{path} holds key version {list} of {}, the account's current one ({v})", k.principal),
        ),
        Some(v) => Check::warn(
            name,
            format!(
                "{path} holds key version {list} of {}, but the account is at {v} (its password changed): the next \
                 ticket renewal will fail; export the keytab again ({EXPORT})",
                k.principal
            ),
        ),
    })
}

/// WARN: `bind_dn`'s entry cannot be had, so the keytab is not compared with its account
/// (the service's watch for a stale keytab is off too).
fn unread(d: &DirectorySettings, k: &KeytabBind, what: &str) -> Check {
    Check::warn(
        line(d),
        format!(
            "bind_dn {} {what}: the keytab's key versions cannot be compared with the account's, and a keytab left \
             behind by a password change is known only when the KDC refuses it; set directories.{}.bind_dn to the DN \
             of {}'s account",
            d.bind_dn, d.name, k.principal
        ),
    )
}

/// After a failed bind: what the keytab holds, and whether the KDC refused this file.
pub fn unbound(d: &DirectorySettings, r: &mut Report) {
    let ServiceBind::Keytab(k) = &d.bind else { return };
    let name = line(d);
    let Some(held) = held(k, &name, r) else { return };
    let list = versions_list(&held);
    match stale::behind(k) {
        Some(why) => r.add(Check::fail(name, why, format!("export the keytab again ({EXPORT})"))),
        None => r.add(Check::ok(
            name,
            format!(
                "{} holds key version {list} of {}; the bind failed for the cause above",
                k.file_path(),
                k.principal
            ),
        )),
    }
}
