//! The list of protocol violations the simulator caught the connector in. Each one is
//! counted, logged at `warn`, and kept (the newest `KEEP` of them) for `/admin/violations`.

use std::collections::VecDeque;
use std::time::SystemTime;

use serde::Serialize;

/// How many violations are kept in memory; the total keeps counting past it.
const KEEP: usize = 10_000;

/// What the connector did wrong.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ViolationKind {
    /// No `Authorization` header, or not `Basic <token>`.
    MissingToken,
    /// `Authorization: Basic <token>` with a token other than the accepted one.
    WrongToken,
    /// A request after registration without `X-Connector-Id`.
    MissingConnectorId,
    /// One entry (by guid, else dn) delivered in two different batches of one job.
    RecordDeliveredTwice,
    /// A records batch whose seq skips one.
    SeqGap,
    /// A repeat of a stored seq whose records differ from the stored ones.
    RepeatSeqDiffers,
    /// A new records batch after the `last` batch or after the job's result.
    RecordsAfterEnd,
    /// A second result for one job that differs from the first.
    SecondDifferentResult,
    /// A result posted for a job this connector never acknowledged.
    ResultWithoutAck,
    /// Records posted for a job this connector never acknowledged.
    RecordsWithoutAck,
}

/// One caught violation, as `/admin/violations` shows it.
#[derive(Debug, Clone, Serialize)]
pub struct Violation {
    pub kind: ViolationKind,
    pub job_id: Option<String>,
    pub detail: String,
    pub at: String,
}

/// Every violation so far: a total and the newest items.
#[derive(Debug, Default)]
pub struct Violations {
    total: u64,
    items: VecDeque<Violation>,
}

impl Violations {
    /// Count, log and keep one violation.
    pub fn record(&mut self, kind: ViolationKind, job_id: Option<&str>, detail: String) {
        tracing::warn!(?kind, job_id = job_id.unwrap_or("-"), %detail, "protocol violation");
        self.total += 1;
        if self.items.len() == KEEP {
            self.items.pop_front();
        }
        self.items.push_back(Violation {
            kind,
            job_id: job_id.map(str::to_owned),
            detail,
            at: crate::model::rfc3339(SystemTime::now()),
        });
    }

    pub fn total(&self) -> u64 {
        self.total
    }

    pub fn items(&self) -> impl Iterator<Item = &Violation> {
        self.items.iter()
    }

    /// How many kept violations are of `kind` (for tests).
    #[cfg(test)]
    pub fn count(&self, kind: ViolationKind) -> usize {
        self.items.iter().filter(|v| v.kind == kind).count()
    }
}
