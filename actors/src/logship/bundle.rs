//! The log bundle: the log files that overlap a time range, zipped with a
//! `manifest.json` (connector id, version, host, files, time range, and what was left
//! out and why). Plain functions: the actor and `integration-connector logs bundle`
//! both call them.
//!
//! Files are named `connector-YYYYMMDDTHHMMSSZ[-n].log` (or `.jsonl`) after the moment
//! they were opened; a file covers its name's time up to its last modification.

use std::io::{Cursor, Read, Write};
use std::path::{Path, PathBuf};

use serde::Serialize;

use crate::time::{now_ms, rfc3339, unix_ms};

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

#[derive(Serialize)]
struct ManifestFile<'a> {
    name: &'a str,
    bytes: u64,
    first: String,
    last: String,
}

#[derive(Serialize)]
struct Manifest<'a> {
    connector_id: Option<&'a str>,
    version: &'static str,
    host: &'a str,
    created_at: String,
    time_range: TimeRange<'a>,
    files: Vec<ManifestFile<'a>>,
    left_out: &'a [LeftOut],
}

#[derive(Serialize)]
struct TimeRange<'a> {
    since: Option<&'a str>,
    until: Option<&'a str>,
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

/// Zips `files` and the manifest into memory.
pub fn build(info: &BundleInfo, files: &[LogFile], left_out: &[LeftOut]) -> Result<Vec<u8>, BundleError> {
    let zip_err = |e: zip::result::ZipError| BundleError::Zip(e.to_string());
    let io_err = |e: std::io::Error| BundleError::Zip(e.to_string());
    let options =
        zip::write::SimpleFileOptions::default().compression_method(zip::CompressionMethod::Deflated).large_file(true);
    let mut zip = zip::ZipWriter::new(Cursor::new(Vec::new()));
    let mut listed = Vec::new();
    let mut skipped = left_out.to_vec();
    for f in files {
        let mut data = Vec::new();
        match std::fs::File::open(&f.path).and_then(|mut h| h.read_to_end(&mut data)) {
            Ok(_) => {}
            // Removed by retention between listing and reading.
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                skipped.push(LeftOut { name: f.name.clone(), reason: "removed by log retention meanwhile".into() });
                continue;
            }
            Err(source) => return Err(BundleError::File { path: f.path.display().to_string(), source }),
        }
        zip.start_file(format!("logs/{}", f.name), options).map_err(zip_err)?;
        zip.write_all(&data).map_err(io_err)?;
        listed.push((f, data.len() as u64));
    }
    if let Some(journal) = &info.audit_journal {
        if let Ok(data) = std::fs::read(journal) {
            zip.start_file("audit.jsonl", options).map_err(zip_err)?;
            zip.write_all(&data).map_err(io_err)?;
        }
    }
    let manifest = Manifest {
        connector_id: info.connector_id.as_deref(),
        version: env!("CARGO_PKG_VERSION"),
        host: &info.host,
        created_at: rfc3339(now_ms()),
        time_range: TimeRange { since: info.since.as_deref(), until: info.until.as_deref() },
        files: listed
            .iter()
            .map(|(f, bytes)| ManifestFile {
                name: &f.name,
                bytes: *bytes,
                first: rfc3339(f.start_ms),
                last: rfc3339(f.end_ms),
            })
            .collect(),
        left_out: &skipped,
    };
    let json = serde_json::to_vec_pretty(&manifest).map_err(|e| BundleError::Zip(e.to_string()))?;
    zip.start_file("manifest.json", options).map_err(zip_err)?;
    zip.write_all(&json).map_err(io_err)?;
    let cursor = zip.finish().map_err(zip_err)?;
    Ok(cursor.into_inner())
}
