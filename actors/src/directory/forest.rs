//! Global Catalog mode and referral following (`global_catalog`, `gc_urls`,
//! `follow_referrals`, `referral_hops` of `[directories.NAME]`; README "Forests: the
//! Global Catalog and referrals"), validated by the config layer.
//!
//! In GC mode a login's user search goes to a Global Catalog server (port 3268, StartTLS;
//! or `gc_urls`), which holds a partial copy of every domain of the forest ([MS-ADTS]
//! 3.1.1.1.8), and the user's bind and reads go to a DC of the user's own domain: the
//! directory's own servers when the user is in its domain, else that domain's DCs found
//! through DNS (`_ldap._tcp.dc._msdcs.<user's domain>`).

use std::num::NonZeroU8;

/// Where the Global Catalog servers come from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum GcServers {
    /// `_gc._tcp.<forest>` SRV records (the forest root domain: `domain`).
    Dns { forest: String },
    /// `gc_urls`, tried in order (`ldap://dc1.example.test:3268`, `ldaps://…:3269`).
    Urls(Vec<url::Url>),
}

/// Whether search results' referrals (RFC 4511 §4.1.10, §4.5.3) are followed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Referrals {
    /// Dropped, as a search always did (`follow_referrals = false`, the default).
    #[default]
    Drop,
    /// Followed with the service account's bind and the directory's TLS rules, at most
    /// `hops` referrals deep (`referral_hops`, default 2).
    Follow { hops: NonZeroU8 },
}

/// The forest keys of one directory.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ForestSettings {
    /// `Some` in GC mode (`global_catalog = true`).
    pub global_catalog: Option<GcServers>,
    pub referrals: Referrals,
}

/// The DNS domain a DN lies in: its `DC=` components, dotted and lower-cased
/// (`CN=x,DC=Emea,DC=Example,DC=Test` → `emea.example.test`); `None` without any.
pub fn dn_domain(dn: &str) -> Option<String> {
    let dn = crate::ldap::dn::Dn::parse(dn).ok()?;
    let labels: Vec<String> = dn
        .rdns()
        .iter()
        .filter_map(|r| {
            r.values().next().filter(|(t, _)| t.eq_ignore_ascii_case("dc")).map(|(_, v)| v.to_ascii_lowercase())
        })
        .collect();
    (!labels.is_empty()).then(|| labels.join("."))
}

#[cfg(test)]
mod tests {
    use super::dn_domain;

    #[test]
    fn a_dn_s_domain_is_its_dc_components() {
        assert_eq!(dn_domain("CN=A\\, B,OU=x,DC=Emea,DC=Example,DC=Test").as_deref(), Some("emea.example.test"));
        assert_eq!(dn_domain("CN=a,O=corp"), None);
        assert_eq!(dn_domain("not a dn"), None);
    }
}
