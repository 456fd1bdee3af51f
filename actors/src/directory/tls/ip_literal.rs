//! IPv6 literal URLs (`ldaps://[2001:db8::1]:636`, RFC 3986 §3.2.2) over TLS.
//!
//! ldap3 hands the URL's host text to rustls as the server name, brackets included, and
//! `[::1]` is neither a DNS name nor an IP address to rustls: the connection failed before
//! any certificate was looked at. ldap3 is therefore given a stand-in host that encodes the
//! address under `.invalid` (RFC 6761 §6.4: reserved, never a real name, so no certificate
//! can carry it), and [`Verifier`] decodes it back and checks the certificate against the
//! IP address itself, as for an IPv4 literal. The TCP connection is ours and uses the
//! address; the stand-in name only travels in SNI, where a server ignores a name it
//! does not serve.

use std::net::Ipv6Addr;
use std::sync::Arc;

use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::client::WebPkiServerVerifier;
use rustls::pki_types::{CertificateDer, IpAddr, ServerName, UnixTime};
use rustls::{DigitallySignedStruct, SignatureScheme};

const PREFIX: &str = "v6-";
const SUFFIX: &str = ".ip-literal.invalid";

/// The stand-in host name for `ip`: `v6-{32 hex digits}.ip-literal.invalid`.
pub fn stand_in(ip: Ipv6Addr) -> String {
    format!("{PREFIX}{:032x}{SUFFIX}", u128::from(ip))
}

/// The address a [`stand_in`] name encodes; `None` for any other name.
pub fn decode(name: &str) -> Option<Ipv6Addr> {
    let hex = name.strip_prefix(PREFIX)?.strip_suffix(SUFFIX)?;
    if hex.len() != 32 {
        return None;
    }
    u128::from_str_radix(hex, 16).ok().map(Ipv6Addr::from)
}

/// `url` as ldap3 must see it: an IPv6 literal host replaced by its [`stand_in`] name;
/// any other URL as it is.
pub fn url_for_ldap3(url: &url::Url) -> std::borrow::Cow<'_, url::Url> {
    match url.host() {
        Some(url::Host::Ipv6(ip)) => {
            let mut named = url.clone();
            match named.set_host(Some(&stand_in(ip))) {
                Ok(()) => std::borrow::Cow::Owned(named),
                Err(_) => std::borrow::Cow::Borrowed(url),
            }
        }
        _ => std::borrow::Cow::Borrowed(url),
    }
}

/// rustls's WebPKI verifier, with a [`stand_in`] name checked as its IP address.
#[derive(Debug)]
pub struct Verifier {
    inner: Arc<WebPkiServerVerifier>,
}

impl Verifier {
    pub fn new(inner: Arc<WebPkiServerVerifier>) -> Verifier {
        Verifier { inner }
    }
}

impl ServerCertVerifier for Verifier {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        ocsp_response: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        let decoded = match server_name {
            ServerName::DnsName(dns) => decode(dns.as_ref()).map(|ip| ServerName::IpAddress(IpAddr::from(ip))),
            _ => None,
        };
        let name = decoded.as_ref().unwrap_or(server_name);
        self.inner.verify_server_cert(end_entity, intermediates, name, ocsp_response, now)
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.inner.verify_tls12_signature(message, cert, dss)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.inner.verify_tls13_signature(message, cert, dss)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.inner.supported_verify_schemes()
    }
}

#[cfg(test)]
#[path = "ip_literal/tests.rs"]
mod tests;
