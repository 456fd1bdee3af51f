//! The queue's error, and how its records are written to and read from the store (JSON).

use super::sealing::SealError;
use super::store::StoreError;

#[derive(Debug, thiserror::Error)]
pub enum QueueError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Seal(#[from] SealError),
    #[error("cannot create the storage path {path}: {source}")]
    StoragePath { path: String, source: std::io::Error },
    #[error("the queue database has format {found}, this version reads format 1: use the matching connector version")]
    Format { found: String },
    #[error("stored record {key} is damaged: {reason}")]
    Corrupt { key: String, reason: String },
    #[error("no job with id {0}")]
    NotFound(String),
    /// A 413 split renumbered the job's unsent batches after the import chose `seq` for
    /// its next one: it belongs at `due` now (the import spools it there and commits again).
    #[error("batch {seq} of job {id} is due as batch {due}: a split renumbered the batches under it")]
    Renumbered { id: String, seq: u64, due: u64 },
    #[error("job {id} cannot be retried: {reason}")]
    NotRetryable { id: String, reason: String },
    #[error("import spool (queue folder `spool`): {0}")]
    Spool(#[from] std::io::Error),
    /// A write to the storage path failed (disk full, I/O error, read-only): nothing is
    /// changed, taken or acknowledged until a write succeeds again ([`DurableQueue::probe`](super::DurableQueue::probe)).
    #[error("storage_unavailable: the queue cannot write to its storage path ({reason}); free space there or make it writable: the queue resumes by itself")]
    StorageUnavailable { reason: String },
}

impl crate::errors::Transient for QueueError {
    /// The store failing (disk full, read-only, I/O) may work again; the rest will not.
    fn transient(&self) -> bool {
        matches!(self, QueueError::Store(_) | QueueError::StorageUnavailable { .. })
    }
}

pub(super) fn decode<T: serde::de::DeserializeOwned>(key: &[u8], value: &[u8]) -> Result<T, QueueError> {
    serde_json::from_slice(value)
        .map_err(|e| QueueError::Corrupt { key: String::from_utf8_lossy(key).into_owned(), reason: e.to_string() })
}

pub(super) fn encode<T: serde::Serialize>(value: &T) -> Vec<u8> {
    // Serializing plain data structs to JSON cannot fail (no maps with non-string keys).
    serde_json::to_vec(value).unwrap_or_default()
}
