//! Operator and housekeeping operations: listing, retry, purge, retention compaction.

use super::change::{Durability, Effect, Slot};
use super::durable::DurableQueue;
use super::error::{decode, encode, QueueError};
use super::keys;
use super::record::{Delivery, JobRecord, JobState, OutboxItem};
use super::store::WriteBatch;

impl DurableQueue {
    /// Every stored job, in arrival order.
    pub fn list(&self) -> Result<Vec<JobRecord>, QueueError> {
        let mut jobs = self
            .store
            .scan(keys::JOBS)?
            .into_iter()
            .map(|(k, v)| decode::<JobRecord>(&k, &v))
            .collect::<Result<Vec<_>, _>>()?;
        jobs.sort_by_key(|j| j.arrival);
        Ok(jobs)
    }

    /// Puts a dead job whose result the server has not taken back to run again, with a
    /// fresh window of 15 minutes if its deadline has passed.
    pub fn retry(&mut self, id: &str, now_ms: u64) -> Result<(), QueueError> {
        self.writable()?;
        let Some(mut job) = self.load(id)? else {
            return Err(QueueError::NotFound(id.to_owned()));
        };
        let refuse = |reason: &str| Err(QueueError::NotRetryable { id: id.to_owned(), reason: reason.to_owned() });
        if job.state != JobState::Dead {
            return refuse(&format!("it is {}, only dead jobs are retried", job.state.as_str()));
        }
        if job.delivery == Delivery::Delivered {
            return refuse("the portal already has its result; submit the job again from the portal");
        }
        let mut tx = self.tx(Durability::Flushed);
        self.remove_outbox_of(&mut tx.batch, id)?;
        if job.delivery == Delivery::Pending {
            tx.effect(Effect::ResultsSettled(1));
        }
        if let Some(ms) = job.finished_ms {
            tx.batch.delete(keys::retention(ms, id));
        }
        job.state = JobState::Acknowledged;
        job.attempts = 0;
        job.not_before_ms = 0;
        job.outcome = None;
        job.finished_ms = None;
        job.delivery = Delivery::None;
        job.deadline_ms = job.deadline_ms.max(now_ms + 15 * 60_000);
        tx.batch.put(keys::job(id), encode(&job));
        tx.effect(Effect::DeadRemoved(1));
        tx.effect(Effect::Live(id.to_owned(), JobState::Acknowledged));
        tx.effect(Effect::Schedule(Slot::of(&job)));
        self.commit(tx)
    }

    /// Removes every dead job and all it left behind. Returns how many.
    pub fn purge_dead(&mut self) -> Result<usize, QueueError> {
        self.writable()?;
        let dead: Vec<JobRecord> = self.list()?.into_iter().filter(|j| j.state == JobState::Dead).collect();
        let mut tx = self.tx(Durability::Flushed);
        for job in &dead {
            self.remove_outbox_of(&mut tx.batch, &job.id)?;
            if job.delivery == Delivery::Pending {
                tx.effect(Effect::ResultsSettled(1));
            }
            self.remove_job_in(&mut tx.batch, job)?;
            tx.effect(Effect::SpoolJob(job.id.clone()));
        }
        tx.effect(Effect::DeadRemoved(dead.len() as u64));
        self.commit(tx)?;
        Ok(dead.len())
    }

    /// Removes finished jobs older than the retention. Returns how many.
    pub fn compact(&mut self, now_ms: u64) -> Result<usize, QueueError> {
        self.writable()?;
        let cutoff = now_ms.saturating_sub(self.settings.retention.as_millis() as u64);
        let mut tx = self.tx(Durability::Flushed);
        let mut removed = 0;
        for (k, _) in self.store.scan(keys::RETENTION)? {
            let Some((finished, id)) = keys::parse_retention(&k) else {
                continue;
            };
            if finished > cutoff {
                break;
            }
            tx.batch.delete(k);
            if let Some(job) = self.load(&id)? {
                if job.state == JobState::Dead {
                    tx.effect(Effect::DeadRemoved(1));
                }
                self.remove_job_in(&mut tx.batch, &job)?;
                tx.effect(Effect::SpoolJob(id));
                removed += 1;
            }
        }
        self.commit(tx)?;
        Ok(removed)
    }

    /// Bytes on disk, for the bounded-disk checks.
    pub fn size_on_disk(&self) -> Result<u64, QueueError> {
        Ok(self.store.size_on_disk()?)
    }

    fn remove_job_in(&self, batch: &mut WriteBatch, job: &JobRecord) -> Result<(), QueueError> {
        batch.delete(keys::job(&job.id));
        if let Some(ms) = job.finished_ms {
            batch.delete(keys::retention(ms, &job.id));
        }
        for prefix in [keys::steps_of(&job.id), keys::batches_of(&job.id), keys::seen_of(&job.id)] {
            for (k, _) in self.store.scan(&prefix)? {
                batch.delete(k);
            }
        }
        Ok(())
    }

    fn remove_outbox_of(&self, batch: &mut WriteBatch, id: &str) -> Result<(), QueueError> {
        for (k, v) in self.store.scan(keys::OUTBOX)? {
            let item: OutboxItem = decode(&k, &v)?;
            if item.job_id == id {
                batch.delete(k);
            }
        }
        Ok(())
    }
}
