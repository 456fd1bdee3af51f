//! Cancelling a job for the admin, and when a `cancel_job` command has done its work.

use std::time::Instant;

use super::{JobState, Jobs};
use crate::error::ApiError;

/// What an admin cancel did.
#[derive(Debug, PartialEq, Eq)]
pub struct CancelOutcome {
    pub state: &'static str,
    /// The connector that must be sent a `cancel_job` command.
    pub notify: Option<String>,
}

impl Jobs {
    /// Cancel a job for the admin: a queued or leased one is `Cancelled` at once (its
    /// ack then gets 404); the holder of a leased or acked one gets a `cancel_job` command.
    pub fn cancel(&mut self, id: &str) -> Result<CancelOutcome, ApiError> {
        let index = self.index(id)?;
        let job = self.list.get_mut(index).ok_or_else(|| ApiError::NotFound(format!("job {id} not found")))?;
        let notify = match &job.state {
            JobState::Queued => {
                self.offerable.remove(&index);
                job.state = JobState::Cancelled { lease_until: None };
                None
            }
            JobState::Leased { to, until, .. } => {
                let to = to.clone();
                job.state = JobState::Cancelled { lease_until: Some(*until) };
                Some(to)
            }
            JobState::Acked { by } => Some(by.clone()),
            JobState::Done { .. } | JobState::Cancelled { .. } => None,
        };
        Ok(CancelOutcome { state: job.state.name(), notify })
    }

    /// Whether a `cancel_job` command for `id` is done: the result is in, or the job was
    /// cancelled before its ack and that lease is over, or the job is gone.
    pub fn cancel_settled(&self, id: &str, now: Instant) -> bool {
        let Some(job) = self.get(id) else {
            return true;
        };
        match job.state {
            JobState::Done { .. } => true,
            JobState::Cancelled { lease_until: Some(until) } => now >= until,
            JobState::Cancelled { lease_until: None } => true,
            _ => false,
        }
    }
}
