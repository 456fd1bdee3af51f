//! Groups on OpenLDAP and other servers: a breadth-first walk up the
//! `group_member_attributes` (`member` by default; `uniqueMember`; `memberUid`, RFC 2307
//! posixGroup, at the first level), one search per level over the whole frontier, each
//! group visited once (a cycle ends the walk), bounded by `group_nesting_limit` levels
//! and `group_limit` groups. Only the configured attributes are searched: a term on an
//! attribute the server does not index makes the whole search scan the group base.

use std::collections::HashSet;

use super::{GroupInfo, Reader};
use crate::directory::{DirectoryKind, MemberAttribute};
use crate::errors::JobError;
use crate::ldap::entry::RawEntry;
use crate::ldap::escape::filter_value;
use crate::protocol::payload::GroupDepth;

/// DNs in one OR filter (each gives two terms).
const DNS_PER_SEARCH: usize = 64;
const GROUP_ATTRIBUTES: [&str; 2] = ["cn", "entryUUID"];

pub(super) async fn groups(r: &Reader<'_>, user: &RawEntry, depth: GroupDepth) -> Result<Vec<GroupInfo>, JobError> {
    let limits = &r.settings.login;
    let levels = if depth == GroupDepth::Direct { 1 } else { limits.nesting_limit };
    let mut seen: HashSet<String> = HashSet::from([crate::ldap::dn::match_key(&user.dn)]);
    let mut out: Vec<GroupInfo> = Vec::new();
    let mut frontier = vec![user.dn.clone()];
    let uid = user.first_text("uid").map(str::to_owned);
    let mut level = 0;
    while !frontier.is_empty() {
        let found = holding(r, &frontier, uid.as_deref().filter(|_| level == 0)).await?;
        let fresh: Vec<RawEntry> =
            found.into_iter().filter(|e| seen.insert(crate::ldap::dn::match_key(&e.dn))).collect();
        if level == levels {
            if depth == GroupDepth::Nested && !fresh.is_empty() {
                return Err(JobError::internal(format!(
                    "the groups of {} nest deeper than group_nesting_limit ({levels}) levels: raise directories.{}.group_nesting_limit",
                    user.dn, r.settings.name
                )));
            }
            break;
        }
        out.extend(fresh.iter().map(|e| GroupInfo::from_entry(DirectoryKind::Ldap, e)));
        if out.len() > limits.group_limit {
            return Err(JobError::internal(format!(
                "{} is in more than group_limit ({}) groups: raise directories.{}.group_limit",
                user.dn, limits.group_limit, r.settings.name
            )));
        }
        frontier = fresh.into_iter().map(|e| e.dn).collect();
        level += 1;
    }
    Ok(out)
}

/// The groups that list any DN of `members` (or, given, `uid` in `memberUid`).
async fn holding(r: &Reader<'_>, members: &[String], uid: Option<&str>) -> Result<Vec<RawEntry>, JobError> {
    let attrs = &r.settings.login.member_attributes;
    let by_dn: Vec<&str> = attrs.iter().filter(|a| **a != MemberAttribute::MemberUid).map(|a| a.name()).collect();
    let uid = uid.filter(|_| attrs.contains(&MemberAttribute::MemberUid));
    let mut out = Vec::new();
    for (i, chunk) in members.chunks(DNS_PER_SEARCH).enumerate() {
        let mut terms = String::new();
        for dn in chunk {
            let v = filter_value(dn);
            for a in &by_dn {
                terms.push_str(&format!("({a}={v})"));
            }
        }
        if let (0, Some(uid)) = (i, uid) {
            terms.push_str(&format!("(memberUid={})", filter_value(uid)));
        }
        if terms.is_empty() {
            continue;
        }
        out.extend(r.search(&format!("(|{terms})"), &GROUP_ATTRIBUTES).await?);
    }
    Ok(out)
}
