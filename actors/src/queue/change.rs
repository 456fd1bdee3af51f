//! The parts of one change of the queue (see `tx.rs`): its writes, the memory changes
//! ([`Effect`]s) they stand for, and when the writes must be on disk.

use super::error::encode;
use super::keys;
use super::record::{JobRecord, JobState, OutboxItem, OutboxKind};
use super::store::WriteBatch;
use crate::protocol::Lane;

/// When a transition's writes must be on disk.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Durability {
    /// Flushed before the effects are applied and the call returns.
    Flushed,
    /// Applied now, flushed by the next flushed write or [`DurableQueue::outbox`]: for
    /// transitions a crash may undo safely (an ack is sent again, a delivery repeated,
    /// a login started or shed again). Files they free are removed only after that flush.
    Deferred,
}

/// A job's place in the scheduler.
#[derive(Debug, Clone)]
pub(super) struct Slot {
    pub(super) id: String,
    pub(super) key: String,
    pub(super) lane: Lane,
    pub(super) place: (u64, u64),
    pub(super) not_before_ms: u64,
}

impl Slot {
    /// The job as it waits: due at its `not_before_ms`.
    pub(super) fn of(job: &JobRecord) -> Slot {
        Slot {
            id: job.id.clone(),
            key: job.ordering_key.clone(),
            lane: job.lane,
            place: (job.created_at_ms, job.arrival),
            not_before_ms: job.not_before_ms,
        }
    }

    /// A stored job not acknowledged yet: it holds its place in its keys' lines, never due.
    pub(super) fn holding(job: &JobRecord) -> Slot {
        Slot { not_before_ms: u64::MAX, ..Slot::of(job) }
    }
}

/// One change of the queue's memory, applied after its transition's writes succeeded.
#[derive(Debug, Clone)]
pub(super) enum Effect {
    Live(String, JobState),
    Forget(String),
    Schedule(Slot),
    Release(String),
    Unschedule(String),
    Start(String),
    Finished(String),
    DeadAdded,
    /// A login was answered `timeout` instead of run (`shedding.rs`).
    LoginShed,
    DeadRemoved(u64),
    ResultPending,
    ResultsSettled(u64),
    NextArrival(u64),
    /// Spool files freed by the transition: removed once it is on disk.
    SpoolJob(String),
    SpoolBody(String, u64),
}

/// The writes and memory changes of one transition.
#[derive(Debug)]
pub(super) struct Tx {
    pub batch: WriteBatch,
    pub effects: Vec<Effect>,
    pub durability: Durability,
    pub next_position: u64,
}

impl Tx {
    pub fn effect(&mut self, e: Effect) {
        self.effects.push(e);
    }

    /// Queues an outbox entry after those already in this transition; returns its position.
    pub fn push_outbox(&mut self, job_id: &str, kind: OutboxKind) -> u64 {
        let position = self.next_position;
        self.next_position += 1;
        let item = OutboxItem { position, job_id: job_id.to_owned(), kind };
        self.batch.put(keys::outbox(position), encode(&item));
        position
    }
}
