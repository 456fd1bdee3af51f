//! Directory checks, for each configured directory: TCP (every URL), TLS, the service
//! account's bind, the base DN, a search with the user filter, and (AD) the scope
//! policy's protected groups and the password policies.

use std::net::ToSocketAddrs;
use std::time::Duration;

use connector_actors::ad::attributes::{check_writable, AttributePolicy};
use connector_actors::ad::protected::Protected;
use connector_actors::ad::schema::Schema;
use connector_actors::directory::bind;
use connector_actors::directory::connect::{open, Endpoint};
use connector_actors::directory::{tls, DirectoryKind, DirectorySettings, PlainUrlSecurity};
use connector_actors::errors::TlsProblem;
use connector_actors::ldap::codes::{rc, LdapFailure};
use connector_actors::ldap::escape;
use ldap3::{Scope, SearchOptions};

use super::{Check, Report};

pub async fn checks(d: &DirectorySettings, r: &mut Report) {
    let n = |what: &str| format!("directory.{}.{what}", d.name);
    let config = match tls::client_config(d.ca_pem.as_deref()) {
        Ok(c) => c,
        // The service refuses to start with it (exit 64), as with any config error.
        Err(e) => {
            r.add(Check::fail(
                "config",
                format!("directories.{}.ca_file: {e}", d.name),
                format!("set directories.{}.ca_file to the CA that signed the directory's certificate", d.name),
            ));
            return;
        }
    };
    let mut reachable = Vec::new();
    for target in super::discovery::servers(d, r).await {
        let url = &target.url;
        match tcp(url, &target.addrs, d.connect_timeout).await {
            Ok(addr) => {
                r.add(Check::ok(n("tcp"), format!("{url}: {addr} accepts connections")));
                reachable.push(target);
            }
            Err(cause) => r.add(Check::fail(
                n("tcp"),
                format!("{url}: {cause}"),
                format!("check the host and port in directories.{}.urls and that firewalls let this machine reach the directory", d.name),
            )),
        }
    }
    let Some(target) = reachable.first() else {
        for what in ["tls", "bind", "base_dn", "user_filter"] {
            r.add(Check::skip(n(what), "no URL of this directory accepts connections"));
        }
        super::keytab::unbound(d, r);
        return;
    };
    if d.discovery.is_some() {
        let why = format!("{} ({}): the first in that order that accepts connections", target.url, target.why);
        r.add(Check::ok(n("discovery"), format!("chose {why}")));
    }
    let url = &target.url;
    let ep = Endpoint {
        url,
        addrs: &target.addrs,
        tls: d.bind.tls(&config),
        plain: d.plain_urls,
        connect_timeout: d.connect_timeout,
    };
    let mut ldap = match open(&ep).await {
        Ok(l) => l,
        Err(e) => {
            let text = e.to_string();
            let fix = match TlsProblem::classify(&text) {
                Some(TlsProblem::HostName) => format!(
                    "use a host name in directories.{}.urls that the directory's certificate was issued for",
                    d.name
                ),
                Some(TlsProblem::Untrusted) => format!(
                    "set directories.{}.ca_file to the PEM of the CA that signed the directory's certificate",
                    d.name
                ),
                None => "check that the URL's port speaks LDAP (389, StartTLS) or LDAPS (636)".to_owned(),
            };
            r.add(Check::fail(n("tls"), format!("{url}: {text}"), fix));
            for what in ["bind", "base_dn", "user_filter"] {
                r.add(Check::skip(n(what), "directory TLS failed"));
            }
            super::keytab::unbound(d, r);
            return;
        }
    };
    let how = match (url.scheme(), d.plain_urls) {
        ("ldaps", _) => "LDAPS: certificate chain trusted and valid for the host".to_owned(),
        (_, PlainUrlSecurity::StartTls) => "StartTLS: certificate chain trusted and valid for the host".to_owned(),
        _ => "no TLS (starttls = false): password jobs are refused on this directory".to_owned(),
    };
    r.add(Check::ok(n("tls"), format!("{url}: {how}")));
    let timeout = d.operation_timeout;
    let host = url.host_str().unwrap_or_default().trim_matches(['[', ']']);
    if let Err(e) = bind::bind(&mut ldap, d, host, timeout).await {
        r.add(super::credentials::bind_failed(d, &e));
        super::keytab::unbound(d, r);
        r.add(Check::skip(n("base_dn"), "bind failed"));
        r.add(Check::skip(n("user_filter"), "bind failed"));
        let _ = ldap.unbind().await;
        return;
    }
    super::credentials::bound(d, &mut ldap, r).await;
    super::credentials::expiry(d, &ldap, r).await;
    super::keytab::versions(d, &ldap, r).await;
    let base = ldap.with_timeout(timeout).search(&d.base_dn, Scope::Base, "(objectClass=*)", vec!["1.1"]).await;
    let base_ok = matches!(&base, Ok(res) if res.1.rc == rc::SUCCESS);
    match base.map_err(LdapFailure::from_ldap).map(|res| res.1) {
        Ok(res) if res.rc == rc::SUCCESS => r.add(Check::ok(n("base_dn"), format!("{} exists", d.base_dn))),
        Ok(res) if res.rc == rc::NO_SUCH_OBJECT => r.add(Check::fail(
            n("base_dn"),
            format!("{} does not exist (LDAP 32, noSuchObject)", d.base_dn),
            format!("set directories.{}.base_dn to an existing entry, e.g. the domain's DC=… root", d.name),
        )),
        Ok(res) => r.add(Check::fail(
            n("base_dn"),
            format!("reading {} failed: LDAP {} {}", d.base_dn, res.rc, res.text),
            "check that the service account may read the base DN",
        )),
        Err(e) => r.add(Check::fail(
            n("base_dn"),
            format!("reading {} failed: {e}", d.base_dn),
            "check the directory's health",
        )),
    }
    if !base_ok {
        r.add(Check::skip(n("user_filter"), "the base DN cannot be read"));
        let _ = ldap.unbind().await;
        return;
    }
    let filter = escape::user_filter(&d.user_filter, "ic-check-probe");
    let search = ldap
        .with_search_options(SearchOptions::new().sizelimit(1))
        .with_timeout(timeout)
        .search(&d.base_dn, Scope::Subtree, &filter, vec!["1.1"])
        .await;
    match search {
        // sizeLimitExceeded: the filter works.
        Ok(res) if rc::is_complete_or_size_limited(res.1.rc) => {
            r.add(Check::ok(n("user_filter"), format!("searching {filter} works")))
        }
        Ok(res) => r.add(Check::fail(
            n("user_filter"),
            format!("searching {filter} failed: LDAP {} {}", res.1.rc, res.1.text),
            format!("correct directories.{}.user_filter (a valid LDAP filter with {{username}})", d.name),
        )),
        Err(e) => r.add(Check::fail(
            n("user_filter"),
            format!("searching {filter} failed: {e}"),
            format!("correct directories.{}.user_filter (a valid LDAP filter with {{username}})", d.name),
        )),
    }
    if d.kind == DirectoryKind::ActiveDirectory {
        protected_groups(d, &ldap, r).await;
        writable_attributes(d, &ldap, r).await;
        super::password_policy::checks(d, &ldap, r).await;
    }
    super::imports::checks(d, &ldap, r).await;
    super::login::checks(d, &ldap, r).await;
    let _ = ldap.unbind().await;
}

/// The scope policy's protected groups, resolved as the AD jobs will resolve them: a
/// configured group that does not resolve would refuse every AD write.
async fn protected_groups(d: &DirectorySettings, ldap: &ldap3::Ldap, r: &mut Report) {
    let name = format!("directory.{}.protected_groups", d.name);
    match Protected::resolve(ldap.clone(), d.operation_timeout, &d.policy.protected_groups, &d.bind_dn).await {
        Ok(p) => r.add(Check::ok(
            name,
            format!(
                "{} protected principals resolved ({} configured, the rest built in)",
                p.len(),
                d.policy.protected_groups.len()
            ),
        )),
        Err(e) => r.add(Check::fail(
            name,
            e.message,
            format!(
                "correct directories.{}.policy.protected_groups (a DN, CN, sAMAccountName or SID of an existing group)",
                d.name
            ),
        )),
    }
}

/// The first of `addrs` (or of the URL's host's addresses when there are none) that
/// accepts a TCP connection.
async fn tcp(url: &url::Url, addrs: &[std::net::SocketAddr], timeout: Duration) -> Result<String, String> {
    let host = url.host_str().ok_or("no host")?.trim_matches(['[', ']']).to_owned();
    let port = url.port().unwrap_or(if url.scheme() == "ldaps" { 636 } else { 389 });
    let target = format!("{host}:{port}");
    let known = addrs.to_vec();
    tokio::task::spawn_blocking(move || {
        let addrs: Vec<_> = if known.is_empty() {
            (host.as_str(), port).to_socket_addrs().map_err(|e| format!("cannot resolve {host}: {e}"))?.collect()
        } else {
            known
        };
        let mut causes = Vec::new();
        for a in addrs {
            match std::net::TcpStream::connect_timeout(&a, timeout) {
                Ok(_) => return Ok(a.to_string()),
                Err(e) if e.kind() == std::io::ErrorKind::ConnectionRefused => {
                    causes.push(format!("{a} refused the connection (nothing listens on port {port})"))
                }
                Err(e) => causes.push(format!("{a}: {e}")),
            }
        }
        Err(if causes.is_empty() { format!("{target} has no address") } else { causes.join("; ") })
    })
    .await
    .map_err(|e| e.to_string())?
}

/// Each `writable_attributes` entry, resolved through the schema as the AD jobs resolve
/// it: one that names no attribute (a typo) or one the built-in policy always refuses
/// allows nothing, which the administrator should hear before a job fails on it.
async fn writable_attributes(d: &DirectorySettings, ldap: &ldap3::Ldap, r: &mut Report) {
    let Some(list) = &d.policy.writable_attributes else { return };
    let name = format!("directory.{}.writable_attributes", d.name);
    let schema = match Schema::load(&mut ldap.clone(), d.operation_timeout).await {
        Ok(s) => s,
        Err(e) => return r.add(Check::warn(name, format!("cannot read the schema to check the list: {e}"))),
    };
    let policy = AttributePolicy::default();
    let mut idle = Vec::new();
    for written in list {
        match check_writable(&schema, &policy, written) {
            Ok(_) => {}
            Err(e) => idle.push(format!("`{written}`: {}", e.message)),
        }
    }
    if idle.is_empty() {
        r.add(Check::ok(name, format!("{} attributes, each in the schema and writable", list.len())));
    } else {
        r.add(Check::warn(name, format!("entries that allow nothing (a typo?): {}", idle.join("; "))));
    }
}
