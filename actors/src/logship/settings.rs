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
}
