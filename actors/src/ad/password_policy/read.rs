//! Reading password rules from the directory: the domain root's, a PSO's, and for
//! `check`, every PSO the service account can or cannot read.

use std::time::Duration;

use ldap3::{Ldap, Scope};

use super::rules::{Complexity, Names, Rules};
use super::DOMAIN_PASSWORD_COMPLEX;
use crate::ldap::codes::{rc, LdapFailure};
use crate::ldap::entry::RawEntry;

/// Where rules are read from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Source {
    /// The domain root: `minPwdLength`, `pwdProperties`.
    Domain,
    /// A PSO: `msDS-MinimumPasswordLength`, `msDS-PasswordComplexityEnabled`.
    Pso,
}

impl Source {
    fn attributes(self) -> [&'static str; 2] {
        match self {
            Source::Domain => ["minPwdLength", "pwdProperties"],
            Source::Pso => ["msDS-MinimumPasswordLength", "msDS-PasswordComplexityEnabled"],
        }
    }
}

/// The password policies of a domain as the service account sees them (`check`).
#[derive(Debug, Clone)]
pub struct Survey {
    pub domain_dn: String,
    /// `None`: the domain root's values are not readable.
    pub domain: Option<Rules>,
    /// Every PSO the account can list, with its rules (`None`: not readable).
    pub psos: Vec<(String, Option<Rules>)>,
}

/// A connection and its operation timeout.
pub struct PolicyReader {
    pub ldap: Ldap,
    pub timeout: Duration,
}

impl PolicyReader {
    async fn search(
        &self,
        base: &str,
        scope: Scope,
        filter: &str,
        attrs: &[&str],
    ) -> Result<Vec<RawEntry>, LdapFailure> {
        RawEntry::search(self.ldap.clone(), self.timeout, base, scope, filter, attrs).await
    }

    /// The rules at `dn`; `None` when the account may not read them.
    pub async fn rules(&self, dn: &str, source: Source) -> Result<Option<Rules>, LdapFailure> {
        let found = match self.search(dn, Scope::Base, "(objectClass=*)", &source.attributes()).await {
            Ok(found) => found,
            // A PSO the account may not see at all: unreadable, not a failure.
            Err(e) if e.rc() == Some(rc::NO_SUCH_OBJECT) => return Ok(None),
            Err(e) => return Err(e),
        };
        let names = self.names_rule().await;
        Ok(found.first().and_then(|entry| parse(entry, source, names)))
    }

    /// Whether the DC refuses the account's names in a password: a Windows DC does; a
    /// Samba DC (its root DSE's `vendorName` says so; Windows publishes none) leaves them
    /// to its optional script. Unknown (the root DSE unreadable): as Windows.
    pub async fn names_rule(&self) -> Names {
        let root = self.search("", Scope::Base, "(objectClass=*)", &["vendorName"]).await;
        let vendor = root.ok().and_then(|r| r.first().and_then(|e| e.first_text("vendorName")).map(str::to_owned));
        if vendor.is_some_and(|v| v.to_ascii_lowercase().starts_with("samba")) {
            Names::LeftToTheDc
        } else {
            Names::Refused
        }
    }

    /// The domain's rules and every PSO of its Password Settings Container.
    pub async fn survey(&self) -> Result<Survey, LdapFailure> {
        let root = self.search("", Scope::Base, "(objectClass=*)", &["defaultNamingContext"]).await?;
        let domain_dn = root.first().and_then(|e| e.first_text("defaultNamingContext")).unwrap_or_default().to_owned();
        let domain = self.rules(&domain_dn, Source::Domain).await?;
        let names = self.names_rule().await;
        let container = format!("CN=Password Settings Container,CN=System,{domain_dn}");
        let found = match self
            // `(objectClass=*)`: a filter on a value the account may not read (a PSO's
            // objectClass) would hide exactly the PSOs this is looking for; the
            // container holds only PSOs.
            .search(&container, Scope::OneLevel, "(objectClass=*)", &Source::Pso.attributes())
            .await
        {
            Ok(found) => found,
            Err(e) if e.rc() == Some(rc::NO_SUCH_OBJECT) => Vec::new(),
            Err(e) => return Err(e),
        };
        let psos = found.iter().map(|e| (e.dn.clone(), parse(e, Source::Pso, names))).collect();
        Ok(Survey { domain_dn, domain, psos })
    }
}

fn parse(entry: &RawEntry, source: Source, names: Names) -> Option<Rules> {
    let [length_attr, complexity_attr] = source.attributes();
    let min_length = entry.first_text(length_attr)?.trim().parse::<u32>().ok()?;
    let complex = entry.first_text(complexity_attr)?.trim().to_owned();
    let required = match source {
        Source::Domain => complex.parse::<i64>().is_ok_and(|bits| bits & DOMAIN_PASSWORD_COMPLEX != 0),
        Source::Pso => complex.eq_ignore_ascii_case("TRUE"),
    };
    let complexity = if required { Complexity::Required } else { Complexity::Off };
    let dn = &entry.dn;
    let source = match source {
        Source::Domain => format!("the domain password policy ({dn})"),
        Source::Pso => format!("the fine-grained password policy {dn}"),
    };
    Some(Rules { min_length, complexity, names, source })
}
