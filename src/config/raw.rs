//! The config file as written: every key, with its position for error messages.
//! Unknown keys are errors (`deny_unknown_fields`).

use std::collections::BTreeMap;

use serde::Deserialize;
use toml::Spanned;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawConfig {
    #[serde(default)]
    pub connector: RawConnector,
    pub server: Spanned<RawServer>,
    pub storage: Spanned<RawStorage>,
    #[serde(default)]
    pub ui: RawUi,
    #[serde(default)]
    pub logging: RawLogging,
    #[serde(default)]
    pub directories: BTreeMap<String, Spanned<RawDirectory>>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawConnector {
    pub name: Option<Spanned<String>>,
    pub max_concurrency: Option<Spanned<i64>>,
    pub drain_grace: Option<Spanned<String>>,
    pub retention: Option<Spanned<String>>,
    pub max_attempts: Option<Spanned<i64>>,
    pub shed_logins_after: Option<Spanned<String>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawServer {
    pub protocol: Spanned<String>,
    pub host: Spanned<String>,
    pub port: Option<Spanned<i64>>,
    pub token: Option<Spanned<String>>,
    pub token_file: Option<Spanned<String>>,
    pub ca_file: Option<Spanned<String>>,
    pub proxy: Option<Spanned<String>>,
    pub connect_timeout: Option<Spanned<String>>,
    pub request_timeout: Option<Spanned<String>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawStorage {
    pub path: Spanned<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawUi {
    pub listen: Option<Spanned<String>>,
    pub admin_token: Option<Spanned<String>>,
    pub admin_token_file: Option<Spanned<String>>,
}

/// `[logging]`: the rolling files under the storage path (validated in `ops.rs`).
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawLogging {
    pub dir: Option<Spanned<String>>,
    pub max_file_size_mb: Option<Spanned<i64>>,
    pub upload_max_size_mb: Option<Spanned<i64>>,
    pub retention: Option<Spanned<String>>,
    pub json: Option<Spanned<bool>>,
    pub level: Option<Spanned<String>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawDirectory {
    pub kind: Spanned<String>,
    /// Optional when `domain` is set (`discovery.rs`).
    pub urls: Option<Spanned<Vec<String>>>,
    pub domain: Option<Spanned<String>>,
    pub site: Option<Spanned<String>>,
    pub dns_servers: Option<Spanned<Vec<String>>>,
    pub dns_max_ttl: Option<Spanned<String>>,
    pub failback_after: Option<Spanned<String>>,
    pub global_catalog: Option<Spanned<bool>>,
    pub gc_urls: Option<Spanned<Vec<String>>>,
    pub follow_referrals: Option<Spanned<bool>>,
    pub referral_hops: Option<Spanned<i64>>,
    pub bind_dn: Spanned<String>,
    pub bind_password: Option<Spanned<String>>,
    pub bind_password_file: Option<Spanned<String>>,
    pub client_cert_file: Option<Spanned<String>>,
    pub client_key_file: Option<Spanned<String>>,
    pub bind_keytab: Option<Spanned<String>>,
    pub bind_principal: Option<Spanned<String>>,
    pub bind_spn_host: Option<Spanned<String>>,
    pub base_dn: Spanned<String>,
    pub ca_file: Option<Spanned<String>>,
    pub user_filter: Option<Spanned<String>>,
    pub starttls: Option<Spanned<bool>>,
    pub pool_min: Option<Spanned<i64>>,
    pub pool_max: Option<Spanned<i64>>,
    pub connect_timeout: Option<Spanned<String>>,
    pub operation_timeout: Option<Spanned<String>>,
    pub policy: Option<Spanned<RawPolicy>>,
    pub withhold_attributes: Option<Spanned<Vec<String>>>,
    pub login_failure_limit: Option<Spanned<i64>>,
    pub login_failure_window: Option<Spanned<String>>,
    pub group_base_dn: Option<Spanned<String>>,
    pub default_password_policy_dn: Option<Spanned<String>>,
    pub group_nesting_limit: Option<Spanned<i64>>,
    pub group_member_attributes: Option<Spanned<Vec<String>>>,
    pub group_limit: Option<Spanned<i64>>,
}

/// `[directories.NAME.policy]`: what the portal may change here.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawPolicy {
    pub allowed_operations: Option<Spanned<Vec<String>>>,
    pub allowed_ous: Option<Spanned<Vec<String>>>,
    pub protected_groups: Option<Spanned<Vec<String>>>,
    pub writable_attributes: Option<Spanned<Vec<String>>>,
    pub protected_refresh: Option<Spanned<String>>,
}
