//! The audit journal: every AD write, appended to `audit.jsonl` in the storage path.
//!
//! - **Owns** the journal file and the hash of its last line.
//! - **Receives** [`AppendAudit`] from the AD executor (replies once the line is on disk).
//! - **Sends** nothing.
//! - **Failure policy**: a write error is returned to the job (a write we cannot audit
//!   is reported, not hidden); the chain is re-read from the file after a restart.
//! - **On shutdown**: nothing buffered: each line is synced when written.
//!
//! Each line is a JSON object with `prev` (the previous line's hash) and `hash`:
//! SHA-256 over `prev` and the line's content without `hash`, so editing, removing or
//! reordering a line breaks every hash after it ([`verify`]). Secret attributes appear
//! by name only.

mod actor;
mod chain;

pub use actor::{AppendAudit, AuditActor};
pub use chain::{verify, AuditEntry, AuditError, Change, FILE_NAME};
