//! The record batches of one import job (PROTOCOL.md §2.6) and the checks on them:
//! seq starts at 0 with no gaps, a repeated seq carries the same records, and no entry
//! (by `guid`, else `dn`) arrives in two different batches.

use std::collections::HashMap;

use serde::Deserialize;
use serde_json::value::RawValue;

use crate::error::ApiError;
use crate::model::RecordsBatch;
use crate::violations::{ViolationKind, Violations};

/// Most records one batch may carry.
pub const MAX_RECORDS: usize = 1000;

/// One stored batch; its seq is its index in [`RecordLog::batches`].
#[derive(Debug)]
pub struct Batch {
    pub records: Vec<Box<RawValue>>,
    pub last: bool,
}

/// Every batch of one job, in seq order, plus the seq that first carried each entry.
#[derive(Debug, Default)]
pub struct RecordLog {
    batches: Vec<Batch>,
    /// Entry key (guid, else dn) → seq of the batch that first delivered it.
    first_seen: HashMap<String, u64>,
    count: usize,
}

/// The two fields of a record that identify it (the rest is skipped unparsed).
#[derive(Deserialize)]
struct Identity {
    guid: Option<String>,
    dn: Option<String>,
}

/// The key that identifies an entry across batches: its guid, else its dn.
fn entry_key(record: &RawValue) -> Option<String> {
    let id: Identity = serde_json::from_str(record.get()).ok()?;
    id.guid.filter(|s| !s.is_empty()).or(id.dn.filter(|s| !s.is_empty()))
}

impl RecordLog {
    pub fn batches(&self) -> &[Batch] {
        &self.batches
    }

    /// Total records stored over all batches.
    pub fn count(&self) -> usize {
        self.count
    }

    /// Store `batch` once, or accept an identical repeat. `job_done` says the job's result
    /// is already kept, so no new batch may follow.
    /// `max_records` is the most one batch may carry (413 past it; at most [`MAX_RECORDS`]).
    pub fn accept(
        &mut self,
        violations: &mut Violations,
        job_id: &str,
        batch: RecordsBatch,
        job_done: bool,
        max_records: usize,
    ) -> Result<(), ApiError> {
        let max = max_records.min(MAX_RECORDS);
        if batch.records.len() > max {
            return Err(ApiError::TooLarge(format!("{} records in one batch; at most {max}", batch.records.len())));
        }
        let next = self.batches.len() as u64;
        let seq = batch.seq;
        if let Some(stored) = usize::try_from(seq).ok().and_then(|i| self.batches.get(i)) {
            let same = stored.records.len() == batch.records.len()
                && stored.records.iter().zip(&batch.records).all(|(a, b)| a.get() == b.get());
            if !same || stored.last != batch.last {
                violations.record(
                    ViolationKind::RepeatSeqDiffers,
                    Some(job_id),
                    format!("seq {seq} repeated with different records"),
                );
            }
            return Ok(());
        }
        if seq > next {
            violations.record(ViolationKind::SeqGap, Some(job_id), format!("got seq {seq}, expected {next}"));
            return Err(ApiError::BadRequest(format!("seq gap: got {seq}, expected {next}")));
        }
        let ended = self.batches.last().is_some_and(|b| b.last);
        if ended || job_done {
            let why = if ended { "the last batch" } else { "the result" };
            violations.record(ViolationKind::RecordsAfterEnd, Some(job_id), format!("seq {seq} after {why}"));
            return Err(ApiError::Conflict(format!("seq {seq} after {why}")));
        }
        let mut repeats = 0usize;
        let mut example = None;
        for record in &batch.records {
            let Some(key) = entry_key(record) else {
                continue;
            };
            match self.first_seen.get(&key) {
                Some(&first) if first != seq => {
                    repeats += 1;
                    example.get_or_insert_with(|| format!("{key} (first in seq {first})"));
                }
                Some(_) => {}
                None => {
                    self.first_seen.insert(key, seq);
                }
            }
        }
        if let Some(example) = example {
            violations.record(
                ViolationKind::RecordDeliveredTwice,
                Some(job_id),
                format!("{repeats} entries of seq {seq} were delivered before, e.g. {example}"),
            );
        }
        self.count += batch.records.len();
        self.batches.push(Batch { records: batch.records, last: batch.last });
        Ok(())
    }
}
