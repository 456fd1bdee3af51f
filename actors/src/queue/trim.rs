//! A records batch of one record the server refuses as too large (413, PROTOCOL.md
//! §2.6): it cannot be halved, so it goes without that record at the same `seq` (the
//! portal sees no gap) and the job's result names the record (`skipped_records`).

use serde_json::Value;

use super::batch::{NewBatch, Split};
use super::change::Durability;
use super::durable::DurableQueue;
use super::error::{encode, QueueError};
use super::keys;
use super::record::JobRecord;

impl DurableQueue {
    /// Batch `seq` (`refused`) holds one record the server refuses as too large: the batch is kept at
    /// its `seq` without it (its `last` kept too) and the record's DN goes into the job
    /// record, for the result. Its digest stays, so a resumed import does not send it again.
    pub(super) fn trim_single(&mut self, mut job: JobRecord, seq: u64, refused: NewBatch) -> Result<Split, QueueError> {
        let record = refused.records.first().map_or("", String::as_str);
        let parsed: Value = serde_json::from_str(record).unwrap_or(Value::Null);
        let name = ["dn", "guid"]
            .iter()
            .find_map(|k| parsed[*k].as_str())
            .map_or_else(|| format!("the one record of batch {seq}"), str::to_owned);
        tracing::error!(job_id = %job.id, seq, record = %name, "one record is larger than the server accepts (413): its batch goes without it and the result names it");
        let mut tx = self.tx(Durability::Flushed);
        let empty = NewBatch { records: Vec::new(), keys: Vec::new(), deleted: 0, last: refused.last };
        tx.batch.put(keys::batch(&job.id, seq), empty.body(seq));
        job.skipped_records.push(name);
        tx.batch.put(keys::job(&job.id), encode(&job));
        self.commit(tx)?;
        Ok(Split::Trimmed)
    }
}

/// The result body as sent: the records the server refused alone are named in it
/// (`skipped_records` in the result, or in the error's details for a failed job).
pub(super) fn naming_skipped(
    mut body: crate::protocol::wire::ResultBody,
    skipped: &[String],
) -> crate::protocol::wire::ResultBody {
    if skipped.is_empty() {
        return body;
    }
    let names = Value::from(skipped.to_vec());
    match (&mut body.result, &mut body.error) {
        (Some(Value::Object(result)), _) => {
            result.insert("skipped_records".into(), names);
        }
        (_, Some(error)) => {
            error.details.insert("skipped_records".into(), names);
        }
        _ => body.result = Some(serde_json::json!({ "skipped_records": names })),
    }
    body
}
