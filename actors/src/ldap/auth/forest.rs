//! A login in Global Catalog mode (`directory/forest.rs`): the user found at a GC server,
//! then read, bound and asked about at a DC of the user's own domain.
//!
//! What goes where:
//! - the user search (the directory's filter, base "" = the whole forest): the GC;
//! - the user's entry (every attribute a login reads, which the GC's partial copy may
//!   lack), the user's bind, the group and expiry reads: the user's domain's DC (the
//!   directory's own pool when the user is in its domain; else a DC of that domain found
//!   through DNS, on a connection bound as the service account, opened for this login);
//! - the lockout shield's domain policy: the directory's own domain (another domain's
//!   policy is not read: set `login_failure_limit` below the lowest of the forest).

use std::sync::Arc;

use ldap3::{Ldap, Scope};
use rustls::ClientConfig;

use super::RawEntry;
use crate::directory::bind::open_service;
use crate::directory::connect::Endpoint;
use crate::directory::discovery::{DiscoverySettings, Freshness, Locator, Service, Target};
use crate::directory::forest::{dn_domain, GcServers};
use crate::directory::{DirectoryKind, DirectorySettings, Lease};
use crate::errors::{ErrorCode, JobError};
use crate::ldap::codes::{rc, LdapFailure};
use crate::ldap::escape::user_filter;

/// Where the user's domain is served.
pub enum Home {
    /// The directory's own domain: its pool and its bind connections.
    Directory,
    /// Another domain of the forest: a DC found through DNS, and a connection to it bound
    /// as the service account.
    Other { target: Arc<Target>, ldap: Ldap, settings: Arc<DirectorySettings> },
}

/// The user `username` names in the forest, read at its domain's DC with `attrs`, and
/// where that is; `None` when the GC finds none or several.
pub async fn find_user(
    lease: &Lease,
    gc: &GcServers,
    username: &str,
    attrs: &[&str],
) -> Result<Option<(RawEntry, Home)>, JobError> {
    let s = &lease.settings;
    let Some(dn) = gc_search(lease, gc, username).await? else {
        return Ok(None);
    };
    let own = own_domain(s);
    let user_domain = dn_domain(&dn);
    if user_domain.is_none() || user_domain == own {
        let entry = read(&lease.ldap, s, &dn, attrs).await?;
        return Ok(entry.map(|e| (e, Home::Directory)));
    }
    let domain = user_domain.unwrap_or_default();
    let (target, ldap) = connect_to(s, &lease.tls, &dn_discovery(s, &domain), Service::Directory).await?;
    let mut other = (**s).clone();
    // The other domain's own naming context: its groups, not the directory's.
    other.base_dn = domain.split('.').map(|l| format!("DC={l}")).collect::<Vec<_>>().join(",");
    other.login.group_base_dn = Some(other.base_dn.clone());
    let entry = read(&ldap, s, &dn, attrs).await?;
    Ok(entry.map(|e| (e, Home::Other { target, ldap, settings: Arc::new(other) })))
}

/// The directory's own domain: `domain`, else the `DC=` components of `base_dn`.
fn own_domain(s: &DirectorySettings) -> Option<String> {
    s.discovery.as_ref().map(|d| d.domain.clone()).or_else(|| dn_domain(&s.base_dn))
}

/// The discovery settings of `domain`: the directory's DNS servers and limits.
fn dn_discovery(s: &DirectorySettings, domain: &str) -> DiscoverySettings {
    let mut d = s.discovery.clone().unwrap_or(DiscoverySettings {
        domain: String::new(),
        site: None,
        dns_servers: Vec::new(),
        max_ttl: std::time::Duration::from_secs(300),
        failback_after: std::time::Duration::from_secs(60),
    });
    d.domain = domain.to_owned();
    d
}

/// The DN of the one entry the filter finds at a GC server; `None` for none or several.
async fn gc_search(lease: &Lease, gc: &GcServers, username: &str) -> Result<Option<String>, JobError> {
    let s = &lease.settings;
    let (_, mut ldap) = gc_connect(s, &lease.tls, gc).await?;
    let filter = user_filter(&s.user_filter, username);
    let res = ldap
        .with_timeout(s.operation_timeout)
        .with_search_options(ldap3::SearchOptions::new().sizelimit(2))
        .search("", Scope::Subtree, &filter, vec!["1.1"])
        .await
        .map_err(|e| LdapFailure::from_ldap(e).to_job_error("user search at the Global Catalog"));
    let _ = ldap.unbind().await;
    let res = res?;
    if !rc::is_complete_or_size_limited(res.1.rc) {
        let failure = LdapFailure::Result { rc: res.1.rc, text: res.1.text.clone() };
        return Err(failure.to_job_error("user search at the Global Catalog"));
    }
    let dns: Vec<String> =
        res.0.into_iter().filter(|e| !e.is_ref()).map(|e| ldap3::SearchEntry::construct(e).dn).collect();
    match dns.as_slice() {
        [one] => Ok(Some(one.clone())),
        [] => Ok(None),
        _ => {
            tracing::warn!(matches = dns.len(), "login name matches more than one entry of the forest; refused");
            Ok(None)
        }
    }
}

/// The entry `dn` with `attrs`, read at base scope.
async fn read(ldap: &Ldap, s: &DirectorySettings, dn: &str, attrs: &[&str]) -> Result<Option<RawEntry>, JobError> {
    let found = RawEntry::search(ldap.clone(), s.operation_timeout, dn, Scope::Base, "(objectClass=*)", attrs)
        .await
        .map_err(|e| e.to_job_error("reading the user at its domain's DC"))?;
    Ok(found.into_iter().next())
}

/// A service-bound connection to the first GC server that answers (`gc_urls` in order,
/// or `_gc._tcp.<forest>`); the server's URL with it. Errors: `directory_unavailable`
/// naming the last server's failure, or DNS's.
pub async fn gc_connect(
    s: &DirectorySettings,
    tls: &Arc<ClientConfig>,
    gc: &GcServers,
) -> Result<(Arc<Target>, Ldap), JobError> {
    match gc {
        GcServers::Urls(urls) => {
            connect_any(s, tls, urls.iter().map(|u| Arc::new(Target::fixed(u.clone()))).collect()).await
        }
        GcServers::Dns { forest } => connect_to(s, tls, &dn_discovery(s, forest), Service::GlobalCatalog).await,
    }
}

/// A service-bound connection to the first server `settings` finds through DNS for
/// `service` that answers.
async fn connect_to(
    s: &DirectorySettings,
    tls: &Arc<ClientConfig>,
    settings: &DiscoverySettings,
    service: Service,
) -> Result<(Arc<Target>, Ldap), JobError> {
    let unavailable = |e: String| JobError::new(ErrorCode::DirectoryUnavailable, e);
    let locator = Locator::for_service(settings.clone(), DirectoryKind::ActiveDirectory, service)
        .map_err(|e| unavailable(e.to_string()))?;
    let answer = locator.targets(Freshness::Cached).await.map_err(|e| unavailable(e.to_string()))?;
    connect_any(s, tls, answer.targets.clone()).await
}

/// A service-bound connection to the first of `targets` that answers, with the
/// directory's TLS rules (StartTLS on `ldap://` unless `starttls = false`).
async fn connect_any(
    s: &DirectorySettings,
    tls: &Arc<ClientConfig>,
    targets: Vec<Arc<Target>>,
) -> Result<(Arc<Target>, Ldap), JobError> {
    let mut last = String::from("no server");
    for target in targets {
        let ep = Endpoint {
            url: &target.url,
            addrs: &target.addrs,
            tls: tls.clone(),
            plain: s.plain_urls,
            connect_timeout: s.connect_timeout,
        };
        match open_service(&ep, s).await {
            Ok(ldap) => return Ok((target.clone(), ldap)),
            Err(e) => last = format!("{}: {}", target.url, e.to_job_error("connect").message),
        }
    }
    Err(JobError::new(ErrorCode::DirectoryUnavailable, format!("no server of the forest answered ({last})")))
}
