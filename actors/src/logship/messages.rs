//! The shipper's messages live beside the session that sends them (`link::messages`):
//! [`LogCommand`] comes in (an `upload_logs` or `stream_logs` command from a heartbeat
//! answer), [`CommandDone`] goes back when the command is finished.

pub use crate::link::{CommandDone, LogCommand};
