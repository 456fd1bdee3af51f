//! A torn tail: the bytes a crash or a full disk left after the journal's last whole line.

use crate::platform::OpenOptionsExt;
use std::fs::OpenOptions;
use std::io::{Seek, SeekFrom};
use std::path::{Path, PathBuf};

use super::chain::{verify, AuditError, Verified};

/// The journal after [`recover`]: what verified, and where a torn tail was put.
#[derive(Debug)]
pub struct Recovered {
    pub verified: Verified,
    /// `audit.jsonl.torn-{unix ms}` beside the journal, holding the torn bytes, when
    /// there were any (kept for the administrator: they are not part of the chain).
    pub torn_aside: Option<PathBuf>,
}

impl Recovered {
    /// One sentence for the log and the status page, when a tail was moved aside.
    pub fn notice(&self) -> Option<String> {
        self.torn_aside.as_ref().map(|aside| {
            format!(
                "{} torn byte(s) after line {} (a crash or a full disk during a write) were moved to {}; \
                 the chain verifies up to that line and goes on from it",
                self.verified.torn_tail,
                self.verified.lines,
                aside.display()
            )
        })
    }
}

/// Verifies the journal at `path` and, when it ends in a torn tail, copies those bytes to
/// a file beside it and truncates the journal to its last whole line (both synced), so
/// the next line links to the last one that verified.
///
/// Errors: those of [`verify`] (a broken chain is not repaired: that is for an
/// administrator to read), and [`AuditError::Io`] when the tail cannot be moved.
pub fn recover(path: &Path, now_ms: u64) -> Result<Recovered, AuditError> {
    let mut verified = verify(path)?;
    if verified.torn_tail == 0 {
        return Ok(Recovered { verified, torn_aside: None });
    }
    let io = |source| AuditError::Io { path: path.display().to_string(), source };
    let aside = aside_path(path, now_ms);
    let mut journal = OpenOptions::new().read(true).write(true).open(path).map_err(io)?;
    let keep = journal.metadata().map_err(io)?.len().saturating_sub(verified.torn_tail);
    journal.seek(SeekFrom::Start(keep)).map_err(io)?;
    let mut copy = OpenOptions::new().create_new(true).write(true).mode(0o600).open(&aside).map_err(io)?;
    std::io::copy(&mut journal, &mut copy).map_err(io)?;
    copy.sync_all().map_err(io)?;
    journal.set_len(keep).map_err(io)?;
    journal.sync_all().map_err(io)?;
    sync_dir(path).map_err(io)?;
    verified.torn_tail = 0;
    Ok(Recovered { verified, torn_aside: Some(aside) })
}

fn aside_path(path: &Path, now_ms: u64) -> PathBuf {
    let mut name = path.file_name().map(|n| n.to_os_string()).unwrap_or_default();
    name.push(format!(".torn-{now_ms}"));
    path.with_file_name(name)
}

fn sync_dir(path: &Path) -> std::io::Result<()> {
    match path.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => crate::platform::sync_dir(dir),
        _ => Ok(()),
    }
}
