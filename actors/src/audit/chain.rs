//! The hash chain of the audit journal: plain functions over lines.

use std::io::{BufRead, BufReader, Write};
use std::path::Path;

use serde::{Deserialize, Serialize};
use serde_json::Value;

pub const FILE_NAME: &str = "audit.jsonl";
const GENESIS: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// One attribute changed by a write; secret attributes carry no values.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Change {
    pub attribute: String,
    pub before: Value,
    pub after: Value,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct AuditEntry {
    pub ts: String,
    pub job_id: String,
    pub operation: String,
    pub target_dn: String,
    pub target_guid: Option<String>,
    pub changes: Vec<Change>,
    pub outcome: String,
}

#[derive(Debug, thiserror::Error)]
pub enum AuditError {
    #[error("audit journal {path}: {source}")]
    Io { path: String, source: std::io::Error },
    #[error("audit journal line {line}: {reason}")]
    Broken { line: usize, reason: String },
}

fn sha256_hex(data: &[u8]) -> String {
    ring::digest::digest(&ring::digest::SHA256, data).as_ref().iter().map(|b| format!("{b:02x}")).collect()
}

/// The hash of a line: over the previous hash and the entry's canonical JSON.
pub fn line_hash(prev: &str, entry: &AuditEntry) -> String {
    let body = serde_json::to_string(entry).unwrap_or_default();
    sha256_hex(format!("{prev}\n{body}").as_bytes())
}

#[derive(Serialize, Deserialize)]
struct Line {
    #[serde(flatten)]
    entry: AuditEntry,
    prev: String,
    hash: String,
}

/// Appends one line to `file`, returning its hash.
pub fn append(file: &mut std::fs::File, prev: &str, entry: AuditEntry) -> std::io::Result<String> {
    let hash = line_hash(prev, &entry);
    let line = Line { entry, prev: prev.to_owned(), hash: hash.clone() };
    let mut text = serde_json::to_string(&line).unwrap_or_default();
    text.push('\n');
    file.write_all(text.as_bytes())?;
    file.sync_data()?;
    Ok(hash)
}

/// Checks every line's hash and link. Returns the number of lines and the last hash.
pub fn verify(path: &Path) -> Result<(usize, String), AuditError> {
    let io = |source| AuditError::Io { path: path.display().to_string(), source };
    let file = match std::fs::File::open(path) {
        Ok(f) => f,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok((0, GENESIS.to_owned())),
        Err(e) => return Err(io(e)),
    };
    let mut prev = GENESIS.to_owned();
    let mut n = 0;
    for (i, text) in BufReader::new(file).lines().enumerate() {
        let text = text.map_err(io)?;
        let broken = |reason: String| AuditError::Broken { line: i + 1, reason };
        let line: Line = serde_json::from_str(&text).map_err(|e| broken(format!("not an audit line: {e}")))?;
        if line.prev != prev {
            return Err(broken("does not follow the previous line (a line was removed, added or reordered)".into()));
        }
        if line_hash(&prev, &line.entry) != line.hash {
            return Err(broken("its content does not match its hash (the line was edited)".into()));
        }
        prev = line.hash;
        n += 1;
    }
    Ok((n, prev))
}

#[cfg(test)]
mod tests;
