//! One job's step journal, typed: each step is a struct with a fixed name ([`Step`]),
//! read and written through a [`Journal`] handle that knows its job. The queue stores a
//! step as the JSON of its value under the job's step key (`keys::step`), so a step
//! struct has exactly the fields the untyped JSON of earlier versions had: a queue
//! written by them loads as it is (see `journal/tests.rs`).

use actix::Addr;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

use super::actor::QueueActor;
use super::messages::{ReadStep, RecordStep};
use crate::errors::{JobError, Reply};

/// A value kept in a job's journal under [`Step::NAME`].
pub trait Step: Serialize + DeserializeOwned {
    /// The step's name in the journal, e.g. `create.intent` (stable: it is a stored key).
    const NAME: &'static str;
}

/// The journal of one job, through the queue actor. Cheap to clone.
#[derive(Clone)]
pub struct Journal {
    queue: Addr<QueueActor>,
    job_id: String,
}

impl Journal {
    /// The journal of job `job_id`, read and written through `queue`.
    pub fn new(queue: Addr<QueueActor>, job_id: impl Into<String>) -> Self {
        Journal { queue, job_id: job_id.into() }
    }

    /// The step, if the job journaled it. Errors: the queue failing (`internal`, retryable
    /// when its storage is unavailable), or a stored value that is not this step
    /// (`internal`, naming the step).
    pub async fn read<S: Step>(&self) -> Result<Option<S>, JobError> {
        match self.raw(S::NAME).await? {
            None => Ok(None),
            Some(value) => serde_json::from_value(value)
                .map(Some)
                .map_err(|e| JobError::internal(format!("the journal's `{}` step is unreadable: {e}", S::NAME))),
        }
    }

    /// The step, or `None` when it is absent or of a shape this version does not read
    /// (written by another version): for steps that are worked out again when missing.
    pub async fn read_if_readable<S: Step>(&self) -> Result<Option<S>, JobError> {
        Ok(self.raw(S::NAME).await?.and_then(|value| match serde_json::from_value(value) {
            Ok(step) => Some(step),
            Err(e) => {
                tracing::warn!(step = S::NAME, error = %e, "journal step of another shape; worked out again");
                None
            }
        }))
    }

    /// Journals the step; flushed before it returns (an intent precedes its write).
    pub async fn record<S: Step>(&self, step: &S) -> Result<(), JobError> {
        let value =
            serde_json::to_value(step).map_err(|e| JobError::internal(format!("journal step `{}`: {e}", S::NAME)))?;
        let msg = RecordStep { id: self.job_id.clone(), step: S::NAME.into(), value };
        let began = std::time::Instant::now();
        let done = self.queue.send(msg).await.or_internal("journal");
        let us = began.elapsed().as_micros() as u64;
        tracing::debug!(target: "ic::ad::step", job_id = %self.job_id, step = "journal step (flushed)", us, "ad step");
        done
    }

    async fn raw(&self, name: &str) -> Result<Option<serde_json::Value>, JobError> {
        let msg = ReadStep { id: self.job_id.clone(), step: name.into() };
        self.queue.send(msg).await.or_internal("journal")
    }
}

/// `import.done`: the import's last batch is committed (written by the queue with that
/// batch, in one write). Stored as `true`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct ImportDone(pub bool);

impl Step for ImportDone {
    const NAME: &'static str = "import.done";
}

#[cfg(test)]
mod tests;
