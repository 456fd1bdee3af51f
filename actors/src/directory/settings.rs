//! Settings of one configured directory, validated by the config layer.

use std::time::Duration;

use crate::secret::Secret;

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

/// How `ldap://` URLs are protected; `ldaps://` is always TLS.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PlainUrlSecurity {
    /// StartTLS, required (the default).
    StartTls,
    /// No TLS at all (allowed for lab setups; password jobs are refused).
    None,
}

#[derive(Debug, Clone)]
pub struct DirectorySettings {
    pub name: String,
    pub kind: DirectoryKind,
    /// Tried in order; the first that answers is used until it fails.
    pub urls: Vec<url::Url>,
    pub bind_dn: String,
    pub bind_password: Secret,
    pub base_dn: String,
    /// PEM of an extra CA trusted besides the system roots.
    pub ca_pem: Option<Vec<u8>>,
    /// Search filter with `{username}`, replaced by the RFC 4515-escaped user name.
    pub user_filter: String,
    pub plain_urls: PlainUrlSecurity,
    pub pool_min: usize,
    pub pool_max: usize,
    pub connect_timeout: Duration,
    pub operation_timeout: Duration,
}

impl DirectorySettings {
    /// Whether every connection is encrypted (passwords may be sent).
    pub fn encrypted(&self) -> bool {
        self.plain_urls == PlainUrlSecurity::StartTls || self.urls.iter().all(|u| u.scheme() == "ldaps")
    }
}
