//! The durable job queue: every job the connector accepted, its state, its result, and
//! the outbox of results and import batches still owed to the server.
//!
//! # Design
//!
//! One sled tree, `queue`, keys by prefix (all integers big-endian so byte order is
//! numeric order):
//!
//! | key | value | what |
//! |---|---|---|
//! | `m/format` | `"1"` | on-disk format version; a different value refuses to open |
//! | `m/connector_id` | utf-8 | id the server gave at registration |
//! | `j/{job id}` | [`JobRecord`] JSON | the job, payload secrets sealed ([`sealing`]) |
//! | `o/{u64 seq}` | [`OutboxItem`] JSON | a result or batch owed to the server, in order |
//! | `b/{job id}\0{u64 seq}` | records batch JSON | an import batch a 413 split rewrote (others are in the spool) |
//! | `r/{u64 finished ms}/{job id}` | empty | retention index of finished jobs |
//! | `s/{job id}\0{step}` | JSON | the job's step journal (intent before each write) |
//! | `d/{job id}\0{u64 seq}` | 16-byte digests | identities of a split batch's records (others: spool) |
//! | `q/{original key}` | the unreadable value | a record an open could not read, moved aside |
//! | `m/probe` | unix ms, text | written to find out whether storage works again after a failed write |
//! | `m/log_seq` | u64 | the last record of `queue.wal` the tree holds (`store.rs`, `wal.rs`) |
//! | `t/{scope id}` | u64 | records of the last full import of that scope: the next one's estimate (`progress.rs`) |
//!
//! A flush writes the transitions since the last flush as one record of the queue's
//! write-ahead log, `queue.wal` (`wal.rs`: one write, one `fdatasync`); sled receives
//! them at a checkpoint, every 4 MiB logged and at close, in one `sled::Batch` with the
//! mark `m/log_seq`, and the records after the mark are replayed at open. A transition
//! is one record or one batch, so it is atomic. Import data
//! lives beside sled in `spool/{hex job id}/` (`spool.rs`): `{seq}.batch` bodies until
//! delivered and `seen`, the digests of every stored record, read only up to the length
//! the job record commits (`seen_bytes`), so sled stays the one source of truth.
//!
//! ## States
//!
//! ```text
//! Received ──ack 2xx──▶ Acknowledged ──take──▶ Running ──done──▶ AwaitingDelivery ──2xx/409──▶ Delivered
//!    │                      ▲   │                 │  retryable failure                 │
//!    │ ack 404/409          │   └── cancel ──────▶│  (not_before = backoff) ─┐          └─400──▶ Dead
//!    ▼                      └─────────────────────┴──────────────────────────┘
//!  Dropped                              deadline passed / attempts exhausted ──▶ Dead (failure result still sent)
//! ```
//!
//! ## Invariants
//! - **Durable first, memory after** (`tx.rs`): every change is a `Tx`, its writes and the
//!   memory changes they stand for (scheduler, figures, unacknowledged set, outbox head,
//!   running slots). The writes are applied and flushed (or, for a change a crash may undo
//!   safely — an ack, a delivery, a login's start — applied and flushed by the next flush
//!   before anything is sent); only then does memory change. A flush is an `fdatasync`
//!   of the log; a checkpoint's, of sled's file (sled's own flush leaves a file's size
//!   unsynced, `store.rs`).
//! - **Group commit** (`group.rs`, `actor/settle.rs`): the queue actor does not flush
//!   within each change. A change that must be flushed is applied to the store and joins
//!   the open group; so does every change after it (deferred ones included) until the
//!   actor's mailbox is empty, when one flush (one `fdatasync`) covers them all. What
//!   that guarantees:
//!   - a caller is answered only after the flush that covers its change; memory (figures,
//!     scheduler, unacknowledged set, outbox head) changes then too, member by member in
//!     arrival order, so nothing is announced, listed, taken or sent before it is durable;
//!   - a failed group flush undoes every member (their pre-images, newest first), puts
//!     back the outbox positions and arrival numbers they took, answers each member
//!     `StorageUnavailable` and makes the storage unavailable (below): memory never saw
//!     any of them, and each caller keeps what it would have lost (the dispatcher its
//!     result, the poller its unacknowledged job);
//!   - calls that decide from memory what to hand out (`take_runnable`, `outbox`) settle
//!     the open group first, so a job is never started twice nor a result sent unflushed;
//!   - a change is built on the store, which holds the open group's writes, so members see
//!     each other in order; outbox positions and arrival numbers are taken at once.
//!
//!   Direct users of [`DurableQueue`] (the CLI, tests, benches) flush within each call
//!   ([`Grouping::Each`]), as before. Writes reach the log only at a flush and sled only
//!   at a checkpoint, all held ones as one batch (`overlay.rs`: sled writes and waits on
//!   disk at every batch), and reads go through the held writes.
//! - **A failed write** (disk full, I/O error, read-only) leaves the queue exactly as it
//!   was and makes the storage *unavailable*: every change is refused with
//!   [`QueueError::StorageUnavailable`] without touching the store, nothing is listed for
//!   acknowledgement (the poller pauses), taken, or handed out for sending, and the queue
//!   component reports `storage_unavailable` (heartbeat `degraded`, `/readyz` 503,
//!   `ic_storage_available 0`). The actor probes every 1 s → 8 s: it reopens the store
//!   (sled refuses all writes after one I/O error), writes again what was applied but not
//!   flushed, undoes the failed write, flushes a probe key, and everything resumes. A
//!   result that could not be stored stays with the dispatcher, which offers it again
//!   (its job keeps its running slot meanwhile): none is dropped.
//! - An unreadable `j/` or `o/` record found at open is moved to `q/{key}` with one
//!   warning (`queue list` names it); the rest of the queue opens.
//! - A spool file is removed only once the write that frees it is on disk; a file no job
//!   needs is removed at open, and an outbox entry whose body is gone is dropped once
//!   (one warning naming job and seq), never left to take a place in the window.
//! - A job is written and **flushed** before the server is told it is ours (ack).
//! - A job id seen before is never stored twice; [`DurableQueue::accept`] reports it
//!   as known so the caller acknowledges again without running it.
//! - A job only runs once acknowledged; a job found `Running` at open is resumed (its
//!   step journal makes the re-run idempotent), or declared dead once it has crashed
//!   the process `max_attempts` times.
//! - A login that waited longer than `shed_logins_after` when its turn comes goes
//!   `Acknowledged → AwaitingDelivery` in the take itself, with a retryable `timeout`
//!   result and no run (`shedding.rs`): one `Tx`, deferred like a login's start (its
//!   result is flushed before it is sent; a crash before leaves it acknowledged, judged
//!   again), counted in the figures (`logins_shed`) only once applied.
//! - A result is flushed before it is sent, and stays in the outbox until the server
//!   answers 2xx, 404 or 409. Batches of a job leave the outbox before its result.
//! - Secrets are sealed with a key kept in the storage path (mode 0600) and erased from
//!   the record when the result is delivered.
//! - Finished jobs stay `retention` long for `queue list` and the UI, then are removed.
//!
//! sled is pre-1.0: it stays behind [`store::Store`].

mod actor;
mod batch;
mod change;
mod durable;
mod error;
#[cfg(test)]
#[path = "fault_tests/tests.rs"]
mod fault_tests;
mod group;
mod journal;
mod keys;
mod lifecycle;
mod maintenance;
mod messages;
mod outbox;
mod overlay;
mod progress;
mod rebuild;
mod record;
mod scheduler;
pub mod sealing;
mod settings;
pub mod shedding;
pub mod spool;
pub mod store;
#[cfg(test)]
mod tests;
mod trim;
mod tx;
mod wal;

pub use actor::QueueActor;
pub use batch::{record_digest, ImportProgress, NewBatch, Parcel, RecordDigest, Split, SpooledBatch, Verdict};
pub use durable::{Accepted, CancelOutcome, DurableQueue, Runnable};
pub use error::QueueError;
pub use group::{Grouping, Waiter};
pub use journal::{ImportDone, Journal, Step};
pub use messages::*;
pub use progress::{ImportReport, ImportRun, EXPECTED_STEP};
pub use rebuild::Quarantined;
pub use record::{Delivery, JobRecord, JobState, OutboxItem, OutboxKind};
pub use scheduler::{LaneCaps, KEY_SEPARATOR};
pub use settings::QueueSettings;
