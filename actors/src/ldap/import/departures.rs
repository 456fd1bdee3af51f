//! Phase 3 of a delta: entries that left the import's base since the token, sent as
//! `{"dn", "guid", "deleted": true, "reason": "moved_out"}` (PROTOCOL.md §2.6).
//!
//! A move (modrdn, RFC 4511 §4.9) changes the entry, so it shows among the entries of
//! the class changed since the token anywhere in the naming context (AD `uSNChanged`,
//! [MS-ADTS] 3.1.1.1.9; elsewhere `modifyTimestamp`); of those, the ones now outside the
//! base (compared as [`Dn`]s), or under it but no longer matching the job's filter, that
//! the token's scope file lists left it. Without that
//! file (a new host, or an old token) nobody can tell which of them were ever in scope,
//! so every one is reported: a departure of an entry the portal never had is harmless,
//! one missed would keep a user the portal should drop.

use ldap3::controls::RawControl;
use ldap3::Scope;

use super::plan::Delta;
use super::run::{Run, DOMAIN_SCOPE_OID};
use super::scope::member_key;
use crate::directory::DirectoryKind;
use crate::errors::JobError;
use crate::ldap::dn::Dn;
use crate::ldap::paged::{Paged, Query};
use crate::ldap::record::entry_guid;

pub async fn phase(run: &mut Run<'_>, delta: &Delta) -> Result<(), JobError> {
    let kind = run.kind();
    let timeout = run.lease.settings.operation_timeout;
    let filter = format!("(&{}{})", run.plan.class.class_filter(kind), delta.changed);
    let guid = match kind {
        DirectoryKind::ActiveDirectory => "objectGUID",
        DirectoryKind::Ldap => "entryUUID",
    };
    let controls = match kind {
        DirectoryKind::ActiveDirectory => vec![RawControl { ctype: DOMAIN_SCOPE_OID.into(), crit: false, val: None }],
        DirectoryKind::Ldap => Vec::new(),
    };
    let q = Query {
        base: &delta.naming_context,
        scope: Scope::Subtree,
        filter: &filter,
        attributes: vec![guid.to_owned()],
        controls,
        page: run.page,
        timeout,
    };
    // The candidates are read first (few: changed and outside the base), then judged,
    // so no search stays open while batches are stored.
    let mut gone = Vec::new();
    let mut ldap = run.lease.ldap.clone();
    let base = run.base.clone();
    Paged::collect(&mut ldap, q, |e| {
        if Dn::parse(&e.dn).is_ok_and(|dn| !dn.is_within(&base)) {
            gone.push((e.dn.clone(), entry_guid(kind, &e), member_key(kind, &e)));
        }
    })
    .await
    .map_err(|e| e.to_job_error("departures search"))?;
    // Still under the base, but no longer matching the job's filter (an "enabled users"
    // filter and a user disabled since): it left the scope too.
    let unmatched = format!("(&{}{}(!{}))", run.plan.class.class_filter(kind), delta.changed, run.plan.entry_filter());
    let q = Query {
        base: &run.plan.base,
        scope: Scope::Subtree,
        filter: &unmatched,
        attributes: vec![guid.to_owned()],
        controls: Vec::new(),
        page: run.page,
        timeout,
    };
    Paged::collect(&mut ldap, q, |e| gone.push((e.dn.clone(), entry_guid(kind, &e), member_key(kind, &e))))
        .await
        .map_err(|e| e.to_job_error("departures search (filter)"))?;
    for (dn, guid, member) in gone {
        let was_in = match (&run.old_scope, &member) {
            (Some(f), Some(m)) => f.contains(m).map_err(|e| JobError::internal(format!("reading the scope: {e}")))?,
            (Some(_), None) => false,
            (None, _) => true,
        };
        if was_in {
            run.push_gone(&dn, guid, member, "moved_out").await?;
        }
    }
    Ok(())
}
