//! Settings of the server link, validated by the config layer.

use std::time::Duration;

use crate::secret::Secret;

#[derive(Debug, Clone)]
pub struct LinkSettings {
    /// `{protocol}://{host}:{port}/api/v1/integration-connector`, without a trailing slash.
    pub base_url: String,
    pub token: Secret,
    /// PEM of an extra CA for the server's certificate (from `server.ca_file`).
    pub extra_ca_pem: Option<Vec<u8>>,
    /// Explicit proxy URL; when `None` the usual `HTTPS_PROXY`/`NO_PROXY` apply.
    pub proxy: Option<String>,
    pub connect_timeout: Duration,
    pub request_timeout: Duration,
    /// Shown in the portal's Integration Connector List.
    pub name: String,
    pub hostname: String,
    pub max_concurrency: usize,
    pub directories: Vec<crate::protocol::wire::DirectorySummary>,
}
