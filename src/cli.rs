//! Command line: `run`, `check`, `config`, `logs`, `audit`, `service`, `configure`, `queue`, `--version`. Exit codes are in `exit.rs`.

use std::path::PathBuf;

use clap::{Parser, Subcommand};

use crate::config::{self, ProcessEnv, Settings};
use crate::exit;
use crate::service::configure::Action;

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
    /// Run every troubleshooting check (config, storage, lock, server, directories);
    /// one line per check with the cause and the fix of each failure.
    Check {
        #[arg(long, short)]
        config: PathBuf,
        /// Print one JSON document instead of lines.
        #[arg(long)]
        json: bool,
    },
    /// Log files: `bundle` zips them with a manifest, as an upload to the portal would.
    Logs {
        #[arg(long, short)]
        config: PathBuf,
        #[command(subcommand)]
        action: LogsAction,
    },
    /// The audit journal of AD writes: `verify` its hash chain, or `show` it.
    Audit {
        #[arg(long, short)]
        config: PathBuf,
        #[command(subcommand)]
        action: AuditAction,
    },
    /// Read the config as the install scripts need it: `get KEY` prints one resolved value.
    Config {
        #[arg(long, short)]
        config: PathBuf,
        #[command(subcommand)]
        action: ConfigAction,
    },
    /// The Windows service: `run` is what the service manager starts; `install` and
    /// `uninstall` register it by hand (the MSI does both itself).
    Service {
        #[command(subcommand)]
        action: ServiceAction,
    },
    /// The install step of the packages: write the config from the installer's answers,
    /// protect config and storage (ACL / 0600), run `check`; `--remove-data` deletes both.
    Configure {
        #[arg(long, short)]
        config: PathBuf,
        #[command(flatten)]
        answers: crate::service::configure::Answers,
        /// Delete the config and the storage path instead (uninstall with REMOVE_DATA=1).
        #[arg(long)]
        remove_data: bool,
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
pub enum ConfigAction {
    /// Print the value of KEY (e.g. storage.path), defaults included; never a secret.
    Get { key: String },
    /// Write a copy of the config whose absolute paths lie under --root (install.sh --root).
    #[command(hide = true)]
    Rebase {
        #[arg(long)]
        root: PathBuf,
        #[arg(long, short)]
        output: PathBuf,
    },
}

#[derive(Subcommand)]
pub enum ServiceAction {
    /// Run as the Windows service (what the service manager starts; drains on Stop).
    Run {
        #[arg(long, short)]
        config: PathBuf,
    },
    /// Register the service (auto start, LocalSystem, restart on failure) and start it.
    Install {
        #[arg(long, short)]
        config: PathBuf,
    },
    /// Stop the service (it drains) and wait until its process has exited.
    Stop,
    /// Stop the service (it drains) and remove its registration; config and storage stay.
    Uninstall,
}

#[derive(Subcommand)]
pub enum AuditAction {
    /// Check the hash chain of the AD audit journal.
    Verify,
    /// Print the journal, one line per AD write.
    Show,
}

#[derive(Subcommand)]
pub enum LogsAction {
    /// Write the log bundle (ZIP with manifest.json) to a file; works while the service runs.
    Bundle {
        /// The ZIP file to write.
        #[arg(long, short)]
        output: PathBuf,
        /// Only files overlapping this time and later (RFC 3339, e.g. 2026-11-27T00:00:00Z).
        #[arg(long)]
        since: Option<String>,
        /// Only files overlapping this time and earlier (RFC 3339).
        #[arg(long)]
        until: Option<String>,
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

/// Runs the command line; returns the process exit code (README "Exit codes").
pub fn main() -> u8 {
    // Must precede any TLS use: reqwest (rustls-no-provider) and ldap3 need one provider.
    let _ = rustls::crypto::ring::default_provider().install_default();
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            let _ = e.print();
            return if e.use_stderr() { exit::USAGE } else { exit::OK };
        }
    };
    crate::logging::init();
    match cli.command {
        Command::Run { config } => load(&config).map_or_else(|c| c, crate::lifecycle::run),
        Command::Check { config, json } => {
            crate::check::run(&config, if json { crate::check::Output::Json } else { crate::check::Output::Text })
        }
        Command::Logs { config, action } => load(&config).map_or_else(|c| c, |s| crate::logs_cmd::run(&s, action)),
        Command::Audit { config, action } => load(&config).map_or_else(|c| c, |s| crate::audit_cmd::run(&s, action)),
        Command::Config { config, action: ConfigAction::Get { key } } => crate::config_cmd::get(&config, &key),
        Command::Config { config, action: ConfigAction::Rebase { root, output } } => {
            crate::config_cmd::rebase(&config, &root, &output)
        }
        Command::Service { action: ServiceAction::Run { config } } => crate::service::run(&config),
        Command::Service { action: ServiceAction::Install { config } } => crate::service::install(&config),
        Command::Service { action: ServiceAction::Stop } => crate::service::stop(),
        Command::Service { action: ServiceAction::Uninstall } => crate::service::uninstall(),
        Command::Configure { config, answers, remove_data } => {
            let action = if remove_data { Action::RemoveData } else { Action::Install };
            crate::service::configure::run(&config, &answers, action)
        }
        Command::Queue { config, action } => load(&config).map_or_else(|c| c, |s| crate::queue_cmd::run(&s, action)),
    }
}

/// Loads the config, printing every error (exit 64) or every warning.
pub fn load(path: &std::path::Path) -> Result<Settings, u8> {
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
