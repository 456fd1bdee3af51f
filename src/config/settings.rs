//! The validated configuration: typed, complete, nothing left to parse at run time.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use connector_actors::dispatcher::DispatcherSettings;
use connector_actors::link::LinkSettings;
use connector_actors::queue::QueueSettings;

#[derive(Debug, Clone)]
pub struct Settings {
    /// The config file these settings came from.
    pub file: PathBuf,
    pub link: LinkSettings,
    pub queue: QueueSettings,
    pub dispatcher: DispatcherSettings,
    /// How long SIGTERM waits for running jobs before exiting anyway.
    pub drain_grace: Duration,
    pub ui_listen: SocketAddr,
    /// Required to open the UI when `ui_listen` is not loopback (`[ui] admin_token`).
    pub ui_admin_token: Option<connector_actors::secret::Secret>,
    /// The rolling log files (`[logging]`).
    pub logging: crate::logging::LogSettings,
    pub directories: Vec<DirectorySettings>,
    /// Things allowed but unwise (plain HTTP to a remote host, readable secrets).
    pub warnings: Vec<String>,
}

pub use connector_actors::directory::{DirectoryKind, DirectorySettings, PlainUrlSecurity, ScopePolicy};
