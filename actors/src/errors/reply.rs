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

/// An answered error that knows whether the same request may succeed later (a queue
/// whose storage failed: full, read-only): such a job error is `retryable`.
pub trait Transient {
    fn transient(&self) -> bool;
}

impl Transient for String {
    fn transient(&self) -> bool {
        false
    }
}

impl<T, E: Display + Transient> Reply<T> for Result<Result<T, E>, MailboxError> {
    fn or_internal(self, what: &str) -> Result<T, JobError> {
        match self {
            Ok(Ok(value)) => Ok(value),
            Ok(Err(e)) => {
                let mut job = JobError::internal(format!("{what}: {e}"));
                job.retryable = e.transient();
                Err(job)
            }
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

    #[test]
    fn a_queue_whose_storage_failed_makes_a_retryable_error_and_nothing_else_does() {
        use crate::queue::QueueError;
        let full: Result<Result<u8, QueueError>, MailboxError> =
            Ok(Err(QueueError::StorageUnavailable { reason: "No space left on device".into() }));
        assert_eq!(full.or_internal("journal").err().map(|e| e.retryable), Some(true));
        let corrupt: Result<Result<u8, QueueError>, MailboxError> =
            Ok(Err(QueueError::Corrupt { key: "j/1".into(), reason: "bad JSON".into() }));
        assert_eq!(corrupt.or_internal("journal").err().map(|e| e.retryable), Some(false));
        let closed: Result<Result<u8, QueueError>, MailboxError> = Err(MailboxError::Closed);
        assert_eq!(closed.or_internal("queue").err().map(|e| e.retryable), Some(false));
    }
}
