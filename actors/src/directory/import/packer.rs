//! Records packed into batches and stored through the queue's spool (PROTOCOL.md §2.6:
//! at most 1,000 records and 4 MiB per batch, each stored before it is sent), with the
//! scope records of the batch ([`super::scope`]) written just before it.

use std::sync::Arc;
use std::time::Duration;

use super::scope::ScopeStore;
use super::{qerr, ImportJob, MAX_UNSENT_BATCHES};
use crate::errors::JobError;
use crate::queue::spool::Spool;
use crate::queue::{record_digest, CommitBatch, GetProgress, ImportProgress, NewBatch, RecordDigest, SpooledBatch};

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
}

impl Packer {
    pub fn new(spool: Arc<Spool>, progress: ImportProgress, per_batch: usize, scope: Option<ScopeStore>) -> Packer {
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
        }
    }

    pub fn tracks_scope(&self) -> bool {
        self.scope.is_some()
    }

    /// Adds a record (JSON text) whose identity is `key`; stores the batch when full.
    pub async fn push(&mut self, job: &ImportJob, text: String, key: String, deleted: bool) -> Result<(), JobError> {
        self.batch.deleted += u64::from(deleted);
        self.bytes += text.len() + 1;
        self.batch.records.push(text);
        self.batch.keys.push(key);
        if self.batch.records.len() >= self.per_batch || self.bytes >= MAX_BATCH_BYTES {
            self.store(job, false).await?;
        }
        Ok(())
    }

    /// Writes the packed batch into the spool (here, on the import's own thread: the
    /// queue actor, which also serves logins, only commits it), then goes back to reading
    /// while the queue commits it (one batch in flight: the previous one is waited for
    /// first, so a failed commit stops the import one batch later at most). Waits while
    /// too many batches are unsent. `last` waits for its own commit too.
    pub async fn store(&mut self, job: &ImportJob, last: bool) -> Result<(), JobError> {
        let mut batch = std::mem::take(&mut self.batch);
        let records = std::mem::take(&mut self.scope_records);
        self.bytes = 0;
        batch.last = last;
        self.settle(job).await?;
        if batch.records.is_empty() && !last {
            return Ok(());
        }
        let (seq, seen) = (self.next_seq, self.seen_bytes);
        (self.next_seq, self.seen_bytes) = (seq + 1, seen + 16 * batch.keys.len() as u64);
        let (spool, queue, id) = (self.spool.clone(), job.queue.clone(), job.job_id.clone());
        let scope = self.scope.clone();
        let spooled =
            SpooledBatch { seq, records: batch.records.len() as u64, deleted: batch.deleted, last, seen_bytes: 0 };
        // The spool's writes and fsyncs go to the blocking pool while this thread reads on.
        let storing = tokio::spawn(async move {
            let on_disk = tokio::task::spawn_blocking({
                let id = id.clone();
                move || -> Result<u64, String> {
                    if let (Some(scope), false) = (scope, records.is_empty()) {
                        scope.append(&id, &records).map_err(|e| format!("writing the import's scope records: {e}"))?;
                    }
                    batch
                        .spool(&spool, &id, seq, seen)
                        .map_err(|e| format!("writing batch {seq} to the queue's spool: {e}"))
                }
            });
            let seen_bytes = on_disk.await.map_err(qerr)?.map_err(JobError::internal)?;
            let batch = SpooledBatch { seen_bytes, ..spooled };
            queue.send(CommitBatch { id, batch }).await.map_err(qerr)?.map_err(qerr)
        });
        if last {
            storing.await.map_err(qerr)??;
        } else {
            self.storing = Some(storing);
        }
        Ok(())
    }

    /// Waits for the batch in flight, and while too many are unsent.
    async fn settle(&mut self, job: &ImportJob) -> Result<(), JobError> {
        if let Some(previous) = self.storing.take() {
            let mut p = previous.await.map_err(qerr)??;
            while p.batches_stored.saturating_sub(p.batches_delivered) > MAX_UNSENT_BATCHES {
                tokio::time::sleep(Duration::from_millis(20)).await;
                p = job.queue.send(GetProgress { id: job.job_id.clone() }).await.map_err(qerr)?.map_err(qerr)?;
            }
        }
        Ok(())
    }

    /// Stores what is packed (not as the last batch) and waits until it is committed, so
    /// the queue's digests cover every record pushed so far.
    pub async fn flush(&mut self, job: &ImportJob) -> Result<(), JobError> {
        self.store(job, false).await?;
        self.settle(job).await
    }
}
