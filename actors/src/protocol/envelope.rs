//! The job envelope of PROTOCOL.md §2.3 with every default the protocol derives
//! (priority, ordering key, deadline), parsed from one element of `GET /jobs`.
//!
//! A job whose id is unusable cannot be acknowledged or answered; one whose other fields
//! are wrong is acknowledged and failed with `invalid_job` naming the field.

pub use super::lane::Lane;
use serde_json::{Map, Value};

use super::bounds::{self, deadline_within_horizon, plausible_time};
use super::payload::JobKind;
use crate::errors::JobError;
use crate::time::{parse_rfc3339, resolution_ms};

pub use super::bounds::MAX_ID_LEN;
/// Largest job accepted; a bigger one fails with `invalid_job` (payloads are small by nature).
pub const MAX_JOB_BYTES: usize = 1 << 20;

/// A job as offered by the server, with defaults applied. `payload` still holds its
/// secrets; the queue seals them before anything reaches disk.
#[derive(Debug, Clone, PartialEq)]
pub struct Envelope {
    pub id: String,
    pub job_type: String,
    pub lane: Lane,
    pub ordering_key: String,
    pub created_at_ms: u64,
    /// How far `created_at_ms` may be off as the server wrote it: its timestamp's
    /// resolution (1,000 ms for whole seconds); 0 when it stands for the arrival time.
    pub created_at_resolution_ms: u64,
    pub deadline_ms: u64,
    pub lease_s: u64,
    pub attempt: u64,
    pub payload: Map<String, Value>,
    /// `Some` when the envelope or payload is malformed: the job is stored, acknowledged
    /// and answered with this error without running.
    pub invalid: Option<JobError>,
    /// How far `created_at_ms` may be off once moved to the local clock (its resolution
    /// plus the measured offset's bound, `link/clock.rs`), ms; `None` while it is on the
    /// server's clock or was moved by an offset never measured.
    pub clock_uncertainty_ms: Option<u64>,
}

/// A job that cannot even be acknowledged: it has no usable id.
#[derive(Debug, Clone, PartialEq)]
pub struct RejectedJob {
    pub reason: String,
}

const MINUTE_MS: u64 = 60_000;

impl Envelope {
    /// Parses one offered job. `now_ms` is the server's now (the local clock plus the
    /// measured offset): it stands in for a missing or bad `created_at`, and timestamps
    /// are bounded around it ([`bounds::TIMESTAMP_WINDOW`], [`bounds::DEADLINE_HORIZON`]).
    /// The times come back on the server's clock; see [`Envelope::to_local_clock`].
    pub fn parse(raw: &Value, now_ms: u64) -> Result<Envelope, RejectedJob> {
        let obj = raw.as_object().ok_or_else(|| RejectedJob { reason: "job is not a JSON object".into() })?;
        let id = match obj.get("id") {
            Some(Value::String(s)) if !s.is_empty() && s.len() <= MAX_ID_LEN => s.clone(),
            Some(Value::String(s)) if s.is_empty() => return Err(RejectedJob { reason: "field `id` is empty".into() }),
            Some(Value::String(_)) => {
                return Err(RejectedJob { reason: format!("field `id` is longer than {MAX_ID_LEN} characters") })
            }
            Some(_) => return Err(RejectedJob { reason: "field `id` is not a string".into() }),
            None => return Err(RejectedJob { reason: "field `id` is missing".into() }),
        };
        let mut problems = Vec::new();
        let size = raw.to_string().len();
        if size > MAX_JOB_BYTES {
            problems.push(format!("the job is {size} bytes; at most {MAX_JOB_BYTES} are accepted"));
        }
        let job_type = match obj.get("type") {
            Some(Value::String(s)) => s.clone(),
            Some(_) => {
                problems.push("field `type` is not a string".to_owned());
                String::new()
            }
            None => {
                problems.push("field `type` is missing".to_owned());
                String::new()
            }
        };
        let payload = match obj.get("payload") {
            Some(Value::Object(_)) if size > MAX_JOB_BYTES => Map::new(),
            Some(Value::Object(m)) => m.clone(),
            Some(_) => {
                problems.push("field `payload` is not an object".to_owned());
                Map::new()
            }
            None => {
                problems.push("field `payload` is missing".to_owned());
                Map::new()
            }
        };
        let lane = match obj.get("priority") {
            None | Some(Value::Null) => default_lane(&job_type),
            Some(v) => match serde_json::from_value::<Lane>(v.clone()) {
                Ok(l) => l,
                Err(_) => {
                    problems.push("field `priority` must be one of interactive, normal, bulk".to_owned());
                    default_lane(&job_type)
                }
            },
        };
        let (created_at_ms, created_at_resolution_ms) = match obj.get("created_at").and_then(Value::as_str) {
            Some(s) => timestamp("created_at", s, now_ms, &mut problems).map_or((now_ms, 0), |t| (t, resolution_ms(s))),
            None => (now_ms, 0),
        };
        let default_deadline = created_at_ms.saturating_add(default_deadline_ms(&job_type));
        let deadline_ms = match obj.get("deadline") {
            None | Some(Value::Null) => default_deadline,
            Some(Value::String(s)) => timestamp("deadline", s, now_ms, &mut problems).unwrap_or(default_deadline),
            Some(_) => {
                problems.push("field `deadline` is not an RFC 3339 timestamp".to_owned());
                default_deadline
            }
        };
        let deadline_ms = deadline_within_horizon(deadline_ms, now_ms.max(created_at_ms));
        let lease_s = bounds::LEASE_S.clamp(obj.get("lease_s").and_then(Value::as_u64).unwrap_or(60));
        let attempt = bounds::ATTEMPT.clamp(obj.get("attempt").and_then(Value::as_u64).unwrap_or(1));
        let kind = if problems.is_empty() { Some(JobKind::parse(&job_type, &payload)) } else { None };
        let ordering_key = match obj.get("ordering_key").and_then(Value::as_str) {
            Some(k) if !k.is_empty() => format!("k:{k}"),
            _ => match &kind {
                Some(Ok(k)) => k.default_ordering_key(&id),
                _ => format!("job:{id}"),
            },
        };
        let invalid = match kind {
            Some(Ok(_)) => None,
            Some(Err(e)) => Some(e),
            None => Some(JobError::invalid_job(problems.join("; "))),
        };
        Ok(Envelope {
            id,
            job_type,
            lane,
            ordering_key,
            created_at_ms,
            created_at_resolution_ms,
            deadline_ms,
            lease_s,
            attempt,
            payload,
            invalid,
            clock_uncertainty_ms: None,
        })
    }
}

impl Envelope {
    /// Moves the job's times from the server's clock to the local one (`offset_ms` is
    /// server minus local), so the queue and the dispatcher, which compare them with the
    /// local clock, judge deadlines on server time: a connector whose clock runs 30 s
    /// fast does not fail every login `deadline_exceeded` (issue #14).
    pub fn to_local_clock(&mut self, offset_ms: i64) {
        let shift = |ms: u64| ms.saturating_add_signed(offset_ms.saturating_neg());
        self.created_at_ms = shift(self.created_at_ms);
        self.deadline_ms = shift(self.deadline_ms);
    }

    /// Records how far the moved `created_at` may be off, given the bound of the offset
    /// that moved it (`None`: no offset was measured; its times are the server's own).
    pub fn bound_local_clock(&mut self, offset_bound_ms: Option<u64>) {
        self.clock_uncertainty_ms = offset_bound_ms.map(|b| b.saturating_add(self.created_at_resolution_ms));
    }
}

/// A timestamp field: RFC 3339 and within [`bounds::TIMESTAMP_WINDOW`] of the server's
/// now, else a problem naming the field (and `None`).
fn timestamp(field: &str, text: &str, now_ms: u64, problems: &mut Vec<String>) -> Option<u64> {
    match parse_rfc3339(text) {
        Some(ms) if plausible_time(ms, now_ms) => Some(ms),
        Some(_) => {
            problems.push(format!(
                "field `{field}` ({text}) is more than a year away from the server's time; it cannot be a job's"
            ));
            None
        }
        None => {
            problems.push(format!("field `{field}` is not an RFC 3339 timestamp"));
            None
        }
    }
}

/// §2.3's defaults by type; an unknown type fails later as `invalid_job` (normal lane,
/// 15 minutes, meanwhile).
fn default_lane(job_type: &str) -> Lane {
    super::JobType::parse(job_type).map_or(Lane::Normal, super::JobType::default_lane)
}

fn default_deadline_ms(job_type: &str) -> u64 {
    super::JobType::parse(job_type).map_or(15 * MINUTE_MS, super::JobType::default_deadline_ms)
}

#[cfg(test)]
mod tests;
