//! Messages between the link actors.

use actix::Message;

use super::errors::{LinkError, Recovery};

/// From the poller or the courier to the session: the portal refused the connector
/// (PROTOCOL.md §1: 401 → register again, 403 → disabled). The one message the session
/// hears from them, sent through a `Recipient<LinkProblem>` taken before it starts.
#[derive(Message, Debug, Clone, PartialEq, Eq)]
#[rtype(result = "()")]
pub struct LinkProblem {
    pub kind: ProblemKind,
}

/// Which refusal a [`LinkProblem`] reports.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ProblemKind {
    /// 401: the token was rejected; the session registers again.
    TokenRejected,
    /// 403: the connector is disabled; `detail` is the error as the caller saw it.
    Disabled { detail: String },
}

impl LinkProblem {
    /// The problem a failed call is for the session, if any: only 401 and 403 are.
    pub fn of(e: &LinkError) -> Option<Self> {
        let kind = match e.recovery() {
            Recovery::Reauthenticate => ProblemKind::TokenRejected,
            Recovery::Disabled => ProblemKind::Disabled { detail: e.to_string() },
            _ => return None,
        };
        Some(LinkProblem { kind })
    }
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
