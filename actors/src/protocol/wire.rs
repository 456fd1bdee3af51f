//! Request and response bodies of PROTOCOL.md §2. Unknown fields are ignored on input.

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::bounds;
use crate::errors::JobError;

pub const PROTOCOL_VERSION: u32 = 1;
pub const API_PATH: &str = "/api/v1/integration-connector";

#[derive(Debug, Clone, Serialize)]
pub struct RegisterRequest {
    pub connector_id: Option<String>,
    pub name: String,
    pub hostname: String,
    pub os: String,
    pub arch: String,
    pub version: String,
    pub protocol_version: u32,
    pub capabilities: Vec<String>,
    pub directories: Vec<DirectorySummary>,
    pub max_concurrency: usize,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct DirectorySummary {
    pub name: String,
    pub kind: String,
    pub base_dn: String,
}

#[derive(Debug, Clone, Deserialize)]
pub struct RegisterResponse {
    pub connector_id: String,
    /// Any JSON number (negative → 0, fractions cut, huge → `u64::MAX`); the session bounds
    /// it with [`bounds::HEARTBEAT_INTERVAL_S`].
    #[serde(default = "default_heartbeat_s", deserialize_with = "lenient_u64")]
    pub heartbeat_interval_s: u64,
    /// As `heartbeat_interval_s`, bounded with [`bounds::POLL_TIMEOUT_S`].
    #[serde(default = "default_poll_s", deserialize_with = "lenient_u64")]
    pub poll_timeout_s: u64,
    #[serde(default)]
    pub server_time: Option<String>,
}

/// A whole number of seconds from any JSON number, so an absurd one is bounded by the
/// caller instead of failing the whole answer.
fn lenient_u64<'de, D: serde::Deserializer<'de>>(d: D) -> Result<u64, D::Error> {
    let v = serde_json::Number::deserialize(d)?;
    Ok(match (v.as_u64(), v.as_i64(), v.as_f64()) {
        (Some(n), _, _) => n,
        (None, Some(_), _) => 0,
        (None, None, Some(f)) if f > 0.0 => f as u64, // saturating cast
        _ => 0,
    })
}

fn default_heartbeat_s() -> u64 {
    30
}

fn default_poll_s() -> u64 {
    25
}

#[derive(Debug, Clone, Serialize, Default, PartialEq)]
pub struct QueueFigures {
    pub pending: u64,
    pub running: u64,
    pub awaiting_delivery: u64,
    pub dead: u64,
    /// Logins answered `timeout` instead of run since the connector started, because they
    /// waited longer than `shed_logins_after` (issue #17; an extra field: servers ignore
    /// unknown ones, PROTOCOL.md §1).
    pub logins_shed: u64,
    /// Waiting and running jobs per priority lane, `[interactive, normal, bulk]` (local
    /// UI and metrics only; not sent in heartbeats).
    #[serde(skip)]
    pub by_lane: [LaneFigures; 3],
}

/// One priority lane's figures.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct LaneFigures {
    pub waiting: u64,
    pub running: u64,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct ComponentReport {
    pub name: String,
    pub state: String,
    pub restarts: u64,
    pub detail: Option<String>,
    /// A running import's figures, on its `import:{job id}` component (an extra field:
    /// servers ignore unknown ones, PROTOCOL.md §1; `detail` says the same in words).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub progress: Option<crate::queue::ImportReport>,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct DirectoryReport {
    pub name: String,
    pub reachable: bool,
    pub pool_size: u64,
    pub in_use: u64,
    /// The URL connections go to now (for the local UI; not sent in heartbeats).
    #[serde(skip)]
    pub url: Option<String>,
    /// The last connect or bind failure, in plain words (local UI only).
    #[serde(skip)]
    pub last_error: Option<String>,
    /// The last health probe's round trip (a root DSE read on a pooled connection), ms
    /// (local UI only).
    #[serde(skip)]
    pub rtt_ms: Option<f64>,
    /// The service account's credentials that expire within 14 days or have expired
    /// (issue #20; an extra field: servers ignore unknown ones, PROTOCOL.md §1).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub credential_warnings: Vec<crate::directory::bind::expiry::Expiry>,
}

#[derive(Debug, Clone, Serialize)]
pub struct HeartbeatRequest {
    pub status: &'static str,
    pub uptime_s: u64,
    pub version: String,
    pub queue: QueueFigures,
    pub components: Vec<ComponentReport>,
    pub directories: Vec<DirectoryReport>,
    /// Server minus local clock, whole seconds, as last measured (an extra field:
    /// servers ignore unknown ones; issue #14).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub clock_offset_s: Option<i64>,
}

#[derive(Debug, Clone, Deserialize, Default)]
pub struct HeartbeatResponse {
    #[serde(default)]
    pub commands: Vec<Value>,
    /// Not in PROTOCOL.md's heartbeat answer, but read when a server sends it (it is in
    /// the register answer); the `Date` header stands in otherwise.
    #[serde(default)]
    pub server_time: Option<String>,
}

/// A command from a heartbeat response, parsed. Unknown types are kept by id so the
/// connector can log them once and ignore them.
#[derive(Debug, Clone, PartialEq)]
pub enum Command {
    UploadLogs { id: String, request_id: String, since: Option<String>, until: Option<String> },
    StreamLogs { id: String, request_id: String, duration_s: u64, level: String },
    CancelJob { id: String, job_id: String },
    Unknown { id: String, kind: String },
}

impl Command {
    pub fn id(&self) -> &str {
        match self {
            Command::UploadLogs { id, .. }
            | Command::StreamLogs { id, .. }
            | Command::CancelJob { id, .. }
            | Command::Unknown { id, .. } => id,
        }
    }

    /// `None` when the value has no string `id` (nothing to dedupe it by: ignored), or
    /// an id or reference longer than [`bounds::MAX_ID_LEN`].
    pub fn parse(value: &Value) -> Option<Command> {
        let id = value.get("id")?.as_str().filter(|s| s.len() <= bounds::MAX_ID_LEN)?.to_owned();
        for key in ["request_id", "job_id"] {
            if value.get(key).and_then(Value::as_str).is_some_and(|s| s.len() > bounds::MAX_ID_LEN) {
                return None;
            }
        }
        let text = |k: &str| value.get(k).and_then(Value::as_str).map(str::to_owned);
        let kind = text("type").unwrap_or_default();
        let parsed = match kind.as_str() {
            "upload_logs" => text("request_id").map(|request_id| Command::UploadLogs {
                id: id.clone(),
                request_id,
                since: text("since"),
                until: text("until"),
            }),
            "stream_logs" => text("request_id").map(|request_id| Command::StreamLogs {
                id: id.clone(),
                request_id,
                duration_s: bounds::STREAM_DURATION_S
                    .clamp(value.get("duration_s").and_then(Value::as_u64).unwrap_or(300)),
                level: text("level").unwrap_or_else(|| "info".into()),
            }),
            "cancel_job" => text("job_id").map(|job_id| Command::CancelJob { id: id.clone(), job_id }),
            _ => None,
        };
        Some(parsed.unwrap_or(Command::Unknown { id, kind }))
    }
}

#[derive(Debug, Clone, Deserialize)]
pub struct JobsResponse {
    #[serde(default)]
    pub jobs: Vec<Value>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ResultStatus {
    Succeeded,
    Failed,
}

/// The body of `POST /jobs/{id}/result`. Stored verbatim in the outbox so a repeat is
/// byte-identical.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct ResultBody {
    pub status: ResultStatus,
    pub result: Option<Value>,
    pub error: Option<JobError>,
    pub started_at: Option<String>,
    pub finished_at: String,
    pub attempts: u32,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct RecordsBody {
    pub seq: u64,
    pub records: Vec<Value>,
    pub last: bool,
}

#[derive(Debug, Clone, Deserialize)]
pub struct ErrorBody {
    pub error: ErrorDetail,
}

#[derive(Debug, Clone, Deserialize)]
pub struct ErrorDetail {
    #[serde(default)]
    pub code: String,
    #[serde(default)]
    pub message: String,
}

#[cfg(test)]
mod tests;
