//! AD ranged values (`member;range=0-1499`, [MS-ADTS] 3.1.1.3.1.3.3) followed to the
//! end and merged, for the import's entries.

use std::time::Duration;

use futures_util::future::BoxFuture;
use ldap3::{Ldap, Scope};

use crate::errors::JobError;
use crate::ldap::codes::LdapFailure;
use crate::ldap::entry::{ranged, RawEntry};

/// Follows AD ranged values (`member;range=0-1499`) to the end and merges them.
pub fn complete_ranges<'a>(
    ldap: &'a mut Ldap,
    entry: &'a mut RawEntry,
    timeout: Duration,
) -> BoxFuture<'a, Result<(), JobError>> {
    Box::pin(async move {
        let mut i = 0;
        while i < entry.attributes.len() {
            let (base, mut end) = match ranged(&entry.attributes[i].0).map(|(b, e)| (b.to_owned(), e)) {
                None => {
                    i += 1;
                    continue;
                }
                Some((base, None)) => {
                    entry.attributes[i].0 = base;
                    i += 1;
                    continue;
                }
                Some((base, Some(end))) => (base, end),
            };
            entry.attributes[i].0 = base.clone();
            loop {
                let want = format!("{base};range={}-*", end + 1);
                let res = ldap
                    .with_timeout(timeout)
                    .search(&entry.dn, Scope::Base, "(objectClass=*)", vec![want.as_str()])
                    .await
                    .map_err(|e| LdapFailure::from_ldap(e).to_job_error("ranged attribute"))?;
                let Some(more) = res.0.into_iter().next() else { break };
                let more = RawEntry::parse(more).map_err(|e| e.to_job_error("ranged attribute"))?;
                let Some((got_name, values)) = more
                    .attributes
                    .into_iter()
                    .find(|(n, _)| ranged(n).is_some_and(|(b, _)| b.eq_ignore_ascii_case(&base)))
                else {
                    break;
                };
                entry.attributes[i].1.extend(values);
                match ranged(&got_name) {
                    Some((_, Some(e))) if e > end => end = e,
                    _ => break,
                }
            }
            i += 1;
        }
        Ok(())
    })
}
