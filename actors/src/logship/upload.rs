//! `upload_logs`: select, zip, send; on 413 drop the oldest file and send again.

use std::path::PathBuf;

use reqwest::Method;

use super::bundle::{self, BundleInfo, LeftOut};
use crate::link::errors::{wait_before_retry, LinkError};
use crate::link::{PortalClient, RequestBody};
use crate::time::parse_rfc3339;

/// Transient failures tried before an upload is given up.
const TRIES: u32 = 5;

/// One upload to make.
#[derive(Debug, Clone)]
pub struct UploadAsk {
    pub request_id: String,
    pub connector_id: String,
    pub dir: PathBuf,
    pub info: BundleInfo,
}

/// What was sent.
#[derive(Debug, Clone, PartialEq)]
pub struct UploadReport {
    pub files: usize,
    pub bytes: usize,
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
}

pub async fn upload(client: &PortalClient, ask: UploadAsk) -> Result<UploadReport, UploadError> {
    let since = ask.info.since.as_deref().and_then(parse_rfc3339);
    let until = ask.info.until.as_deref().and_then(parse_rfc3339);
    let dir = ask.dir.clone();
    let listed = tokio::task::spawn_blocking(move || bundle::list(&dir))
        .await
        .map_err(|e| UploadError::Task(e.to_string()))??;
    let (mut files, mut left_out) = bundle::select(listed, since, until);
    let path = format!("/log-requests/{}/upload", ask.request_id);
    let mut failures = 0;
    loop {
        let (info, f, l) = (ask.info.clone(), files.clone(), left_out.clone());
        let zip = tokio::task::spawn_blocking(move || bundle::build(&info, &f, &l))
            .await
            .map_err(|e| UploadError::Task(e.to_string()))??;
        let bytes = zip.len();
        match client.call(Method::POST, &path, Some(&ask.connector_id), Some(RequestBody::Zip(zip)), None).await {
            Ok(_) => return Ok(UploadReport { files: files.len(), bytes, left_out }),
            Err(LinkError::TooLarge) => {
                if files.is_empty() {
                    return Err(UploadError::TooLargeEvenEmpty);
                }
                let oldest = files.remove(0);
                tracing::warn!(request_id = %ask.request_id, bytes, dropped = %oldest.name, "log upload too large (413): dropping the oldest file");
                left_out.push(LeftOut {
                    name: oldest.name,
                    reason: format!("dropped: the server refused a {bytes}-byte upload as too large (413); the oldest files go first"),
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
