//! Messages between the link actors.

use actix::Message;

/// From the poller or courier to the session: the server answered 401.
#[derive(Message)]
#[rtype(result = "()")]
pub struct TokenRejected;

/// From the poller or courier to the session: the server answered 403.
#[derive(Message)]
#[rtype(result = "()")]
pub struct ConnectorDisabled {
    pub detail: String,
}

/// From the lifecycle owner: report `draining` and stop taking jobs.
#[derive(Message)]
#[rtype(result = "()")]
pub struct StartDraining;

/// Sent to the session by the log shipper when it is through with a command.
#[derive(Message)]
#[rtype(result = "()")]
pub struct CommandDone {
    pub id: String,
    pub outcome: CommandOutcome,
}

/// What became of a command handed to its owner.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CommandOutcome {
    /// Carried out (or given up for good): the portal's repeats are ignored.
    Done,
    /// Not taken now (no room, or a failure worth another try): the session forgets the
    /// id, so the portal's next repeat of it is handed over again.
    NotTaken,
}

/// To the courier, from its own watch of the queue's outbox head and of the link state:
/// something may be deliverable now.
#[derive(Message, Clone, Copy)]
#[rtype(result = "()")]
pub struct OutboxChanged;
