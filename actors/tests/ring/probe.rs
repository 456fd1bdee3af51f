//! A probe: a small actor standing in for one of our actors, recording each message it
//! receives so a test can await and inspect them.

use actix::prelude::*;
use tokio::sync::mpsc;

/// Records every `M` it receives into a channel the test reads.
pub struct Probe<M> {
    seen: mpsc::UnboundedSender<M>,
}

impl<M: Message<Result = ()> + Unpin + 'static> Actor for Probe<M> {
    type Context = Context<Self>;
}

impl<M: Message<Result = ()> + Unpin + 'static> Handler<M> for Probe<M> {
    type Result = ();
    fn handle(&mut self, msg: M, _: &mut Context<Self>) {
        let _ = self.seen.send(msg);
    }
}

/// Starts a probe; answers its recipient and what it received.
pub fn start<M>() -> (Recipient<M>, mpsc::UnboundedReceiver<M>)
where
    M: Message<Result = ()> + Send + Unpin + 'static,
{
    let (tx, rx) = mpsc::unbounded_channel();
    (Probe { seen: tx }.start().recipient(), rx)
}
