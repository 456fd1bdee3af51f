//! Who may reach the UI. On loopback, only requests naming loopback in `Host`: a web page
//! the administrator opens elsewhere could otherwise point its own DNS name at 127.0.0.1
//! (DNS rebinding) and read the status page and log tail through the browser. And the
//! admin token, compared in constant time so its bytes cannot be guessed by timing.

use std::net::SocketAddr;

use actix_web::body::{BoxBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header;
use actix_web::middleware::Next;
use actix_web::{web, Error, HttpResponse};
use connector_actors::secret::Secret;
use subtle::ConstantTimeEq;

/// Which `Host` values the UI answers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HostPolicy {
    /// Listening on loopback: a loopback IP literal (`127.0.0.1`, `127.0.0.2`, `[::1]`) or `localhost`, with or without a port.
    Loopback,
    /// Listening beyond loopback (the admin token guards it): any host name.
    Any,
}

impl HostPolicy {
    pub fn for_listen(addr: SocketAddr) -> HostPolicy {
        if addr.ip().is_loopback() {
            HostPolicy::Loopback
        } else {
            HostPolicy::Any
        }
    }
}

/// Whether `host` (a `Host` header or an HTTP/2 authority) names loopback.
pub fn is_loopback_host(host: &str) -> bool {
    let host = host.trim().to_ascii_lowercase();
    // An IP literal is never a rebinding name: any loopback one passes (the UI may listen
    // on 127.0.0.2, and [::1] has several spellings).
    let (loopback, port) = match host.strip_prefix('[') {
        Some(rest) => match rest.split_once(']') {
            Some((ip, port)) => (ip.parse::<std::net::Ipv6Addr>().is_ok_and(|ip| ip.is_loopback()), port),
            None => return false,
        },
        None => {
            let (name, port) = match host.split_once(':') {
                Some((name, port)) => (name, &host[name.len()..][..port.len() + 1]),
                None => (host.as_str(), ""),
            };
            (name == "localhost" || name.parse::<std::net::Ipv4Addr>().is_ok_and(|ip| ip.is_loopback()), port)
        }
    };
    let port_ok = port.is_empty()
        || port
            .strip_prefix(':')
            .is_some_and(|p| !p.is_empty() && p.len() <= 5 && p.bytes().all(|b| b.is_ascii_digit()));
    port_ok && loopback
}

/// Middleware: 421 Misdirected Request for a `Host` the policy refuses.
pub async fn check_host(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, Error> {
    let policy = req.app_data::<web::Data<HostPolicy>>().map_or(HostPolicy::Loopback, |p| *p.get_ref());
    if policy == HostPolicy::Loopback {
        let host = match req.headers().get(header::HOST) {
            Some(h) => h.to_str().ok().map(str::to_owned),
            None => req.uri().authority().map(|a| a.as_str().to_owned()),
        };
        // A request naming no host at all (an HTTP/1.0 monitoring probe) cannot come
        // from a rebinding browser, which always sends the name it resolved.
        if host.as_deref().is_some_and(|h| !is_loopback_host(h)) {
            let body = "this web UI listens on loopback and answers only Host 127.0.0.1, localhost or [::1] \
                        (protection against DNS rebinding): open it as http://127.0.0.1:PORT/\n";
            return Ok(req.into_response(HttpResponse::MisdirectedRequest().content_type("text/plain").body(body)));
        }
    }
    next.call(req).await.map(ServiceResponse::map_into_boxed_body)
}

/// Whether `given` is the admin token; the time taken does not depend on where they differ.
pub fn token_matches(given: &str, token: &Secret) -> bool {
    given.as_bytes().ct_eq(token.expose().as_bytes()).into()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_loopback_names_pass_the_host_check() {
        for ok in ["127.0.0.1", "127.0.0.1:8086", "localhost", "LOCALHOST:80", "[::1]", "[::1]:8086"] {
            assert!(is_loopback_host(ok), "{ok}");
        }
        for bad in [
            "attacker.example",
            "attacker.example:8086",
            "127.0.0.1.attacker.example",
            "localhost.attacker.example:80",
            "127.0.0.1:",
            "127.0.0.1:80:80",
            "127.0.0.1:http",
            "[::1]x",
            "[::2]:80",
            "",
            "10.0.0.1:8086",
        ] {
            assert!(!is_loopback_host(bad), "{bad}");
        }
    }

    /// Review of issue #14: `ui.listen = "127.0.0.2:8086"` (or any 127/8 address but
    /// .1) is loopback, so it needs no admin token and gets the loopback Host policy;
    /// but a browser opening the page at its own address sends `Host: 127.0.0.2:8086`,
    /// which is refused with 421 ("open it as http://127.0.0.1:PORT/", where nothing
    /// listens): the page cannot be reached at all. An IP literal is never a rebinding
    /// name, so every loopback literal (127/8, `[::1]` in any spelling) must pass.
    #[test]
    fn every_loopback_ip_literal_passes_the_host_check() {
        for ok in ["127.0.0.2:8086", "127.1.2.3", "[0:0:0:0:0:0:0:1]:8086", "[::0001]"] {
            assert!(is_loopback_host(ok), "{ok} is a loopback address but is refused");
        }
    }

    /// Review of issue #14 (minor): an HTTP/1.0 request carries no `Host` (HTTP/1.0 has
    /// none; monitoring probes such as `check_http` without `-H` send none), and the loopback
    /// UI answers it 421, `/healthz` and `/readyz` included. A rebinding attack runs in a
    /// browser, which always sends `Host`, so a request without one is no such attack.
    #[actix_web::test]
    async fn an_http_1_0_probe_without_host_reaches_readyz() {
        use actix_web::{http::Version, test, App};
        let app = test::init_service(
            App::new()
                .app_data(web::Data::new(HostPolicy::Loopback))
                .wrap(actix_web::middleware::from_fn(check_host))
                .route("/readyz", web::get().to(|| async { "ready" })),
        )
        .await;
        let req = test::TestRequest::get().uri("/readyz").version(Version::HTTP_10).to_request();
        assert!(actix_web::HttpMessage::headers(&req).get(header::HOST).is_none());
        let resp = test::call_service(&app, req).await;
        assert_eq!(resp.status().as_u16(), 200, "HTTP/1.0 without Host refused");
        let req = test::TestRequest::get()
            .uri("/readyz")
            .insert_header((header::HOST, "rebind.attacker.example"))
            .to_request();
        assert_eq!(test::call_service(&app, req).await.status().as_u16(), 421, "a foreign Host still refused");
    }

    #[test]
    fn the_token_comparison_needs_every_byte() {
        let t = Secret::new("0123456789abcdef-token");
        assert!(token_matches("0123456789abcdef-token", &t));
        for wrong in ["", "0123456789abcdef-toke", "0123456789abcdef-tokeN", "0123456789abcdef-token!"] {
            assert!(!token_matches(wrong, &t), "{wrong}");
        }
    }
}
