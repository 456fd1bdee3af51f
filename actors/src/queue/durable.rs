//! [`DurableQueue`]: the queue's logic over a [`Store`]: intake, acknowledgement,
//! scheduling, completion and retries. Outbox and maintenance are in sibling files.

use std::collections::HashMap;
use std::sync::Arc;

use rand::Rng;
use serde_json::{Map, Value};

use super::keys;
use super::record::{Delivery, JobRecord, JobState, OutboxKind};
use super::scheduler::Scheduler;
use super::sealing::{SealError, Sealer};
use super::settings::QueueSettings;
use super::spool::Spool;
use super::store::{SledStore, Store, StoreError, WriteBatch};
use crate::errors::{ErrorCode, JobError};
use crate::protocol::wire::{QueueFigures, ResultBody, ResultStatus};
use crate::protocol::{Envelope, Lane};
use crate::time::rfc3339;

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
}

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
    /// Results written but not yet flushed; [`DurableQueue::outbox`] flushes before
    /// anything is handed out for sending, so one flush covers many completions.
    pub(super) dirty: bool,
}

impl std::fmt::Debug for DurableQueue {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DurableQueue").field("path", &self.settings.path).field("live", &self.live.len()).finish()
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

impl DurableQueue {
    /// Opens (or creates) the queue in `settings.path` and rebuilds the in-memory index.
    pub fn open(settings: QueueSettings) -> Result<DurableQueue, QueueError> {
        std::fs::create_dir_all(&settings.path)
            .map_err(|source| QueueError::StoragePath { path: settings.path.display().to_string(), source })?;
        let store = SledStore::open(&settings.path, settings.cache_bytes)?;
        Self::open_with(Box::new(store), settings)
    }

    pub fn open_with(store: Box<dyn Store>, settings: QueueSettings) -> Result<DurableQueue, QueueError> {
        match store.get(keys::FORMAT)? {
            None => {
                let mut b = WriteBatch::default();
                b.put(keys::FORMAT.to_vec(), keys::FORMAT_VERSION.to_vec());
                store.apply(b)?;
            }
            Some(v) if v == keys::FORMAT_VERSION => {}
            Some(v) => return Err(QueueError::Format { found: String::from_utf8_lossy(&v).into_owned() }),
        }
        let sealer = Sealer::open(&settings.path)?;
        let spool = Arc::new(Spool::open(&settings.path)?);
        let mut queue = DurableQueue {
            store,
            sealer,
            spool,
            scheduler: Scheduler::new(settings.caps),
            settings,
            next_arrival: 0,
            next_position: 0,
            live: HashMap::new(),
            dead: 0,
            results_pending: 0,
            dirty: false,
        };
        queue.rebuild()?;
        Ok(queue)
    }

    fn rebuild(&mut self) -> Result<(), QueueError> {
        let mut resumed = WriteBatch::default();
        for (k, v) in self.store.scan(keys::JOBS)? {
            let mut job: JobRecord = decode(&k, &v)?;
            self.next_arrival = self.next_arrival.max(job.arrival + 1);
            if job.delivery == Delivery::Pending {
                self.results_pending += 1;
            }
            if job.state == JobState::Running && job.batches_stored > job.batches_at_start {
                // It was making progress when the process died (a kill, a reboot): not its fault.
                job.attempts = job.attempts.saturating_sub(1);
            }
            match job.state {
                JobState::Dead => self.dead += 1,
                JobState::Running if job.attempts >= self.settings.max_attempts => {
                    // It crashed the process every time it ran: stop feeding it.
                    let err = JobError::internal(format!(
                        "the connector stopped {} times while running this job; it was given up",
                        job.attempts
                    ));
                    self.finish_in(&mut resumed, &mut job, Err(err), crate::time::now_ms(), JobState::Dead);
                }
                JobState::Running | JobState::Acknowledged => {
                    job.state = JobState::Acknowledged;
                    self.schedule(&job);
                    resumed.put(k.clone(), encode(&job));
                }
                // Stored, not acknowledged yet: it holds its place in its key's line.
                JobState::Received if job.invalid.is_none() => self.hold_place(&job),
                _ => {}
            }
            if !job.state.is_final() {
                self.live.insert(job.id.clone(), job.state);
            }
        }
        if let Some((k, _)) = self.store.scan(keys::OUTBOX)?.last() {
            self.next_position = keys::outbox_position(k).map_or(0, |p| p + 1);
        }
        self.store.apply(resumed)?;
        self.store.flush()?;
        let delivered = |id: &str| self.load(id).ok().flatten().map(|j| j.batches_delivered);
        self.spool.tidy(delivered)?;
        Ok(())
    }

    /// Puts a stored but unacknowledged job in its key's line, not yet due, so a later
    /// job of the same key cannot overtake it.
    pub(super) fn hold_place(&mut self, job: &JobRecord) {
        let place = (job.created_at_ms, job.arrival);
        self.scheduler.insert(&job.id, &job.ordering_key, job.lane, place, u64::MAX);
    }

    pub(super) fn schedule(&mut self, job: &JobRecord) {
        let place = (job.created_at_ms, job.arrival);
        self.scheduler.insert(&job.id, &job.ordering_key, job.lane, place, job.not_before_ms);
    }

    pub(super) fn load(&self, id: &str) -> Result<Option<JobRecord>, QueueError> {
        let key = keys::job(id);
        self.store.get(&key)?.map(|v| decode(&key, &v)).transpose()
    }

    pub fn get(&self, id: &str) -> Result<Option<JobRecord>, QueueError> {
        self.load(id)
    }

    /// Stores offered jobs durably (one flush for all) before the caller acknowledges them.
    pub fn accept(&mut self, offered: Vec<Envelope>, now_ms: u64) -> Result<Vec<(String, Accepted)>, QueueError> {
        let mut batch = WriteBatch::default();
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
                arrival: self.next_arrival,
                created_at_ms: env.created_at_ms,
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
            };
            self.next_arrival += 1;
            batch.put(keys::job(&job.id), encode(&job));
            if job.invalid.is_none() {
                self.hold_place(&job);
            }
            self.live.insert(job.id.clone(), JobState::Received);
            answers.push((env.id, Accepted::New));
        }
        self.store.apply(batch)?;
        self.store.flush()?;
        Ok(answers)
    }

    /// Jobs stored but never seen acknowledged: acknowledge them again at start-up.
    pub fn unacknowledged(&self) -> Vec<String> {
        self.live.iter().filter(|(_, s)| **s == JobState::Received).map(|(id, _)| id.clone()).collect()
    }

    /// The server confirmed the job is ours. An invalid job gets its `invalid_job` result now.
    pub fn acknowledged(&mut self, id: &str, now_ms: u64) -> Result<(), QueueError> {
        let Some(mut job) = self.load(id)? else {
            return Err(QueueError::NotFound(id.to_owned()));
        };
        if job.state != JobState::Received {
            return Ok(());
        }
        let mut batch = WriteBatch::default();
        if let Some(err) = job.invalid.clone() {
            self.finish_in(&mut batch, &mut job, Err(err), now_ms, JobState::AwaitingDelivery);
            self.store.apply(batch)?;
            return Ok(self.store.flush()?);
        }
        job.state = JobState::Acknowledged;
        batch.put(keys::job(id), encode(&job));
        self.store.apply(batch)?;
        self.live.insert(id.to_owned(), JobState::Acknowledged);
        self.scheduler.release(id);
        Ok(())
    }

    /// The server said the job is not ours (ack 404/409): forget it, never run it.
    pub fn drop_job(&mut self, id: &str, now_ms: u64) -> Result<(), QueueError> {
        let Some(mut job) = self.load(id)? else {
            return Ok(());
        };
        if job.state != JobState::Received {
            return Ok(());
        }
        self.scheduler.remove_waiting(id, &job.ordering_key);
        job.state = JobState::Dropped;
        job.finished_ms = Some(now_ms);
        let mut batch = WriteBatch::default();
        batch.put(keys::job(id), encode(&job));
        batch.put(keys::retention(now_ms, id), Vec::new());
        self.store.apply(batch)?;
        self.live.remove(id);
        Ok(())
    }

    /// Starts up to `free` jobs: marks them running (flushed, so a crash counts as an
    /// attempt) and returns them with secrets unsealed. Jobs past their deadline are
    /// failed here instead of started.
    pub fn take_runnable(&mut self, now_ms: u64, free: usize) -> Result<Vec<Runnable>, QueueError> {
        let mut out = Vec::new();
        let mut batch = WriteBatch::default();
        for id in self.scheduler.take(now_ms, free) {
            let Some(mut job) = self.load(&id)? else {
                self.scheduler.finished(&id);
                continue;
            };
            if now_ms > job.deadline_ms {
                self.scheduler.finished(&id);
                let err = JobError::new(ErrorCode::DeadlineExceeded, "the job's deadline passed before it could run");
                self.finish_in(&mut batch, &mut job, Err(err), now_ms, JobState::Dead);
                continue;
            }
            let mut payload = job.payload.clone();
            if let Some(sealed) = &job.sealed {
                if let Err(e) = self.sealer.unseal_into(&id, sealed, &mut payload) {
                    self.scheduler.finished(&id);
                    self.finish_in(
                        &mut batch,
                        &mut job,
                        Err(JobError::internal(e.to_string())),
                        now_ms,
                        JobState::Dead,
                    );
                    continue;
                }
            }
            job.state = JobState::Running;
            job.attempts += 1;
            job.batches_at_start = job.batches_stored;
            job.started_ms.get_or_insert(now_ms);
            batch.put(keys::job(&id), encode(&job));
            self.live.insert(id.clone(), JobState::Running);
            out.push(Runnable {
                id,
                job_type: job.job_type,
                lane: job.lane,
                payload,
                deadline_ms: job.deadline_ms,
                attempts: job.attempts,
            });
        }
        if !batch.writes.is_empty() {
            self.store.apply(batch)?;
            // The flush makes a crash count as an attempt (crash-loop detection). Logins
            // skip it: they are read-only, and their 30 s deadline already bounds a job
            // that would crash the process each time; the interactive path saves an fsync.
            if out.iter().any(|r| r.lane != Lane::Interactive) || out.is_empty() {
                self.store.flush()?;
            } else {
                self.dirty = true;
            }
        }
        Ok(out)
    }

    /// A run ended. Retryable failures wait with backoff (full jitter, base 1 s, cap
    /// 60 s) unless attempts are used up; everything else gets its result.
    pub fn complete(&mut self, id: &str, outcome: Result<Value, JobError>, now_ms: u64) -> Result<(), QueueError> {
        let Some(mut job) = self.load(id)? else {
            return Ok(());
        };
        if job.state != JobState::Running {
            return Ok(()); // a late answer for a job already cancelled or finished
        }
        self.scheduler.finished(id);
        let mut batch = WriteBatch::default();
        match outcome {
            Err(e) if e.retryable && job.attempts < self.settings.max_attempts => {
                let cap_ms = 60_000u64.min(1_000u64 << job.attempts.min(6));
                job.not_before_ms = now_ms + rand::thread_rng().gen_range(0..=cap_ms);
                job.state = JobState::Acknowledged;
                tracing::info!(job_id = id, code = e.code.as_str(), attempt = job.attempts, "job will be retried");
                batch.put(keys::job(id), encode(&job));
                self.live.insert(id.to_owned(), JobState::Acknowledged);
                self.schedule(&job);
            }
            Err(mut e) if e.retryable => {
                e.message = format!("gave up after {} attempts: {}", job.attempts, e.message);
                e.retryable = false;
                self.finish_in(&mut batch, &mut job, Err(e), now_ms, JobState::Dead);
            }
            other => self.finish_in(&mut batch, &mut job, other, now_ms, JobState::AwaitingDelivery),
        }
        self.store.apply(batch)?;
        Ok(self.store.flush()?)
    }

    /// Writes the job's result and puts it in the outbox; `state` is AwaitingDelivery or Dead.
    pub(super) fn finish_in(
        &mut self,
        batch: &mut WriteBatch,
        job: &mut JobRecord,
        outcome: Result<Value, JobError>,
        now_ms: u64,
        state: JobState,
    ) {
        let (status, result, error) = match outcome {
            Ok(v) => (ResultStatus::Succeeded, Some(v), None),
            Err(e) => (ResultStatus::Failed, None, Some(e)),
        };
        job.outcome = Some(ResultBody {
            status,
            result,
            error,
            started_at: job.started_ms.map(rfc3339),
            finished_at: rfc3339(now_ms),
            attempts: job.attempts,
        });
        job.state = state;
        job.finished_ms = Some(now_ms);
        job.delivery = Delivery::Pending;
        self.results_pending += 1;
        if state == JobState::Dead {
            self.dead += 1;
            self.live.remove(&job.id);
        } else {
            self.live.insert(job.id.clone(), state);
        }
        self.push_outbox(batch, &job.id, OutboxKind::Result);
        batch.put(keys::job(&job.id), encode(&*job));
    }

    /// Cancels a job by the server's `cancel_job` command.
    pub fn cancel(&mut self, id: &str, now_ms: u64) -> Result<CancelOutcome, QueueError> {
        let Some(mut job) = self.load(id)? else {
            return Ok(CancelOutcome::Nothing);
        };
        match job.state {
            JobState::Running => Ok(CancelOutcome::Running),
            JobState::Received | JobState::Acknowledged => {
                self.scheduler.remove_waiting(id, &job.ordering_key);
                let mut batch = WriteBatch::default();
                let err = JobError::new(ErrorCode::Cancelled, "cancelled by the server before it ran");
                self.finish_in(&mut batch, &mut job, Err(err), now_ms, JobState::AwaitingDelivery);
                self.store.apply(batch)?;
                self.store.flush()?;
                Ok(CancelOutcome::Cancelled)
            }
            _ => Ok(CancelOutcome::Nothing),
        }
    }

    pub fn figures(&self) -> QueueFigures {
        let count = |s: JobState| self.live.values().filter(|v| **v == s).count() as u64;
        QueueFigures {
            pending: count(JobState::Received) + count(JobState::Acknowledged),
            running: count(JobState::Running),
            awaiting_delivery: self.results_pending,
            dead: self.dead,
            by_lane: self.scheduler.lane_figures(),
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
        let mut batch = WriteBatch::default();
        batch.put(keys::CONNECTOR_ID.to_vec(), id.as_bytes().to_vec());
        self.store.apply(batch)?;
        Ok(self.store.flush()?)
    }

    /// Reads a step of a job's journal (see `mod.rs`).
    pub fn step(&self, id: &str, step: &str) -> Result<Option<Value>, QueueError> {
        let key = keys::step(id, step);
        self.store.get(&key)?.map(|v| decode(&key, &v)).transpose()
    }

    /// Writes a step of a job's journal, flushed before the caller acts on it.
    pub fn record_step(&mut self, id: &str, step: &str, value: &Value) -> Result<(), QueueError> {
        let mut batch = WriteBatch::default();
        batch.put(keys::step(id, step), encode(value));
        self.store.apply(batch)?;
        Ok(self.store.flush()?)
    }
}
