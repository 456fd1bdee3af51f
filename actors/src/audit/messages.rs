//! The audit actor's message.

use actix::Message;

use super::chain::{AuditEntry, AuditError};

/// From the AD executor: append `entry` to the journal; answered once the line is synced
/// to disk, or with the error that kept it off.
#[derive(Message)]
#[rtype(result = "Result<(), AuditError>")]
pub struct AppendAudit {
    pub entry: AuditEntry,
}
