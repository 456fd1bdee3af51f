//! Opening one LDAP connection: our own TCP stream with TCP_NODELAY (ldap3 does not set
//! it; without it every new TLS connection costs ~40 ms of Nagle + delayed ACK), then
//! LDAPS or StartTLS, then an optional simple bind whose result code is checked
//! (`simple_bind` returns `Ok` for a wrong password).

use std::net::{SocketAddr, TcpStream, ToSocketAddrs};
use std::sync::Arc;
use std::time::Duration;

use ldap3::{Ldap, LdapConnAsync, LdapConnSettings, StdStream};
use rustls::ClientConfig;

use super::settings::PlainUrlSecurity;
use crate::ldap::codes::{rc, LdapFailure};

pub struct Endpoint<'a> {
    pub url: &'a url::Url,
    /// Where to connect when the URL's host was already resolved (a DNS-discovered
    /// server: its name resolved through the discovery's DNS servers); empty: the
    /// system resolves the host. TLS verifies the URL's host either way.
    pub addrs: &'a [SocketAddr],
    pub tls: Arc<ClientConfig>,
    pub plain: PlainUrlSecurity,
    pub connect_timeout: Duration,
}

/// Connects (no bind). The connection's driver runs as a spawned task.
pub async fn open(ep: &Endpoint<'_>) -> Result<Ldap, LdapFailure> {
    let host = ep.url.host_str().ok_or_else(|| LdapFailure::Connect(format!("{} has no host", ep.url)))?.to_owned();
    let ldaps = ep.url.scheme() == "ldaps";
    let port = ep.url.port().unwrap_or(if ldaps { 636 } else { 389 });
    let timeout = ep.connect_timeout;
    let addr = format!("{host}:{port}");
    let known = ep.addrs.to_vec();
    let stream = tokio::task::spawn_blocking(move || -> Result<TcpStream, String> {
        let mut last = String::from("no address");
        let addrs: Vec<SocketAddr> = if known.is_empty() {
            addr.to_socket_addrs().map_err(|e| format!("cannot resolve {addr}: {e}"))?.collect()
        } else {
            known
        };
        for a in addrs {
            match TcpStream::connect_timeout(&a, timeout) {
                Ok(s) => {
                    s.set_nodelay(true).map_err(|e| e.to_string())?;
                    return Ok(s);
                }
                Err(e) => last = format!("{a}: {e}"),
            }
        }
        Err(last)
    })
    .await
    .map_err(|e| LdapFailure::Connect(e.to_string()))?
    .map_err(LdapFailure::Connect)?;
    let settings = LdapConnSettings::new()
        .set_conn_timeout(timeout)
        .set_config(ep.tls.clone())
        .set_starttls(!ldaps && ep.plain == PlainUrlSecurity::StartTls)
        .set_std_stream(StdStream::Tcp(stream));
    let (conn, ldap) = LdapConnAsync::from_url_with_settings(settings, &super::tls::ip_literal::url_for_ldap3(ep.url))
        .await
        .map_err(|e| LdapFailure::Connect(format!("{}: {e}", ep.url)))?;
    tokio::spawn(async move {
        if let Err(e) = conn.drive().await {
            tracing::debug!(error = %e, "directory connection ended");
        }
    });
    Ok(ldap)
}

/// Connects and binds (checked); a connection whose bind failed is closed.
pub async fn open_bound(ep: &Endpoint<'_>, dn: &str, password: &str, timeout: Duration) -> Result<Ldap, LdapFailure> {
    let mut ldap = open(ep).await?;
    match bind(&mut ldap, dn, password, timeout).await {
        Ok(()) => Ok(ldap),
        Err(e) => {
            let _ = ldap.unbind().await;
            Err(e)
        }
    }
}

/// Simple bind, checked: `Ok` only for result code 0.
pub async fn bind(ldap: &mut Ldap, dn: &str, password: &str, timeout: Duration) -> Result<(), LdapFailure> {
    LdapFailure::checked(ldap.with_timeout(timeout).simple_bind(dn, password).await)
}

/// Whether the server answers a root DSE read (RFC 4512 §5.1) within `timeout`: the
/// cheapest request every directory answers, to any identity. A connection a firewall
/// dropped without a reset, or a hung server, does not.
pub async fn answers(ldap: &mut Ldap, timeout: Duration) -> bool {
    let read = ldap.with_timeout(timeout).search("", ldap3::Scope::Base, "(objectClass=*)", vec!["1.1"]);
    matches!(read.await, Ok(ldap3::SearchResult(_, ref r)) if r.rc == rc::SUCCESS)
}
