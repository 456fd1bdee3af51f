//! The audit journal: every AD write, appended to `audit.jsonl` in the storage path.
//!
//! - **Owns** the journal file and the hash of its last line.
//! - **Receives** [`AppendAudit`] from the AD executor (replies once the line is on disk).
//!   Group commit: the lines of every append that arrived while the actor was busy are
//!   written with one `write` and one `fdatasync`, and each is answered after that sync
//!   (concurrent creates each wrote and synced six lines one at a time: issue #17).
//! - **Sends** nothing.
//! - **Failure policy**: a write error is returned to every job of the group (a write we cannot audit
//!   is reported, not hidden) and the half-written line is cut off; the chain is re-read
//!   from the file before the next write and after a restart. A torn tail (the bytes
//!   after the last newline, left by a crash or a full disk) is moved to
//!   `audit.jsonl.torn-{ms}` and said in a warning; the chain goes on from the last
//!   whole line. A broken chain (a whole line edited, removed, reordered or cut short)
//!   is evidence for an administrator: the file is left as it is, the component says
//!   `failing`, and AD writes are refused until the journal opens again; logins and
//!   imports go on.
//! - **On shutdown**: a line is answered only once synced; lines of a group not yet
//!   written when the actor stops are answered with an error, so their writes are never sent.
//!
//! Each line is a JSON object with `prev` (the previous line's hash) and `hash`:
//! SHA-256 over `prev` and the line's content without `hash`, so editing, removing or
//! reordering a line breaks every hash after it ([`verify`]). Secret attributes appear
//! by name only.

mod actor;
mod chain;
mod messages;
mod tail;

pub use actor::AuditActor;
pub use chain::{append, verify, AuditEntry, AuditError, Change, Verified, FILE_NAME, GENESIS};
pub use messages::AppendAudit;
pub use tail::{recover, Recovered};
