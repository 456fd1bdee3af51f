//! The DNS side of discovery: which names are asked, each target's addresses, how long
//! an answer is kept.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use hickory_resolver::config::{NameServerConfig, ResolverConfig};
use hickory_resolver::name_server::TokioConnectionProvider;
use hickory_resolver::proto::xfer::Protocol;
use hickory_resolver::TokioResolver;

use super::order::{rfc2782_random, Srv};
use super::{DiscoverySettings, Rank, Target};
use crate::directory::settings::DirectoryKind;

/// Why no server could be found through DNS; the text names the query and what to check.
#[derive(Debug, Clone, thiserror::Error, PartialEq, Eq)]
pub enum DiscoveryError {
    /// The system's resolver configuration could not be read (no `/etc/resolv.conf`).
    #[error("cannot read the system's DNS configuration ({0}): set dns_servers")]
    SystemConfig(String),
    /// Every query failed or found no usable record.
    #[error("no directory server found in DNS: {0}")]
    NotFound(String),
}

/// One SRV query and what came of it, for `check` and the logs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SrvQuery {
    pub name: String,
    /// `target:port (priority P, weight W)` per record, or the error.
    pub outcome: Result<Vec<String>, String>,
}

/// The servers found, best first, and until when they hold.
#[derive(Debug, Clone)]
pub struct Answer {
    pub queries: Vec<SrvQuery>,
    pub targets: Vec<Arc<Target>>,
    pub valid_until: Instant,
}

/// Whether a kept answer may be used.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Freshness {
    /// The kept answer while its TTL lasts.
    Cached,
    /// Ask DNS again (every server of the kept answer failed).
    Requery,
}

/// Which servers the SRV records name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Service {
    /// The domain's LDAP servers (AD: its DCs).
    Directory,
    /// The forest's Global Catalog servers (`_gc._tcp.<forest>`, port 3268; Microsoft,
    /// "SRV resource records registered by the Net Logon service").
    GlobalCatalog,
}

/// A directory's resolver and its last answer. Shared by the directory actor's connects.
pub struct Locator {
    settings: DiscoverySettings,
    kind: DirectoryKind,
    service: Service,
    resolver: TokioResolver,
    kept: Mutex<Option<Arc<Answer>>>,
}

/// A DNS answer's records are never trusted for less than this (a TTL of 0 would make
/// every connect ask DNS again).
const MIN_TTL: Duration = Duration::from_secs(1);

impl Locator {
    /// A resolver on `dns_servers` (UDP, then TCP for a truncated answer), or on the
    /// system's configuration when there are none.
    pub fn new(settings: DiscoverySettings, kind: DirectoryKind) -> Result<Locator, DiscoveryError> {
        Locator::for_service(settings, kind, Service::Directory)
    }

    /// [`Locator::new`] for `service`'s records.
    pub fn for_service(
        settings: DiscoverySettings,
        kind: DirectoryKind,
        service: Service,
    ) -> Result<Locator, DiscoveryError> {
        let provider = TokioConnectionProvider::default();
        let mut builder = if settings.dns_servers.is_empty() {
            TokioResolver::builder(provider).map_err(|e| DiscoveryError::SystemConfig(e.to_string()))?
        } else {
            let mut config = ResolverConfig::new();
            for addr in &settings.dns_servers {
                config.add_name_server(NameServerConfig::new(*addr, Protocol::Udp));
                config.add_name_server(NameServerConfig::new(*addr, Protocol::Tcp));
            }
            TokioResolver::builder_with_config(config, provider)
        };
        let opts = builder.options_mut();
        opts.positive_max_ttl = Some(settings.max_ttl);
        opts.negative_max_ttl = Some(settings.max_ttl.min(Duration::from_secs(30)));
        opts.timeout = Duration::from_secs(2);
        opts.attempts = 2;
        Ok(Locator { settings, kind, service, resolver: builder.build(), kept: Mutex::new(None) })
    }

    pub fn settings(&self) -> &DiscoverySettings {
        &self.settings
    }

    /// The SRV names asked, in order (site first).
    pub fn names(&self) -> Vec<String> {
        let d = self.settings.domain.trim_end_matches('.');
        if self.service == Service::GlobalCatalog {
            let mut names = Vec::new();
            if let Some(site) = &self.settings.site {
                names.push(format!("_gc._tcp.{site}._sites.{d}"));
            }
            names.push(format!("_gc._tcp.{d}"));
            return names;
        }
        match self.kind {
            DirectoryKind::ActiveDirectory => {
                let mut names = Vec::new();
                if let Some(site) = &self.settings.site {
                    names.push(format!("_ldap._tcp.{site}._sites.dc._msdcs.{d}"));
                }
                names.push(format!("_ldap._tcp.dc._msdcs.{d}"));
                names
            }
            DirectoryKind::Ldap => vec![format!("_ldap._tcp.{d}")],
        }
    }

    /// The servers, best first: the kept answer while it holds (and `fresh` allows it),
    /// else a new one. Fails only when no query found a usable server.
    pub async fn targets(&self, fresh: Freshness) -> Result<Arc<Answer>, DiscoveryError> {
        if fresh == Freshness::Cached {
            if let Some(kept) = self.kept() {
                if kept.valid_until > Instant::now() {
                    return Ok(kept);
                }
            }
        } else {
            self.resolver.clear_cache();
        }
        let answer = Arc::new(self.resolve().await?);
        if let Ok(mut kept) = self.kept.lock() {
            *kept = Some(answer.clone());
        }
        Ok(answer)
    }

    /// The addresses of `host` through this locator's DNS servers, at `port` (for a
    /// referral's host, which names the domain that its DNS resolves).
    pub async fn addresses(&self, host: &str, port: u16) -> Result<Vec<SocketAddr>, String> {
        let ips =
            self.resolver.lookup_ip(format!("{}.", host.trim_end_matches('.'))).await.map_err(|e| e.to_string())?;
        Ok(ips.iter().map(|ip| SocketAddr::new(ip, port)).collect())
    }

    /// The last answer, whether or not it still holds.
    pub fn kept(&self) -> Option<Arc<Answer>> {
        self.kept.lock().ok().and_then(|k| k.clone())
    }

    async fn resolve(&self) -> Result<Answer, DiscoveryError> {
        let mut queries = Vec::new();
        let mut targets: Vec<Arc<Target>> = Vec::new();
        let mut valid_until = Instant::now() + self.settings.max_ttl;
        let names = self.names();
        for (i, name) in names.iter().enumerate() {
            // the site's list (every name but the last) ranks above the domain-wide one
            let tier = if i + 1 < names.len() { 0 } else { 1 };
            match self.srv(name).await {
                Ok((records, until)) => {
                    valid_until = valid_until.min(until.max(Instant::now() + MIN_TTL));
                    queries.push(SrvQuery { name: name.clone(), outcome: Ok(describe(&records)) });
                    for r in rfc2782_random(records) {
                        if targets
                            .iter()
                            .any(|t| t.url.host_str() == Some(r.item.0.as_str()) && t.url.port() == Some(r.item.1))
                        {
                            continue; // the site's DC again in the domain-wide list
                        }
                        match self.target(name, &r, tier).await {
                            Ok(t) => targets.push(Arc::new(t)),
                            Err(e) => {
                                tracing::warn!(srv = %name, target = %r.item.0, error = %e, "an SRV target has no address")
                            }
                        }
                    }
                }
                Err(e) => queries.push(SrvQuery { name: name.clone(), outcome: Err(e) }),
            }
        }
        if targets.is_empty() {
            let said: Vec<String> = queries
                .iter()
                .map(|q| match &q.outcome {
                    Ok(r) if r.is_empty() => format!("{}: no usable record", q.name),
                    Ok(r) => format!("{}: {} (no address for any target)", q.name, r.join(", ")),
                    Err(e) => format!("{}: {e}", q.name),
                })
                .collect();
            return Err(DiscoveryError::NotFound(said.join("; ")));
        }
        Ok(Answer { queries, targets, valid_until })
    }

    /// The SRV records of `name` as (target host, port), and until when they hold. A
    /// lone record with target "." says the service is not offered (RFC 2782): none.
    async fn srv(&self, name: &str) -> Result<(Vec<Srv<(String, u16)>>, Instant), String> {
        let lookup = self.resolver.srv_lookup(format!("{name}.")).await.map_err(|e| e.to_string())?;
        let records = lookup
            .iter()
            .filter(|r| !r.target().is_root())
            .map(|r| Srv {
                priority: r.priority(),
                weight: r.weight(),
                item: (r.target().to_ascii().trim_end_matches('.').to_ascii_lowercase(), r.port()),
            })
            .collect();
        Ok((records, lookup.as_lookup().valid_until()))
    }

    async fn target(&self, name: &str, r: &Srv<(String, u16)>, tier: u8) -> Result<Target, String> {
        let (host, port) = &r.item;
        let ips = self.resolver.lookup_ip(format!("{host}.")).await.map_err(|e| e.to_string())?;
        let addrs: Vec<SocketAddr> = ips.iter().map(|ip| SocketAddr::new(ip, *port)).collect();
        let url = url::Url::parse(&format!("ldap://{host}:{port}")).map_err(|e| format!("{host}:{port}: {e}"))?;
        let ttl = ips.valid_until().saturating_duration_since(Instant::now()).as_secs();
        let why = format!("priority {} weight {} from {name} (address TTL {ttl} s)", r.priority, r.weight);
        Ok(Target { url, addrs, rank: Rank { tier, priority: r.priority }, why })
    }
}

fn describe(records: &[Srv<(String, u16)>]) -> Vec<String> {
    records
        .iter()
        .map(|r| format!("{}:{} (priority {}, weight {})", r.item.0, r.item.1, r.priority, r.weight))
        .collect()
}
