//! Settings of one configured directory, validated by the config layer.

use std::time::Duration;

use super::bind::ServiceBind;
use crate::ldap::dn::Dn;

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

#[derive(Debug, Clone, PartialEq)]
pub struct DirectorySettings {
    pub name: String,
    pub kind: DirectoryKind,
    /// Tried in order; the first that answers is used until it fails. May be empty when
    /// `discovery` is set; with both, the discovered servers come first.
    pub urls: Vec<url::Url>,
    /// Servers found through DNS SRV records (`domain`, `site`, `dns_servers`, …).
    pub discovery: Option<super::discovery::DiscoverySettings>,
    /// The service account's DN: the bind name of a password bind, the identity a
    /// certificate maps to (for messages and the AD jobs' self-checks).
    pub bind_dn: String,
    /// The service account's credential (password or client certificate).
    pub bind: ServiceBind,
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
    /// Attributes an import never exports, besides the built-in secret-bearing ones and
    /// what the schema marks confidential (`withhold_attributes`; names or OIDs).
    pub withhold_attributes: Vec<String>,
    /// How logins read groups and shield accounts from lockout.
    pub login: LoginSettings,
    /// Global Catalog mode and referral following (`forest.rs`).
    pub forest: super::forest::ForestSettings,
}

/// `login_failure_*` and `group_*` keys of `[directories.NAME]`: the lockout shield and
/// the group reading of `ldap.authenticate` (PROTOCOL.md §3).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LoginSettings {
    /// Wrong passwords for one user within `failure_window` after which the connector
    /// answers `account_locked` itself, with no bind (`login_failure_limit`, default 5;
    /// 0 turns the shield off). Set it below the domain's lockout threshold.
    pub failure_limit: u32,
    /// How long a wrong password counts (`login_failure_window`, default 15 min).
    pub failure_window: Duration,
    /// Where groups are searched (`group_base_dn`); default the naming context that
    /// holds `base_dn` (AD: `defaultNamingContext`).
    pub group_base_dn: Option<String>,
    /// The ppolicy overlay's default policy (`olcPPolicyDefault`, which a service account
    /// cannot read from `cn=config`), for users without `pwdPolicySubentry`
    /// (`default_password_policy_dn`; LDAP only). Without it such users' passwords show
    /// no expiry.
    pub default_password_policy_dn: Option<String>,
    /// The membership attributes an OpenLDAP walk searches (`group_member_attributes`,
    /// default `["member"]`; also `uniqueMember`, and `memberUid`, which holds the
    /// user's `uid`). Each must be indexed for equality on the server: one attribute
    /// without an index makes every login's search scan the whole group base.
    pub member_attributes: Vec<MemberAttribute>,
    /// Levels of nesting an OpenLDAP walk follows (`group_nesting_limit`, default 10).
    pub nesting_limit: u32,
    /// Groups one login may list (`group_limit`, default 1000): a walk that finds more
    /// stops and the login fails `internal` rather than answer a partial list.
    pub group_limit: usize,
}

/// A group's membership attribute (RFC 4519 `member`, `uniqueMember`; RFC 2307
/// `memberUid`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MemberAttribute {
    Member,
    UniqueMember,
    /// Holds the member's `uid`, not its DN: asked at the first level only.
    MemberUid,
}

impl MemberAttribute {
    /// The attribute named `name` (case-insensitive), if it is one of the three.
    pub fn parse(name: &str) -> Option<MemberAttribute> {
        match name.to_ascii_lowercase().as_str() {
            "member" => Some(MemberAttribute::Member),
            "uniquemember" => Some(MemberAttribute::UniqueMember),
            "memberuid" => Some(MemberAttribute::MemberUid),
            _ => None,
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            MemberAttribute::Member => "member",
            MemberAttribute::UniqueMember => "uniqueMember",
            MemberAttribute::MemberUid => "memberUid",
        }
    }
}

impl Default for LoginSettings {
    fn default() -> LoginSettings {
        LoginSettings {
            failure_limit: 5,
            failure_window: Duration::from_secs(15 * 60),
            group_base_dn: None,
            default_password_policy_dn: None,
            member_attributes: vec![MemberAttribute::Member],
            nesting_limit: 10,
            group_limit: 1000,
        }
    }
}

/// `[directories.NAME.policy]`: enforced by the AD executor on what the directory says
/// now, not on what a job claims (the security model: `docs/scope-policy.md`).
#[derive(Debug, Clone, PartialEq)]
pub struct ScopePolicy {
    /// Job types allowed (`ad.*`); default all.
    pub allowed_operations: Vec<String>,
    /// Created users and every target must lie under one of these; default `base_dn`.
    pub allowed_ous: Vec<Dn>,
    /// Groups added to the built-in privileged set (see `ad::protected`), each as
    /// written: a DN, a CN, a sAMAccountName or a SID (`S-1-5-…`).
    pub protected_groups: Vec<String>,
    /// When set, the only attributes `ad.create_user` and `ad.update_user` may write
    /// (never more than the built-in attribute policy allows).
    pub writable_attributes: Option<Vec<String>>,
    /// How long a resolution of the protected groups is trusted (default 15 min).
    pub protected_refresh: Duration,
}

impl ScopePolicy {
    pub fn defaults(base_dn: &Dn) -> ScopePolicy {
        ScopePolicy {
            allowed_operations: crate::protocol::JobType::available()
                .filter(|t| t.family() == crate::protocol::Family::Ad)
                .map(|t| t.name().to_owned())
                .collect(),
            allowed_ous: vec![base_dn.clone()],
            protected_groups: Vec::new(),
            writable_attributes: None,
            protected_refresh: Duration::from_secs(15 * 60),
        }
    }
}

impl DirectorySettings {
    /// Whether every connection is encrypted (passwords may be sent). Discovered servers
    /// are `ldap://` (SRV records give the LDAP port), protected by StartTLS.
    pub fn encrypted(&self) -> bool {
        self.plain_urls == PlainUrlSecurity::StartTls
            || (self.discovery.is_none() && self.urls.iter().all(|u| u.scheme() == "ldaps"))
    }
}
