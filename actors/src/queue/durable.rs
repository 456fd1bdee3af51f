//! [`DurableQueue`]: the queue's logic over a [`Store`]: intake and acknowledgement.
//! Opening is in `rebuild.rs`, running and completion in `lifecycle.rs`, the outbox and
//! maintenance in their files; every change goes through a `Tx` (`tx.rs`).

use std::collections::HashMap;
use std::sync::Arc;

use serde_json::{Map, Value};

use super::change::{Durability, Effect, Slot};
use super::error::{decode, encode, QueueError};
use super::group::{Group, Grouping};
use super::keys;
use super::record::{Delivery, JobRecord, JobState};
use super::scheduler::Scheduler;
use super::sealing::Sealer;
use super::settings::QueueSettings;
use super::spool::Spool;
use super::store::{Store, WriteBatch};
use crate::protocol::wire::QueueFigures;
use crate::protocol::{Envelope, Lane};

/// What [`DurableQueue::accept`] did with an offered job.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Accepted {
    /// Stored now: acknowledge it.
    New,
    /// Seen before, in this state: acknowledge again, never run it again.
    Known(JobState),
}

/// A job handed to the dispatcher, secrets unsealed in memory.
#[derive(Debug, Clone)]
pub struct Runnable {
    pub id: String,
    pub job_type: String,
    pub lane: Lane,
    pub payload: Map<String, Value>,
    pub deadline_ms: u64,
    pub attempts: u32,
}

/// What cancelling a job found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CancelOutcome {
    /// It was waiting: it now has a `cancelled` result.
    Cancelled,
    /// It is running: the dispatcher must stop it.
    Running,
    /// It already finished, or is not ours.
    Nothing,
}

pub struct DurableQueue {
    pub(super) store: Box<dyn Store>,
    pub(super) sealer: Sealer,
    /// Import batch bodies and record digests (see `spool.rs`).
    pub(super) spool: Arc<Spool>,
    pub(super) scheduler: Scheduler,
    pub(super) settings: QueueSettings,
    pub(super) next_arrival: u64,
    pub(super) next_position: u64,
    /// State of every job not yet final, for figures and quick checks.
    pub(super) live: HashMap<String, JobState>,
    pub(super) dead: u64,
    pub(super) results_pending: u64,
    /// Deferred writes applied but not yet flushed (`tx.rs`), to write again after a
    /// failed flush; flushed by the next flushed write or [`DurableQueue::flush_deferred`].
    pub(super) unflushed: Vec<WriteBatch>,
    /// Some of them put results in the outbox: [`DurableQueue::outbox`] flushes before
    /// anything is handed out for sending, so one flush covers many.
    pub(super) outbox_unflushed: bool,
    /// Spool files deferred writes freed, removed once those writes are on disk.
    pub(super) after_flush: Vec<Effect>,
    /// Why the storage is unavailable, since a write failed and until a probe succeeds.
    pub(super) unavailable: Option<String>,
    /// What puts back the keys the failed write touched.
    pub(super) undo: Option<WriteBatch>,
    /// When flushed transitions reach the disk (`group.rs`).
    pub(super) grouping: Grouping,
    /// Transitions applied but not flushed, their memory changes held back until it is.
    pub(super) group: Option<Group>,
    /// Logins answered `timeout` instead of run since the queue opened (`shedding.rs`),
    /// counted once their result is stored; in the figures, heartbeats and `/metrics`.
    pub(super) logins_shed: u64,
    /// Says shedding in the log without a line per login.
    pub(super) shed_log: super::shedding::ShedLog,
}

impl std::fmt::Debug for DurableQueue {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DurableQueue").field("path", &self.settings.path).field("live", &self.live.len()).finish()
    }
}

impl DurableQueue {
    pub(super) fn load(&self, id: &str) -> Result<Option<JobRecord>, QueueError> {
        let key = keys::job(id);
        self.store.get(&key)?.map(|v| decode(&key, &v)).transpose()
    }

    pub fn get(&self, id: &str) -> Result<Option<JobRecord>, QueueError> {
        self.load(id)
    }

    /// Stores offered jobs durably (one flush for all) before the caller acknowledges
    /// them; only then are they counted, listed as unacknowledged and given their place.
    pub fn accept(&mut self, offered: Vec<Envelope>, now_ms: u64) -> Result<Vec<(String, Accepted)>, QueueError> {
        self.writable()?;
        let mut tx = self.tx(Durability::Flushed);
        let mut arrival = self.next_arrival;
        let mut answers = Vec::with_capacity(offered.len());
        for mut env in offered {
            match self.load(&env.id)? {
                Some(known) if known.state != JobState::Dropped => {
                    answers.push((env.id, Accepted::Known(known.state)));
                    continue;
                }
                _ => {}
            }
            if answers.iter().any(|(id, _)| *id == env.id) {
                continue; // the same id twice in one response
            }
            let sealed = self.sealer.seal_secrets(&env.id, &mut env.payload);
            let job = JobRecord {
                id: env.id.clone(),
                job_type: env.job_type,
                lane: env.lane,
                ordering_key: env.ordering_key,
                arrival,
                created_at_ms: env.created_at_ms,
                clock_uncertainty_ms: env.clock_uncertainty_ms,
                deadline_ms: env.deadline_ms,
                lease_s: env.lease_s,
                server_attempt: env.attempt,
                payload: env.payload,
                sealed,
                invalid: env.invalid,
                state: JobState::Received,
                attempts: 0,
                not_before_ms: 0,
                received_ms: now_ms,
                started_ms: None,
                finished_ms: None,
                outcome: None,
                delivery: Delivery::None,
                batches_stored: 0,
                batches_delivered: 0,
                records_stored: 0,
                records_deleted: 0,
                seen_bytes: 0,
                batches_at_start: 0,
                skipped_records: Vec::new(),
            };
            arrival += 1;
            tx.batch.put(keys::job(&job.id), encode(&job));
            if job.invalid.is_none() {
                tx.effect(Effect::Schedule(Slot::holding(&job)));
            }
            tx.effect(Effect::Live(job.id.clone(), JobState::Received));
            answers.push((env.id, Accepted::New));
        }
        tx.effect(Effect::NextArrival(arrival));
        self.commit(tx)?;
        Ok(answers)
    }

    /// Jobs stored but never seen acknowledged: acknowledge them again. Refused while the
    /// storage is unavailable, so the poller pauses (it neither acknowledges nor fetches).
    pub fn unacknowledged(&self) -> Result<Vec<String>, QueueError> {
        self.writable()?;
        Ok(self.live.iter().filter(|(_, s)| **s == JobState::Received).map(|(id, _)| id.clone()).collect())
    }

    /// The server confirmed the job is ours. An invalid job gets its `invalid_job` result now.
    pub fn acknowledged(&mut self, id: &str, now_ms: u64) -> Result<(), QueueError> {
        self.writable()?;
        let Some(mut job) = self.load(id)? else {
            return Err(QueueError::NotFound(id.to_owned()));
        };
        if job.state != JobState::Received {
            return Ok(());
        }
        if let Some(err) = job.invalid.clone() {
            let mut tx = self.tx(Durability::Flushed);
            self.finish_in(&mut tx, &mut job, Err(err), now_ms, JobState::AwaitingDelivery);
            return self.commit(tx);
        }
        // Not flushed: lost in a crash, the job is acknowledged again at the next start.
        let mut tx = self.tx(Durability::Deferred);
        job.state = JobState::Acknowledged;
        tx.batch.put(keys::job(id), encode(&job));
        tx.effect(Effect::Live(id.to_owned(), JobState::Acknowledged));
        tx.effect(Effect::Release(id.to_owned()));
        self.commit(tx)
    }

    /// The server said the job is not ours (ack 404/409): forget it, never run it.
    pub fn drop_job(&mut self, id: &str, now_ms: u64) -> Result<(), QueueError> {
        self.writable()?;
        let Some(mut job) = self.load(id)? else {
            return Ok(());
        };
        if job.state != JobState::Received {
            return Ok(());
        }
        let mut tx = self.tx(Durability::Deferred);
        job.state = JobState::Dropped;
        job.finished_ms = Some(now_ms);
        tx.batch.put(keys::job(id), encode(&job));
        tx.batch.put(keys::retention(now_ms, id), Vec::new());
        tx.effect(Effect::Unschedule(id.to_owned()));
        tx.effect(Effect::Forget(id.to_owned()));
        self.commit(tx)
    }

    pub fn figures(&self) -> QueueFigures {
        let count = |s: JobState| self.live.values().filter(|v| **v == s).count() as u64;
        QueueFigures {
            pending: count(JobState::Received) + count(JobState::Acknowledged),
            running: count(JobState::Running),
            awaiting_delivery: self.results_pending,
            dead: self.dead,
            by_lane: self.scheduler.lane_figures(),
            logins_shed: self.logins_shed,
        }
    }

    /// When a job waiting for a retry becomes due, if any.
    pub fn next_wakeup_ms(&self) -> Option<u64> {
        self.scheduler.next_wakeup_ms()
    }

    pub fn connector_id(&self) -> Result<Option<String>, QueueError> {
        Ok(self.store.get(keys::CONNECTOR_ID)?.map(|v| String::from_utf8_lossy(&v).into_owned()))
    }

    pub fn set_connector_id(&mut self, id: &str) -> Result<(), QueueError> {
        let mut tx = self.tx(Durability::Flushed);
        tx.batch.put(keys::CONNECTOR_ID.to_vec(), id.as_bytes().to_vec());
        self.commit(tx)
    }

    /// Reads a step of a job's journal (see `mod.rs`).
    pub fn step(&self, id: &str, step: &str) -> Result<Option<Value>, QueueError> {
        let key = keys::step(id, step);
        self.store.get(&key)?.map(|v| decode(&key, &v)).transpose()
    }

    /// Writes a step of a job's journal, flushed before the caller acts on it.
    pub fn record_step(&mut self, id: &str, step: &str, value: &Value) -> Result<(), QueueError> {
        let mut tx = self.tx(Durability::Flushed);
        tx.batch.put(keys::step(id, step), encode(value));
        self.commit(tx)
    }
}
