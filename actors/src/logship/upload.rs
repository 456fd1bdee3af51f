//! `upload_logs`: select, fit under the cap, zip to a scratch file, stream it; on 413
//! drop the oldest file and send again.

use std::path::PathBuf;

use reqwest::Method;
use tempfile::NamedTempFile;

use super::bundle::{self, Built, BundleInfo, LeftOut, LogFile};
use crate::link::errors::{wait_before_retry, LinkError};
use crate::link::{PortalClient, RequestBody};
use crate::time::parse_rfc3339;

/// Transient failures tried before an upload is given up.
const TRIES: u32 = 5;
/// Prefix of the scratch files bundles are written to (see [`remove_stale_bundles`]).
pub const SCRATCH_PREFIX: &str = "log-bundle-";

/// One upload to make.
#[derive(Debug, Clone)]
pub struct UploadAsk {
    pub request_id: String,
    pub connector_id: String,
    pub dir: PathBuf,
    pub info: BundleInfo,
    /// Where the bundle is written while it is sent (removed after).
    pub scratch: PathBuf,
    /// The most uncompressed content one bundle carries, bytes.
    pub max_bytes: u64,
}

/// What was sent.
#[derive(Debug, Clone, PartialEq)]
pub struct UploadReport {
    pub files: usize,
    pub bytes: u64,
    pub left_out: Vec<LeftOut>,
}

#[derive(Debug, thiserror::Error)]
pub enum UploadError {
    #[error(transparent)]
    Bundle(#[from] bundle::BundleError),
    #[error(transparent)]
    Link(#[from] LinkError),
    #[error("the server refused even a bundle with no log file as too large (413)")]
    TooLargeEvenEmpty,
    #[error("building the bundle stopped: {0}")]
    Task(String),
    #[error("cannot write the bundle under {path}: {source}")]
    Scratch { path: String, source: std::io::Error },
}

impl UploadError {
    /// Whether the portal's next repeat of the command should be tried again: the
    /// failures of this machine or of a server that may answer later, not a refusal.
    pub fn worth_retrying(&self) -> bool {
        match self {
            UploadError::Link(e) => e.recovery() == crate::link::errors::Recovery::Transient,
            UploadError::TooLargeEvenEmpty => false,
            UploadError::Bundle(_) | UploadError::Task(_) | UploadError::Scratch { .. } => true,
        }
    }
}

/// Removes bundles a killed process left in `scratch` (best effort; called at start).
pub fn remove_stale_bundles(scratch: &std::path::Path) {
    let Ok(entries) = std::fs::read_dir(scratch) else { return };
    for e in entries.flatten() {
        if e.file_name().to_string_lossy().starts_with(SCRATCH_PREFIX) {
            let _ = std::fs::remove_file(e.path());
        }
    }
}

pub async fn upload(client: &PortalClient, ask: UploadAsk) -> Result<UploadReport, UploadError> {
    let since = ask.info.since.as_deref().and_then(parse_rfc3339);
    let until = ask.info.until.as_deref().and_then(parse_rfc3339);
    let dir = ask.dir.clone();
    let listed = blocking(move || bundle::list(&dir)).await??;
    let (files, mut left_out) = bundle::select(listed, since, until);
    let journal_bytes = ask.info.audit_journal.as_ref().and_then(|p| std::fs::metadata(p).ok()).map_or(0, |m| m.len());
    let (mut files, journal, cut) = bundle::fit(files, journal_bytes, ask.max_bytes);
    left_out.extend(cut);
    let scratch_err = |source| UploadError::Scratch { path: ask.scratch.display().to_string(), source };
    let mut scratch = tempfile::Builder::new()
        .prefix(SCRATCH_PREFIX)
        .suffix(".zip")
        .tempfile_in(&ask.scratch)
        .map_err(scratch_err)?;
    let path = format!("/log-requests/{}/upload", crate::link::encode_segment(&ask.request_id));
    let mut failures = 0;
    loop {
        let built;
        (scratch, built) = write_bundle(scratch, &ask.info, &files, journal, &left_out).await?;
        let file = tokio::fs::File::open(scratch.path()).await.map_err(scratch_err)?;
        let body = RequestBody::ZipFile { file, len: built.bytes };
        match client.call(Method::POST, &path, Some(&ask.connector_id), Some(body), None).await {
            Ok(_) => return Ok(UploadReport { files: built.files, bytes: built.bytes, left_out: built.left_out }),
            Err(LinkError::TooLarge) => {
                if files.is_empty() {
                    return Err(UploadError::TooLargeEvenEmpty);
                }
                let oldest = files.remove(0);
                tracing::warn!(request_id = %ask.request_id, bytes = built.bytes, dropped = %oldest.name, "log upload too large (413): dropping the oldest file");
                left_out.push(LeftOut {
                    name: oldest.name,
                    reason: format!(
                        "dropped: the server refused a {}-byte upload as too large (413); the oldest files go first",
                        built.bytes
                    ),
                });
            }
            Err(e) if e.recovery() == crate::link::errors::Recovery::Transient && failures + 1 < TRIES => {
                failures += 1;
                let wait = wait_before_retry(&e, failures);
                tracing::warn!(request_id = %ask.request_id, error = %e, ?wait, "log upload failed; retrying");
                tokio::time::sleep(wait).await;
            }
            Err(e) => return Err(e.into()),
        }
    }
}

async fn write_bundle(
    mut scratch: NamedTempFile,
    info: &BundleInfo,
    files: &[LogFile],
    journal: bundle::AuditJournal,
    left_out: &[LeftOut],
) -> Result<(NamedTempFile, Built), UploadError> {
    let (info, files, left_out) = (info.clone(), files.to_vec(), left_out.to_vec());
    blocking(move || {
        let built = bundle::build(&info, &files, journal, &left_out, scratch.as_file_mut())?;
        Ok::<_, UploadError>((scratch, built))
    })
    .await?
}

async fn blocking<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> Result<T, UploadError> {
    tokio::task::spawn_blocking(f).await.map_err(|e| UploadError::Task(e.to_string()))
}
