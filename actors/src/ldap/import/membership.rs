//! Phase 4 of an AD delta: entries whose group membership changed since the token are
//! sent again whole, with their current `memberOf` (PROTOCOL.md §2.6).
//!
//! Adding or removing a member changes the group, not the member: on Windows and on
//! Samba alike the group's `uSNChanged` moves and the member's does not (`memberOf` is a
//! back link, [MS-ADTS] 3.1.1.1.6, not stored on the member). Windows keeps per-value
//! history (`msDS-ReplValueMetaData`); Samba 4.17 does not return it. So, on both:
//! 1. the groups changed since the token's USN, anywhere in the domain, and the groups
//!    deleted since (their old DN from `lastKnownParent` and the old name, as the
//!    deletions phase reads them, `deleted.rs`);
//! 2. each one's members in scope now (`(memberOf=G)` under the base, GUIDs only),
//!    compared with its members in the token's scope file;
//! 3. only the members gained or lost are read again (by GUID, with the job's filter
//!    and attributes) and sent, so a change to a 10,000-member group costs one GUID scan
//!    of its members and sends only who changed.
//!
//! A member met earlier in this import (changed itself) is not sent twice. This phase
//! runs only with the token's scope file (see `plan.rs` for the conservative case).

use std::collections::BTreeSet;

use ldap3::controls::RawControl;
use ldap3::Scope;

use super::plan::Delta;
use super::ranges::complete_ranges;
use super::run::{Run, DOMAIN_SCOPE_OID};
use super::scope::{dn_key, member_key, Key};
use crate::directory::DirectoryKind;
use crate::errors::JobError;
use crate::ldap::codes::LdapFailure;
use crate::ldap::dn::Dn;
use crate::ldap::entry::ranged;
use crate::ldap::escape::{filter_bytes, filter_value};
use crate::ldap::paged::{Paged, Query};

/// GUIDs asked for in one re-read search.
const PER_SEARCH: usize = 50;

pub async fn phase(run: &mut Run<'_>, delta: &Delta) -> Result<(), JobError> {
    let Some(old) = run.old_scope.take() else { return Ok(()) };
    let timeout = run.lease.settings.operation_timeout;
    let kind = DirectoryKind::ActiveDirectory;
    let mut ldap = run.lease.ldap.clone();
    let failed = |what: &'static str| move |e: LdapFailure| e.to_job_error(what);
    let domain_scope = || vec![RawControl { ctype: DOMAIN_SCOPE_OID.into(), crit: false, val: None }];
    // 1. changed and deleted groups: (DN now, or as it was; still there)
    let mut groups: Vec<(String, bool)> = Vec::new();
    let filter = format!("(&(objectClass=group){})", delta.changed);
    let q = Query {
        base: &delta.naming_context,
        scope: Scope::Subtree,
        filter: &filter,
        attributes: vec!["1.1".into()],
        controls: domain_scope(),
        page: run.page,
        timeout,
    };
    Paged::collect(&mut ldap, q, |e| groups.push((e.dn, true))).await.map_err(failed("changed-groups search"))?;
    groups.extend(run.deleted_groups.iter().map(|g| (g.to_string(), false)));
    // 2. who joined or left each one
    let mut changed: BTreeSet<Key> = BTreeSet::new();
    for (dn, live) in &groups {
        let Ok(parsed) = Dn::parse(dn) else { continue };
        let before: BTreeSet<Key> = old
            .members_of(&dn_key(&parsed))
            .map_err(|e| JobError::internal(format!("reading the scope: {e}")))?
            .into_iter()
            .collect();
        let mut now: BTreeSet<Key> = BTreeSet::new();
        if *live {
            let filter = format!("(&{}(memberOf={}))", run.plan.entry_filter(), filter_value(dn));
            let q = Query {
                base: &run.plan.base,
                scope: Scope::Subtree,
                filter: &filter,
                attributes: vec!["objectGUID".into()],
                controls: domain_scope(),
                page: run.page,
                timeout,
            };
            Paged::collect(&mut ldap, q, |e| now.extend(member_key(kind, &e)))
                .await
                .map_err(failed("group members search"))?;
        }
        changed.extend(before.symmetric_difference(&now).copied());
    }
    if changed.is_empty() {
        return Ok(());
    }
    tracing::info!(groups = groups.len(), members = changed.len(), "group memberships changed since the token");
    // 3. read those members again, whole, unless this import sent them already
    let stored = run.stored().await?;
    let changed: Vec<Key> = changed.into_iter().collect();
    let mut follow = ldap.clone();
    for chunk in changed.chunks(PER_SEARCH) {
        let any: String = chunk.iter().map(|k| format!("(objectGUID={})", filter_bytes(k))).collect();
        let filter = format!("(&{}(|{any}))", run.plan.entry_filter());
        let q = Query {
            base: &run.plan.base,
            scope: Scope::Subtree,
            filter: &filter,
            attributes: run.plan.attributes.clone(),
            controls: domain_scope(),
            page: run.page,
            timeout,
        };
        let mut entries = Vec::new();
        Paged::collect(&mut ldap, q, |e| entries.push(e)).await.map_err(failed("changed members search"))?;
        for mut entry in entries {
            let key = crate::ldap::record::entry_guid(kind, &entry).unwrap_or_else(|| entry.dn.clone());
            if stored.contains(&key) {
                continue;
            }
            if entry.attributes.iter().any(|(n, _)| ranged(n).is_some()) {
                complete_ranges(&mut follow, &mut entry, timeout).await?;
            }
            run.push_entry(entry).await?;
        }
    }
    Ok(())
}
