//! The log shipper: the portal's `upload_logs` and `stream_logs` commands (PROTOCOL.md §2.7).
//!
//! - **Owns** the log commands in progress (by command id) and nothing durable: the log
//!   files belong to the process's logging (`src/logging/`), which writes them under the
//!   storage path; this actor only reads them.
//! - **Receives** [`LogCommand`] from the session.
//! - **Sends** the ZIP (`POST /log-requests/{id}/upload`, [`bundle`]) and batches of log
//!   lines (`POST /log-streams/{id}`, [`stream`], at most one request per second), then
//!   [`CommandDone`](crate::link::CommandDone) to the session.
//! - **Limits**: a bundle carries at most `upload_max_bytes` of content (the audit journal
//!   and the newest files first), is written to a scratch file and streamed, never held
//!   in memory; one upload runs at a time (up to 8 more wait), two streams at most.
//! - **Failure policy**: an upload answered 413 drops the oldest file and tries again,
//!   naming what was left out in `manifest.json`; transient errors are retried with
//!   backoff (5 tries), then the command is given up and logged. A stream whose request
//!   is gone (404/409) stops; other errors keep its lines for the next second.
//! - **On shutdown**: nothing to save; a stream or upload in flight ends with the process
//!   (the portal repeats an unfinished command to the next run).

mod actor;
pub mod bundle;
pub mod line;
pub mod messages;
mod settings;
pub mod stream;
#[cfg(test)]
mod tests;
mod upload;

pub use actor::LogShipper;
pub use line::{level_rank, LogLine};
pub use messages::LogCommand;
pub use settings::LogShipSettings;
pub use upload::{upload, UploadAsk};
