//! Wire types of PROTOCOL.md as the server reads and writes them. Request types accept
//! missing fields (defaults) and ignore unknown ones; free-form parts stay `Value` so the
//! admin API can show them as the connector sent them.

use serde::{Deserialize, Serialize};
use serde_json::Value;

/// `POST /register` body (§2.1).
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct RegisterRequest {
    pub connector_id: Option<String>,
    pub name: String,
    pub hostname: String,
    pub os: String,
    pub arch: String,
    pub version: String,
    pub protocol_version: Option<u64>,
    pub capabilities: Vec<String>,
    pub directories: Value,
    pub max_concurrency: Option<u64>,
}

/// `POST /register` answer.
#[derive(Debug, Serialize)]
pub struct RegisterResponse {
    pub connector_id: String,
    pub heartbeat_interval_s: u64,
    pub poll_timeout_s: u64,
    pub server_time: String,
}

/// `POST /heartbeat` body (§2.2).
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct HeartbeatRequest {
    pub status: String,
    pub uptime_s: Option<u64>,
    pub version: Option<String>,
    pub queue: Value,
    pub components: Value,
    pub directories: Value,
    /// Not in PROTOCOL.md: the connector's measured offset to this server's clock.
    pub clock_offset_s: Option<i64>,
}

/// A command in a heartbeat answer, repeated until it is done (§2.2).
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Command {
    UploadLogs { id: String, request_id: String, since: Option<String>, until: Option<String> },
    StreamLogs { id: String, request_id: String, duration_s: u64, level: String },
    CancelJob { id: String, job_id: String },
}

/// `POST /heartbeat` answer.
#[derive(Debug, Serialize)]
pub struct HeartbeatResponse {
    pub commands: Vec<Command>,
    /// Not in PROTOCOL.md's heartbeat answer (extra fields are allowed): the server's
    /// clock, as in the register answer, so a connector can follow its offset.
    pub server_time: String,
}

/// `GET /jobs` query (§2.3); both optional.
#[derive(Debug, Default, Deserialize)]
pub struct PollQuery {
    pub wait: Option<u64>,
    pub max: Option<usize>,
}

/// `POST /jobs/{id}/records` body (§2.6). Records are kept as the JSON text received:
/// parsing every record into a `Value` made the simulator, not the connector, the
/// bottleneck of a million-entry import (and held gigabytes).
#[derive(Debug, Deserialize)]
pub struct RecordsBatch {
    pub seq: u64,
    pub records: Vec<Box<serde_json::value::RawValue>>,
    #[serde(default)]
    pub last: bool,
}

/// `POST /log-streams/{id}` body (§2.7).
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct LogLines {
    pub lines: Vec<Value>,
}

/// A timestamp as the protocol writes it: RFC 3339, UTC, whole seconds.
pub fn rfc3339(at: std::time::SystemTime) -> String {
    humantime::format_rfc3339_seconds(at).to_string()
}

/// The server's clock as told to connectors (`server_time`): RFC 3339 with milliseconds,
/// so a connector's measured offset is as good as the round trip (a whole second would
/// bound it to ±1 s; RFC 3339 allows the fraction).
pub fn server_time(at: std::time::SystemTime) -> String {
    humantime::format_rfc3339_millis(at).to_string()
}
