//! Running imports' progress, as events: the queue actor publishes it into a `watch`
//! channel each time one of an import's batches is committed, split or delivered, so the
//! status page, `/api/status`, the heartbeat and the import itself (waiting while too
//! many batches are unsent) read it without asking anyone and nobody polls.
//!
//! The estimate: when a full import finishes, its record count is stored durably under
//! its scope (`t/{scope id}`, the scope of `ldap/import/scope.rs`: directory, base,
//! class, filter). The next full import of the same scope journals that count as its
//! `import.expected` step before its first batch, so the estimate survives a restart and
//! `queue show` reads it offline. A delta has no estimate (its size has nothing to do
//! with the scope's).

use std::time::Instant;

use serde::Serialize;

use super::batch::ImportProgress;
use super::change::Durability;
use super::durable::DurableQueue;
use super::error::QueueError;
use super::keys;

/// The journal step holding the count an earlier full import of the same scope gave.
pub const EXPECTED_STEP: &str = "import.expected";

/// One running import as the queue last saw it (published; see [`ImportRun::report`]).
#[derive(Debug, Clone, PartialEq)]
pub struct ImportRun {
    pub job_id: String,
    pub progress: ImportProgress,
    /// Records an earlier full import of the same scope gave, if any.
    pub expected: Option<u64>,
    /// When this process first saw the import run, and its records then (a resumed
    /// import's rate counts from its resumption).
    pub since: Instant,
    pub records_at_start: u64,
}

/// What is shown of a running import (page, `/api/status`, heartbeat, PROTOCOL.md §2.2
/// extension field `progress` of its `import:{job id}` component).
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct ImportReport {
    pub job_id: String,
    /// Records committed to the durable outbox (on their way to the portal; the portal
    /// holds them all once `batches_delivered` reaches `batches_stored`).
    pub records: u64,
    pub batches_stored: u64,
    pub batches_delivered: u64,
    /// The seq of the oldest batch stored but not delivered yet, if any.
    pub batch_in_flight: Option<u64>,
    /// Records per second since this process saw the import start (or resume).
    pub records_per_s: f64,
    /// The count of the last full import of the same scope (see the module doc).
    pub expected_total: Option<u64>,
    /// `records / expected_total` in percent, at most 100.
    pub percent: Option<f64>,
    /// Seconds left at the current rate, when there is an estimate and a rate.
    pub eta_s: Option<u64>,
}

impl ImportRun {
    /// The figures at `now` (the rate is read when asked, so a stalled import shows it).
    pub fn report(&self, now: Instant) -> ImportReport {
        let p = &self.progress;
        let secs = now.saturating_duration_since(self.since).as_secs_f64();
        let done = p.records_stored.saturating_sub(self.records_at_start);
        let rate = if secs > 0.0 { done as f64 / secs } else { 0.0 };
        let percent = self.expected.filter(|e| *e > 0).map(|e| (p.records_stored as f64 * 100.0 / e as f64).min(100.0));
        let eta_s = match self.expected {
            Some(e) if rate > 0.0 => Some((e.saturating_sub(p.records_stored) as f64 / rate).ceil() as u64),
            _ => None,
        };
        ImportReport {
            job_id: self.job_id.clone(),
            records: p.records_stored,
            batches_stored: p.batches_stored,
            batches_delivered: p.batches_delivered,
            batch_in_flight: (p.batches_delivered < p.batches_stored).then_some(p.batches_delivered),
            records_per_s: (rate * 10.0).round() / 10.0,
            expected_total: self.expected,
            percent: percent.map(|x| (x * 10.0).round() / 10.0),
            eta_s,
        }
    }

    /// One line for people (the heartbeat's component `detail`, the page).
    pub fn describe(&self, now: Instant) -> String {
        let r = self.report(now);
        let of = match (r.expected_total, r.percent) {
            (Some(e), Some(pc)) => format!(" of ~{e} ({pc:.0}%)"),
            _ => String::new(),
        };
        let left = r.eta_s.map_or(String::new(), |s| format!(", ~{s} s left"));
        let batch = r.batch_in_flight.map_or(String::from("all batches delivered"), |b| format!("batch {b} in flight"));
        format!("{} records{of}, {:.0} records/s, {batch}{left}", r.records, r.records_per_s)
    }
}

impl DurableQueue {
    /// The count the last full import of `scope` gave, if one finished here.
    pub fn scope_total(&self, scope: &str) -> Result<Option<u64>, QueueError> {
        let key = keys::scope_total(scope);
        Ok(self.store.get(&key)?.and_then(|v| <[u8; 8]>::try_from(v.as_slice()).ok()).map(u64::from_be_bytes))
    }

    /// Stores the count a full import of `scope` gave (flushed before it returns).
    pub fn remember_scope_total(&mut self, scope: &str, total: u64) -> Result<(), QueueError> {
        self.writable()?;
        let mut tx = self.tx(Durability::Flushed);
        tx.batch.put(keys::scope_total(scope), total.to_be_bytes().to_vec());
        self.commit(tx)
    }

    /// The estimate of import `id`: its journaled [`EXPECTED_STEP`], or else, for a full
    /// import (`scope` given), the scope's last count, journaled now (flushed) so a
    /// resumed run and `queue show` find the same one.
    pub fn expect_import(&mut self, id: &str, scope: Option<&str>) -> Result<Option<u64>, QueueError> {
        if let Some(v) = self.step(id, EXPECTED_STEP)? {
            return Ok(v.as_u64());
        }
        let Some(total) = scope.map(|s| self.scope_total(s)).transpose()?.flatten() else { return Ok(None) };
        self.record_step(id, EXPECTED_STEP, &serde_json::Value::from(total))?;
        Ok(Some(total))
    }
}

#[cfg(test)]
mod tests;
