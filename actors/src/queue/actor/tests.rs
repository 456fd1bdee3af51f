use super::*;
use crate::status::StatusBoard;

#[derive(Message)]
#[rtype(result = "Result<(), QueueError>")]
struct Boom;

impl Handler<Boom> for QueueActor {
    type Result = Result<(), QueueError>;
    fn handle(&mut self, _: Boom, ctx: &mut Context<Self>) -> Self::Result {
        queue_call!(self, ctx, std::panic::panic_any("boom in a handler"))
    }
}

#[test]
fn a_panic_in_a_handler_restarts_the_actor_which_keeps_its_mailbox_and_state() {
    let dir = tempfile::tempdir().unwrap();
    let queue = DurableQueue::open(super::super::QueueSettings::new(dir.path().to_path_buf())).unwrap();
    let board = StatusBoard::default();
    let (actor, _) = QueueActor::new(queue, board.component("queue"));
    actix_rt::System::new().block_on(async move {
        let addr = Supervisor::start(move |_| actor);
        addr.send(SetConnectorId { id: "c-1".into() }).await.unwrap().unwrap();
        let boom = addr.send(Boom).await.unwrap();
        assert!(boom.is_err(), "the panic must come back as an error");
        // Same address, after the restart backoff: the actor answers and kept its data.
        let id = addr.send(GetConnectorId).await.unwrap().unwrap();
        assert_eq!(id.as_deref(), Some("c-1"));
        let queue_status = board.components().into_iter().find(|c| c.name == "queue").unwrap();
        assert_eq!(queue_status.restarts, 1);
        assert_eq!(queue_status.state, ComponentState::Running);
    });
}
