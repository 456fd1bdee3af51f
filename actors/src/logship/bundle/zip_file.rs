//! Writing a bundle: the files chosen by [`fit`] and `manifest.json`, zipped into a file.

use std::fs::File;
use std::io::{Read, Seek, Write};

use serde::Serialize;

use super::{BundleError, BundleInfo, LeftOut, LogFile};
use crate::time::{now_ms, rfc3339};

/// Bytes kept free under the cap for `manifest.json` and the ZIP's own headers.
pub const MANIFEST_ALLOWANCE: u64 = 64 * 1024;

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

/// What [`build`] wrote.
#[derive(Debug, Clone, PartialEq)]
pub struct Built {
    /// Log files in the bundle.
    pub files: usize,
    /// Size of the ZIP, bytes.
    pub bytes: u64,
    /// Everything not in the bundle, with its reason (as in `manifest.json`).
    pub left_out: Vec<LeftOut>,
}

/// Whether the AD audit journal goes into a bundle ([`fit`] decides, [`build`] obeys).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AuditJournal {
    Included,
    /// Too large for the upload's limit (named in the manifest as left out).
    LeftOut,
}

/// Chooses what fits under `max_bytes` of uncompressed content (a ZIP is never larger
/// than its content plus [`MANIFEST_ALLOWANCE`]): the audit journal first (`journal_bytes`,
/// the record of every AD write), then the log files newest first, since the newest
/// say what is wrong now. Returns the files kept, oldest first, whether the journal
/// fits, and what was cut, each with its reason.
pub fn fit(files: Vec<LogFile>, journal_bytes: u64, max_bytes: u64) -> (Vec<LogFile>, AuditJournal, Vec<LeftOut>) {
    let mut budget = max_bytes.saturating_sub(MANIFEST_ALLOWANCE);
    let mut cut = Vec::new();
    let over = |name: &str, bytes: u64| LeftOut {
        name: name.to_owned(),
        reason: format!(
            "left out: {bytes} bytes would pass the bundle's cap of {max_bytes} bytes (logging.upload_max_size_mb); \
             the newest files go in first"
        ),
    };
    let journal = if journal_bytes <= budget { AuditJournal::Included } else { AuditJournal::LeftOut };
    if journal == AuditJournal::Included {
        budget -= journal_bytes;
    } else if journal_bytes > 0 {
        cut.push(over("audit.jsonl", journal_bytes));
    }
    let mut kept = Vec::new();
    for f in files.into_iter().rev() {
        if f.bytes <= budget {
            budget -= f.bytes;
            kept.push(f);
        } else {
            cut.push(over(&f.name, f.bytes));
        }
    }
    kept.reverse();
    cut.reverse();
    (kept, journal, cut)
}

/// Zips `files` (each up to the length it had when listed: a live log file keeps
/// growing), the audit journal when `journal` is [`AuditJournal::Included`] and it exists, and the manifest, into
/// `out` from its start, streaming each file so memory does not grow with the bundle.
///
/// Errors: [`BundleError::File`] for a log file that cannot be read (one removed by
/// retention meanwhile is left out instead), [`BundleError::Zip`] when `out` cannot be
/// written (a full disk).
pub fn build(
    info: &BundleInfo,
    files: &[LogFile],
    journal: AuditJournal,
    left_out: &[LeftOut],
    out: &mut File,
) -> Result<Built, BundleError> {
    let zip_err = |e: zip::result::ZipError| BundleError::Zip(e.to_string());
    let options =
        zip::write::SimpleFileOptions::default().compression_method(zip::CompressionMethod::Deflated).large_file(true);
    out.set_len(0).and_then(|_| out.rewind()).map_err(|e| BundleError::Zip(e.to_string()))?;
    let mut zip = zip::ZipWriter::new(&mut *out);
    let mut listed = Vec::new();
    let mut skipped = left_out.to_vec();
    for f in files {
        let source = match File::open(&f.path) {
            Ok(h) => h,
            // Removed by retention between listing and reading.
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                skipped.push(LeftOut { name: f.name.clone(), reason: "removed by log retention meanwhile".into() });
                continue;
            }
            Err(source) => return Err(BundleError::File { path: f.path.display().to_string(), source }),
        };
        zip.start_file(format!("logs/{}", f.name), options).map_err(zip_err)?;
        let copied = copy(&mut source.take(f.bytes), &mut zip, f)?;
        listed.push((f, copied));
    }
    if let (AuditJournal::Included, Some(path)) = (journal, &info.audit_journal) {
        if let Ok(source) = File::open(path) {
            zip.start_file("audit.jsonl", options).map_err(zip_err)?;
            let len = source.metadata().map(|m| m.len()).unwrap_or(0);
            let f = LogFile { path: path.clone(), name: "audit.jsonl".into(), start_ms: 0, end_ms: 0, bytes: len };
            copy(&mut source.take(len), &mut zip, &f)?;
        }
    }
    let manifest = manifest(info, &listed, &skipped);
    let json = serde_json::to_vec_pretty(&manifest).map_err(|e| BundleError::Zip(e.to_string()))?;
    zip.start_file("manifest.json", options).map_err(zip_err)?;
    zip.write_all(&json).map_err(|e| BundleError::Zip(e.to_string()))?;
    zip.finish().map_err(zip_err)?;
    let bytes = out.stream_position().map_err(|e| BundleError::Zip(e.to_string()))?;
    out.sync_data().map_err(|e| BundleError::Zip(e.to_string()))?;
    Ok(Built { files: listed.len(), bytes, left_out: skipped })
}

fn copy(source: &mut impl Read, zip: &mut impl Write, f: &LogFile) -> Result<u64, BundleError> {
    let mut buf = vec![0u8; 64 * 1024];
    let mut total = 0u64;
    loop {
        let n = match source.read(&mut buf) {
            Ok(0) => return Ok(total),
            Ok(n) => n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(source) => return Err(BundleError::File { path: f.path.display().to_string(), source }),
        };
        zip.write_all(&buf[..n]).map_err(|e| BundleError::Zip(e.to_string()))?;
        total += n as u64;
    }
}

fn manifest<'a>(info: &'a BundleInfo, listed: &'a [(&'a LogFile, u64)], skipped: &'a [LeftOut]) -> Manifest<'a> {
    Manifest {
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
        left_out: skipped,
    }
}
