//! The log bundle: the log files that overlap a time range, zipped with a
//! `manifest.json` (connector id, version, host, files, time range, and what was left
//! out and why). Plain functions: the actor and `integration-connector logs bundle`
//! both call them. A bundle is written to a file, never held in memory, and capped in
//! size ([`fit`]): the newest files go in first, the manifest names the rest.
//!
//! Files are named `connector-YYYYMMDDTHHMMSSZ[-n].log` (or `.jsonl`) after the moment
//! they were opened; a file covers its name's time up to its last modification.

use std::path::{Path, PathBuf};

use serde::Serialize;

use crate::time::unix_ms;

mod zip_file;

pub use zip_file::{build, fit, AuditJournal, Built, MANIFEST_ALLOWANCE};

pub const PREFIX: &str = "connector-";

#[derive(Debug, thiserror::Error)]
pub enum BundleError {
    #[error("cannot read the log directory {path}: {source}")]
    Dir { path: String, source: std::io::Error },
    #[error("cannot read the log file {path}: {source}")]
    File { path: String, source: std::io::Error },
    #[error("cannot write the zip: {0}")]
    Zip(String),
}

/// One log file on disk.
#[derive(Debug, Clone, PartialEq)]
pub struct LogFile {
    pub path: PathBuf,
    pub name: String,
    pub start_ms: u64,
    pub end_ms: u64,
    pub bytes: u64,
}

/// A file not in the bundle, and why.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct LeftOut {
    pub name: String,
    pub reason: String,
}

/// Who made the bundle, for the manifest.
#[derive(Debug, Clone)]
pub struct BundleInfo {
    pub connector_id: Option<String>,
    pub host: String,
    pub since: Option<String>,
    pub until: Option<String>,
    /// The AD audit journal, added whole (as `audit.jsonl`) when it exists.
    pub audit_journal: Option<std::path::PathBuf>,
}

/// The name of a file opened at `start_ms`, `extension` without the dot.
pub fn file_name(start_ms: u64, extension: &str) -> String {
    let t = humantime::format_rfc3339_seconds(crate::time::from_unix_ms(start_ms)).to_string();
    let compact: String = t.chars().filter(|c| *c != '-' && *c != ':').collect();
    format!("{PREFIX}{compact}.{extension}")
}

/// The start time encoded in a file name, if it is one of ours.
pub fn start_of(name: &str) -> Option<u64> {
    let s = name.strip_prefix(PREFIX)?;
    let b = s.as_bytes();
    if b.len() < 16 || b.get(8) != Some(&b'T') || b.get(15) != Some(&b'Z') {
        return None;
    }
    let part = |r: std::ops::Range<usize>| s.get(r);
    let text = format!(
        "{}-{}-{}T{}:{}:{}Z",
        part(0..4)?,
        part(4..6)?,
        part(6..8)?,
        part(9..11)?,
        part(11..13)?,
        part(13..15)?
    );
    crate::time::parse_rfc3339(&text)
}

/// Our log files in `dir`, oldest first.
pub fn list(dir: &Path) -> Result<Vec<LogFile>, BundleError> {
    let entries = match std::fs::read_dir(dir) {
        Ok(e) => e,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(source) => return Err(BundleError::Dir { path: dir.display().to_string(), source }),
    };
    let mut files = Vec::new();
    for entry in entries.flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        let Some(start_ms) = start_of(&name) else { continue };
        let Ok(meta) = entry.metadata() else { continue };
        if !meta.is_file() {
            continue;
        }
        let end_ms = meta.modified().map(unix_ms).unwrap_or(start_ms).max(start_ms);
        files.push(LogFile { path: entry.path(), name, start_ms, end_ms, bytes: meta.len() });
    }
    // Files opened in the same second carry `-1`, `-2`, … after the time.
    let seq = |name: &str| -> u64 {
        name.get(PREFIX.len() + 16..)
            .and_then(|rest| rest.strip_prefix('-'))
            .and_then(|rest| rest.split('.').next())
            .and_then(|n| n.parse().ok())
            .unwrap_or(0)
    };
    files.sort_by_key(|f| (f.start_ms, seq(&f.name)));
    Ok(files)
}

/// Splits `files` into those overlapping `[since, until]` (open ends when `None`) and
/// the rest, each with its reason.
pub fn select(files: Vec<LogFile>, since_ms: Option<u64>, until_ms: Option<u64>) -> (Vec<LogFile>, Vec<LeftOut>) {
    let mut keep = Vec::new();
    let mut left = Vec::new();
    for f in files {
        if since_ms.is_some_and(|s| f.end_ms < s) {
            left.push(LeftOut { name: f.name, reason: "outside the time range: ends before `since`".into() });
        } else if until_ms.is_some_and(|u| f.start_ms > u) {
            left.push(LeftOut { name: f.name, reason: "outside the time range: starts after `until`".into() });
        } else {
            keep.push(f);
        }
    }
    (keep, left)
}
