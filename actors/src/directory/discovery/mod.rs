//! Finding a directory's servers through DNS SRV records instead of (or beside) a fixed
//! `urls` list (`[directories.NAME] domain = …`): the domain controllers of an AD domain
//! are replaced, renamed and added over the years an agent runs, and DNS is where the
//! domain itself says which ones there are (the Windows DC locator, SSSD's `_srv_`).
//!
//! - [`order`]: RFC 2782 ordering of an SRV answer (priority, then weighted random).
//! - [`Locator`] (`locate.rs`): the queries (site first, then the domain), each target's
//!   addresses, the answer kept for its TTL (capped) and asked again on failure.
//! - [`Failback`] ([`failback`]): when to return to a better-ranked server after a
//!   failover (hysteresis: it must answer for a while first).
//!
//! Queried names (Microsoft, "How DNS support for Active Directory works", the DC
//! locator's SRV records; RFC 2782 for the LDAP one):
//! - AD: `_ldap._tcp.<site>._sites.dc._msdcs.<domain>` when a site is set, then
//!   `_ldap._tcp.dc._msdcs.<domain>`;
//! - LDAP: `_ldap._tcp.<domain>`.

pub mod failback;
mod locate;
pub mod order;
#[cfg(test)]
mod tests;

use std::net::SocketAddr;
use std::time::Duration;

pub use failback::Failback;
pub use locate::{Answer, DiscoveryError, Freshness, Locator, Service, SrvQuery};

/// `domain`, `site`, `dns_servers`, `dns_max_ttl`, `failback_after` of
/// `[directories.NAME]`, validated by the config layer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DiscoverySettings {
    /// The DNS domain whose SRV records list the servers (`example.test`), without the
    /// trailing dot.
    pub domain: String,
    /// The AD site whose DCs are preferred (`site`); its list is tried first, then the
    /// domain-wide one. AD only.
    pub site: Option<String>,
    /// DNS servers asked instead of the system's resolver configuration (`dns_servers`,
    /// `host:port`); empty: `/etc/resolv.conf` (Unix) or the registry (Windows).
    pub dns_servers: Vec<SocketAddr>,
    /// An answer is kept for its records' TTL, at most this long (`dns_max_ttl`, default
    /// 5 min): a DC added or removed in DNS is seen within it even when the zone's TTL
    /// is long.
    pub max_ttl: Duration,
    /// How long a better-ranked server must keep answering before the pool returns to it
    /// after a failover (`failback_after`, default 60 s).
    pub failback_after: Duration,
}

/// Where a server stands in the discovered order; lower is better. Servers of equal rank
/// (RFC 2782: same priority) are equals: the pool never fails back between them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Rank {
    /// 0: from the site's list; 1: from the domain-wide list; 2: a fixed URL (`urls`
    /// beside `domain` are the fallback of the discovered servers).
    pub tier: u8,
    /// The SRV priority (0 for a fixed URL).
    pub priority: u16,
}

/// One server the pool may connect to: a fixed URL, or an SRV target.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Target {
    /// `ldap://<target>:<port>` for an SRV target: the host name is what TLS verifies.
    pub url: url::Url,
    /// The addresses its name resolved to through the same DNS servers as the SRV query;
    /// empty for a fixed URL (the system resolves it when connecting).
    pub addrs: Vec<SocketAddr>,
    pub rank: Rank,
    /// Why it is where it is, for `check` and the logs ("priority 0 weight 100 from
    /// _ldap._tcp.dc._msdcs.example.test, TTL 900 s").
    pub why: String,
}

impl Target {
    /// A configured URL: all of one rank, below every discovered server.
    pub fn fixed(url: url::Url) -> Target {
        Target { url, addrs: Vec::new(), rank: Rank { tier: 2, priority: 0 }, why: "configured in urls".into() }
    }

    /// Whether `other` is the same server (same URL; its addresses may have changed).
    pub fn same(&self, other: &Target) -> bool {
        self.url == other.url
    }
}
