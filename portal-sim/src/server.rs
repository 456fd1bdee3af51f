//! Wiring and lifecycle: bind, announce the URL, serve, sweep leases, and stop cleanly
//! on SIGTERM or SIGINT (the only owner of signals; actix's own handling is off).

use std::io::Write;
use std::path::Path;
use std::time::{Duration, Instant};

use actix_web::{web, App, HttpResponse, HttpServer};
use anyhow::Context;

use crate::cli::{Settings, Transport};
use crate::error::ApiError;
use crate::logs::Logs;
use crate::state::{Config, Sim, State};
use crate::{admin, api, page, tls};

/// The base path of the connector API (PROTOCOL.md §1).
pub const BASE_PATH: &str = "/api/v1/integration-connector";
/// How often expired leases are looked for (the long polls are woken when any are).
const SWEEP_EVERY: Duration = Duration::from_millis(100);
/// How long a stop waits for requests in flight (long polls included).
const SHUTDOWN_TIMEOUT_S: u64 = 2;

async fn not_found() -> Result<HttpResponse, ApiError> {
    Err(ApiError::NotFound("no such endpoint".to_owned()))
}

/// Write `text` to `path` whole (temp file + rename), so a reader never sees half.
fn write_atomically(path: &Path, text: &str) -> std::io::Result<()> {
    let partial = path.with_extension("part");
    std::fs::write(&partial, text)?;
    std::fs::rename(&partial, path)
}

/// Serve until a signal; returns when the server has stopped.
pub async fn run(settings: Settings) -> anyhow::Result<()> {
    let dir = &settings.data_dir;
    for sub in ["uploads", "streams"] {
        std::fs::create_dir_all(dir.join(sub)).with_context(|| format!("creating {}", dir.join(sub).display()))?;
    }
    let config = Config {
        token: settings.token.clone(),
        lease_s: settings.lease_s,
        heartbeat_interval_s: settings.heartbeat_interval_s,
        poll_timeout_s: settings.poll_timeout_s,
        max_body_bytes: settings.max_body_bytes,
        max_upload_bytes: settings.max_upload_bytes,
        max_records: crate::records::MAX_RECORDS,
        clock_skew_s: settings.clock_skew_s,
    };
    let sim = web::Data::new(Sim::new(State::new(config, Logs::new(dir))));
    let listener =
        std::net::TcpListener::bind(settings.listen).with_context(|| format!("binding {}", settings.listen))?;
    let addr = listener.local_addr().context("reading the bound address")?;

    let app_sim = sim.clone();
    let server = HttpServer::new(move || {
        App::new()
            .app_data(app_sim.clone())
            .service(web::scope(BASE_PATH).configure(api::configure))
            .service(web::scope("/admin").configure(admin::configure))
            .route("/", web::get().to(page::index))
            .default_service(web::to(not_found))
    })
    .workers(settings.workers)
    // Answers go out at once: with Nagle on, a response written in two parts waits for
    // the peer's delayed ACK (up to 40 ms on Linux), and the simulator measures latency.
    .tcp_nodelay(true)
    .disable_signals()
    .shutdown_timeout(SHUTDOWN_TIMEOUT_S);
    let (server, scheme) = match settings.transport {
        Transport::Https => {
            let config = tls::server_config(dir)?;
            (server.listen_rustls_0_23(listener, config)?, "https")
        }
        Transport::Http => (server.listen(listener)?, "http"),
    };
    let server = server.run();
    let handle = server.handle();

    let url = format!("{scheme}://{addr}");
    write_atomically(&dir.join("url"), &url).context("writing the url file")?;
    let mut stdout = std::io::stdout().lock();
    writeln!(stdout, "portal-sim listening on {url}").context("writing to stdout")?;
    stdout.flush().context("flushing stdout")?;
    drop(stdout);
    tracing::info!(%url, data_dir = %dir.display(), "serving");

    let sweeper_sim = sim.clone();
    let sweeper = actix_rt::spawn(async move {
        let mut tick = tokio::time::interval(SWEEP_EVERY);
        loop {
            tick.tick().await;
            if sweeper_sim.lock().jobs.sweep(Instant::now()) > 0 {
                sweeper_sim.jobs_ready.notify_waiters();
            }
        }
    });
    actix_rt::spawn(async move {
        match wait_for_signal().await {
            Ok(name) => tracing::info!(signal = name, "stopping"),
            Err(err) => tracing::error!(%err, "cannot listen for signals; stopping"),
        }
        handle.stop(true).await;
    });
    let served = server.await;
    sweeper.abort();
    served.context("serving")?;
    tracing::info!("stopped");
    Ok(())
}

/// The first SIGTERM or SIGINT.
async fn wait_for_signal() -> std::io::Result<&'static str> {
    use tokio::signal::unix::{signal, SignalKind};
    let mut term = signal(SignalKind::terminate())?;
    let mut int = signal(SignalKind::interrupt())?;
    Ok(tokio::select! {
        _ = term.recv() => "SIGTERM",
        _ = int.recv() => "SIGINT",
    })
}
