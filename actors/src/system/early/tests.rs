use actix::{ActorContext, Handler};

use super::*;

/// Counts what it handles; stops (as a failing actor would) on `Fail`.
struct Counter(std::sync::Arc<std::sync::atomic::AtomicU32>, crate::status::ComponentPublisher);

impl Actor for Counter {
    type Context = Context<Self>;
}

impl Supervised for Counter {
    fn restarting(&mut self, ctx: &mut Context<Self>) {
        crate::system::on_restart(self, ctx, "counter", &self.1);
    }
}

#[derive(actix::Message)]
#[rtype(result = "u32")]
struct Count;

#[derive(actix::Message)]
#[rtype(result = "()")]
struct Fail;

impl Handler<Count> for Counter {
    type Result = u32;
    fn handle(&mut self, _: Count, _: &mut Context<Self>) -> u32 {
        self.0.fetch_add(1, std::sync::atomic::Ordering::SeqCst) + 1
    }
}

impl Handler<Fail> for Counter {
    type Result = ();
    fn handle(&mut self, _: Fail, ctx: &mut Context<Self>) {
        ctx.stop();
    }
}

#[actix::test]
async fn messages_sent_before_the_start_are_handled_after_it_and_a_stop_restarts_it() {
    let board = crate::status::StatusBoard::default();
    let early = Early::<Counter>::new();
    let before = early.address().send(Count);
    let failing = early.recipient::<Fail>();
    let counted = std::sync::Arc::new(std::sync::atomic::AtomicU32::new(0));
    let publisher = board.component("counter");
    let addr = early.start(Counter(counted.clone(), publisher));
    assert_eq!(before.await.unwrap(), 1, "the message sent before the start was not handled");
    failing.send(Fail).await.unwrap();
    assert_eq!(addr.send(Count).await.unwrap(), 2, "the restarted actor does not answer on its address");
    let status = board.components().into_iter().find(|c| c.name == "counter").unwrap();
    assert_eq!(status.restarts, 1, "the stop was not a supervised restart");
}
