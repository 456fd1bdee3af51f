//! Real actors of the link, wired as `src/app.rs` wires them, with probes standing in
//! for the dispatcher (it would run the jobs; here the test does) and for the session's
//! `LinkProblem` inbox of the poller and the courier (so a test sees what they report).

use std::time::Duration;

use actix::prelude::*;
use connector_actors::dispatcher::{CancelRunning, JobsArrived};
use connector_actors::link::{self, Courier, LinkProblem, LinkSettings, Poller, PollerParts, PortalClient};
use connector_actors::link::{Session, SessionParts};
use connector_actors::protocol::wire::API_PATH;
use connector_actors::queue::{DurableQueue, QueueActor, QueueSettings};
use connector_actors::secret::Secret;
use connector_actors::status::StatusBoard;
use tokio::sync::mpsc;

use super::probe;
use super::sim::{Sim, TOKEN};

pub struct Link {
    pub queue: Addr<QueueActor>,
    /// What the poller told the dispatcher.
    pub arrived: mpsc::UnboundedReceiver<JobsArrived>,
    /// What the poller and the courier reported for the session.
    pub problems: mpsc::UnboundedReceiver<LinkProblem>,
    /// Held so they run as long as the test does.
    _session: Addr<Session>,
    _poller: Addr<Poller>,
    _storage: tempfile::TempDir,
}

pub fn settings(sim: &Sim, max_concurrency: usize) -> LinkSettings {
    LinkSettings {
        base_url: format!("{}{API_PATH}", sim.url),
        token: Secret::new(TOKEN.to_owned()),
        extra_ca_pem: None,
        proxy: None,
        connect_timeout: Duration::from_secs(5),
        request_timeout: Duration::from_secs(90),
        name: "ring".into(),
        hostname: "ring-host".into(),
        max_concurrency,
        directories: Vec::new(),
    }
}

/// Starts queue, session, courier and poller against `sim`. Must run inside a System.
pub fn start(sim: &Sim) -> Link {
    start_with(sim, 2)
}

/// [`start`] with the poller's window sized for `max_concurrency` jobs at once.
pub fn start_with(sim: &Sim, max_concurrency: usize) -> Link {
    let storage = tempfile::tempdir().expect("storage dir");
    let board = StatusBoard::default();
    let queue = DurableQueue::open(QueueSettings::new(storage.path().to_path_buf())).expect("queue opens");
    let (queue_actor, figures) = QueueActor::new(queue, board.component("queue"));
    let outbox = queue_actor.outbox_watch();
    let queue = Supervisor::start(move |_| queue_actor);
    let settings = settings(sim, max_concurrency);
    let client = PortalClient::new(&settings).expect("client");
    let (link_tx, link_rx) = link::channel();
    let (problems, problems_seen) = probe::start::<LinkProblem>();
    let (arrived, arrived_seen) = probe::start::<JobsArrived>();
    let (cancels, _) = probe::start::<CancelRunning>();
    let (c_client, c_queue, c_link, c_problems) = (client.clone(), queue.clone(), link_rx.clone(), problems.clone());
    let courier_status = board.component("courier");
    Supervisor::start(move |_| Courier::new(c_client, c_queue, c_problems, c_link, courier_status, outbox));
    let session = Session::new(SessionParts {
        settings,
        client: client.clone(),
        queue: queue.clone(),
        dispatcher: cancels,
        logs: None,
        board: board.clone(),
        state: link_tx,
        status: board.component("session"),
        capabilities: vec!["ldap.import".into(), "test.noop".into()],
    });
    let session = Supervisor::start(move |_| session);
    let parts = PollerParts {
        client,
        queue: queue.clone(),
        dispatcher: arrived,
        problems,
        link: link_rx,
        figures,
        max_concurrency,
        status: board.component("poller"),
    };
    let poller = Supervisor::start(move |_| Poller::new(parts));
    Link {
        queue,
        arrived: arrived_seen,
        problems: problems_seen,
        _session: session,
        _poller: poller,
        _storage: storage,
    }
}
