//! `ldap.import`: a paged search streamed entry by entry into records, packed into
//! batches that go through the durable outbox (PROTOCOL.md §2.6).
//!
//! - Memory is flat: one page and one batch in memory; batches wait on disk for the
//!   courier, and the import pauses while more than [`MAX_UNSENT_BATCHES`] are unsent.
//! - No entry twice: every stored batch records the digests of its records' identities
//!   (guid, else DN) in the same atomic write. A resumed import (after a crash, a retry
//!   or a lost connection) loads those digests once (16 bytes per stored record, held
//!   only while it runs), searches again and drops every entry already stored.
//! - The plan (filter, delta token, where deletions are) is journaled before the first
//!   search, so a resumed run continues the same import.
//! - Delta (`stream.rs` runs the phases in this order):
//!   1. changed entries under the base: on AD `uSNChanged` above the token's USN when the
//!      token comes from the same DC (its invocationId), on other LDAP servers
//!      `modifyTimestamp` at or after the token's time (`position.rs`);
//!   2. AD deletions, `"reason": "deleted"` (`deleted.rs`; an account that cannot see
//!      them fails the delta before any batch);
//!   3. departures from the base, `"reason": "moved_out"` (`departures.rs`);
//!   4. AD members whose groups changed, sent again whole (`membership.rs`).
//!
//!   Phases 2–4 compare with who was in scope at the token (`scope.rs`), and stay
//!   conservative when this host does not have that (they send more, never less).
//!   The result's `deleted` counts every `"deleted": true` record, of either reason.
//! - Hooks: the attributes asked for are chosen in `plan::attributes`, each record's
//!   JSON is made in `run::Run::push_entry`, the result in `result()` (below).

mod class;
mod deleted;
mod departures;
mod membership;
mod packer;
mod plan;
mod position;
mod ranges;
mod run;
pub mod scope;
mod stream;

use std::time::Duration;

use crate::ldap::withheld::Withholding;
use actix::Addr;
use serde_json::{json, Value};

pub use crate::ldap::paged::{Paged, Query};
pub use class::ObjectClass;
pub use deleted::{cannot_see, container as deleted_objects_container, Container};
pub use packer::MAX_RECORDS_PER_BATCH;
pub use plan::ImportToken;
use scope::ScopeStore;

use crate::directory::{Checkout, DirectoryActor};
use crate::errors::{JobError, Reply};
use crate::protocol::payload::Import;
use crate::queue::{GetProgress, GetSpool, ImportDone, Journal, QueueActor, RememberScopeTotal};

/// Batches stored but not yet delivered before the import waits for the courier.
pub const MAX_UNSENT_BATCHES: u64 = 8;
/// Consecutive failures of the directory before the job gives the error back to the queue.
const MAX_RESTARTS: u32 = 5;

pub struct ImportJob {
    pub job_id: String,
    pub queue: Addr<QueueActor>,
    pub directory: Addr<DirectoryActor>,
    pub payload: Import,
}

impl ImportJob {
    /// The job's step journal (plan, token, withheld names, done).
    pub fn journal(&self) -> Journal {
        Journal::new(self.queue.clone(), self.job_id.clone())
    }
}

fn qerr(e: impl std::fmt::Display) -> JobError {
    JobError::internal(format!("queue: {e}"))
}

/// The import's own storage failing (a full disk, a read-only remount, an I/O error on
/// the spool, the scope records or the queue's commit): worth another try once the
/// storage works again, resuming from the journal without repeating an entry.
fn storage_error(what: String) -> JobError {
    let mut e = JobError::internal(what);
    e.retryable = true;
    e
}

pub async fn run(job: ImportJob) -> Result<Value, JobError> {
    let store = ScopeStore::new(job.queue.send(GetSpool).await.map_err(qerr)?.import_state_dir());
    if job.journal().read_if_readable::<ImportDone>().await?.is_none() {
        let mut failures = 0;
        loop {
            let lease = job.directory.send(Checkout).await.map_err(qerr)??;
            let plan = plan::plan(&job, &lease, &store).await?;
            match stream::stream(&job, &lease, &plan, &store).await {
                Ok(()) => break,
                Err(e) if e.retryable && failures < MAX_RESTARTS => {
                    failures += 1;
                    tracing::warn!(error = %e, attempt = failures, "import interrupted; resuming without repeating entries");
                    tokio::time::sleep(Duration::from_secs(1 << failures.min(4))).await;
                }
                Err(e) => {
                    // Records of a job that will run again are kept for its next run.
                    if !e.retryable {
                        store.discard(&job.job_id);
                    }
                    return Err(e);
                }
            }
        }
    }
    let plan = plan::read(&job).await?.ok_or_else(|| JobError::internal("import plan missing from the journal"))?;
    let token = match job.journal().read_if_readable::<ImportToken>().await? {
        Some(ImportToken(t)) => t,
        None => plan.next_token.clone(),
    };
    plan.keep_scope(&job, &store, &token).await;
    let progress = job.queue.send(GetProgress { id: job.job_id.clone() }).await.or_internal("queue")?;
    let withheld = Withholding::load(&job.queue, &job.job_id).await?;
    let mode = if plan.delta.is_some() { "delta" } else { "full" };
    if let Some(scope) = plan.scope.as_ref().filter(|_| plan.delta.is_none()) {
        // The next full import of this scope shows progress against this count. Only an
        // estimate: an import is not failed because it could not be stored.
        let remember = RememberScopeTotal { scope: scope.id.clone(), total: progress.records_stored };
        if let Err(e) = job.queue.send(remember).await.or_internal("queue") {
            tracing::warn!(error = %e, "cannot store the import's count for the next one's estimate");
        }
    }
    Ok(result(progress.records_stored, progress.records_deleted, &token, withheld.withheld(), mode))
}

/// The job's result (PROTOCOL.md §3 `ldap.import`): `withheld` names the requested (or,
/// with `*`, returned) secret-bearing attributes that were not exported; `mode` says
/// what ran: `full` also for a delta asked without a token or with a token of another DC
/// (the portal must then reconcile: what the import did not send is gone).
fn result(total: u64, deleted: u64, token: &str, withheld: &[String], mode: &str) -> Value {
    json!({"total": total, "deleted": deleted, "delta_token": token, "withheld": withheld, "mode": mode})
}
