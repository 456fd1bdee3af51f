//! Active Directory groups of a login: `memberOf` and the primary group (`direct`), or
//! the user's `tokenGroups` (`nested`), resolved to `{dn, name, guid}` through the cache.

use std::time::Instant;

use ldap3::Scope;

use super::{GroupInfo, Reader};
use crate::ad::sid::Sid;
use crate::directory::DirectoryKind;
use crate::errors::JobError;
use crate::ldap::entry::RawEntry;
use crate::ldap::escape::{filter_bytes, filter_value};
use crate::protocol::payload::GroupDepth;

/// Terms in one OR filter: a user in 600 groups costs ten searches, not one huge filter.
const TERMS_PER_SEARCH: usize = 64;
const GROUP_ATTRIBUTES: [&str; 4] = ["cn", "objectGUID", "objectSid", "distinguishedName"];

pub(super) async fn groups(r: &Reader<'_>, user: &RawEntry, depth: GroupDepth) -> Result<Vec<GroupInfo>, JobError> {
    match depth {
        GroupDepth::Nested => {
            let sids = token_groups(r, &user.dn).await?;
            by_sid(r, &sids).await
        }
        _ => {
            let dns = user.texts("memberOf");
            let mut out = by_dn(r, &dns).await?;
            if let Some(primary) = primary_group(user) {
                out.extend(by_sid(r, &[primary]).await?);
            }
            Ok(out)
        }
    }
}

/// The primary group's SID: the user's domain SID with `primaryGroupID` as RID
/// ([MS-ADTS] 3.1.1.4.5.44; `memberOf` never lists it).
fn primary_group(user: &RawEntry) -> Option<Sid> {
    let sid = Sid::from_bytes(user.first("objectSid")?)?;
    let rid: u32 = user.first_text("primaryGroupID")?.parse().ok()?;
    Some(sid.domain()?.with_rid(rid))
}

/// The user's `tokenGroups`, a constructed attribute read only at base scope.
async fn token_groups(r: &Reader<'_>, dn: &str) -> Result<Vec<Sid>, JobError> {
    let s = r.settings;
    let found =
        RawEntry::search(r.ldap.clone(), s.operation_timeout, dn, Scope::Base, "(objectClass=*)", &["tokenGroups"])
            .await
            .map_err(|e| e.to_job_error("reading the user's tokenGroups"))?;
    let entry = found.first().ok_or_else(|| JobError::internal("the user vanished before its groups were read"))?;
    let sids: Vec<Sid> = entry
        .merged()
        .iter()
        .filter(|a| a.name.eq_ignore_ascii_case("tokenGroups"))
        .flat_map(|a| a.values())
        .filter_map(|v| Sid::from_bytes(v))
        .collect();
    if sids.is_empty() {
        // Every account's token holds at least its primary group: nothing means no right.
        return Err(JobError::new(
            crate::errors::ErrorCode::InsufficientAccess,
            format!("the service account cannot read tokenGroups of {dn}: grant it read access to tokenGroups (Pre-Windows 2000 Compatible Access does) or use groups = \"direct\""),
        ));
    }
    Ok(sids)
}

async fn by_sid(r: &Reader<'_>, sids: &[Sid]) -> Result<Vec<GroupInfo>, JobError> {
    let keys: Vec<(String, String)> =
        sids.iter().map(|s| (format!("sid:{s}"), format!("(objectSid={})", filter_bytes(s.as_bytes())))).collect();
    resolve(r, keys).await
}

async fn by_dn(r: &Reader<'_>, dns: &[&str]) -> Result<Vec<GroupInfo>, JobError> {
    let keys: Vec<(String, String)> = dns
        .iter()
        .map(|d| (format!("dn:{}", crate::ldap::dn::match_key(d)), format!("(distinguishedName={})", filter_value(d))))
        .collect();
    resolve(r, keys).await
}

/// Cached groups, and one search per [`TERMS_PER_SEARCH`] of those not cached. A SID or
/// DN that names no group here (a foreign domain's group, BUILTIN outside the base) is
/// left out: the result lists groups it can name.
async fn resolve(r: &Reader<'_>, keys: Vec<(String, String)>) -> Result<Vec<GroupInfo>, JobError> {
    let now = Instant::now();
    let mut out = Vec::with_capacity(keys.len());
    let mut missing = Vec::new();
    for (key, term) in keys {
        match r.cache.get(&key, now) {
            Some(info) => out.push(info),
            None => missing.push(term),
        }
    }
    for chunk in missing.chunks(TERMS_PER_SEARCH) {
        let filter = format!("(&(objectClass=group)(|{}))", chunk.concat());
        for e in r.search(&filter, &GROUP_ATTRIBUTES).await? {
            let info = GroupInfo::from_entry(DirectoryKind::ActiveDirectory, &e);
            if let Some(sid) = e.first("objectSid").and_then(Sid::from_bytes) {
                r.cache.put(format!("sid:{sid}"), info.clone(), now);
            }
            r.cache.put(format!("dn:{}", crate::ldap::dn::match_key(&info.dn)), info.clone(), now);
            out.push(info);
        }
    }
    Ok(out)
}
