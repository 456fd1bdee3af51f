//! A supervised actor whose address exists before the actor is built.
//!
//! Actors that answer one another (the session hands log commands to the shipper; the
//! shipper, the poller and the courier report back to the session) need an address of
//! the one started later. actix's `Supervisor::start` gives the address only inside its
//! constructor closure, so the others had to be built in there. [`Early`] opens the
//! mailbox first: take its address or a `Recipient`, build the collaborators with it,
//! then [`Early::start`] the actor, supervised as `Supervisor::start` would.

use std::future::Future;
use std::pin::Pin;
use std::task::{Context as TaskContext, Poll};

use actix::dev::ContextFut;
use actix::{Actor, Addr, AsyncContext, Context, Message, Recipient, Supervised};

/// A mailbox whose actor is not built yet. Messages sent to its address wait in it and
/// are handled once [`Early::start`] runs.
pub struct Early<A: Actor<Context = Context<A>>> {
    ctx: Context<A>,
}

impl<A> Early<A>
where
    A: Supervised + Actor<Context = Context<A>>,
{
    /// Opens the mailbox (actix's default capacity).
    pub fn new() -> Self {
        Early { ctx: Context::new() }
    }

    /// The address the started actor will have.
    pub fn address(&self) -> Addr<A> {
        self.ctx.address()
    }

    /// A recipient of one message kind, for a collaborator that sends only that kind.
    pub fn recipient<M>(&self) -> Recipient<M>
    where
        M: Message + Send + 'static,
        M::Result: Send,
        A: actix::Handler<M>,
    {
        self.ctx.address().recipient()
    }

    /// Starts the actor on the current arbiter under supervision: when it stops while
    /// its address is still held, it is restarted (`Supervised::restarting`) with the
    /// same mailbox, as `actix::Supervisor` does.
    pub fn start(self, actor: A) -> Addr<A> {
        let addr = self.ctx.address();
        actix::spawn(Supervise { fut: self.ctx.into_future(actor) });
        addr
    }
}

impl<A> Default for Early<A>
where
    A: Supervised + Actor<Context = Context<A>>,
{
    fn default() -> Self {
        Self::new()
    }
}

/// Runs an actor's context; restarts it when it stops and its mailbox is still held.
struct Supervise<A: Actor<Context = Context<A>>> {
    fut: ContextFut<A, Context<A>>,
}

impl<A> Future for Supervise<A>
where
    A: Supervised + Actor<Context = Context<A>>,
{
    type Output = ();

    fn poll(self: Pin<&mut Self>, cx: &mut TaskContext<'_>) -> Poll<()> {
        let this = self.get_mut();
        loop {
            match Pin::new(&mut this.fut).poll(cx) {
                Poll::Pending => return Poll::Pending,
                Poll::Ready(()) => {
                    if !this.fut.restart() {
                        return Poll::Ready(());
                    }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests;
