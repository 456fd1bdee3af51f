//! `portal-sim`: a ServiceOps portal simulator serving the server side of PROTOCOL.md
//! (see `server.rs` for wiring, `state.rs` for the rules). Exit codes: 0 after a clean
//! stop, 64 for a bad command line, 1 when serving fails.

mod admin;
mod api;
mod body;
mod cli;
mod connectors;
mod error;
mod faults;
mod jobs;
mod logs;
mod model;
mod page;
mod records;
mod server;
mod spec;
mod state;
mod tls;
mod violations;

use std::io::IsTerminal;
use std::process::ExitCode;

use clap::Parser;
use tracing_subscriber::EnvFilter;

fn main() -> ExitCode {
    // Must come first: rustls needs one process-wide crypto provider (notes/crates.md).
    let _ = rustls::crypto::ring::default_provider().install_default();
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_ansi(std::io::stderr().is_terminal())
        .with_env_filter(EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info")))
        .init();
    let settings = match cli::Cli::parse().validate() {
        Ok(settings) => settings,
        Err(errors) => {
            for error in errors {
                eprintln!("portal-sim: {error}");
            }
            return ExitCode::from(64);
        }
    };
    match actix_rt::System::new().block_on(server::run(settings)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            tracing::error!("{err:#}");
            ExitCode::FAILURE
        }
    }
}
