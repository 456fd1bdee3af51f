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
    /// The local limit on what the portal may change in this directory.
    pub policy: ScopePolicy,
}

/// `[directories.NAME.policy]`: enforced by the AD executor on what the directory says
/// now, not on what a job claims.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScopePolicy {
    /// Job types allowed (`ad.*`); default all.
    pub allowed_operations: Vec<String>,
    /// Created users and every target must lie under one of these DNs; default `base_dn`.
    pub allowed_ous: Vec<String>,
    /// Group names (cn or sAMAccountName) whose members and membership are off limits.
    pub protected_groups: Vec<String>,
}

/// The built-in privileged groups of Active Directory.
pub const DEFAULT_PROTECTED_GROUPS: [&str; 9] = [
    "Domain Admins",
    "Enterprise Admins",
    "Schema Admins",
    "Administrators",
    "Account Operators",
    "Backup Operators",
    "Server Operators",
    "Print Operators",
    "Group Policy Creator Owners",
];

impl ScopePolicy {
    pub fn defaults(base_dn: &str) -> ScopePolicy {
        ScopePolicy {
            allowed_operations: crate::protocol::payload::job_types()
                .into_iter()
                .filter(|t| t.starts_with("ad."))
                .map(str::to_owned)
                .collect(),
            allowed_ous: vec![base_dn.to_owned()],
            protected_groups: DEFAULT_PROTECTED_GROUPS.iter().map(|s| (*s).to_owned()).collect(),
        }
    }
}

impl DirectorySettings {
    /// Whether every connection is encrypted (passwords may be sent).
    pub fn encrypted(&self) -> bool {
        self.plain_urls == PlainUrlSecurity::StartTls || self.urls.iter().all(|u| u.scheme() == "ldaps")
    }
}
