//! `directory.NAME.keytab` (keytab binds, issue #20): the key versions the keytab holds
//! for `bind_principal` beside the account's `msDS-KeyVersionNumber`. A password change
//! moves the account on; the running connector keeps its ticket until the next renewal,
//! which then fails. WARN when the keytab lacks the account's version, so it is
//! exported again before that.

use connector_actors::directory::bind::keytab::versions::key_versions;
use connector_actors::directory::{DirectorySettings, ServiceBind};
use connector_actors::ldap::entry::RawEntry;
use ldap3::{Ldap, Scope};

use super::{Check, Report};

const KVNO: &str = "msDS-KeyVersionNumber";

pub async fn versions(d: &DirectorySettings, ldap: &Ldap, r: &mut Report) {
    let ServiceBind::Keytab(k) = &d.bind else { return };
    let name = format!("directory.{}.keytab", d.name);
    let path = k.keytab.strip_prefix("FILE:").unwrap_or(&k.keytab);
    let held = match std::fs::read(path).map(|b| key_versions(&b, &k.principal)) {
        Ok(Some(v)) if !v.is_empty() => v,
        Ok(Some(_)) => {
            let fix =
                format!("export the keys of {} into {path} (samba-tool domain exportkeytab / ktpass)", k.principal);
            return r.add(Check::fail(name, format!("{path} holds no key of {}", k.principal), fix));
        }
        Ok(None) => {
            return r.add(Check::warn(name, format!("{path}: key versions not readable (not MIT's keytab format)")))
        }
        Err(e) => return r.add(Check::warn(name, format!("cannot read {path}: {e}"))),
    };
    let list = held.iter().map(u32::to_string).collect::<Vec<_>>().join(", ");
    let found =
        RawEntry::search(ldap.clone(), d.operation_timeout, &d.bind_dn, Scope::Base, "(objectClass=*)", &[KVNO]).await;
    let account = found.ok().and_then(|e| e.first()?.first_text(KVNO)?.trim().parse::<u32>().ok());
    match account {
        None => r.add(Check::ok(
            name,
            format!("{path} holds key version {list} of {}; the account's is not readable", k.principal),
        )),
        Some(v) if held.contains(&v) => r.add(Check::ok(
            name,
            format!("{path} holds key version {list} of {}, the account's current one ({v})", k.principal),
        )),
        Some(v) => r.add(Check::warn(
            name,
            format!(
                "{path} holds key version {list} of {}, but the account is at {v} (its password changed): the next \
                 ticket renewal will fail; export the keytab again (samba-tool domain exportkeytab / ktpass)",
                k.principal
            ),
        )),
    }
}
