//! Command line: `run`, `check`, `config`, `logs`, `audit`, `service`, `configure`, `queue`,
//! `--version`. Exit codes are in `exit.rs`. Each command's own arguments live with it
//! (`*_cmd.rs`); the config is loaded by [`crate::cli::load`].

use std::path::PathBuf;

use clap::{Parser, Subcommand};

use crate::audit_cmd::AuditAction;
use crate::cli::load;
use crate::config_cmd::ConfigAction;
use crate::exit;
use crate::logs_cmd::LogsAction;
use crate::queue_cmd::QueueAction;
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
        /// For an upgrade: only config, storage and lock failures fail the run; the
        /// server's and the directories' warn (the service retries them once started).
        #[arg(long)]
        upgrade: bool,
    },
    /// Validate the config as the service would and, when valid, ask the running service
    /// (`--pid`) to reload it (SIGHUP); exits 64 with every problem when it would be
    /// refused. The unit's `ExecReload=`, so `systemctl reload` fails on a bad file.
    Reload {
        #[arg(long, short)]
        config: PathBuf,
        /// The service's process id (`$MAINPID` in the unit).
        #[arg(long)]
        pid: u32,
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
        Command::Check { config, json, upgrade } => {
            let output = if json { crate::check::Output::Json } else { crate::check::Output::Text };
            let strictness = if upgrade { crate::check::Strictness::Local } else { crate::check::Strictness::All };
            crate::check::run(&config, output, strictness)
        }
        Command::Reload { config, pid } => crate::reload_cmd::run(&config, pid),
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
