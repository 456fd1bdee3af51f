//! What imports need of a directory beyond a working bind, as `check` lines: on AD, the
//! right to see deleted objects (without it a delta import fails, since it cannot report
//! deletions); on other LDAP servers, paged searches not cut by a size limit (a
//! `sizelimit`/`olcSizeLimit` without `size.prtotal` stops them, and the import fails).

use connector_actors::directory::{DirectoryKind, DirectorySettings};
use connector_actors::ldap::codes::{rc, LdapFailure};
use connector_actors::ldap::entry::RawEntry;
use connector_actors::ldap::import::deleted_objects_container;
use ldap3::controls::{Control, ControlType, PagedResults};
use ldap3::{Ldap, Scope};

use super::{Check, Report};

/// Entries read to see whether a paged search is cut (a larger limit is fine for most).
const PROBE_ENTRIES: usize = 10_000;
const PAGE: i32 = 500;

pub async fn checks(d: &DirectorySettings, ldap: &Ldap, r: &mut Report) {
    match d.kind {
        DirectoryKind::ActiveDirectory => deleted_objects(d, ldap, r).await,
        DirectoryKind::Ldap => paged_size_limit(d, ldap, r).await,
    }
}

async fn deleted_objects(d: &DirectorySettings, ldap: &Ldap, r: &mut Report) {
    let name = format!("directory.{}.deleted_objects", d.name);
    let t = d.operation_timeout;
    let root = RawEntry::search(ldap.clone(), t, "", Scope::Base, "(objectClass=*)", &["defaultNamingContext"]).await;
    let domain =
        root.ok().and_then(|e| e.first().and_then(|e| e.first_text("defaultNamingContext")).map(str::to_owned));
    let domain = domain.unwrap_or_else(|| d.base_dn.clone());
    match deleted_objects_container(ldap, t, &domain).await {
        Ok(c) if c.visible => {
            r.add(Check::ok(name, format!("{} is readable: delta imports report deletions", c.dn)))
        }
        Ok(c) => r.add(Check {
            fix: Some(format!(
                "grant {} List Contents and Read Property on {} (dsacls \"{}\" /takeOwnership, then dsacls \"{}\" /G DOMAIN\\account:LCRP)",
                d.bind_dn, c.dn, c.dn, c.dn
            )),
            ..Check::warn(
                name,
                format!(
                    "{} cannot see deleted objects in {}: delta imports fail (insufficient_access) instead of missing deletions; full imports work",
                    d.bind_dn, c.dn
                ),
            )
        }),
        Err(e) => r.add(Check::warn(name, format!("cannot look for the Deleted Objects container: {e}"))),
    }
}

async fn paged_size_limit(d: &DirectorySettings, ldap: &Ldap, r: &mut Report) {
    let name = format!("directory.{}.size_limit", d.name);
    let (read, outcome) = probe_paged(d, ldap).await;
    match outcome {
        Ok(true) => r.add(Check::ok(name, format!("a paged search read {read} entries without a limit"))),
        Ok(false) => r.add(Check::ok(name, format!("a paged search read all {read} entries under {}", d.base_dn))),
        Err(LdapFailure::Result { rc: rc::SIZE_LIMIT_EXCEEDED, .. }) => r.add(Check {
            fix: Some(format!(
                "in the database's cn=config entry add olcLimits: dn.exact=\"{}\" size=unlimited (or size.prtotal=unlimited to olcSizeLimit)",
                d.bind_dn
            )),
            ..Check::warn(
                name,
                format!(
                    "the directory stops paged searches of {} after {read} entries (LDAP 4 sizeLimitExceeded): imports of more entries fail",
                    d.bind_dn
                ),
            )
        }),
        Err(e) => r.add(Check::warn(name, format!("a paged search under {} failed: {e}", d.base_dn))),
    }
}

/// Reads DNs under the base page by page (RFC 2696), one request per page, so it can
/// stop after [`PROBE_ENTRIES`] by asking for no more: (entries read, whether it stopped
/// there rather than at the end).
async fn probe_paged(d: &DirectorySettings, ldap: &Ldap) -> (usize, Result<bool, LdapFailure>) {
    let (mut read, mut cookie) = (0usize, Vec::new());
    loop {
        let page = PagedResults { size: PAGE, cookie: std::mem::take(&mut cookie) };
        let mut l = ldap.clone();
        let res = l
            .with_controls(page)
            .with_timeout(d.operation_timeout)
            .search(&d.base_dn, Scope::Subtree, "(objectClass=*)", vec!["1.1"])
            .await;
        let (entries, result) = match res {
            Ok(res) => (res.0, res.1),
            Err(e) => return (read, Err(LdapFailure::from_ldap(e))),
        };
        read += entries.iter().filter(|e| !e.is_ref()).count();
        if result.rc != rc::SUCCESS {
            return (read, Err(LdapFailure::Result { rc: result.rc, text: result.text }));
        }
        cookie = result
            .ctrls
            .iter()
            .find_map(|c| match c {
                Control(Some(ControlType::PagedResults), raw) => Some(raw.parse::<PagedResults>().cookie),
                _ => None,
            })
            .unwrap_or_default();
        if cookie.is_empty() {
            return (read, Ok(false));
        }
        if read >= PROBE_ENTRIES {
            // RFC 2696 §3: a size of zero with the cookie releases the server's cursor.
            let mut l = ldap.clone();
            let done = PagedResults { size: 0, cookie };
            let _ = l.with_controls(done).search(&d.base_dn, Scope::Subtree, "(objectClass=*)", vec!["1.1"]).await;
            return (read, Ok(true));
        }
    }
}
