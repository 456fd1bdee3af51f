//! `global_catalog`, `gc_urls`, `follow_referrals`, `referral_hops` of
//! `[directories.NAME]` (README "Forests: the Global Catalog and referrals").

use std::num::NonZeroU8;

use connector_actors::directory::forest::{ForestSettings, GcServers, Referrals};
use connector_actors::directory::DirectoryKind;
use toml::Spanned;

use super::raw::RawDirectory;
use super::validate::Validator;

impl Validator<'_, '_> {
    /// The forest keys of one directory. GC mode is Active Directory's and needs
    /// `domain` (the forest root, whose `_gc._tcp` records are asked) or `gc_urls`.
    pub(super) fn forest(
        &mut self,
        d: &RawDirectory,
        kind: Option<DirectoryKind>,
        key: &dyn Fn(&str) -> String,
    ) -> ForestSettings {
        let on = d.global_catalog.as_ref().is_some_and(|b| *b.get_ref());
        let mut urls = Vec::new();
        for u in d.gc_urls.as_ref().map(|v| v.get_ref().as_slice()).unwrap_or_default() {
            match url::Url::parse(u) {
                Ok(p) if matches!(p.scheme(), "ldap" | "ldaps") && p.host_str().is_some() && p.port().is_some() => {
                    urls.push(p)
                }
                _ => self.c.at(
                    d.gc_urls.as_ref().map(Spanned::span),
                    &key("gc_urls"),
                    format!("\"{u}\" is not a Global Catalog URL such as \"ldap://dc1.example.test:3268\" or \"ldaps://dc1.example.test:3269\" (the port must be written)"),
                ),
            }
        }
        let global_catalog = match (on, &d.domain) {
            (false, _) => {
                if d.gc_urls.is_some() {
                    self.c.at(
                        d.gc_urls.as_ref().map(Spanned::span),
                        &key("gc_urls"),
                        "is only used with global_catalog = true: set it or remove gc_urls",
                    );
                }
                None
            }
            (true, _) if kind == Some(DirectoryKind::Ldap) => {
                let at = d.global_catalog.as_ref().map(Spanned::span);
                self.c.at(
                    at,
                    &key("global_catalog"),
                    "the Global Catalog is Active Directory's: only with kind = \"active_directory\"",
                );
                None
            }
            (true, _) if !urls.is_empty() => Some(GcServers::Urls(urls)),
            (true, Some(domain)) if d.gc_urls.is_none() => {
                Some(GcServers::Dns { forest: domain.get_ref().trim().trim_end_matches('.').to_ascii_lowercase() })
            }
            (true, _) => {
                let at = d.global_catalog.as_ref().map(Spanned::span);
                self.c.at(at, &key("global_catalog"), "needs domain = \"<forest root domain>\" (its _gc._tcp SRV records) or gc_urls = [\"ldap://dc1.example.test:3268\"]");
                None
            }
        };
        let follow = d.follow_referrals.as_ref().is_some_and(|b| *b.get_ref());
        let hops = self.int(&d.referral_hops, &key("referral_hops"), 1..=10, 2);
        if !follow && d.referral_hops.is_some() {
            self.c.at(
                d.referral_hops.as_ref().map(Spanned::span),
                &key("referral_hops"),
                "is only used with follow_referrals = true: set it or remove referral_hops",
            );
        }
        let referrals = match (follow, NonZeroU8::new(hops as u8)) {
            (true, Some(hops)) => Referrals::Follow { hops },
            _ => Referrals::Drop,
        };
        ForestSettings { global_catalog, referrals }
    }
}

#[cfg(test)]
#[path = "forest_tests.rs"]
mod tests;
