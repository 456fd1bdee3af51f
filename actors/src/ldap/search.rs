//! The searches that read [`RawEntry`]s: a search of a few entries
//! ([`RawEntry::search`]: unpaged at base scope, paged below it), and the follow-up reads
//! of ranged values ([`RawEntry::complete_ranges`], see `entry/range.rs`). Kept apart
//! from the entry type so the entry and the paged search do not need each other.

use std::time::Duration;

use ldap3::{Ldap, Scope};

use super::codes::{rc, LdapFailure};
use super::entry::{next_part, range_of, RawEntry};
use super::paged::{Paged, Query};

/// The page size of [`RawEntry::search`] below base scope.
const SEARCH_PAGE: i32 = 500;

impl RawEntry {
    /// Entries matching `filter` under `base`, read with `ldap` within `timeout`;
    /// referrals dropped, a missing base (noSuchObject) is no entries.
    pub async fn search(
        mut ldap: Ldap,
        timeout: std::time::Duration,
        base: &str,
        scope: Scope,
        filter: &str,
        attrs: &[&str],
    ) -> Result<Vec<RawEntry>, LdapFailure> {
        if scope != Scope::Base {
            // Paged: a DC caps an unpaged search at MaxPageSize (sizeLimitExceeded past it).
            let q = Query {
                base,
                scope,
                filter,
                attributes: attrs.iter().map(|a| (*a).to_owned()).collect(),
                controls: Vec::new(),
                page: SEARCH_PAGE,
                timeout,
            };
            let mut out = Vec::new();
            Paged::collect(&mut ldap, q, |e| out.push(e)).await?;
            return Ok(out);
        }
        let res = ldap
            .with_timeout(timeout)
            .search(base, scope, filter, attrs.to_vec())
            .await
            .map_err(LdapFailure::from_ldap)?;
        match res.1.rc {
            rc::SUCCESS => res.0.into_iter().filter(|e| !e.is_ref()).map(RawEntry::parse).collect(),
            rc::NO_SUCH_OBJECT => Ok(Vec::new()),
            code => Err(LdapFailure::Result { rc: code, text: res.1.text }),
        }
    }

    /// Reads the remaining values of every attribute that came as a part with a finite
    /// end, one read of `name;range=<end+1>-*` per part, then merges them
    /// ([`RawEntry::merge_ranges`]). Without ranged parts it reads nothing.
    pub async fn complete_ranges(&mut self, ldap: &Ldap, timeout: Duration) -> Result<(), LdapFailure> {
        let open: Vec<(String, u64)> = self
            .attributes
            .iter()
            .filter_map(|(n, _)| range_of(n))
            .filter_map(|r| r.high.map(|high| (r.base.to_owned(), high)))
            .collect();
        for (base, mut high) in open {
            loop {
                let want = format!("{base};range={}-*", high.saturating_add(1));
                let found =
                    RawEntry::search(ldap.clone(), timeout, &self.dn, Scope::Base, "(objectClass=*)", &[want.as_str()])
                        .await?;
                let part = found.into_iter().next().and_then(|e| next_part(e, &base, high));
                let Some((name, values)) = part else {
                    let dn = &self.dn;
                    tracing::warn!(%dn, attribute = %base, after = high, "ranged values ended without a last part");
                    break;
                };
                let next = range_of(&name).and_then(|r| r.high);
                self.attributes.push((name, values));
                match next {
                    None => break,
                    Some(end) if end > high => high = end,
                    Some(_) => {
                        tracing::warn!(dn = %self.dn, attribute = %base, after = high, "ranged values did not advance");
                        break;
                    }
                }
            }
        }
        self.merge_ranges();
        Ok(())
    }
}
