//! The local web UI (actix-web): the status page an administrator opens in a browser,
//! `/metrics` (Prometheus text), `/healthz`, `/readyz`, a live log tail (SSE), and the
//! last hour per minute (`/api/history`, drawn on the page by `charts.rs`).
//!
//! It only reads published snapshots (the status board, the link state, the metrics
//! registry, the log tap): a busy actor never delays it. It runs on its own actix-web
//! worker thread with signals disabled (the lifecycle owner has them). Beyond loopback
//! it needs the admin token (config validation refuses such a listen address without
//! one); when a token is set every page but `/healthz` and `/readyz` asks for it. On
//! loopback every request must name loopback in `Host` (DNS rebinding, `guard.rs`).
//! It has no TLS: beyond loopback a config warning says so (logged at start, shown by `check`).

mod charts;
mod config;
mod guard;
mod history;
mod html;
mod imports;
mod metrics;
mod page;
mod routes;

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Instant;

use actix_web::{web, App, HttpServer};
use connector_actors::link::LinkState;
use connector_actors::metrics::Metrics;
use connector_actors::secret::Secret;
use connector_actors::status::StatusBoard;
use tokio::sync::watch;

use crate::logging::Tap;

/// Everything the UI reads; cheap to clone.
#[derive(Clone)]
pub struct UiState {
    pub board: StatusBoard,
    pub link: watch::Receiver<LinkState>,
    pub metrics: Metrics,
    pub tap: Tap,
    /// `ui.admin_token` as running now (a reload may change it).
    pub admin_token: watch::Receiver<Option<Secret>>,
    /// The loaded config's time and hash, and the last reload's outcome (`reload.rs`).
    pub config: watch::Receiver<crate::reload::ConfigView>,
    pub server_url: String,
    pub started: Instant,
}

#[derive(Debug, thiserror::Error)]
pub enum UiError {
    #[error("cannot listen on {addr} for the web UI: {source} (set ui.listen to a free address)")]
    Bind { addr: SocketAddr, source: std::io::Error },
}

/// Binds and starts serving (inside the actix System); returns the bound address.
pub fn start(listen: SocketAddr, state: UiState) -> Result<SocketAddr, UiError> {
    history::start_sampler(state.board.clone(), state.metrics.clone());
    let state = Arc::new(state);
    let data = web::Data::from(state);
    let hosts = web::Data::new(guard::HostPolicy::for_listen(listen));
    let server = HttpServer::new(move || {
        App::new()
            .app_data(data.clone())
            .app_data(hosts.clone())
            .wrap(actix_web::middleware::from_fn(guard::check_host))
            .route("/", web::get().to(routes::index))
            .route("/panel", web::get().to(routes::panel))
            .route("/api/status", web::get().to(routes::status_json))
            .route("/api/history", web::get().to(routes::history_json))
            .route("/logs/tail", web::get().to(routes::tail))
            .route("/metrics", web::get().to(routes::metrics))
            .route("/healthz", web::get().to(routes::healthz))
            .route("/readyz", web::get().to(routes::readyz))
    })
    .workers(1)
    .disable_signals()
    .shutdown_timeout(1)
    .bind(listen)
    .map_err(|source| UiError::Bind { addr: listen, source })?;
    let addr = server.addrs().first().copied().unwrap_or(listen);
    actix::spawn(async move {
        if let Err(e) = server.run().await {
            tracing::error!(error = %e, "the web UI stopped");
        }
    });
    Ok(addr)
}
