//! Messages the queue actor takes. Replies are `Result<_, QueueError>`.

use actix::Message;
use serde_json::Value;

use super::batch::{ImportProgress, Parcel, RecordDigest, Split, SpooledBatch, Verdict};
use super::durable::{Accepted, CancelOutcome, Runnable};
use super::error::QueueError;
use super::record::OutboxItem;
use crate::errors::JobError;
use crate::protocol::Envelope;

/// Store offered jobs durably; reply says which are new and which were seen before.
#[derive(Message)]
#[rtype(result = "Result<Vec<(String, Accepted)>, QueueError>")]
pub struct AcceptJobs {
    pub jobs: Vec<Envelope>,
}

#[derive(Message)]
#[rtype(result = "Result<(), QueueError>")]
pub struct MarkAcknowledged {
    pub id: String,
}

/// The server refused the ack (404/409): forget the job.
#[derive(Message)]
#[rtype(result = "Result<(), QueueError>")]
pub struct DropJob {
    pub id: String,
}

/// Jobs stored but not seen acknowledged. `Err(StorageUnavailable)` while the queue
/// cannot write: the poller then pauses (acknowledges nothing, fetches nothing).
#[derive(Message)]
#[rtype(result = "Result<Vec<String>, QueueError>")]
pub struct ListUnacknowledged;

#[derive(Message)]
#[rtype(result = "Result<Vec<Runnable>, QueueError>")]
pub struct TakeRunnable {
    pub free: usize,
}

#[derive(Message)]
#[rtype(result = "Result<(), QueueError>")]
pub struct CompleteJob {
    pub id: String,
    pub outcome: Result<Value, JobError>,
}

#[derive(Message)]
#[rtype(result = "Result<CancelOutcome, QueueError>")]
pub struct CancelJob {
    pub id: String,
}

/// Commit an import's next batch, already in the spool (flushed, and in the outbox);
/// answers the job's progress after it.
#[derive(Message)]
#[rtype(result = "Result<ImportProgress, QueueError>")]
pub struct CommitBatch {
    pub id: String,
    pub batch: SpooledBatch,
}

/// The spool, where an import writes its batches before committing them.
#[derive(Message)]
#[rtype(result = "std::sync::Arc<super::spool::Spool>")]
pub struct GetSpool;

/// The sorted digests of every record the job has stored in batches.
#[derive(Message)]
#[rtype(result = "Result<Vec<RecordDigest>, QueueError>")]
pub struct LoadSeen {
    pub id: String,
}

#[derive(Message)]
#[rtype(result = "Result<ImportProgress, QueueError>")]
pub struct GetProgress {
    pub id: String,
}

/// The server answered 413 to a records batch: halve it.
#[derive(Message)]
#[rtype(result = "Result<Split, QueueError>")]
pub struct SplitBatch {
    pub id: String,
    pub seq: u64,
}

#[derive(Message)]
#[rtype(result = "Result<Vec<Parcel>, QueueError>")]
pub struct PeekOutbox {
    pub limit: usize,
}

#[derive(Message)]
#[rtype(result = "Result<(), QueueError>")]
pub struct MarkDelivered {
    pub item: OutboxItem,
    pub verdict: Verdict,
}

#[derive(Message)]
#[rtype(result = "Result<Option<String>, QueueError>")]
pub struct GetConnectorId;

#[derive(Message)]
#[rtype(result = "Result<(), QueueError>")]
pub struct SetConnectorId {
    pub id: String,
}

#[derive(Message)]
#[rtype(result = "Result<Option<Value>, QueueError>")]
pub struct ReadStep {
    pub id: String,
    pub step: String,
}

/// Journal an intent or a finished step; flushed before the reply.
#[derive(Message)]
#[rtype(result = "Result<(), QueueError>")]
pub struct RecordStep {
    pub id: String,
    pub step: String,
    pub value: Value,
}

/// When the next retry is due (unix ms), so the dispatcher knows when to look again.
#[derive(Message)]
#[rtype(result = "Option<u64>")]
pub struct NextWakeup;

/// An import starts (or resumes) running: answers its estimate (the count of the last
/// full import of `scope`, journaled as its `import.expected`; `scope` is `None` for a
/// delta) and publishes its progress from now on.
#[derive(Message)]
#[rtype(result = "Result<Option<u64>, QueueError>")]
pub struct TrackImport {
    pub id: String,
    pub scope: Option<String>,
}

/// A full import of `scope` finished with `total` records: stored (flushed) for the next
/// one's estimate.
#[derive(Message)]
#[rtype(result = "Result<(), QueueError>")]
pub struct RememberScopeTotal {
    pub scope: String,
    pub total: u64,
}

/// The running imports' progress, changed at each commit, split or delivery of a batch.
#[derive(Message)]
#[rtype(result = "tokio::sync::watch::Receiver<Vec<super::ImportRun>>")]
pub struct WatchImports;
