//! Where a directory's servers come from: `urls`, and/or DNS SRV discovery (`domain`,
//! `site`, `dns_servers`, `dns_max_ttl`, `failback_after`; README "Finding the domain
//! controllers through DNS").

use std::net::{IpAddr, SocketAddr};
use std::ops::Range;
use std::time::Duration;

use connector_actors::directory::discovery::DiscoverySettings;
use connector_actors::directory::DirectoryKind;
use toml::Spanned;

use super::raw::RawDirectory;
use super::validate::Validator;

impl Validator<'_, '_> {
    /// `urls` (ldap:// or ldaps:// with a host) and the discovery keys; at least one of
    /// `urls` and `domain` must be given.
    pub(super) fn servers(
        &mut self,
        d: &RawDirectory,
        kind: Option<DirectoryKind>,
        table: Range<usize>,
        key: &dyn Fn(&str) -> String,
    ) -> (Vec<url::Url>, Option<DiscoverySettings>) {
        let mut urls = Vec::new();
        for u in d.urls.as_ref().map(|v| v.get_ref().as_slice()).unwrap_or_default() {
            match url::Url::parse(u) {
                Ok(parsed) if matches!(parsed.scheme(), "ldap" | "ldaps") && parsed.host_str().is_some() => {
                    urls.push(parsed)
                }
                _ => self.c.at(
                    d.urls.as_ref().map(Spanned::span),
                    &key("urls"),
                    format!("\"{u}\" is not an ldap:// or ldaps:// URL with a host"),
                ),
            }
        }
        let discovery = self.discovery(d, kind, key);
        let no_urls = d.urls.as_ref().is_none_or(|u| u.get_ref().is_empty());
        if no_urls && d.domain.is_none() {
            let at = d.urls.as_ref().map_or(table, Spanned::span);
            self.c.at(
                Some(at),
                &key("urls"),
                "needs at least one URL such as \"ldaps://dc1.example.test:636\", or set domain = \"example.test\" to find the servers through DNS",
            );
        }
        (urls, discovery)
    }

    fn discovery(
        &mut self,
        d: &RawDirectory,
        kind: Option<DirectoryKind>,
        key: &dyn Fn(&str) -> String,
    ) -> Option<DiscoverySettings> {
        let Some(domain) = &d.domain else {
            for (k, set) in [
                ("site", d.site.is_some()),
                ("dns_servers", d.dns_servers.is_some()),
                ("dns_max_ttl", d.dns_max_ttl.is_some()),
                ("failback_after", d.failback_after.is_some()),
            ] {
                if set {
                    self.c.at(
                        None,
                        &key(k),
                        "is only used with domain = \"…\" (DNS discovery): set domain or remove it",
                    );
                }
            }
            return None;
        };
        let name = domain.get_ref().trim().trim_end_matches('.').to_ascii_lowercase();
        if !dns_name_ok(&name) {
            let msg = format!("\"{}\" is not a DNS domain name such as \"example.test\"", domain.get_ref());
            self.c.at(Some(domain.span()), &key("domain"), msg);
        }
        let site = d.site.as_ref().map(|s| s.get_ref().trim().to_owned());
        if let (Some(site), Some(raw)) = (&site, &d.site) {
            if kind == Some(DirectoryKind::Ldap) {
                self.c.at(
                    Some(raw.span()),
                    &key("site"),
                    "sites are Active Directory's: only with kind = \"active_directory\"",
                );
            } else if site.is_empty() || site.contains('.') || !dns_name_ok(site) {
                self.c.at(
                    Some(raw.span()),
                    &key("site"),
                    format!("\"{site}\" is not an AD site name such as \"Default-First-Site-Name\""),
                );
            }
        }
        let mut dns_servers = Vec::new();
        for s in d.dns_servers.as_ref().map(|v| v.get_ref().as_slice()).unwrap_or_default() {
            match parse_dns_server(s) {
                Some(a) => dns_servers.push(a),
                None => self.c.at(
                    d.dns_servers.as_ref().map(Spanned::span),
                    &key("dns_servers"),
                    format!(
                        "\"{s}\" is not an IP address with an optional port, such as \"10.0.0.53\" or \"10.0.0.53:53\""
                    ),
                ),
            }
        }
        let max_ttl = self.duration(&d.dns_max_ttl, &key("dns_max_ttl"), Duration::from_secs(300));
        if max_ttl < Duration::from_secs(1) || max_ttl > Duration::from_secs(24 * 3600) {
            self.c.at(d.dns_max_ttl.as_ref().map(Spanned::span), &key("dns_max_ttl"), "must lie between 1s and 24h");
        }
        let failback_after = self.duration(&d.failback_after, &key("failback_after"), Duration::from_secs(60));
        if failback_after > Duration::from_secs(24 * 3600) {
            self.c.at(d.failback_after.as_ref().map(Spanned::span), &key("failback_after"), "must be at most 24h");
        }
        Some(DiscoverySettings { domain: name, site, dns_servers, max_ttl, failback_after })
    }
}

/// RFC 1035 §2.3.1 labels (letters, digits, `-`, and `_` which SRV names use), 1 to 63
/// characters each, 253 in all.
fn dns_name_ok(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 253
        && name.split('.').all(|l| {
            !l.is_empty() && l.len() <= 63 && l.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
        })
}

/// `10.0.0.53`, `10.0.0.53:5353`, `[::1]:53` or `::1` (port 53 when none).
fn parse_dns_server(s: &str) -> Option<SocketAddr> {
    let s = s.trim();
    s.parse::<SocketAddr>().ok().or_else(|| s.parse::<IpAddr>().ok().map(|ip| SocketAddr::new(ip, 53)))
}

#[cfg(test)]
#[path = "discovery_tests.rs"]
mod tests;
