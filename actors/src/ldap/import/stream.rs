//! One run of an import: the main search under the base, then a delta's other phases,
//! each record packed and stored as it comes.

use ldap3::controls::RawControl;
use ldap3::Scope;

use super::packer::{BatchEnd, Packer, Seen};
use super::plan::{ImportToken, Plan};
use super::position::{timestamp, watermark};
use super::ranges::complete_ranges;
use super::run::{Run, DOMAIN_SCOPE_OID};
use super::scope::{Memberships, ScopeStore};
use super::{deleted, departures, membership, qerr, ImportJob};
use crate::directory::{DirectoryKind, Lease};
use crate::errors::{ErrorCode, JobError, Reply};
use crate::ldap::auth::ppolicy::PolicyAges;
use crate::ldap::codes::{rc, LdapFailure};
use crate::ldap::dn::Dn;
use crate::ldap::entry::ranged;
use crate::ldap::paged::{MissingBase, Paged, Query};
use crate::ldap::withheld::Withholding;
use crate::queue::{GetProgress, GetSpool, LoadSeen, TrackImport, WatchImports};

pub async fn stream(job: &ImportJob, lease: &Lease, plan: &Plan, store: &ScopeStore) -> Result<(), JobError> {
    let s = &lease.settings;
    let progress = job.queue.send(GetProgress { id: job.job_id.clone() }).await.or_internal("queue")?;
    let resumed = if progress.batches_stored > 0 {
        Seen(job.queue.send(LoadSeen { id: job.job_id.clone() }).await.or_internal("queue")?)
    } else {
        Seen(Vec::new())
    };
    let page = job.payload.page_size.unwrap_or(500).clamp(1, 1000) as i32;
    let per_batch = job.payload.batch_size.unwrap_or(500) as usize;
    let spool = job.queue.send(GetSpool).await.map_err(qerr)?;
    let scope = plan.scope.as_ref();
    let keeper = scope.filter(|s| s.write).map(|_| store.clone());
    let old_scope = match scope.and_then(|s| s.old_token.as_deref().map(|t| (s, t))) {
        Some((s, t)) => {
            store.open(&s.id, t).map_err(|e| JobError::internal(format!("reading the import's scope: {e}")))?
        }
        None => None,
    };
    let base = Dn::parse(&plan.base).map_err(|e| JobError::invalid_job(format!("base_dn: {e}")))?;
    // A full import's estimate is the count of the last full import of its scope.
    let estimate_scope = plan.scope.as_ref().filter(|_| plan.delta.is_none()).map(|s| s.id.clone());
    let track = TrackImport { id: job.job_id.clone(), scope: estimate_scope };
    job.queue.send(track).await.or_internal("queue")?;
    let imports = job.queue.send(WatchImports).await.map_err(qerr)?;
    let packer = Packer::new(spool, progress, per_batch, keeper, imports);
    let withholding = Withholding::load(&job.queue, &job.job_id).await?;
    let policy_ages = match lease.settings.kind {
        DirectoryKind::Ldap => PolicyAges::read(&lease.ldap, &lease.settings, &lease.memory.groups).await,
        DirectoryKind::ActiveDirectory => PolicyAges::default(),
    };
    let deleted_groups = Vec::new();
    let mut run =
        Run { job, lease, plan, base, page, resumed, packer, old_scope, deleted_groups, withholding, policy_ages };
    let largest = main_search(&mut run).await?;
    if let Some(delta) = &plan.delta {
        if let (Some(container), Some(usn)) = (&delta.deleted_objects, delta.usn) {
            deleted_phase(&mut run, container, usn).await?;
        }
        departures::phase(&mut run, delta).await?;
        if plan.scope.as_ref().is_some_and(|s| s.memberships == Memberships::Tracked) && !delta.resend_all {
            membership::phase(&mut run, delta).await?;
        }
    }
    if s.kind == DirectoryKind::Ldap {
        let took = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_millis() as u64)
            .saturating_sub(plan.started_ms);
        let token = next_ldap_token(plan, largest.as_deref(), std::time::Duration::from_millis(took));
        job.journal().record(&ImportToken(token)).await?;
    }
    run.packer.store(job, BatchEnd::Last).await
}

/// The token after an import on an LDAP server other than AD (see `position.rs`): never
/// before the delta's own, which every entry not seen here changed after.
fn next_ldap_token(plan: &Plan, largest: Option<&str>, took: std::time::Duration) -> String {
    let old = plan.next_token.strip_prefix("ldap-ts:").unwrap_or("19700101000000Z").to_owned();
    let new = largest.and_then(|l| watermark(l, took)).unwrap_or_default();
    format!("ldap-ts:{}", if new > old { new } else { old })
}

/// The main search; returns the largest `modifyTimestamp` seen (other LDAP servers).
async fn main_search(run: &mut Run<'_>) -> Result<Option<String>, JobError> {
    let s = &run.lease.settings;
    let mut ldap = run.lease.dedicated().await.map_err(|e| e.to_job_error("import connection"))?;
    let mut follow = ldap.clone();
    let controls: Vec<RawControl> = match s.kind {
        DirectoryKind::ActiveDirectory => vec![RawControl { ctype: DOMAIN_SCOPE_OID.into(), crit: false, val: None }],
        DirectoryKind::Ldap => Vec::new(),
    };
    let q = Query {
        base: &run.plan.base,
        scope: Scope::Subtree,
        filter: &run.plan.filter,
        attributes: run.plan.attributes.clone(),
        controls,
        page: run.page,
        timeout: s.operation_timeout,
    };
    let failed = |e: LdapFailure| e.to_job_error("import search");
    let mut search = Paged::start(&mut ldap, q).await.map_err(failed)?;
    let mut largest: Option<String> = None;
    while let Some(mut entry) = search.next().await.map_err(failed)? {
        // Ranged values are merged here (hook for the record builder's own merge).
        if entry.attributes.iter().any(|(n, _)| ranged(n).is_some()) {
            complete_ranges(&mut follow, &mut entry, s.operation_timeout).await?;
        }
        if let Some(ts) = entry.first_text("modifyTimestamp").and_then(timestamp) {
            if largest.as_ref().is_none_or(|l| ts > *l) {
                largest = Some(ts);
            }
        }
        run.push_entry(entry).await?;
    }
    let res = search.finish(MissingBase::Fails).await;
    let _ = ldap.unbind().await;
    match res {
        Ok(()) => Ok(largest),
        Err(LdapFailure::Result { rc: rc::SIZE_LIMIT_EXCEEDED, text }) => Err(size_limited(s.kind, &s.bind_dn, &text)),
        Err(e) => Err(failed(e)),
    }
}

/// A paged search the directory cut short (sizeLimitExceeded, RFC 4511 §4.1.9): on
/// OpenLDAP a `sizelimit`/`olcSizeLimit` without `size.prtotal` applies to paged searches
/// too (slapd.conf(5) "limits"). Not retried: the same search stops at the same place.
fn size_limited(kind: DirectoryKind, bind_dn: &str, text: &str) -> JobError {
    let fix = match kind {
        DirectoryKind::Ldap => format!(
            "give the service account no size limit on paged searches: in the database's cn=config entry add \
             olcLimits: dn.exact=\"{bind_dn}\" size=unlimited (or add size.prtotal=unlimited to olcSizeLimit)"
        ),
        DirectoryKind::ActiveDirectory => {
            "raise MaxResultSetSize/MaxPageSize in the domain's LDAP policy (ntdsutil \"ldap policies\")".to_owned()
        }
    };
    JobError::new(
        ErrorCode::InsufficientAccess,
        format!(
            "the directory stopped the import's paged search at its size limit for {bind_dn} (LDAP 4 \
             sizeLimitExceeded{}); {fix}",
            if text.is_empty() { String::new() } else { format!(": {text}") }
        ),
    )
    .with_detail("ldap_result_code", 4)
    .with_detail("limit", "size")
}

/// Phase 2 (AD): tombstones under the base since the token, `"reason": "deleted"`.
async fn deleted_phase(run: &mut Run<'_>, container: &str, usn: u64) -> Result<(), JobError> {
    let timeout = run.lease.settings.operation_timeout;
    let mut ldap = run.lease.ldap.clone();
    let found = deleted::read(&mut ldap, timeout, container, usn, run.plan.class, run.page)
        .await
        .map_err(|e| e.to_job_error("deleted-objects search"))?;
    run.deleted_groups = found.groups();
    for t in &found.of_class {
        // Without this host's record of the token's scope, a user that moved out and was
        // then deleted cannot be told from one never in scope: every deletion of the class
        // is sent (more, never fewer; the portal ignores GUIDs it does not hold).
        let known = match (&run.old_scope, &t.key) {
            (Some(f), Some(k)) => f.contains(k).map_err(|e| JobError::internal(format!("reading the scope: {e}")))?,
            (None, _) => true,
            (Some(_), None) => false,
        };
        if known || found.was_within(t, &run.base) {
            run.push_gone(&t.dn, t.guid.clone(), t.key, "deleted").await?;
        }
    }
    Ok(())
}
