//! The validated configuration: typed, complete, nothing left to parse at run time.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use connector_actors::dispatcher::DispatcherSettings;
use connector_actors::link::LinkSettings;
use connector_actors::queue::QueueSettings;
use connector_actors::secret::Secret;

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
    pub directories: Vec<DirectorySettings>,
    /// Things allowed but unwise (plain HTTP to a remote host, readable secrets).
    pub warnings: Vec<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DirectoryKind {
    ActiveDirectory,
    Ldap,
}

impl DirectoryKind {
    pub fn as_str(self) -> &'static str {
        match self {
            DirectoryKind::ActiveDirectory => "active_directory",
            DirectoryKind::Ldap => "ldap",
        }
    }
}

#[derive(Debug, Clone)]
pub struct DirectorySettings {
    pub name: String,
    pub kind: DirectoryKind,
    pub urls: Vec<url::Url>,
    pub bind_dn: String,
    pub bind_password: Secret,
    pub base_dn: String,
    pub ca_pem: Option<Vec<u8>>,
    pub user_filter: String,
}
