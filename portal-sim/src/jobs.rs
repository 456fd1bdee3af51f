//! The job book: every job the simulator was given and its lease → ack → result life.
//!
//! States: `Queued` → (offered) `Leased{to, until}` → (acked by `to`) `Acked{by}` →
//! (result by `by`) `Done{by}`. A lease that runs out puts the job back to `Queued`, in
//! its original place, to be offered to any connector. `Cancelled` is reached from
//! `Queued` or `Leased` by the admin; an acked job is cancelled by a `cancel_job` command.
//!
//! Invariants: an index is in `offerable` iff that job is `Queued`; `expiries` may hold
//! stale entries, skipped because their offer number no longer matches the job's lease.
//! No call scans all jobs except the admin's [`Jobs::iter`].

use std::cmp::Reverse;
use std::collections::{BTreeSet, BinaryHeap, HashMap, HashSet};
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::error::ApiError;
use crate::records::RecordLog;

mod cancel;
mod delivery;
#[cfg(test)]
mod tests;

pub use cancel::CancelOutcome;

/// Where a job is in its life.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum JobState {
    Queued,
    Leased {
        to: String,
        until: Instant,
        offer: u32,
    },
    Acked {
        by: String,
    },
    Done {
        by: String,
    },
    /// Cancelled before anyone acked it; `lease_until` is the lease that was running then.
    Cancelled {
        lease_until: Option<Instant>,
    },
}

impl JobState {
    pub fn name(&self) -> &'static str {
        match self {
            JobState::Queued => "queued",
            JobState::Leased { .. } => "leased",
            JobState::Acked { .. } => "acked",
            JobState::Done { .. } => "done",
            JobState::Cancelled { .. } => "cancelled",
        }
    }
}

/// How a job goes on the wire.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WireForm {
    /// A JSON object to which each offer adds `lease_s` and `attempt`.
    Spec,
    /// Sent verbatim, however malformed (for tests of invalid jobs).
    Raw,
}

/// A job as the admin hands it in.
#[derive(Debug)]
pub struct NewJob {
    pub id: Option<String>,
    pub job_type: String,
    pub wire: Value,
    pub form: WireForm,
    pub lease_s: u64,
}

/// One job and everything the simulator saw happen to it.
#[derive(Debug)]
pub struct Job {
    pub id: String,
    pub job_type: String,
    wire: Value,
    form: WireForm,
    pub lease_s: u64,
    pub state: JobState,
    pub offers: u32,
    pub acks: u32,
    pub result_posts: u32,
    pub result: Option<Value>,
    pub records: RecordLog,
    /// When the admin submitted it, and how long until its first result arrived: the
    /// latency a portal user sees.
    pub submitted: std::time::Instant,
    pub result_after: Option<std::time::Duration>,
    /// How long until a poll first handed it out (the simulator's own share of the latency).
    pub offered_after: Option<std::time::Duration>,
    /// How long until its first ack arrived (offered → acked is the connector's intake:
    /// storing the job durably and the ack's round trip).
    pub acked_after: Option<std::time::Duration>,
    /// How long until its first and its latest records batch arrived (an import's
    /// stream: acked → first batch is the connector's start, first → last its streaming,
    /// last → result its tail).
    pub first_records_after: Option<std::time::Duration>,
    pub last_records_after: Option<std::time::Duration>,
    /// The connector of the most recent lease, so a late ack that nobody overtook counts.
    last_lessee: Option<String>,
}

impl Job {
    /// The connector that holds the job now: its lessee, or the one that acked it.
    pub fn holder(&self) -> Option<&str> {
        match &self.state {
            JobState::Leased { to, .. } => Some(to),
            JobState::Acked { by } | JobState::Done { by } => Some(by),
            _ => None,
        }
    }

    /// The connector that acknowledged the job, if any.
    fn owner(&self) -> Option<&str> {
        match &self.state {
            JobState::Acked { by } | JobState::Done { by } => Some(by),
            _ => None,
        }
    }
}

/// All jobs, in enqueue order, with the offer queue and the lease expiries.
#[derive(Debug, Default)]
pub struct Jobs {
    list: Vec<Job>,
    by_id: HashMap<String, usize>,
    offerable: BTreeSet<usize>,
    expiries: BinaryHeap<Reverse<(Instant, usize, u32)>>,
    generated: u64,
}

impl Jobs {
    /// Add jobs to the end of the queue; all or none. Generated ids are `j-<n>`.
    pub fn enqueue(&mut self, new: Vec<NewJob>) -> Result<Vec<String>, ApiError> {
        let mut batch_ids = HashSet::new();
        for job in &new {
            if let Some(id) = &job.id {
                if self.by_id.contains_key(id) || !batch_ids.insert(id.clone()) {
                    return Err(ApiError::Conflict(format!("job id {id} already exists")));
                }
            }
        }
        let mut ids = Vec::with_capacity(new.len());
        for job in new {
            let id = match job.id {
                Some(id) => id,
                None => self.generate_id(&batch_ids),
            };
            let index = self.list.len();
            let mut wire = job.wire;
            if let (WireForm::Spec, Value::Object(map)) = (job.form, &mut wire) {
                map.insert("id".into(), Value::String(id.clone()));
            }
            self.list.push(Job {
                id: id.clone(),
                job_type: job.job_type,
                wire,
                form: job.form,
                lease_s: job.lease_s,
                state: JobState::Queued,
                offers: 0,
                acks: 0,
                result_posts: 0,
                result: None,
                records: RecordLog::default(),
                submitted: std::time::Instant::now(),
                result_after: None,
                offered_after: None,
                acked_after: None,
                first_records_after: None,
                last_records_after: None,
                last_lessee: None,
            });
            self.by_id.insert(id.clone(), index);
            self.offerable.insert(index);
            ids.push(id);
        }
        Ok(ids)
    }

    fn generate_id(&mut self, reserved: &HashSet<String>) -> String {
        loop {
            self.generated += 1;
            let id = format!("j-{}", self.generated);
            if !self.by_id.contains_key(&id) && !reserved.contains(&id) {
                return id;
            }
        }
    }

    /// Put every job whose lease ran out by `now` back in the queue; returns how many.
    pub fn sweep(&mut self, now: Instant) -> usize {
        let mut requeued = 0;
        while let Some(Reverse((until, index, offer))) = self.expiries.peek().copied() {
            if until > now {
                break;
            }
            self.expiries.pop();
            let Some(job) = self.list.get_mut(index) else {
                continue;
            };
            if matches!(&job.state, JobState::Leased { offer: o, .. } if *o == offer) {
                job.state = JobState::Queued;
                self.offerable.insert(index);
                requeued += 1;
            }
        }
        requeued
    }

    /// Lease up to `max` queued jobs, oldest first, to `connector` for each job's lease
    /// (or `lease_override`), and return them as they go on the wire.
    pub fn offer(&mut self, connector: &str, max: usize, now: Instant, lease_override: Option<u64>) -> Vec<Value> {
        self.sweep(now);
        let mut out = Vec::new();
        while out.len() < max {
            let Some(index) = self.offerable.pop_first() else {
                break;
            };
            let Some(job) = self.list.get_mut(index) else {
                continue;
            };
            let lease_s = lease_override.unwrap_or(job.lease_s);
            job.offers += 1;
            job.offered_after.get_or_insert_with(|| job.submitted.elapsed());
            let until = now + Duration::from_secs(lease_s);
            job.state = JobState::Leased { to: connector.to_owned(), until, offer: job.offers };
            job.last_lessee = Some(connector.to_owned());
            self.expiries.push(Reverse((until, index, job.offers)));
            let mut wire = job.wire.clone();
            if let (WireForm::Spec, Value::Object(map)) = (job.form, &mut wire) {
                map.insert("lease_s".into(), lease_s.into());
                map.insert("attempt".into(), job.offers.into());
            }
            out.push(wire);
        }
        out
    }

    pub fn get(&self, id: &str) -> Option<&Job> {
        self.by_id.get(id).and_then(|&i| self.list.get(i))
    }

    fn index(&self, id: &str) -> Result<usize, ApiError> {
        self.by_id.get(id).copied().ok_or_else(|| ApiError::NotFound(format!("job {id} not found")))
    }

    /// Every job in enqueue order (admin views only).
    pub fn iter(&self) -> impl DoubleEndedIterator<Item = &Job> {
        self.list.iter()
    }

    pub fn len(&self) -> usize {
        self.list.len()
    }
}
