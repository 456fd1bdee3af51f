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
    /// Which bytes these settings came from, and when they were read.
    pub source: ConfigSource,
}

/// The config file's identity as loaded: shown on the status page and `/api/status` so
/// an operator can tell which file a running connector (or a reload) took.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ConfigSource {
    /// SHA-256 of the file's bytes, lower-case hex (64 characters).
    pub sha256: String,
    /// When it was read, unix ms.
    pub loaded_ms: u64,
}

impl ConfigSource {
    pub fn of(text: &str) -> ConfigSource {
        let digest = ring::digest::digest(&ring::digest::SHA256, text.as_bytes());
        let sha256 = digest.as_ref().iter().map(|b| format!("{b:02x}")).collect();
        ConfigSource { sha256, loaded_ms: connector_actors::time::now_ms() }
    }
}

pub use connector_actors::directory::{DirectoryKind, DirectorySettings, PlainUrlSecurity, ScopePolicy};

impl crate::logging::HoldsSecrets for Settings {
    /// The server token, every bind password, the UI admin token and a proxy password
    /// (`http://user:pw@proxy:3128`), as written and percent-decoded.
    fn secrets(&self) -> Vec<String> {
        let mut all = vec![self.link.token.expose().to_owned()];
        all.extend(self.directories.iter().filter_map(|d| d.bind.password()).map(|p| p.expose().to_owned()));
        all.extend(self.ui_admin_token.iter().map(|t| t.expose().to_owned()));
        let proxy_password =
            self.link.proxy.as_deref().and_then(|p| url::Url::parse(p).ok()?.password().map(str::to_owned));
        if let Some(pw) = proxy_password {
            let decoded =
                url::form_urlencoded::parse(format!("p={pw}").as_bytes()).map(|(_, v)| v.into_owned()).collect();
            all.extend([pw, decoded]);
        }
        all
    }
}
