//! Following a search's continuation references (RFC 4511 §4.5.3) when
//! `follow_referrals = true` (`directory/forest.rs`): each `ldap://host/DN` reference is
//! searched again at that host, with the same filter and attributes, subtree below the
//! referred DN (the scope of the search that returned it), bound as the service account,
//! at most `referral_hops` references deep.
//!
//! TLS: a referral never lowers the directory's protection. When the directory is
//! encrypted ([`DirectorySettings::encrypted`]), an `ldap://` referral is opened with
//! StartTLS, required, and the certificate is checked against the referral's host name: a
//! host that offers no TLS, or whose certificate does not name it, is refused (the error
//! names it). Only a directory configured without TLS (`starttls = false` on `ldap://`)
//! follows a plain referral, as its own connections are plain.
//!
//! The referral's host is resolved through `dns_servers` when `domain` is set (AD names
//! the domain in its referrals: `ldap://example.test/CN=Configuration,…`), else by the
//! system.

use std::collections::HashSet;
use std::sync::Arc;

use ldap3::asn1::StructureTag;
use ldap3::{Ldap, ResultEntry, Scope};
use rustls::ClientConfig;

use crate::directory::bind::open_service;
use crate::directory::connect::Endpoint;
use crate::directory::discovery::Locator;
use crate::directory::forest::Referrals;
use crate::directory::{DirectorySettings, PlainUrlSecurity};
use crate::ldap::codes::{rc, LdapFailure};
use crate::ldap::dn::match_key;
use crate::ldap::entry::RawEntry;

/// One continuation reference: where the search goes on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reference {
    pub url: url::Url,
    /// The base DN the search continues at (the URL's path, percent-decoded).
    pub base: String,
}

impl Reference {
    /// An `ldap://` or `ldaps://` URL with a host (RFC 4516); `None` for anything else
    /// (the reference is then logged and dropped).
    pub fn parse(text: &str) -> Option<Reference> {
        let url = url::Url::parse(text).ok()?;
        if !matches!(url.scheme(), "ldap" | "ldaps") || url.host_str().is_none_or(str::is_empty) {
            return None;
        }
        let path = url.path().trim_start_matches('/');
        let base = percent_decode(path)?;
        Some(Reference { url, base })
    }
}

/// `%XX` escapes decoded (RFC 3986 §2.1); `None` for a bad escape or bytes that are not
/// UTF-8.
fn percent_decode(s: &str) -> Option<String> {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = std::str::from_utf8(bytes.get(i + 1..i + 3)?).ok()?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}

/// The URLs of a search result reference (a SEQUENCE OF LDAPURL), read without trusting
/// the server's encoding: what is not a string is skipped.
pub fn reference_urls(entry: &ResultEntry) -> Vec<String> {
    let tag: StructureTag = entry.0.clone();
    tag.expect_constructed()
        .unwrap_or_default()
        .into_iter()
        .filter_map(|t| t.expect_primitive())
        .filter_map(|b| String::from_utf8(b).ok())
        .collect()
}

/// `ldap.search`, but keeping the continuation references (ldap3's `search` drops them:
/// its `EntriesOnly` adapter); `ldap` carries the caller's timeout and options.
pub async fn search_keeping_references(
    ldap: &mut Ldap,
    base: &str,
    scope: Scope,
    filter: &str,
    attrs: &[&str],
) -> Result<ldap3::SearchResult, ldap3::LdapError> {
    let mut stream = ldap.streaming_search(base, scope, filter, attrs.to_vec()).await?;
    let mut entries = Vec::new();
    while let Some(e) = stream.next().await? {
        entries.push(e);
    }
    Ok(ldap3::SearchResult(entries, stream.finish().await))
}

/// How a referral's connection is protected: never less than the directory's own.
pub fn referral_security(s: &DirectorySettings) -> PlainUrlSecurity {
    if s.encrypted() {
        PlainUrlSecurity::StartTls
    } else {
        s.plain_urls
    }
}

/// What following a search's references found.
#[derive(Debug, Default)]
pub struct Followed {
    /// The entries found at the referred servers, each DN once.
    pub entries: Vec<RawEntry>,
    /// References still to follow when `referral_hops` ran out: the search is incomplete
    /// there (the caller decides whether that matters).
    pub beyond: Option<Beyond>,
}

/// The references a search left unfollowed at the hop limit.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Beyond {
    /// `referral_hops`, for the message.
    pub hops: u8,
    /// How many references were left, and the first of them (for the message).
    pub count: usize,
    pub first: String,
}

/// Where a reference leads, as a key: the same server (scheme, host case-folded, port)
/// and the same base DN ([`match_key`]) is the same place, however it is spelled.
fn place(r: &Reference) -> (String, String, Option<u16>, String) {
    let host = r.url.host_str().unwrap_or_default().to_ascii_lowercase();
    (r.url.scheme().to_owned(), host, r.url.port(), match_key(&r.base))
}

/// The entries `references` lead to (searched with `filter` and `attrs`), following
/// their own references while hops remain. Empty when following is off.
///
/// Each place (server and base DN) is searched once: a reference back to one already
/// searched (a referral loop, RFC 4511 §4.1.10 leaves loop detection to the client) is
/// logged and dropped, and an entry found twice (two references to overlapping
/// subtrees) is kept once. References left when `referral_hops` runs out are returned
/// in [`Followed::beyond`].
///
/// Errors: a referral's host that cannot be reached, refuses TLS or the service bind, or
/// answers a failure: the search fails naming the referral (its entries would be
/// missing otherwise).
pub async fn follow(
    s: &DirectorySettings,
    tls: &Arc<ClientConfig>,
    references: Vec<String>,
    filter: &str,
    attrs: &[&str],
) -> Result<Followed, LdapFailure> {
    let Referrals::Follow { hops } = s.forest.referrals else {
        return Ok(Followed::default());
    };
    let mut out = Followed::default();
    let mut seen_dns = HashSet::new();
    let mut visited = HashSet::new();
    let mut level: Vec<String> = references;
    for _ in 0..hops.get() {
        let mut next = Vec::new();
        for text in std::mem::take(&mut level) {
            let Some(r) = Reference::parse(&text) else {
                tracing::warn!(directory = %s.name, reference = %text, "a referral that is no ldap:// or ldaps:// URL with a host: dropped");
                continue;
            };
            if !visited.insert(place(&r)) {
                tracing::warn!(directory = %s.name, reference = %text, "a referral to a place already searched (a referral loop): dropped");
                continue;
            }
            let (entries, refs) = search_at(s, tls, &r, filter, attrs).await?;
            out.entries.extend(entries.into_iter().filter(|e| seen_dns.insert(match_key(&e.dn))));
            next.extend(refs);
        }
        if next.is_empty() {
            return Ok(out);
        }
        level = next;
    }
    // What is left may only lead back to places searched: that is no incompleteness.
    level.retain(|t| Reference::parse(t).is_some_and(|r| !visited.contains(&place(&r))));
    if let Some(first) = level.first() {
        tracing::warn!(directory = %s.name, hops = hops.get(), left = level.len(), first = %first, "referrals deeper than referral_hops were not followed");
        out.beyond = Some(Beyond { hops: hops.get(), count: level.len(), first: first.clone() });
    }
    Ok(out)
}

/// One referral: connect (TLS as [`referral_security`] says), bind as the service
/// account, search below its base; the entries and the further references.
async fn search_at(
    s: &DirectorySettings,
    tls: &Arc<ClientConfig>,
    r: &Reference,
    filter: &str,
    attrs: &[&str],
) -> Result<(Vec<RawEntry>, Vec<String>), LdapFailure> {
    let named = |e: LdapFailure| LdapFailure::Connect(format!("referral {}: {e}", r.url));
    let host = r.url.host_str().unwrap_or_default();
    let port = r.url.port().unwrap_or(if r.url.scheme() == "ldaps" { 636 } else { 389 });
    let addrs = match &s.discovery {
        Some(d) => {
            let locator = Locator::new(d.clone(), s.kind).map_err(|e| named(LdapFailure::Connect(e.to_string())))?;
            locator
                .addresses(host, port)
                .await
                .map_err(|e| named(LdapFailure::Connect(format!("cannot resolve {host}: {e}"))))?
        }
        None => Vec::new(),
    };
    let ep = Endpoint {
        url: &r.url,
        addrs: &addrs,
        tls: tls.clone(),
        plain: referral_security(s),
        connect_timeout: s.connect_timeout,
    };
    let mut ldap: Ldap = open_service(&ep, s).await.map_err(named)?;
    let res =
        search_keeping_references(ldap.with_timeout(s.operation_timeout), &r.base, Scope::Subtree, filter, attrs).await;
    let _ = ldap.unbind().await;
    let res = res.map_err(|e| named(LdapFailure::from_ldap(e)))?;
    // The referred base may itself be a referral object (RFC 4511 §4.1.10): its URLs are
    // one more hop, as a continuation reference would be.
    if res.1.rc == rc::REFERRAL {
        return Ok((Vec::new(), res.1.refs));
    }
    if res.1.rc != rc::SUCCESS {
        return Err(named(LdapFailure::Result { rc: res.1.rc, text: res.1.text }));
    }
    let mut refs = Vec::new();
    let mut entries = Vec::new();
    for e in res.0 {
        if e.is_ref() {
            refs.extend(reference_urls(&e));
        } else {
            entries.push(RawEntry::parse(e).map_err(named)?);
        }
    }
    Ok((entries, refs))
}

#[cfg(test)]
mod tests {
    use super::Reference;

    #[test]
    fn a_reference_is_an_ldap_url_with_a_host_and_its_dn() {
        let r = Reference::parse("ldap://example.test/CN=Configuration,DC=example,DC=test").unwrap();
        assert_eq!(r.url.host_str(), Some("example.test"));
        assert_eq!(r.base, "CN=Configuration,DC=example,DC=test");
        let r = Reference::parse("ldaps://dc2.example.test:3269/OU=A%20B,DC=x??sub").unwrap();
        assert_eq!(r.base, "OU=A B,DC=x");
        assert_eq!(Reference::parse("http://example.test/DC=x"), None);
        assert_eq!(Reference::parse("ldap:///DC=x"), None);
        assert_eq!(Reference::parse("not a url"), None);
        assert_eq!(Reference::parse("ldap://h/DC=%zz"), None);
    }
}
