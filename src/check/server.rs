//! Server checks: DNS, TCP, TLS (chain and host name), token, protocol version.

use std::net::{IpAddr, SocketAddr};
use std::time::Duration;

use connector_actors::link::{clock, LinkError, PortalClient, RequestBody};
use connector_actors::protocol::wire::{RegisterRequest, RegisterResponse, PROTOCOL_VERSION};
use reqwest::Method;

use super::local::Lock;
use super::{Check, Report};
use crate::config::Settings;

const TOKEN_FIX: &str = "copy the token again from the Integration Connector Credential Profile in the portal into server.token (or server.token_file, or IC_SERVER_TOKEN)";

pub async fn checks(s: &Settings, lock: Lock, r: &mut Report) {
    let Ok(url) = url::Url::parse(&s.link.base_url) else {
        r.add(Check::fail("server", format!("{} is not a URL", s.link.base_url), "check server.host"));
        return;
    };
    // Built first: an unusable server.ca_file or proxy stops the service at start (exit
    // 64, a config error), whether or not the portal answers now.
    let client = match PortalClient::new(&s.link) {
        Ok(c) => c,
        Err(e) => {
            let fix = "point server.ca_file at a PEM file of the CA that signed the portal's certificate, or correct server.proxy";
            r.add(Check::fail("config", format!("server.ca_file / server.proxy: {e}"), fix));
            return;
        }
    };
    let host = url.host_str().unwrap_or_default().trim_matches(['[', ']']).to_owned();
    let port = url.port_or_known_default().unwrap_or(443);
    if let Some(proxy) = &s.link.proxy {
        // `check` output is shown by install.sh and kept in apt's logs: no credentials.
        let proxy = crate::config::without_credentials(proxy);
        r.add(Check::skip("server.dns", format!("requests go through the proxy {proxy}, which resolves {host}")));
        r.add(Check::skip("server.tcp", format!("requests go through the proxy {proxy}")));
    } else {
        let Some(addrs) = dns(&host, port, r).await else {
            r.add(Check::skip("server.tcp", "server.dns failed"));
            skip_rest(r, &url, "server.dns failed");
            return;
        };
        if !tcp(&addrs, s.link.connect_timeout, r).await {
            skip_rest(r, &url, "server.tcp failed");
            return;
        }
    }
    if url.scheme() == "https" && !tls(&client, &host, r).await {
        r.add(Check::skip("server.token", "server.tls failed"));
        r.add(Check::skip("server.protocol", "server.tls failed"));
        return;
    }
    if url.scheme() == "http" {
        r.add(Check::skip("server.tls", "server.protocol is \"http\": no TLS"));
    }
    register(s, &client, lock, r).await;
}

/// Skips the checks after a failed DNS or TCP step (`server.tls` only for `https`).
fn skip_rest(r: &mut Report, url: &url::Url, why: &str) {
    if url.scheme() == "https" {
        r.add(Check::skip("server.tls", why));
    }
    r.add(Check::skip("server.token", why));
    r.add(Check::skip("server.protocol", why));
}

async fn dns(host: &str, port: u16, r: &mut Report) -> Option<Vec<SocketAddr>> {
    if let Ok(ip) = host.parse::<IpAddr>() {
        r.add(Check::ok("server.dns", format!("{host} is an IP address (no DNS needed)")));
        return Some(vec![SocketAddr::new(ip, port)]);
    }
    let lookup = tokio::time::timeout(Duration::from_secs(10), tokio::net::lookup_host((host, port))).await;
    let fix = "check the spelling of server.host, and this machine's DNS settings (/etc/resolv.conf): `getent hosts NAME` must answer";
    match lookup {
        Ok(Ok(addrs)) => {
            let addrs: Vec<SocketAddr> = addrs.collect();
            if addrs.is_empty() {
                r.add(Check::fail("server.dns", format!("{host} has no address"), fix));
                return None;
            }
            let list: Vec<String> = addrs.iter().map(|a| a.ip().to_string()).collect();
            r.add(Check::ok("server.dns", format!("{host} resolves to {}", list.join(", "))));
            Some(addrs)
        }
        Ok(Err(e)) => {
            r.add(Check::fail("server.dns", format!("cannot resolve {host}: {e}"), fix));
            None
        }
        Err(_) => {
            r.add(Check::fail("server.dns", format!("resolving {host} took more than 10 s"), fix));
            None
        }
    }
}

async fn tcp(addrs: &[SocketAddr], timeout: Duration, r: &mut Report) -> bool {
    let mut causes = Vec::new();
    for a in addrs {
        match tokio::time::timeout(timeout, tokio::net::TcpStream::connect(a)).await {
            Ok(Ok(_)) => {
                r.add(Check::ok("server.tcp", format!("{a} accepts connections")));
                return true;
            }
            Ok(Err(e)) if e.kind() == std::io::ErrorKind::ConnectionRefused => {
                causes.push(format!("{a} refused the connection (nothing listens on port {})", a.port()))
            }
            Ok(Err(e)) => causes.push(format!("{a}: {e}")),
            Err(_) => causes.push(format!("{a} did not answer within {timeout:?} (a firewall dropping packets?)")),
        }
    }
    r.add(Check::fail(
        "server.tcp",
        causes.join("; "),
        "check server.port, that the portal is up, and that firewalls let this machine reach it (or set server.proxy)",
    ));
    false
}

/// Any HTTP answer proves the handshake: chain trusted and host name matched.
async fn tls(client: &PortalClient, host: &str, r: &mut Report) -> bool {
    match client.call(Method::GET, "/", None, None, Some(Duration::from_secs(20))).await {
        Err(e @ LinkError::Certificate(_)) => {
            r.add(Check::fail(
                "server.tls",
                format!("the certificate chain is not trusted: {e}"),
                "set server.ca_file to the PEM of the CA that signed the portal's certificate (or install it in the system's trust store)",
            ));
            false
        }
        Err(e @ LinkError::HostName(_)) => {
            r.add(Check::fail(
                "server.tls",
                format!("the certificate is not valid for the host name {host}: {e}"),
                "set server.host to a name the certificate was issued for (as the portal's URL shows it)",
            ));
            false
        }
        Err(e @ (LinkError::Network(_) | LinkError::Timeout(_) | LinkError::Refused(_) | LinkError::Dns(_))) => {
            r.add(Check::fail(
                "server.tls",
                format!("the TLS handshake failed: {e}"),
                "check that server.port is the portal's HTTPS port (or set server.protocol = \"http\" if it only speaks HTTP)",
            ));
            false
        }
        _ => {
            r.add(Check::ok("server.tls", format!("certificate chain trusted and valid for {host}")));
            true
        }
    }
}

/// `POST /register` with the stored connector id (or, on a fresh install, none: the new id
/// is stored, so the service keeps it). Shows the token and the protocol at once.
async fn register(s: &Settings, client: &PortalClient, lock: Lock, r: &mut Report) {
    let mut queue = match lock {
        Lock::Free(q) => q,
        Lock::Held => {
            r.add(Check::skip(
                "server.token",
                "the running instance holds the storage; its connection state is on its status page",
            ));
            r.add(Check::skip("server.protocol", "the running instance holds the storage"));
            return;
        }
        Lock::NotChecked => {
            r.add(Check::skip("server.token", "the storage is not usable"));
            r.add(Check::skip("server.protocol", "the storage is not usable"));
            return;
        }
    };
    let body = RegisterRequest {
        connector_id: queue.connector_id().ok().flatten(),
        name: s.link.name.clone(),
        hostname: s.link.hostname.clone(),
        os: std::env::consts::OS.into(),
        arch: std::env::consts::ARCH.into(),
        version: env!("CARGO_PKG_VERSION").into(),
        protocol_version: PROTOCOL_VERSION,
        capabilities: connector_actors::protocol::JobType::available()
            .filter(|t| t.family() == connector_actors::protocol::Family::Test || !s.directories.is_empty())
            .map(|t| t.name().to_owned())
            .collect(),
        directories: s.link.directories.clone(),
        max_concurrency: s.link.max_concurrency,
    };
    let json = serde_json::to_value(&body).unwrap_or_default();
    let watch = clock::Stopwatch::start();
    let answer = client.call(Method::POST, "/register", None, Some(RequestBody::Json(json)), None).await;
    let not_portal = "check that server.host and server.port point at the ServiceOps portal itself (not another site or a proxy's page), and that the portal is recent enough";
    match answer {
        Err(LinkError::Unauthorized) => {
            r.add(Check::fail("server.token", LinkError::Unauthorized.to_string(), TOKEN_FIX));
            r.add(Check::skip("server.protocol", "server.token failed"));
        }
        Err(e @ LinkError::Disabled(_)) => {
            r.add(Check::ok("server.token", "the token is accepted"));
            r.add(Check::fail(
                "server.protocol",
                e.to_string(),
                "unarchive the connector in the portal's Integration Connector List, or register a new one",
            ));
        }
        Err(e @ (LinkError::NotFound(_) | LinkError::BadRequest(_) | LinkError::BadResponse(_)))
        | Err(e @ LinkError::Server(405, _)) => {
            r.add(Check::ok("server.token", "the server did not refuse the token"));
            r.add(Check::fail("server.protocol", format!("the server does not speak the Integration Connector protocol version {PROTOCOL_VERSION} at {}: {e}", s.link.base_url), not_portal));
        }
        Err(e @ LinkError::Redirected { .. }) => {
            r.add(Check::skip("server.token", format!("the server redirected the registration: {e}")));
            r.add(Check::fail(
                "server.protocol",
                e.to_string(),
                "use the portal's own address (the one the redirect names, if that is the portal); a proxy or load balancer in front of it must pass API calls through, not redirect them",
            ));
        }
        Err(e) => {
            r.add(Check::skip("server.token", format!("the server did not answer the registration: {e}")));
            r.add(Check::fail("server.protocol", e.to_string(), "look at the portal's health; retry later"));
        }
        Ok(a) => match a.json::<RegisterResponse>() {
            Ok(reg) => {
                r.add(Check::ok("server.token", "the token is accepted"));
                if let Err(e) = queue.set_connector_id(&reg.connector_id) {
                    r.add(Check::warn("server.protocol", format!("cannot store the connector id: {e}")));
                }
                r.add(Check::ok(
                    "server.protocol",
                    format!(
                        "protocol version {PROTOCOL_VERSION}; connector id {}, heartbeat every {} s",
                        reg.connector_id, reg.heartbeat_interval_s
                    ),
                ));
                clock_check(watch.offset_ms(reg.server_time.as_deref(), a.date_ms), r);
            }
            Err(e) => {
                r.add(Check::ok("server.token", "the server did not refuse the token"));
                r.add(Check::fail(
                    "server.protocol",
                    format!("the answer to /register is not protocol version {PROTOCOL_VERSION}: {e}"),
                    not_portal,
                ));
            }
        },
    }
}

/// `server.clock`: the offset to the portal's clock (deadlines are judged on the
/// portal's clock, but a large offset is a machine to fix).
fn clock_check(offset_ms: Option<i64>, r: &mut Report) {
    match offset_ms {
        Some(ms) if clock::offset_is_large(ms) => r.add(Check::warn("server.clock", clock::describe(ms))),
        Some(ms) => r.add(Check::ok(
            "server.clock",
            format!("this machine's clock agrees with the portal's: {}", clock::describe(ms)),
        )),
        None => r.add(Check::skip("server.clock", "the portal sent neither server_time nor a Date header")),
    }
}
