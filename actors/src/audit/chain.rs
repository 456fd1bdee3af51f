//! The hash chain of the audit journal: plain functions over lines.

use std::io::{BufRead, BufReader, Write};
use std::path::Path;

use serde::{Deserialize, Serialize};
use serde_json::Value;

pub const FILE_NAME: &str = "audit.jsonl";
/// The `prev` of the first line.
pub const GENESIS: &str = "0000000000000000000000000000000000000000000000000000000000000000";

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

/// The journal line of `entry` after the line whose hash is `prev`: (text with its
/// newline, its hash).
pub fn line(prev: &str, entry: AuditEntry) -> (String, String) {
    let hash = line_hash(prev, &entry);
    let line = Line { entry, prev: prev.to_owned(), hash: hash.clone() };
    let mut text = serde_json::to_string(&line).unwrap_or_default();
    text.push('\n');
    (text, hash)
}

/// Appends one line to `file` and syncs it, returning its hash.
pub fn append(file: &mut std::fs::File, prev: &str, entry: AuditEntry) -> std::io::Result<String> {
    let (text, hash) = line(prev, entry);
    file.write_all(text.as_bytes())?;
    file.sync_data()?;
    Ok(hash)
}

/// What [`verify`] found: the whole lines that verify, and any torn tail after them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verified {
    /// Whole lines (each ending in `\n`) whose hash and link verify.
    pub lines: usize,
    /// The last whole line's hash ([`GENESIS`] for an empty journal): the next line's `prev`.
    pub last_hash: String,
    /// Bytes after the last `\n`: a line cut short by a crash or a full disk during its
    /// write (a line is only complete with its newline, [`append`] writes both at once).
    /// They are not part of the chain; [`super::tail::recover`] moves them aside.
    pub torn_tail: u64,
}

/// Checks every whole line's hash and link, from the first line.
///
/// Errors: [`AuditError::Io`] when the file cannot be read, [`AuditError::Broken`] at the
/// first whole line that is not an audit line, does not link to the line before it, or
/// does not match its hash (a line edited, removed, added or reordered). Bytes after the
/// last newline are not an error: they are counted in [`Verified::torn_tail`].
pub fn verify(path: &Path) -> Result<Verified, AuditError> {
    let io = |source| AuditError::Io { path: path.display().to_string(), source };
    let file = match std::fs::File::open(path) {
        Ok(f) => f,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            return Ok(Verified { lines: 0, last_hash: GENESIS.to_owned(), torn_tail: 0 })
        }
        Err(e) => return Err(io(e)),
    };
    let mut reader = BufReader::new(file);
    let mut prev = GENESIS.to_owned();
    let (mut lines, mut buf) = (0, Vec::new());
    loop {
        buf.clear();
        let read = reader.read_until(b'\n', &mut buf).map_err(io)?;
        if read == 0 {
            return Ok(Verified { lines, last_hash: prev, torn_tail: 0 });
        }
        if buf.last() != Some(&b'\n') {
            return Ok(Verified { lines, last_hash: prev, torn_tail: read as u64 });
        }
        prev = check_line(&buf[..read - 1], &prev, lines + 1)?;
        lines += 1;
    }
}

/// Checks one whole line (without its newline) against the previous hash; returns its hash.
fn check_line(bytes: &[u8], prev: &str, number: usize) -> Result<String, AuditError> {
    let broken = |reason: String| AuditError::Broken { line: number, reason };
    let line: Line = serde_json::from_slice(bytes).map_err(|e| broken(format!("not an audit line: {e}")))?;
    if line.prev != prev {
        return Err(broken("does not follow the previous line (a line was removed, added or reordered)".into()));
    }
    if line_hash(prev, &line.entry) != line.hash {
        return Err(broken("its content does not match its hash (the line was edited)".into()));
    }
    Ok(line.hash)
}

#[cfg(test)]
mod tests;
