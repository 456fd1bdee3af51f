//! The queue actor's side of group commit (`queue/group.rs`): answers to changes are
//! held until the flush that covers them, and the actor settles the open group once its
//! mailbox is empty, so every change that arrived meanwhile shares that flush.

use actix::prelude::*;
use tokio::sync::oneshot;

use super::QueueActor;
use crate::queue::QueueError;
use crate::system::guarded;

/// An answer the caller receives once the change behind it is on disk and in memory.
pub type Held<T> = Response<Result<T, QueueError>>;

/// Flush the open group. Sent by the actor to itself: actix handles it after every
/// message already in the mailbox, so those join the group first.
#[derive(Message)]
#[rtype(result = "()")]
pub(super) struct Settle;

impl QueueActor {
    /// Holds `out` until the open group is settled (answered at once when none is
    /// open, or when `out` is an error: an error reports nothing stored).
    pub(super) fn held<T: Send + 'static>(&mut self, ctx: &mut Context<Self>, out: Result<T, QueueError>) -> Held<T> {
        match out {
            Ok(value) if self.queue.unsettled() => {
                let (tx, rx) = oneshot::channel();
                self.queue.when_settled(Box::new(move |flushed| {
                    // The caller may have stopped waiting; nothing to do then.
                    let _ = tx.send(flushed.map(|()| value));
                }));
                self.settle_soon(ctx);
                Response::fut(async move { rx.await.unwrap_or_else(|_| Err(stopped())) })
            }
            other => Response::reply(other),
        }
    }

    /// Schedules one [`Settle`] for the open group, if there is one and none is scheduled.
    pub(super) fn settle_soon(&mut self, ctx: &mut Context<Self>) {
        if self.queue.unsettled() && !self.settling {
            self.settling = true;
            ctx.notify(Settle);
        }
    }
}

/// A held answer whose group was dropped unsettled (the actor stopped): not stored.
fn stopped() -> QueueError {
    QueueError::StorageUnavailable { reason: "the queue stopped before the change was flushed".into() }
}

impl Handler<Settle> for QueueActor {
    type Result = ();
    fn handle(&mut self, _: Settle, ctx: &mut Context<Self>) {
        self.settling = false;
        // A failure answers the group's callers and makes the storage unavailable;
        // `publish` reports it and starts the probes.
        let _ = guarded::<Self, _>(ctx, "queue", || self.queue.settle());
        self.publish(ctx);
    }
}
