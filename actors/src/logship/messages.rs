//! The shipper's messages: [`LogCommand`] comes in from the session (an `upload_logs` or
//! `stream_logs` command of a heartbeat answer); [`CommandDone`], the session's own
//! message, goes back when the command is finished.

use actix::Message;

pub use crate::link::{CommandDone, CommandOutcome};

/// From the session: a log command to carry out (PROTOCOL.md §2.7).
#[derive(Message, Clone, Debug)]
#[rtype(result = "()")]
pub struct LogCommand {
    pub command: crate::protocol::wire::Command,
}
