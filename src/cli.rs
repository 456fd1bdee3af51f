//! Command line: `run`, `check`, `queue`, `--version`. Exit codes are in `exit.rs`.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

use crate::config::{self, ProcessEnv, Settings};
use crate::exit;

#[derive(Parser)]
#[command(
    name = "integration-connector",
    version,
    about = "ServiceOps Integration Connector: the on-premise agent for Active Directory and LDAP"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run the connector service (until SIGTERM/SIGINT).
    Run {
        #[arg(long, short)]
        config: PathBuf,
    },
    /// Validate the config and the storage path; print one line per check.
    Check {
        #[arg(long, short)]
        config: PathBuf,
    },
    /// Inspect the durable job queue while the service is stopped.
    Queue {
        #[arg(long, short)]
        config: PathBuf,
        #[command(subcommand)]
        action: QueueAction,
    },
}

#[derive(Subcommand)]
pub enum QueueAction {
    /// One line per stored job.
    List,
    /// One job in full (secrets are never shown).
    Show { id: String },
    /// Run a dead job again (its result must not have reached the portal yet).
    Retry { id: String },
    /// Remove every dead job.
    PurgeDead,
}

pub fn main() -> ExitCode {
    // Must precede any TLS use: reqwest (rustls-no-provider) and ldap3 need one provider.
    let _ = rustls::crypto::ring::default_provider().install_default();
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            let _ = e.print();
            return ExitCode::from(if e.use_stderr() { exit::USAGE } else { exit::OK });
        }
    };
    crate::logging::init();
    let code = match cli.command {
        Command::Run { config } => load(&config).map_or_else(|c| c, crate::lifecycle::run),
        Command::Check { config } => load(&config).map_or_else(|c| c, check),
        Command::Queue { config, action } => load(&config).map_or_else(|c| c, |s| crate::queue_cmd::run(&s, action)),
    };
    ExitCode::from(code)
}

/// Loads the config, printing every error (exit 64) or every warning.
fn load(path: &std::path::Path) -> Result<Settings, u8> {
    match config::load(path, &ProcessEnv) {
        Ok(s) => {
            for w in &s.warnings {
                tracing::warn!("{w}");
            }
            Ok(s)
        }
        Err(errors) => {
            eprint!("{errors}");
            Err(exit::CONFIG)
        }
    }
}

fn check(settings: Settings) -> u8 {
    println!("OK   config {} is valid", settings.file.display());
    match connector_actors::queue::DurableQueue::open(settings.queue.clone()) {
        Ok(q) => {
            println!(
                "OK   storage {} is usable ({} jobs stored)",
                settings.queue.path.display(),
                q.list().map(|l| l.len()).unwrap_or(0)
            );
            exit::OK
        }
        Err(e) => {
            println!("FAIL storage {}: {e}", settings.queue.path.display());
            exit::FAILURE
        }
    }
}
