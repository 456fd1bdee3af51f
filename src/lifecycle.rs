//! The one owner of signals and of the process's life.
//!
//! SIGTERM/SIGINT → drain: the poller stops, heartbeats say `draining`, running jobs
//! get `connector.drain_grace` to finish (a "still waiting on …" line every 5 s), then
//! the queue is flushed and the process exits 0. A second signal exits at once (130);
//! whatever was running is resumed from sled at the next start.
//! The service manager hears READY, link STATUS lines, WATCHDOG pings and STOPPING
//! through `notify.rs` (systemd `Type=notify`, or the Windows SCM: RUNNING and
//! STOP_PENDING with wait hints). On Windows the SCM's Stop and Shutdown, and Ctrl+C,
//! take SIGTERM's place (`platform::signals`); the drain is the same.

use std::time::Duration;

use connector_actors::dispatcher::{Drain, RunningCount};
use connector_actors::link::StartDraining;
use connector_actors::queue::store::StoreError;
use connector_actors::queue::{DurableQueue, QueueError};
use tokio::sync::mpsc::UnboundedReceiver;

use crate::app::{self, Running};
use crate::config::Settings;
use crate::exit;
use crate::notify::{self, Notifier};
use crate::platform::signals::StopRequests;

/// Who asks for the drain besides the OS signals, and who hears about the process's life.
pub struct Manager {
    /// Stop requests from a service manager that calls instead of signalling (the SCM).
    pub stops: Option<UnboundedReceiver<&'static str>>,
    pub notifier: Notifier,
    /// How long to wait for the storage lock: zero from a shell or systemd (another
    /// instance runs: exit 69 at once); the Windows service waits, since the process
    /// that held it a moment ago (the MSI's `configure`, the version being upgraded) may
    /// still be exiting.
    pub lock_patience: Duration,
}

/// `run` from a shell or systemd: signals, and `NOTIFY_SOCKET` when set.
pub fn run(settings: Settings) -> u8 {
    run_managed(settings, Manager { stops: None, notifier: Notifier::from_env(), lock_patience: Duration::ZERO })
}

/// Runs until a stop request has been drained; returns the exit code (`exit.rs`).
pub fn run_managed(settings: Settings, manager: Manager) -> u8 {
    let queue = match open_queue(&settings, manager.lock_patience) {
        Ok(q) => q,
        Err(e) => {
            tracing::error!(path = %settings.queue.path.display(), error = %e, "cannot open the job queue");
            return exit::STORAGE;
        }
    };
    crate::logging::protect(&settings);
    crate::keytab_refusals::FileRefusals::keep_in(&settings.queue.path);
    if let Err(e) = crate::logging::set_level(settings.logging.level.as_deref()) {
        tracing::error!(error = %e, "cannot set the log filter of logging.level");
    }
    if let Err(e) = crate::logging::attach_files(&settings.logging) {
        tracing::error!(dir = %settings.logging.dir.display(), error = %e, "cannot write log files");
        return exit::STORAGE;
    }
    let system = actix::System::with_tokio_rt(|| {
        tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .thread_name("ic-worker")
            .build()
            .unwrap_or_else(|e| {
                eprintln!("cannot start the async runtime: {e}");
                std::process::exit(exit::INTERNAL as i32)
            })
    });
    system.block_on(async move {
        let tap = crate::logging::tap();
        let mut running = match app::start(&settings, queue, tap.tx.clone()) {
            Ok(r) => r,
            Err(e) => {
                tracing::error!(error = %e, "cannot start the connector");
                return exit::CONFIG;
            }
        };
        let feeds = crate::reload::start(&settings, running.reload.take());
        let ui = crate::ui::UiState {
            board: running.board.clone(),
            link: running.link.clone(),
            metrics: running.metrics.clone(),
            tap,
            admin_token: feeds.admin_token,
            config: feeds.config,
            server_url: settings.link.base_url.to_string(),
            started: std::time::Instant::now(),
        };
        match crate::ui::start(settings.ui_listen, ui) {
            Ok(addr) => tracing::info!(url = %format!("http://{addr}/"), "web UI listening"),
            // The jobs matter more than the page: run on, and say so loudly.
            Err(e) => tracing::error!(error = %e, "the web UI is not available"),
        }
        tracing::info!(
            version = env!("CARGO_PKG_VERSION"),
            server = %settings.link.base_url,
            storage = %settings.queue.path.display(),
            "integration connector started"
        );
        wait_and_drain(&settings, running, manager).await
    })
}

/// Opens the queue, retrying a held lock for up to `patience`.
fn open_queue(settings: &Settings, patience: Duration) -> Result<DurableQueue, QueueError> {
    let start = std::time::Instant::now();
    loop {
        match DurableQueue::open(settings.queue.clone()) {
            Err(QueueError::Store(StoreError::Locked(_))) if start.elapsed() < patience => {
                std::thread::sleep(Duration::from_millis(500));
            }
            other => return other,
        }
    }
}

async fn wait_and_drain(settings: &Settings, running: Running, manager: Manager) -> u8 {
    let Manager { stops, notifier, .. } = manager;
    let mut stops = match StopRequests::listen(stops) {
        Ok(s) => s,
        Err(e) => {
            tracing::error!(error = %e, "cannot install signal handlers");
            return exit::INTERNAL;
        }
    };
    // READY only once a SIGTERM would be handled (systemd may send one right away).
    notify::announce_ready(&notifier, running.link.clone(), settings.link.base_url.to_string());
    let mut escalations = running.board.escalations();
    let mut code = exit::OK;
    tokio::select! {
        why = stops.next() => tracing::info!("{why}: draining"),
        why = escalated(&mut escalations) => {
            tracing::error!(reason = %why, "a component is past its restart budget: draining, then exiting 70 so that a fresh process starts");
            code = exit::INTERNAL;
        }
    }
    // A second request ends the drain at once.
    tokio::spawn(async move {
        let why = stops.next().await;
        tracing::warn!("second stop request ({why}): exiting now; unfinished jobs resume at the next start");
        std::process::exit(exit::INTERRUPTED as i32);
    });
    notifier.stopping(settings.drain_grace);
    running.poller.do_send(StartDraining);
    running.session.do_send(StartDraining);
    let drained = running.dispatcher.send(Drain);
    let deadline = tokio::time::sleep(settings.drain_grace);
    tokio::pin!(drained, deadline);
    let mut every = tokio::time::interval(Duration::from_secs(5));
    every.tick().await;
    loop {
        tokio::select! {
            _ = &mut drained => {
                tracing::info!("all running jobs finished");
                break;
            }
            _ = &mut deadline => {
                let n = running.dispatcher.send(RunningCount).await.unwrap_or(0);
                tracing::warn!(still_running = n, "drain grace period over; exiting, unfinished jobs resume at the next start");
                break;
            }
            _ = every.tick() => {
                let n = running.dispatcher.send(RunningCount).await.unwrap_or(0);
                tracing::info!(still_running = n, "still waiting on running jobs");
                notifier.status(&format!("draining: still waiting on {n} running job(s)"));
            }
        }
    }
    // Give the courier a moment to hand over results that just finished.
    tokio::time::sleep(Duration::from_millis(300)).await;
    running.queue_arbiter.stop();
    running.directory_arbiter.stop();
    running.bulk_arbiter.stop();
    actix::System::current().stop();
    tracing::info!("integration connector stopped");
    code
}

/// The first escalation's reason (waits for ever when none comes).
async fn escalated(rx: &mut tokio::sync::watch::Receiver<Option<String>>) -> String {
    loop {
        if let Some(why) = rx.borrow_and_update().clone() {
            return why;
        }
        if rx.changed().await.is_err() {
            std::future::pending::<()>().await;
        }
    }
}
