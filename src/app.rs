//! Wiring: builds the actors in start order and hands each its collaborators.
//! Start order: queue → directories, audit → dispatcher → courier, log shipper → session
//! → poller. Drain runs in reverse. The session's mailbox opens before the courier, the
//! log shipper and the poller are built (they report to it); it starts after them.

use std::collections::BTreeMap;

use actix::prelude::*;
use connector_actors::audit::AuditActor;
use connector_actors::directory::{tls, DirectoryActor};
use connector_actors::dispatcher::{Dispatcher, Executors};
use connector_actors::link::{self, Courier, LinkState, Poller, PollerParts, PortalClient, Session, SessionParts};
use connector_actors::logship::{LogLine, LogShipSettings, LogShipper};
use connector_actors::metrics::Metrics;
use connector_actors::queue::{DurableQueue, QueueActor};
use connector_actors::status::StatusBoard;
use connector_actors::system::Early;
use tokio::sync::{broadcast, watch};

use crate::config::Settings;

/// Addresses the lifecycle owner needs to drain.
pub struct Running {
    pub session: Addr<Session>,
    pub poller: Addr<Poller>,
    pub dispatcher: Addr<Dispatcher>,
    pub queue: Addr<QueueActor>,
    pub board: StatusBoard,
    pub link: watch::Receiver<LinkState>,
    /// Job figures, recent jobs and portal HTTP errors, for the UI and `/metrics`.
    pub metrics: Metrics,
    /// Keeps the queue's own thread alive.
    pub queue_arbiter: Arbiter,
    /// The directory actors' own thread: a login's checkout and user connection never wait
    /// behind the link actors' messages on the system arbiter.
    pub directory_arbiter: Arbiter,
    /// Where imports run (see [`bulk_arbiter`]).
    pub bulk_arbiter: Arbiter,
    /// What a configuration reload replaces (`reload.rs`); taken by the lifecycle owner.
    pub reload: Option<crate::reload::Parts>,
}

/// A thread for bulk jobs at a lower scheduling priority (nice 10): on a small host an
/// import takes what CPU is left and a login, on the other threads, never queues behind
/// its decoding. An import alone still gets the whole CPU.
fn bulk_arbiter() -> Arbiter {
    let arbiter = Arbiter::new();
    arbiter.spawn_fn(|| {
        #[cfg(target_os = "linux")]
        // SAFETY: plain syscalls on this thread's own id, no pointers.
        let lowered = unsafe {
            let tid = libc::syscall(libc::SYS_gettid) as libc::id_t;
            libc::setpriority(libc::PRIO_PROCESS as _, tid, 10) == 0
        };
        #[cfg(not(target_os = "linux"))]
        let lowered = false;
        tracing::debug!(lowered, "bulk job thread started");
    });
    arbiter
}

#[derive(Debug, thiserror::Error)]
pub enum WiringError {
    #[error(transparent)]
    Client(#[from] link::ClientBuildError),
    #[error("directory `{0}`: {1}")]
    DirectoryTls(String, tls::TlsSetupError),
}

/// Starts every actor. Must run inside the actix System. `tap` carries the process's
/// (redacted) log lines to the log shipper's streams.
pub fn start(
    settings: &Settings,
    queue: DurableQueue,
    tap: broadcast::Sender<LogLine>,
) -> Result<Running, WiringError> {
    let metrics = Metrics::default();
    let board = StatusBoard::default();
    let queue_status = board.component("queue");
    let (queue_actor, figures) = QueueActor::new(queue, queue_status);
    let outbox_watch = queue_actor.outbox_watch();
    let mut board = board.with_queue(figures.clone()).with_imports(queue_actor.imports_watch());
    let queue_arbiter = Arbiter::new();
    let queue = Supervisor::start_in_arbiter(&queue_arbiter.handle(), move |_| queue_actor);
    let directory_arbiter = Arbiter::new();
    let bulk_arbiter = bulk_arbiter();
    let bulk = bulk_arbiter.handle();

    let client = PortalClient::new(&settings.link)?.with_metrics(metrics.clone());
    let (link_tx, link_rx) = link::channel();
    let mut directories = BTreeMap::new();
    let login_memories = std::sync::Arc::new(connector_actors::ldap::auth::LoginMemories::default());
    for d in &settings.directories {
        let config =
            tls::client_config(d.ca_pem.as_deref()).map_err(|e| WiringError::DirectoryTls(d.name.clone(), e))?;
        let (actor, report) = DirectoryActor::new(d.clone(), config, board.component(&format!("ldap_pool:{}", d.name)));
        let actor = actor.with_login_memory(login_memories.of(d));
        board = board.with_directory(report);
        directories.insert(d.name.clone(), Supervisor::start_in_arbiter(&directory_arbiter.handle(), move |_| actor));
    }
    let audit = AuditActor::open(&settings.queue.path).with_status(board.component("audit"));
    let audit = Supervisor::start(move |_| audit);
    let members = Supervisor::start(|_| connector_actors::ad::MemberWriter::default());
    let knowledge = connector_actors::ad::KnowledgeCache::default();
    for d in directories.values() {
        let (knowledge, d) = (knowledge.clone(), d.clone());
        actix::spawn(async move { knowledge.warm(d).await });
    }
    let reload_directories = directories.clone();
    let executors = Executors {
        directories,
        audit: Some(audit.recipient()),
        members: members.recipient(),
        knowledge: knowledge.clone(),
    };
    let capabilities = executors.capabilities();

    let dispatcher =
        Dispatcher::new(settings.dispatcher.clone(), queue.clone(), executors, board.component("dispatcher"))
            .with_metrics(metrics.clone())
            .with_bulk_arbiter(bulk);
    let dispatcher = Supervisor::start(move |_| dispatcher);
    let ship_settings = LogShipSettings {
        dir: settings.logging.dir.clone(),
        host: settings.link.hostname.clone(),
        audit_journal: Some(settings.queue.path.join(connector_actors::audit::FILE_NAME)),
        scratch: settings.queue.path.clone(),
        upload_max_bytes: settings.logging.upload_max_bytes,
    };
    // The session's mailbox opens first: the courier, the log shipper and the poller
    // report to it, and it hands log commands to the shipper.
    let session = Early::<Session>::new();
    let courier = Courier::new(
        client.clone(),
        queue.clone(),
        session.recipient(),
        link_rx.clone(),
        board.component("courier"),
        outbox_watch,
    );
    Supervisor::start(move |_| courier);
    let shipper = LogShipper::new(
        ship_settings,
        client.clone(),
        link_rx.clone(),
        session.recipient(),
        tap,
        board.component("log_shipper"),
    );
    let shipper = Supervisor::start(move |_| shipper);
    let problems = session.recipient();
    let session = session.start(Session::new(SessionParts {
        settings: settings.link.clone(),
        client: client.clone(),
        queue: queue.clone(),
        dispatcher: dispatcher.clone().recipient(),
        logs: Some(shipper.recipient()),
        board: board.clone(),
        state: link_tx,
        status: board.component("session"),
        capabilities,
    }));
    let parts = PollerParts {
        client,
        queue: queue.clone(),
        dispatcher: dispatcher.clone().recipient(),
        problems,
        link: link_rx.clone(),
        figures,
        max_concurrency: settings.dispatcher.max_concurrency,
        status: board.component("poller"),
    };
    let poller = Supervisor::start(move |_| Poller::new(parts));
    let reload = crate::reload::Parts {
        login_memories,
        dispatcher: dispatcher.clone(),
        board: board.clone(),
        directories: reload_directories,
        knowledge,
        arbiter: directory_arbiter.handle(),
    };
    Ok(Running {
        session,
        poller,
        dispatcher,
        queue,
        board,
        link: link_rx,
        metrics,
        queue_arbiter,
        directory_arbiter,
        bulk_arbiter,
        reload: Some(reload),
    })
}
