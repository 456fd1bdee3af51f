//! What the log shipper needs to know about this connector.

use std::path::PathBuf;

#[derive(Debug, Clone)]
pub struct LogShipSettings {
    /// Where the rolling log files are (`<storage>/logs` by default).
    pub dir: PathBuf,
    /// This machine's host name, for `manifest.json`.
    pub host: String,
    /// The AD audit journal, added to every bundle when it exists.
    pub audit_journal: Option<PathBuf>,
    /// Where a bundle is written while it is uploaded (the storage path): one file at a
    /// time, removed after; a killed process's leftovers are removed at start.
    pub scratch: PathBuf,
    /// The most uncompressed content one bundle carries, bytes (`logging.upload_max_size_mb`):
    /// the newest files go in first, the manifest names what was cut.
    pub upload_max_bytes: u64,
}
