//! What the outbox holds and hands out: records batches (new, spooled, split), parcels to
//! send, and the server's verdict on one.

use super::record::OutboxItem;
use super::spool::Spool;

/// How the server answered a delivery.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// 2xx, or 409 for a result (it already has one): done.
    Accepted,
    /// 400 (it will never take this body) or 404 (the job is gone): give up on it.
    Refused,
}

pub type RecordDigest = [u8; 16];

/// The first 16 bytes of SHA-256 of a record's identity.
pub fn record_digest(key: &str) -> RecordDigest {
    let d = ring::digest::digest(&ring::digest::SHA256, key.as_bytes());
    let mut out = [0u8; 16];
    out.copy_from_slice(&d.as_ref()[..16]);
    out
}

/// A records batch to store. Records come serialized: the body is assembled once and
/// sent as stored, never parsed again.
#[derive(Debug, Clone, Default)]
pub struct NewBatch {
    /// Each record as JSON text.
    pub records: Vec<String>,
    /// Identity of each record (guid, else DN).
    pub keys: Vec<String>,
    /// How many of the records are deletions.
    pub deleted: u64,
    pub last: bool,
}

/// A batch whose body and record digests are in the spool already (at `seq`, the digest
/// file now `seen_bytes` long), waiting for [`DurableQueue::commit_batch`](super::DurableQueue::commit_batch).
#[derive(Debug, Clone, Copy)]
pub struct SpooledBatch {
    pub seq: u64,
    pub records: u64,
    pub deleted: u64,
    pub last: bool,
    pub seen_bytes: u64,
}

impl NewBatch {
    /// Writes the body as batch `seq` and appends the digests after the `seen_bytes`
    /// committed so far; returns the digest file's new length (uncommitted until
    /// [`DurableQueue::commit_batch`](super::DurableQueue::commit_batch)).
    pub fn spool(&self, spool: &Spool, id: &str, seq: u64, seen_bytes: u64) -> Result<u64, std::io::Error> {
        spool.write_body(id, seq, &self.body(seq))?;
        let digests: Vec<u8> = self.keys.iter().flat_map(|k| record_digest(k)).collect();
        spool.append_seen(id, seen_bytes, &digests)
    }

    /// `{"seq": …, "records": […], "last": …}` as bytes.
    pub(super) fn body(&self, seq: u64) -> Vec<u8> {
        let size: usize = self.records.iter().map(|r| r.len() + 1).sum();
        let mut out = Vec::with_capacity(size + 48);
        out.extend_from_slice(format!("{{\"seq\":{seq},\"records\":[").as_bytes());
        for (i, r) in self.records.iter().enumerate() {
            if i > 0 {
                out.push(b',');
            }
            out.extend_from_slice(r.as_bytes());
        }
        out.extend_from_slice(format!("],\"last\":{}}}", self.last).as_bytes());
        out
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct ImportProgress {
    pub batches_stored: u64,
    pub batches_delivered: u64,
    pub records_stored: u64,
    pub records_deleted: u64,
    /// Committed length of the job's digest file in the spool.
    pub seen_bytes: u64,
}

/// An outbox entry with the body to send (JSON bytes, sent as they are).
#[derive(Debug, Clone)]
pub struct Parcel {
    pub item: OutboxItem,
    pub body: Vec<u8>,
}

/// What splitting a refused batch did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Split {
    /// The batch is now two; it and every later unsent batch of the job moved up one `seq`.
    Halved,
    /// A batch with no record at all was refused: nothing to split or trim.
    Single,
    /// A batch of one record too large for the server: rewritten without it at the same
    /// `seq` (so the portal sees no gap), the record named in the job's result.
    Trimmed,
}
