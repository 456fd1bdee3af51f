//! The reply of an actor whose answer is itself a `Result` (the queue's `RecordStep`,
//! `ReadStep`, `GetProgress`, `LoadSeen`, …) fails two ways: the mailbox is closed, or
//! the receiver answered an error. A job sees both as one internal [`JobError`].

use std::fmt::Display;

use actix::MailboxError;

use super::JobError;

/// Flattens `addr.send(msg).await` whose message answers `Result<T, E>`.
pub trait Reply<T> {
    /// `Ok(T)`, or an internal [`JobError`] "`{what}`: {cause}" for either failure
    /// (`what` names the receiver, e.g. "queue", or what it was asked for, "journal").
    fn or_internal(self, what: &str) -> Result<T, JobError>;
}

impl<T, E: Display> Reply<T> for Result<Result<T, E>, MailboxError> {
    fn or_internal(self, what: &str) -> Result<T, JobError> {
        match self {
            Ok(Ok(value)) => Ok(value),
            Ok(Err(e)) => Err(JobError::internal(format!("{what}: {e}"))),
            Err(e) => Err(JobError::internal(format!("{what}: {e}"))),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_failures_become_one_internal_error_naming_the_receiver() {
        let answered: Result<Result<u8, String>, MailboxError> = Ok(Err("disk full".into()));
        let e = answered.or_internal("queue").err().map(|e| e.message);
        assert_eq!(e.as_deref(), Some("queue: disk full"));
        let closed: Result<Result<u8, String>, MailboxError> = Err(MailboxError::Closed);
        assert_eq!(closed.or_internal("journal").err().map(|e| e.message.starts_with("journal: ")), Some(true));
        let fine: Result<Result<u8, String>, MailboxError> = Ok(Ok(7));
        assert_eq!(fine.or_internal("queue").ok(), Some(7));
    }
}
