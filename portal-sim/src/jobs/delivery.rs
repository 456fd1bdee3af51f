//! What a connector sends back about a job: the ack (§2.4), the result (§2.5) and the
//! record batches (§2.6), with the ownership rules and the violations they can raise.

use std::time::Instant;

use serde_json::Value;

use super::{JobState, Jobs};
use crate::error::ApiError;
use crate::model::RecordsBatch;
use crate::violations::{ViolationKind, Violations};

impl Jobs {
    /// `POST /jobs/{id}/ack`: the job becomes `connector`'s if its lease is still that
    /// connector's (or ran out without anyone else taking it). A repeat by the owner is fine.
    pub fn ack(&mut self, connector: &str, id: &str, now: Instant) -> Result<(), ApiError> {
        self.sweep(now);
        let index = self.index(id)?;
        let Some(job) = self.list.get_mut(index) else {
            return Err(ApiError::NotFound(format!("job {id} not found")));
        };
        job.acks += 1;
        let outcome = match &job.state {
            JobState::Cancelled { .. } => Err(ApiError::NotFound(format!("job {id} was cancelled"))),
            JobState::Leased { to, .. } if to == connector => {
                job.state = JobState::Acked { by: connector.to_owned() };
                Ok(())
            }
            JobState::Queued if job.last_lessee.as_deref() == Some(connector) => {
                // The lease ran out but nobody else took the job: the ack still counts.
                self.offerable.remove(&index);
                job.state = JobState::Acked { by: connector.to_owned() };
                Ok(())
            }
            JobState::Acked { by } | JobState::Done { by } if by == connector => Ok(()),
            JobState::Queued => Err(ApiError::Conflict(format!("job {id} is not leased to this connector"))),
            JobState::Leased { .. } | JobState::Acked { .. } | JobState::Done { .. } => {
                Err(ApiError::Conflict(format!("job {id} belongs to another connector")))
            }
        };
        if outcome.is_ok() {
            job.acked_after.get_or_insert_with(|| job.submitted.elapsed());
        }
        outcome
    }

    /// `POST /jobs/{id}/result`: keep the first result of the connector that acked the
    /// job; an identical repeat is fine, a different one is a conflict and a violation.
    pub fn post_result(
        &mut self,
        violations: &mut Violations,
        connector: &str,
        id: &str,
        body: Value,
    ) -> Result<(), ApiError> {
        let index = self.index(id)?;
        let Some(job) = self.list.get_mut(index) else {
            return Err(ApiError::NotFound(format!("job {id} not found")));
        };
        job.result_posts += 1;
        if let JobState::Cancelled { .. } = job.state {
            return Err(ApiError::NotFound(format!("job {id} was cancelled")));
        }
        if job.owner() != Some(connector) {
            violations.record(
                ViolationKind::ResultWithoutAck,
                Some(id),
                format!("connector {connector} posted a result for a job it never acked"),
            );
            return Err(ApiError::Conflict(format!("job {id} is not acknowledged by this connector")));
        }
        match &job.result {
            Some(stored) if *stored == body => Ok(()),
            Some(_) => {
                violations.record(
                    ViolationKind::SecondDifferentResult,
                    Some(id),
                    "a second result differs from the one kept".to_owned(),
                );
                Err(ApiError::Conflict(format!("job {id} already has a different result")))
            }
            None => {
                job.result = Some(body);
                job.result_after = Some(job.submitted.elapsed());
                job.state = JobState::Done { by: connector.to_owned() };
                Ok(())
            }
        }
    }

    /// `POST /jobs/{id}/records`: store one batch of the job the connector acked.
    pub fn post_records(
        &mut self,
        violations: &mut Violations,
        connector: &str,
        id: &str,
        batch: RecordsBatch,
        max_records: usize,
    ) -> Result<(), ApiError> {
        let index = self.index(id)?;
        let Some(job) = self.list.get_mut(index) else {
            return Err(ApiError::NotFound(format!("job {id} not found")));
        };
        if let JobState::Cancelled { .. } = job.state {
            return Err(ApiError::NotFound(format!("job {id} was cancelled")));
        }
        if job.owner() != Some(connector) {
            violations.record(
                ViolationKind::RecordsWithoutAck,
                Some(id),
                format!("connector {connector} posted records for a job it never acked"),
            );
            return Err(ApiError::Conflict(format!("job {id} is not acknowledged by this connector")));
        }
        let done = job.result.is_some();
        let now = job.submitted.elapsed();
        job.first_records_after.get_or_insert(now);
        job.last_records_after = Some(now);
        job.records.accept(violations, id, batch, done, max_records)
    }
}
