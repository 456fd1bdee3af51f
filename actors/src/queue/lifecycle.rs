//! A job's run: started, completed (or put back for a retry), cancelled, and its result
//! written to the outbox. Each is one `Tx` (`tx.rs`): stored first, then reflected in
//! the scheduler and the figures.

use rand::Rng;
use serde_json::Value;

use super::change::{Durability, Effect, Slot, Tx};
use super::durable::{CancelOutcome, DurableQueue, Runnable};
use super::error::{encode, QueueError};
use super::keys;
use super::record::{Delivery, JobRecord, JobState, OutboxKind};
use super::shedding::{self, LoginAge, Verdict};
use crate::errors::{ErrorCode, JobError};
use crate::protocol::wire::{ResultBody, ResultStatus};
use crate::protocol::{JobType, Lane};
use crate::time::rfc3339;

impl DurableQueue {
    /// Starts up to `free` jobs: marks them running (flushed, so a crash counts as an
    /// attempt) and returns them with secrets unsealed. Jobs past their deadline are
    /// failed here instead of started, and logins that waited longer than
    /// `shed_logins_after` are answered `timeout` (`shedding.rs`); neither takes a slot,
    /// so the take goes on to the next due job. Settles first an open group that
    /// started, placed or removed jobs (`group.rs`).
    /// Errors: the storage is unavailable (nothing starts).
    pub fn take_runnable(&mut self, now_ms: u64, free: usize) -> Result<Vec<Runnable>, QueueError> {
        self.writable()?;
        // The scheduler is memory, the flushed state: a start or removal still in the open
        // group would let a job be handed out twice, a placement one run out of its key's
        // order, so such a group is settled first. Its other changes (finishes, acks) only
        // make this take see fewer jobs due, and their callers take again once answered:
        // this take joins their flush instead.
        if self.group.as_ref().is_some_and(|g| g.reschedules()) {
            self.settle()?;
        }
        let mut out = Vec::new();
        let mut shed = Vec::new();
        let mut tx = self.tx(Durability::Flushed);
        let mut room = self.scheduler.room(free);
        for (lane, id) in self.scheduler.due_in_order(now_ms) {
            if room.is_full() {
                break;
            }
            if !room.fits(lane) {
                continue;
            }
            let Some(mut job) = self.load(id)? else {
                tx.effect(Effect::Unschedule(id.clone()));
                continue;
            };
            if now_ms > job.deadline_ms {
                tx.effect(Effect::Unschedule(id.clone()));
                let err = JobError::new(ErrorCode::DeadlineExceeded, "the job's deadline passed before it could run");
                self.finish_in(&mut tx, &mut job, Err(err), now_ms, JobState::Dead);
                continue;
            }
            if let Some(waited_ms) = self.shed_in(&mut tx, &mut job, now_ms) {
                shed.push((job.id, waited_ms));
                continue;
            }
            if let Some(run) = self.start_in(&mut tx, job, now_ms) {
                room.take(lane);
                out.push(run);
            }
        }
        // The flush makes a crash count as an attempt (crash-loop detection). Logins skip
        // it: they are read-only, and their 30 s deadline already bounds a job that would
        // crash the process each time; the interactive path saves an fsync. A shed login's
        // result is flushed before it is sent (`outbox`); a crash before that flush leaves
        // the login acknowledged, judged again at the next start.
        let any = !out.is_empty() || !shed.is_empty();
        if any && out.iter().all(|r| r.lane == Lane::Interactive) {
            tx.durability = Durability::Deferred;
        }
        self.commit(tx)?;
        if let Some(after) = self.settings.shed_logins_after {
            for (id, waited_ms) in shed {
                self.shed_log.shed(&id, waited_ms, after, now_ms);
            }
        }
        Ok(out)
    }

    /// Marks `job` running in `tx` and returns it with its secrets; `None` when they
    /// cannot be unsealed (it is failed `internal` in `tx` instead).
    fn start_in(&self, tx: &mut Tx, mut job: JobRecord, now_ms: u64) -> Option<Runnable> {
        let id = job.id.clone();
        let mut payload = job.payload.clone();
        if let Some(sealed) = &job.sealed {
            if let Err(e) = self.sealer.unseal_into(&id, sealed, &mut payload) {
                tx.effect(Effect::Unschedule(id));
                self.finish_in(tx, &mut job, Err(JobError::internal(e.to_string())), now_ms, JobState::Dead);
                return None;
            }
        }
        job.state = JobState::Running;
        job.attempts += 1;
        job.batches_at_start = job.batches_stored;
        job.started_ms.get_or_insert(now_ms);
        tx.batch.put(keys::job(&id), encode(&job));
        tx.effect(Effect::Start(id.clone()));
        tx.effect(Effect::Live(id.clone(), JobState::Running));
        Some(Runnable {
            id,
            job_type: job.job_type,
            lane: job.lane,
            payload,
            deadline_ms: job.deadline_ms,
            attempts: job.attempts,
        })
    }

    /// When `job` is a login that waited longer than `shed_logins_after`, answers it
    /// `timeout` in `tx` (its result into the outbox, counted once stored) and returns
    /// how long it waited; else leaves it alone.
    fn shed_in(&self, tx: &mut Tx, job: &mut JobRecord, now_ms: u64) -> Option<u64> {
        let after = self.settings.shed_logins_after?;
        if JobType::parse(&job.job_type) != Some(JobType::Authenticate) {
            return None;
        }
        let age = LoginAge {
            created_at_ms: job.created_at_ms,
            clock_uncertainty_ms: job.clock_uncertainty_ms,
            received_ms: job.received_ms,
        };
        let Verdict::Shed { waited_ms } = shedding::judge(after, &age, now_ms) else {
            return None;
        };
        tx.effect(Effect::Unschedule(job.id.clone()));
        tx.effect(Effect::LoginShed);
        self.finish_in(tx, job, Err(shedding::at_capacity(after, waited_ms)), now_ms, JobState::AwaitingDelivery);
        Some(waited_ms)
    }

    /// A run ended. Retryable failures wait with backoff (full jitter, base 1 s, cap
    /// 60 s) unless attempts are used up; everything else gets its result. Errors: the
    /// storage is unavailable: the job stays running, and the caller must complete it
    /// again once the storage works (the result must not be lost).
    pub fn complete(&mut self, id: &str, outcome: Result<Value, JobError>, now_ms: u64) -> Result<(), QueueError> {
        self.writable()?;
        let job = self.load(id)?;
        let Some(mut job) = job.filter(|j| j.state == JobState::Running) else {
            // A late answer for a job already finished, or whose record the disk lost:
            // nothing to write, but its running slot is free.
            self.scheduler.finished(id);
            return Ok(());
        };
        let mut tx = self.tx(Durability::Flushed);
        tx.effect(Effect::Finished(id.to_owned()));
        match outcome {
            Err(e) if e.retryable && job.attempts < self.settings.max_attempts => {
                let cap_ms = 60_000u64.min(1_000u64 << job.attempts.min(6));
                job.not_before_ms = now_ms + rand::thread_rng().gen_range(0..=cap_ms);
                job.state = JobState::Acknowledged;
                tracing::info!(job_id = id, code = e.code.as_str(), attempt = job.attempts, "job will be retried");
                tx.batch.put(keys::job(id), encode(&job));
                tx.effect(Effect::Live(id.to_owned(), JobState::Acknowledged));
                tx.effect(Effect::Schedule(Slot::of(&job)));
            }
            Err(mut e) if e.retryable => {
                e.message = format!("gave up after {} attempts: {}", job.attempts, e.message);
                e.retryable = false;
                self.finish_in(&mut tx, &mut job, Err(e), now_ms, JobState::Dead);
            }
            other => self.finish_in(&mut tx, &mut job, other, now_ms, JobState::AwaitingDelivery),
        }
        self.commit(tx)
    }

    /// Writes the job's result into `tx` and puts it in the outbox; `state` is
    /// AwaitingDelivery or Dead. Memory changes when `tx` is committed.
    pub(super) fn finish_in(
        &self,
        tx: &mut Tx,
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
        tx.effect(Effect::ResultPending);
        if state == JobState::Dead {
            tx.effect(Effect::DeadAdded);
            tx.effect(Effect::Forget(job.id.clone()));
        } else {
            tx.effect(Effect::Live(job.id.clone(), state));
        }
        tx.push_outbox(&job.id, OutboxKind::Result);
        tx.batch.put(keys::job(&job.id), encode(&*job));
    }

    /// Cancels a job by the server's `cancel_job` command.
    pub fn cancel(&mut self, id: &str, now_ms: u64) -> Result<CancelOutcome, QueueError> {
        self.writable()?;
        let Some(mut job) = self.load(id)? else {
            return Ok(CancelOutcome::Nothing);
        };
        match job.state {
            JobState::Running => Ok(CancelOutcome::Running),
            JobState::Received | JobState::Acknowledged => {
                let mut tx = self.tx(Durability::Flushed);
                tx.effect(Effect::Unschedule(id.to_owned()));
                let err = JobError::new(ErrorCode::Cancelled, "cancelled by the server before it ran");
                self.finish_in(&mut tx, &mut job, Err(err), now_ms, JobState::AwaitingDelivery);
                self.commit(tx)?;
                Ok(CancelOutcome::Cancelled)
            }
            _ => Ok(CancelOutcome::Nothing),
        }
    }
}
