//! `ldap.import`: a paged search streamed entry by entry into records, packed into
//! batches that go through the durable outbox (PROTOCOL.md §2.6).
//!
//! - Memory is flat: one page and one batch in memory; batches wait on disk for the
//!   courier, and the import pauses while more than [`MAX_UNSENT_BATCHES`] are unsent.
//! - No entry twice: every stored batch records the digests of its records' identities
//!   (guid, else DN) in the same atomic write. A resumed import (after a crash, a retry
//!   or a lost connection) loads those digests once (16 bytes per stored record, held
//!   only while it runs), searches again and drops every entry already stored.
//! - The plan (filter, delta token) is journaled before the first search, so a resumed
//!   run continues the same import.
//! - Delta: on AD, `uSNChanged` above the token's USN when the token comes from the
//!   same DC (its invocationId), with deleted users found through the show-deleted
//!   control; on other LDAP servers, `modifyTimestamp` at or after the token's time
//!   (deletions cannot be seen there: run a full import to find them).

use std::time::Duration;

use actix::Addr;
use futures_util::future::BoxFuture;
use ldap3::adapters::{EntriesOnly, PagedResults};
use ldap3::controls::RawControl;
use ldap3::{Ldap, Scope};
use serde_json::{json, Value};

use super::codes::LdapFailure;
use super::dn::Dn;
use super::entry::{ranged, RawEntry};
use super::record::{entry_guid, guid_string, to_json};
use super::settings::DirectoryKind;
use super::{Checkout, DirectoryActor};
use crate::errors::{ErrorCode, JobError};
use crate::protocol::payload::{Import, ImportMode};
use crate::queue::{
    record_digest, CommitBatch, GetProgress, GetSpool, LoadSeen, NewBatch, QueueActor, ReadStep, RecordDigest,
    RecordStep, SpooledBatch,
};

/// Batches stored but not yet delivered before the import waits for the courier.
pub const MAX_UNSENT_BATCHES: u64 = 8;
/// The protocol's cap is 4 MiB per batch; leave room for the envelope.
const MAX_BATCH_BYTES: usize = 3_500_000;
const MAX_RECORDS_PER_BATCH: usize = 1_000;
const SHOW_DELETED_OID: &str = "1.2.840.113556.1.4.417";
const DOMAIN_SCOPE_OID: &str = "1.2.840.113556.1.4.1339";
/// Consecutive failures of the directory before the job gives the error back to the queue.
const MAX_RESTARTS: u32 = 5;

pub struct ImportJob {
    pub job_id: String,
    pub queue: Addr<QueueActor>,
    pub directory: Addr<DirectoryActor>,
    pub payload: Import,
}

/// What the first run decided, journaled so a resumed run does the same import.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
struct Plan {
    base: String,
    filter: String,
    attributes: Vec<String>,
    /// Search for deleted users with uSNChanged above this (AD delta only).
    deleted_since_usn: Option<u64>,
    /// The token this import hands back.
    next_token: String,
}

fn qerr(e: impl std::fmt::Display) -> JobError {
    JobError::internal(format!("queue: {e}"))
}

pub async fn run(job: ImportJob) -> Result<Value, JobError> {
    let step = |s: &str| ReadStep { id: job.job_id.clone(), step: s.into() };
    if job.queue.send(step("import.done")).await.map_err(qerr)?.map_err(qerr)?.is_none() {
        let mut failures = 0;
        loop {
            let lease = job.directory.send(Checkout).await.map_err(qerr)??;
            let plan = plan(&job, &lease).await?;
            match stream(&job, &lease, &plan).await {
                Ok(()) => break,
                Err(e) if e.retryable && failures < MAX_RESTARTS => {
                    failures += 1;
                    tracing::warn!(error = %e, attempt = failures, "import interrupted; resuming without repeating entries");
                    tokio::time::sleep(Duration::from_secs(1 << failures.min(4))).await;
                }
                Err(e) => return Err(e),
            }
        }
    }
    let plan: Plan =
        read_plan(&job).await?.ok_or_else(|| JobError::internal("import plan missing from the journal"))?;
    let progress = job.queue.send(GetProgress { id: job.job_id.clone() }).await.map_err(qerr)?.map_err(qerr)?;
    Ok(json!({"total": progress.records_stored, "deleted": progress.records_deleted, "delta_token": plan.next_token}))
}

async fn read_plan(job: &ImportJob) -> Result<Option<Plan>, JobError> {
    let v = job
        .queue
        .send(ReadStep { id: job.job_id.clone(), step: "import.plan".into() })
        .await
        .map_err(qerr)?
        .map_err(qerr)?;
    Ok(v.and_then(|v| serde_json::from_value(v).ok()))
}

async fn plan(job: &ImportJob, lease: &super::Lease) -> Result<Plan, JobError> {
    if let Some(p) = read_plan(job).await? {
        return Ok(p);
    }
    let s = &lease.settings;
    let p = &job.payload;
    let kind = s.kind;
    let base = p.base_dn.clone().unwrap_or_else(|| s.base_dn.clone());
    let filter = p.filter.clone().unwrap_or_else(|| match kind {
        DirectoryKind::ActiveDirectory => "(&(objectCategory=person)(objectClass=user))".into(),
        DirectoryKind::Ldap => "(objectClass=inetOrgPerson)".into(),
    });
    if ldap3::parse_filter(&filter).is_err() {
        return Err(JobError::invalid_job(format!("field `filter` is not a valid LDAP filter: {filter}")));
    }
    let mut attributes = p.attributes.clone().unwrap_or_else(|| vec!["*".into()]);
    let extra: &[&str] = match kind {
        DirectoryKind::ActiveDirectory => &["objectGUID", "userAccountControl"],
        DirectoryKind::Ldap => &["entryUUID"],
    };
    for a in extra {
        if !attributes.iter().any(|x| x.eq_ignore_ascii_case(a)) {
            attributes.push((*a).to_owned());
        }
    }
    let mut ldap = lease.ldap.clone();
    let (filter, deleted_since_usn, next_token) = match kind {
        DirectoryKind::ActiveDirectory => {
            let (invocation, usn) = ad_position(&mut ldap, s.operation_timeout).await?;
            let since = delta_usn(p, &invocation);
            let filter = match since {
                Some(n) => format!("(&{filter}(uSNChanged>={}))", n + 1),
                None => filter,
            };
            (filter, since, format!("ad-usn:{invocation}:{usn}"))
        }
        DirectoryKind::Ldap => {
            let since = match (p.mode, p.delta_token.as_deref().and_then(|t| t.strip_prefix("ldap-ts:"))) {
                (ImportMode::Delta, Some(ts)) if ts.len() == 15 && ts.ends_with('Z') => Some(ts.to_owned()),
                _ => None,
            };
            let filter = match since {
                Some(ts) => format!("(&{filter}(modifyTimestamp>={ts}))"),
                None => filter,
            };
            // Five minutes before now covers a clock difference with the server; entries
            // changed in that window are sent again by the next delta, never missed.
            let start = std::time::SystemTime::now() - Duration::from_secs(300);
            (filter, None, format!("ldap-ts:{}", generalized_time(start)))
        }
    };
    let plan = Plan { base, filter, attributes, deleted_since_usn, next_token };
    let value = serde_json::to_value(&plan).map_err(|e| JobError::internal(e.to_string()))?;
    job.queue
        .send(RecordStep { id: job.job_id.clone(), step: "import.plan".into(), value })
        .await
        .map_err(qerr)?
        .map_err(qerr)?;
    Ok(plan)
}

/// The USN a delta import starts after, if the token is from this DC.
fn delta_usn(p: &Import, invocation: &str) -> Option<u64> {
    if p.mode != ImportMode::Delta {
        return None;
    }
    let token = p.delta_token.as_deref()?;
    let rest = token.strip_prefix("ad-usn:")?;
    let (inv, usn) = rest.rsplit_once(':')?;
    if inv != invocation {
        tracing::info!("delta token is from another domain controller; running a full import");
        return None;
    }
    usn.parse().ok()
}

/// (invocationId of the DC's NTDS settings, highestCommittedUSN) from the rootDSE.
async fn ad_position(ldap: &mut Ldap, timeout: Duration) -> Result<(String, u64), JobError> {
    let read = |e: LdapFailure| e.to_job_error("reading the directory's position");
    let root = ldap
        .with_timeout(timeout)
        .search("", Scope::Base, "(objectClass=*)", vec!["highestCommittedUSN", "dsServiceName"])
        .await
        .map_err(|e| read(LdapFailure::from_ldap(e)))?;
    let entry = root.0.into_iter().next().map(RawEntry::parse).transpose().map_err(read)?;
    let entry = entry.ok_or_else(|| JobError::internal("the rootDSE returned nothing"))?;
    let usn = entry.first_text("highestCommittedUSN").and_then(|s| s.parse().ok()).unwrap_or(0);
    let service = entry.first_text("dsServiceName").unwrap_or_default().to_owned();
    let ntds = ldap
        .with_timeout(timeout)
        .search(&service, Scope::Base, "(objectClass=*)", vec!["invocationId"])
        .await
        .map_err(|e| read(LdapFailure::from_ldap(e)))?;
    let invocation = ntds
        .0
        .into_iter()
        .next()
        .map(RawEntry::parse)
        .transpose()
        .map_err(read)?
        .and_then(|e| e.first("invocationId").and_then(guid_string))
        .unwrap_or_default();
    Ok((invocation, usn))
}

fn generalized_time(t: std::time::SystemTime) -> String {
    let s = humantime::format_rfc3339_seconds(t).to_string(); // 2026-11-27T10:00:00Z
    s.chars().filter(|c| c.is_ascii_digit()).collect::<String>() + "Z"
}

/// Digests of the records stored by earlier runs of this import (empty on a first run).
struct Seen(Vec<RecordDigest>);

impl Seen {
    fn contains(&self, key: &str) -> bool {
        !self.0.is_empty() && self.0.binary_search(&record_digest(key)).is_ok()
    }
}

/// The records of a batch in the making, the commit of the one before, and where the
/// next one goes in the spool.
struct Packer {
    batch: NewBatch,
    bytes: usize,
    storing: Option<tokio::task::JoinHandle<Result<crate::queue::ImportProgress, JobError>>>,
    spool: std::sync::Arc<crate::queue::spool::Spool>,
    next_seq: u64,
    seen_bytes: u64,
}

async fn stream(job: &ImportJob, lease: &super::Lease, plan: &Plan) -> Result<(), JobError> {
    let s = &lease.settings;
    let progress = job.queue.send(GetProgress { id: job.job_id.clone() }).await.map_err(qerr)?.map_err(qerr)?;
    let seen: Vec<RecordDigest> = if progress.batches_stored > 0 {
        job.queue.send(LoadSeen { id: job.job_id.clone() }).await.map_err(qerr)?.map_err(qerr)?
    } else {
        Vec::new()
    };
    let resumed = Seen(seen);
    let page = job.payload.page_size.unwrap_or(500).clamp(1, 1000) as i32;
    let per_batch = (job.payload.batch_size.unwrap_or(500) as usize).clamp(1, MAX_RECORDS_PER_BATCH);
    let mut ldap = lease.dedicated().await.map_err(|e| e.to_job_error("import connection"))?;
    let mut follow = ldap.clone();
    let controls: Vec<RawControl> = match s.kind {
        DirectoryKind::ActiveDirectory => vec![RawControl { ctype: DOMAIN_SCOPE_OID.into(), crit: false, val: None }],
        DirectoryKind::Ldap => Vec::new(),
    };
    let adapters: Vec<Box<dyn ldap3::adapters::Adapter<_, _>>> =
        vec![Box::new(EntriesOnly::new()), Box::new(PagedResults::new(page))];
    let mut search = ldap
        .with_controls(controls.clone())
        .with_timeout(s.operation_timeout)
        .streaming_search_with(adapters, &plan.base, Scope::Subtree, &plan.filter, plan.attributes.clone())
        .await
        .map_err(|e| LdapFailure::from_ldap(e).to_job_error("import search"))?;
    let spool = job.queue.send(GetSpool).await.map_err(qerr)?;
    let (next_seq, seen_bytes) = (progress.batches_stored, progress.seen_bytes);
    let mut packer = Packer { batch: NewBatch::default(), bytes: 0, storing: None, spool, next_seq, seen_bytes };
    loop {
        let next = search.next().await.map_err(|e| LdapFailure::from_ldap(e).to_job_error("import search"))?;
        let Some(raw) = next else { break };
        let mut entry = RawEntry::parse(raw).map_err(|e| e.to_job_error("import search"))?;
        if entry.attributes.iter().any(|(n, _)| ranged(n).is_some()) {
            complete_ranges(&mut follow, &mut entry, s.operation_timeout).await?;
        }
        let key = entry_guid(s.kind, &entry).unwrap_or_else(|| entry.dn.clone());
        if resumed.contains(&key) {
            continue;
        }
        push_text(&mut packer, to_json(s.kind, &entry), key, false);
        if packer.batch.records.len() >= per_batch || packer.bytes >= MAX_BATCH_BYTES {
            store(job, &mut packer, false).await?;
        }
    }
    let res = search.finish().await;
    let _ = ldap.unbind().await;
    if res.rc != 0 {
        return Err(LdapFailure::Result { rc: res.rc, text: res.text }.to_job_error("import search"));
    }
    if let Some(usn) = plan.deleted_since_usn {
        deleted_users(job, lease, &plan.base, usn, &mut packer, &resumed, per_batch).await?;
    }
    store(job, &mut packer, true).await
}

fn push_text(packer: &mut Packer, text: String, key: String, deleted: bool) {
    packer.batch.deleted += u64::from(deleted);
    packer.bytes += text.len() + 1;
    packer.batch.records.push(text);
    packer.batch.keys.push(key);
}

/// Writes the packed batch into the spool (here, on the import's own thread: the queue
/// actor, which also serves logins, only commits it), then goes back to reading while
/// the queue commits it (one batch in flight: the previous one is waited for first, so
/// a failed commit stops the import one batch later at most). Waits while too many
/// batches are unsent.
async fn store(job: &ImportJob, packer: &mut Packer, last: bool) -> Result<(), JobError> {
    let mut batch = std::mem::take(&mut packer.batch);
    packer.bytes = 0;
    batch.last = last;
    if let Some(previous) = packer.storing.take() {
        let mut p = previous.await.map_err(qerr)??;
        while p.batches_stored.saturating_sub(p.batches_delivered) > MAX_UNSENT_BATCHES {
            tokio::time::sleep(Duration::from_millis(20)).await;
            p = job.queue.send(GetProgress { id: job.job_id.clone() }).await.map_err(qerr)?.map_err(qerr)?;
        }
    }
    if batch.records.is_empty() && !last {
        return Ok(());
    }
    let (seq, seen) = (packer.next_seq, packer.seen_bytes);
    (packer.next_seq, packer.seen_bytes) = (seq + 1, seen + 16 * batch.keys.len() as u64);
    let (spool, queue, id) = (packer.spool.clone(), job.queue.clone(), job.job_id.clone());
    let spooled =
        SpooledBatch { seq, records: batch.records.len() as u64, deleted: batch.deleted, last, seen_bytes: 0 };
    // The spool's writes and fsyncs go to the blocking pool while this thread reads on.
    let storing = tokio::spawn(async move {
        let on_disk = tokio::task::spawn_blocking({
            let id = id.clone();
            move || batch.spool(&spool, &id, seq, seen)
        });
        let seen_bytes = on_disk
            .await
            .map_err(qerr)?
            .map_err(|e| JobError::internal(format!("writing batch {seq} to the queue's spool: {e}")))?;
        let batch = SpooledBatch { seen_bytes, ..spooled };
        queue.send(CommitBatch { id, batch }).await.map_err(qerr)?.map_err(qerr)
    });
    if last {
        storing.await.map_err(qerr)??;
    } else {
        packer.storing = Some(storing);
    }
    Ok(())
}

/// Follows AD ranged values (`member;range=0-1499`) to the end and merges them.
fn complete_ranges<'a>(
    ldap: &'a mut Ldap,
    entry: &'a mut RawEntry,
    timeout: Duration,
) -> BoxFuture<'a, Result<(), JobError>> {
    Box::pin(async move {
        let mut i = 0;
        while i < entry.attributes.len() {
            let (base, mut end) = match ranged(&entry.attributes[i].0).map(|(b, e)| (b.to_owned(), e)) {
                None => {
                    i += 1;
                    continue;
                }
                Some((base, None)) => {
                    entry.attributes[i].0 = base;
                    i += 1;
                    continue;
                }
                Some((base, Some(end))) => (base, end),
            };
            entry.attributes[i].0 = base.clone();
            loop {
                let want = format!("{base};range={}-*", end + 1);
                let res = ldap
                    .with_timeout(timeout)
                    .search(&entry.dn, Scope::Base, "(objectClass=*)", vec![want.as_str()])
                    .await
                    .map_err(|e| LdapFailure::from_ldap(e).to_job_error("ranged attribute"))?;
                let Some(more) = res.0.into_iter().next() else { break };
                let more = RawEntry::parse(more).map_err(|e| e.to_job_error("ranged attribute"))?;
                let Some((got_name, values)) = more
                    .attributes
                    .into_iter()
                    .find(|(n, _)| ranged(n).is_some_and(|(b, _)| b.eq_ignore_ascii_case(&base)))
                else {
                    break;
                };
                entry.attributes[i].1.extend(values);
                match ranged(&got_name) {
                    Some((_, Some(e))) if e > end => end = e,
                    _ => break,
                }
            }
            i += 1;
        }
        Ok(())
    })
}

/// Users deleted since `usn` whose last parent lay under the import's `base`, compared
/// as DNs. Tombstones live in the domain's `CN=Deleted Objects` whatever the base, so the
/// search runs from the domain root (`defaultNamingContext`) and each tombstone's
/// `lastKnownParent` ([MS-ADTS] 3.1.1.5.5.1.1 "Tombstone Requirements") decides;
/// computers (also of class user) are not users.
async fn deleted_users(
    job: &ImportJob,
    lease: &super::Lease,
    base: &str,
    usn: u64,
    packer: &mut Packer,
    resumed: &Seen,
    per_batch: usize,
) -> Result<(), JobError> {
    let s = &lease.settings;
    let base = Dn::parse(base).map_err(|e| JobError::invalid_job(format!("base_dn: {e}")))?;
    let root = RawEntry::search(
        lease.ldap.clone(),
        s.operation_timeout,
        "",
        Scope::Base,
        "(objectClass=*)",
        &["defaultNamingContext"],
    )
    .await
    .map_err(|e| e.to_job_error("reading the root DSE"))?;
    let domain = root.first().and_then(|e| e.first_text("defaultNamingContext")).unwrap_or(&s.base_dn).to_owned();
    let mut ldap = lease.ldap.clone();
    let controls = vec![
        RawControl { ctype: SHOW_DELETED_OID.into(), crit: true, val: None },
        RawControl { ctype: DOMAIN_SCOPE_OID.into(), crit: false, val: None },
    ];
    let filter = format!("(&(isDeleted=TRUE)(objectClass=user)(!(objectClass=computer))(uSNChanged>={}))", usn + 1);
    let res = ldap
        .with_controls(controls)
        .with_timeout(s.operation_timeout)
        .search(&domain, Scope::Subtree, &filter, vec!["objectGUID", "lastKnownParent"])
        .await
        .map_err(|e| LdapFailure::from_ldap(e).to_job_error("deleted-users search"))?;
    for raw in res.0.into_iter().filter(|e| !e.is_ref()) {
        let entry = RawEntry::parse(raw).map_err(|e| e.to_job_error("deleted-users search"))?;
        let parent = entry.first_text("lastKnownParent").and_then(|p| Dn::parse(p).ok());
        if !parent.is_some_and(|p| p.is_within(&base)) {
            continue;
        }
        let guid = entry_guid(DirectoryKind::ActiveDirectory, &entry);
        let key = guid.clone().unwrap_or_else(|| entry.dn.clone());
        if resumed.contains(&key) {
            continue;
        }
        push_text(packer, json!({"dn": entry.dn, "guid": guid, "deleted": true}).to_string(), key, true);
        if packer.batch.records.len() >= per_batch {
            store(job, packer, false).await?;
        }
    }
    if res.1.rc != 0 && res.1.rc != 32 {
        return Err(JobError::new(
            ErrorCode::DirectoryUnavailable,
            format!("deleted-users search: result code {}", res.1.rc),
        ));
    }
    Ok(())
}
