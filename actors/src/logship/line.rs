//! One log line as streamed to the portal and shown in the UI's live tail
//! (PROTOCOL.md §2.7: `{"ts","level","target","message","fields"}`). Lines are redacted
//! before they are made: nothing here ever holds a secret.

use serde::Serialize;
use serde_json::{Map, Value};

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct LogLine {
    /// RFC 3339 UTC with milliseconds.
    pub ts: String,
    /// `TRACE`, `DEBUG`, `INFO`, `WARN` or `ERROR`.
    pub level: String,
    pub target: String,
    pub message: String,
    pub fields: Map<String, Value>,
}

/// TRACE 0 … ERROR 4; unknown names count as INFO.
pub fn level_rank(level: &str) -> u8 {
    match level.to_ascii_uppercase().as_str() {
        "TRACE" => 0,
        "DEBUG" => 1,
        "WARN" | "WARNING" => 3,
        "ERROR" => 4,
        _ => 2,
    }
}
