//! Records packed into batches and stored through the queue's spool (PROTOCOL.md §2.6:
//! at most 1,000 records and 4 MiB per batch, each stored before it is sent), with the
//! scope records of the batch ([`super::scope`]) written just before it.

use std::sync::Arc;

use super::scope::ScopeStore;
use super::{qerr, storage_error, ImportJob, MAX_UNSENT_BATCHES};
use crate::errors::JobError;
use crate::queue::spool::Spool;
use crate::queue::{
    record_digest, CommitBatch, ImportProgress, ImportRun, NewBatch, QueueActor, QueueError, RecordDigest, SpooledBatch,
};
use actix::Addr;
use tokio::sync::watch;

/// The protocol's cap is 4 MiB per batch; leave room for the envelope.
const MAX_BATCH_BYTES: usize = 3_500_000;
pub const MAX_RECORDS_PER_BATCH: usize = 1_000;

/// Digests of the records stored by this import so far (by earlier runs, on a resumed
/// one; or, for a delta's later phases, everything stored before them).
pub struct Seen(pub Vec<RecordDigest>);

impl Seen {
    pub fn contains(&self, key: &str) -> bool {
        !self.0.is_empty() && self.0.binary_search(&record_digest(key)).is_ok()
    }
}

/// What a record tells of its entry: present in the scope, or gone from it (a
/// `"deleted": true` record, counted in the batch's `deleted`; PROTOCOL.md §2.6).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Told {
    Present,
    Gone,
}

/// Whether a stored batch is followed by more, or is the import's last (`"last": true`,
/// after which the result is posted; PROTOCOL.md §2.6).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BatchEnd {
    More,
    Last,
}

/// The records of a batch in the making, the commit of the one before, and where the
/// next one goes in the spool.
pub struct Packer {
    batch: NewBatch,
    bytes: usize,
    storing: Option<tokio::task::JoinHandle<Result<ImportProgress, JobError>>>,
    spool: Arc<Spool>,
    next_seq: u64,
    seen_bytes: u64,
    per_batch: usize,
    /// Scope records of the records in `batch` (see [`super::scope`]).
    pub scope_records: Vec<u8>,
    /// Where they go; `None` when this import keeps no scope file.
    scope: Option<ScopeStore>,
    /// The queue's published import progress, which changes when a batch is committed or
    /// delivered: waited on while too many batches are unsent (no polling).
    imports: watch::Receiver<Vec<ImportRun>>,
}

impl Packer {
    pub fn new(
        spool: Arc<Spool>,
        progress: ImportProgress,
        per_batch: usize,
        scope: Option<ScopeStore>,
        imports: watch::Receiver<Vec<ImportRun>>,
    ) -> Packer {
        Packer {
            batch: NewBatch::default(),
            bytes: 0,
            storing: None,
            spool,
            next_seq: progress.batches_stored,
            seen_bytes: progress.seen_bytes,
            per_batch: per_batch.clamp(1, MAX_RECORDS_PER_BATCH),
            scope_records: Vec::new(),
            scope,
            imports,
        }
    }

    pub fn tracks_scope(&self) -> bool {
        self.scope.is_some()
    }

    /// Adds a record (JSON text) whose identity is `key`; stores the batch when full.
    pub async fn push(&mut self, job: &ImportJob, text: String, key: String, kind: Told) -> Result<(), JobError> {
        self.batch.deleted += u64::from(kind == Told::Gone);
        self.bytes += text.len() + 1;
        self.batch.records.push(text);
        self.batch.keys.push(key);
        if self.batch.records.len() >= self.per_batch || self.bytes >= MAX_BATCH_BYTES {
            self.store(job, BatchEnd::More).await?;
        }
        Ok(())
    }

    /// Writes the packed batch into the spool (here, on the import's own thread: the
    /// queue actor, which also serves logins, only commits it), then goes back to reading
    /// while the queue commits it (one batch in flight: the previous one is waited for
    /// first, so a failed commit stops the import one batch later at most). Waits while
    /// too many batches are unsent. [`BatchEnd::Last`] waits for its own commit too.
    pub async fn store(&mut self, job: &ImportJob, end: BatchEnd) -> Result<(), JobError> {
        let mut batch = std::mem::take(&mut self.batch);
        let records = std::mem::take(&mut self.scope_records);
        self.bytes = 0;
        let last = end == BatchEnd::Last;
        batch.last = last;
        self.settle(job).await?;
        if batch.records.is_empty() && !last {
            return Ok(());
        }
        let (seq, seen) = (self.next_seq, self.seen_bytes);
        (self.next_seq, self.seen_bytes) = (seq + 1, seen + 16 * batch.keys.len() as u64);
        let (spool, queue, id) = (self.spool.clone(), job.queue.clone(), job.job_id.clone());
        let scope = self.scope.clone().filter(|_| !records.is_empty()).map(|s| (s, records));
        let spooled =
            SpooledBatch { seq, records: batch.records.len() as u64, deleted: batch.deleted, last, seen_bytes: seen };
        // The spool's writes and fsyncs go to the blocking pool while this thread reads on.
        let storing = tokio::spawn(commit(Packed { spool, queue, id, batch, scope, spooled }));
        if last {
            storing.await.map_err(qerr)??;
        } else {
            self.storing = Some(storing);
        }
        Ok(())
    }

    /// Waits for the batch in flight, and while too many are unsent (woken by the queue's
    /// progress channel at each delivery). The next batch goes where the queue says: a
    /// 413 split may have renumbered the unsent ones meanwhile.
    async fn settle(&mut self, job: &ImportJob) -> Result<(), JobError> {
        if let Some(previous) = self.storing.take() {
            let mut p = previous.await.map_err(qerr)??;
            if unsent(&p) > MAX_UNSENT_BATCHES {
                let id = job.job_id.as_str();
                let progress = |runs: &Vec<ImportRun>| runs.iter().find(|r| r.job_id == id).map(|r| r.progress);
                let ready = self
                    .imports
                    .wait_for(|runs| progress(runs).is_none_or(|p| unsent(&p) <= MAX_UNSENT_BATCHES))
                    .await
                    .map_err(|_| JobError::internal("queue: the queue actor stopped"))?;
                // Not tracked any more: the job was cancelled or dropped; its commits fail next.
                p = progress(&ready).unwrap_or(p);
            }
            self.next_seq = p.batches_stored;
        }
        Ok(())
    }

    /// Stores what is packed (not as the last batch) and waits until it is committed, so
    /// the queue's digests cover every record pushed so far.
    pub async fn flush(&mut self, job: &ImportJob) -> Result<(), JobError> {
        self.store(job, BatchEnd::More).await?;
        self.settle(job).await
    }
}

/// Batches stored and not yet delivered.
fn unsent(p: &ImportProgress) -> u64 {
    p.batches_stored.saturating_sub(p.batches_delivered)
}

/// Most times one batch is spooled again because splits kept renumbering under it (each
/// split needs a 413 round trip, so a handful is already unlikely).
const MAX_RENUMBERS: u32 = 64;

/// A packed batch on its way to the queue.
struct Packed {
    spool: Arc<Spool>,
    queue: Addr<QueueActor>,
    id: String,
    batch: NewBatch,
    /// Scope records to append first (once), and where.
    scope: Option<(ScopeStore, Vec<u8>)>,
    /// Where it goes (`seq`) and the committed digest length it appends after (`seen_bytes`).
    spooled: SpooledBatch,
}

/// Spools the batch and commits it. When a 413 split renumbered the job's unsent batches
/// since its `seq` was chosen (the courier splits while the import streams), the queue
/// names the `seq` now due: the batch is spooled again there (its body carries its
/// `seq`) and committed again, so the import never dies on its own numbering.
async fn commit(p: Packed) -> Result<ImportProgress, JobError> {
    let Packed { spool, queue, id, mut batch, mut scope, spooled } = p;
    let (mut seq, seen) = (spooled.seq, spooled.seen_bytes);
    for _ in 0..MAX_RENUMBERS {
        let once = scope.take();
        let (spool, id2) = (spool.clone(), id.clone());
        let (back, on_disk) = tokio::task::spawn_blocking(move || {
            let written = (|| {
                if let Some((store, records)) = once {
                    store.append(&id2, &records).map_err(|e| format!("writing the import's scope records: {e}"))?;
                }
                batch
                    .spool(&spool, &id2, seq, seen)
                    .map_err(|e| format!("writing batch {seq} to the queue's spool: {e}"))
            })();
            (batch, written)
        })
        .await
        .map_err(qerr)?;
        batch = back;
        let seen_bytes = on_disk.map_err(storage_error)?;
        let next = SpooledBatch { seq, seen_bytes, ..spooled };
        match queue.send(CommitBatch { id: id.clone(), batch: next }).await.map_err(qerr)? {
            Err(QueueError::Renumbered { due, .. }) => {
                tracing::info!(job_id = %id, seq, due, "a split renumbered the unsent batches; storing this one as {due}");
                seq = due;
            }
            Err(e @ (QueueError::StorageUnavailable { .. } | QueueError::Store(_))) => {
                return Err(storage_error(format!("queue: {e}")))
            }
            other => return other.map_err(qerr),
        }
    }
    Err(JobError::internal(format!("batch {seq} was renumbered {MAX_RENUMBERS} times by splits; giving up")))
}
