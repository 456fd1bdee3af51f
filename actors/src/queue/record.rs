//! What the queue keeps per job and per outbox entry.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::errors::JobError;
use crate::protocol::wire::ResultBody;
use crate::protocol::Lane;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum JobState {
    Received,
    Acknowledged,
    Running,
    AwaitingDelivery,
    Delivered,
    Dead,
    Dropped,
}

impl JobState {
    pub fn as_str(self) -> &'static str {
        match self {
            JobState::Received => "received",
            JobState::Acknowledged => "acknowledged",
            JobState::Running => "running",
            JobState::AwaitingDelivery => "awaiting_delivery",
            JobState::Delivered => "delivered",
            JobState::Dead => "dead",
            JobState::Dropped => "dropped",
        }
    }

    /// Nothing more will happen to the job itself (its result may still be in the outbox).
    pub fn is_final(self) -> bool {
        matches!(self, JobState::Delivered | JobState::Dead | JobState::Dropped)
    }
}

/// Where the job's result is on its way to the server.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Delivery {
    /// No result yet.
    None,
    /// In the outbox.
    Pending,
    /// The server answered 2xx or 409 (it already has a result).
    Delivered,
    /// The server answered 400 or 404: it will never take this result.
    Refused,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct JobRecord {
    pub id: String,
    pub job_type: String,
    pub lane: Lane,
    pub ordering_key: String,
    /// Local arrival number: breaks ties between equal `created_at`.
    pub arrival: u64,
    pub created_at_ms: u64,
    /// How far `created_at_ms` (and the deadline) may be off on the local clock: the bound
    /// of the clock offset they were moved by at arrival; `None`: no offset was measured
    /// (and in records stored before this field).
    #[serde(default)]
    pub clock_uncertainty_ms: Option<u64>,
    pub deadline_ms: u64,
    pub lease_s: u64,
    pub server_attempt: u64,
    /// The payload with secret fields removed (they are in `sealed`).
    pub payload: Map<String, Value>,
    pub sealed: Option<Vec<u8>>,
    pub invalid: Option<JobError>,
    pub state: JobState,
    /// Local executions started, crashes included.
    pub attempts: u32,
    /// A retry waits until then.
    pub not_before_ms: u64,
    pub received_ms: u64,
    pub started_ms: Option<u64>,
    pub finished_ms: Option<u64>,
    pub outcome: Option<ResultBody>,
    pub delivery: Delivery,
    pub batches_stored: u64,
    pub batches_delivered: u64,
    /// Import records stored in batches so far (deleted ones included), and of those deleted.
    #[serde(default)]
    pub records_stored: u64,
    #[serde(default)]
    pub records_deleted: u64,
    /// `batches_stored` when the current run started: a run that stored batches before
    /// the process died made progress, and that death does not count as a crash of the job.
    #[serde(default)]
    pub batches_at_start: u64,
    /// Committed length of the job's digest file in the spool (16 bytes per record).
    #[serde(default)]
    pub seen_bytes: u64,
    /// Records the server refused alone as too large (413 on a batch of one), by DN (or
    /// GUID): their batch went without them, and the result names them
    /// (`skipped_records`) so that no record is lost unsaid.
    #[serde(default)]
    pub skipped_records: Vec<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OutboxKind {
    Result,
    Batch { seq: u64 },
}

/// One thing owed to the server. The body lives with the job (result) or under `b/`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OutboxItem {
    /// Position in the outbox (its key).
    pub position: u64,
    pub job_id: String,
    pub kind: OutboxKind,
}
