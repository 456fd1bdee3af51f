//! The groups of a login result (`groups` of `ldap.authenticate`, PROTOCOL.md §3):
//! `{dn, name, guid}` of each group the user is in, directly or through nesting.
//!
//! - Active Directory ([`ad`]): `direct` is `memberOf` and the primary group
//!   (`primaryGroupID`); `nested` is the user's `tokenGroups` ([MS-ADTS] 3.1.1.4.5.19:
//!   every security group of the user's token, transitive, the primary group included),
//!   read in one base search and resolved to groups through the [`GroupCache`] (one
//!   search for the SIDs not cached).
//! - OpenLDAP and other servers ([`walk`]): the groups whose `member` or `uniqueMember`
//!   holds the user (or whose `memberUid` holds its `uid`, RFC 2307), then those holding
//!   these, one search per level, cycle-safe, at most `group_nesting_limit` levels and
//!   `group_limit` groups.

mod ad;
mod walk;

use std::num::NonZeroUsize;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use ldap3::{Ldap, Scope};
use lru::LruCache;
use serde_json::{json, Value};

use crate::directory::{DirectoryKind, DirectorySettings};
use crate::errors::JobError;
use crate::ldap::codes::{rc, LdapFailure};
use crate::ldap::entry::RawEntry;
use crate::ldap::paged::{MissingBase, Paged, Query};
use crate::protocol::payload::GroupDepth;

/// The page size of a group search.
const GROUP_SEARCH_PAGE: i32 = 500;

/// Groups the cache holds at once (a few hundred bytes each).
pub const GROUP_CACHE_CAPACITY: usize = 10_000;
/// How long a cached group's DN and name are trusted: a renamed group shows its new name
/// in logins at most this much later.
pub const GROUP_CACHE_TTL: Duration = Duration::from_secs(600);

/// One group of a login result.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GroupInfo {
    pub dn: String,
    /// Its `cn`.
    pub name: String,
    /// objectGUID (AD) or entryUUID, in the same string form as the user's `guid`.
    pub guid: Option<String>,
}

impl GroupInfo {
    fn from_entry(kind: DirectoryKind, e: &RawEntry) -> GroupInfo {
        GroupInfo {
            dn: e.dn.clone(),
            name: e.first_text("cn").unwrap_or_default().to_owned(),
            guid: crate::ldap::record::entry_guid(kind, e),
        }
    }

    pub fn to_json(&self) -> Value {
        json!({"dn": self.dn, "name": self.name, "guid": self.guid})
    }
}

/// Groups by SID (AD) and by DN, and the directory's group search base once read.
pub struct GroupCache {
    entries: Mutex<LruCache<String, (GroupInfo, Instant)>>,
    base: Mutex<Option<String>>,
}

impl Default for GroupCache {
    fn default() -> GroupCache {
        let cap = NonZeroUsize::new(GROUP_CACHE_CAPACITY).unwrap_or(NonZeroUsize::MIN);
        GroupCache { entries: Mutex::new(LruCache::new(cap)), base: Mutex::new(None) }
    }
}

impl GroupCache {
    fn get(&self, key: &str, now: Instant) -> Option<GroupInfo> {
        let mut entries = self.entries.lock().ok()?;
        match entries.get(key) {
            Some((info, at)) if now.saturating_duration_since(*at) < GROUP_CACHE_TTL => Some(info.clone()),
            _ => None,
        }
    }

    fn put(&self, key: String, info: GroupInfo, now: Instant) {
        if let Ok(mut entries) = self.entries.lock() {
            entries.put(key, (info, now));
        }
    }
}

/// What a group reader needs: a connection, the settings, the cache and the base.
pub(super) struct Reader<'a> {
    pub ldap: &'a Ldap,
    pub settings: &'a DirectorySettings,
    pub cache: &'a GroupCache,
    pub base: String,
}

impl Reader<'_> {
    /// Entries under the group base matching `filter` (paged). A group base that does not
    /// exist fails, naming `group_base_dn`: an empty list would tell the portal the user
    /// is in no group and take its roles away.
    async fn search(&self, filter: &str, attrs: &[&str]) -> Result<Vec<RawEntry>, JobError> {
        let s = self.settings;
        let q = Query {
            base: &self.base,
            scope: Scope::Subtree,
            filter,
            attributes: attrs.iter().map(|a| (*a).to_owned()).collect(),
            controls: Vec::new(),
            page: GROUP_SEARCH_PAGE,
            timeout: s.operation_timeout,
        };
        let mut ldap = self.ldap.clone();
        let mut out = Vec::new();
        let read = async {
            let mut search = Paged::start(&mut ldap, q).await?;
            while let Some(e) = search.next().await? {
                out.push(e);
            }
            search.finish(MissingBase::Fails).await
        };
        match read.await {
            Ok(()) => Ok(out),
            Err(LdapFailure::Result { rc: rc::NO_SUCH_OBJECT, .. }) => Err(JobError::internal(format!(
                "the group search base {} does not exist: correct directories.{}.group_base_dn (or remove it to search the whole naming context)",
                self.base, s.name
            ))),
            Err(e) => Err(e.to_job_error("reading the user's groups")),
        }
    }
}

/// Attributes the user search must also return for `depth`.
pub fn user_attributes(kind: DirectoryKind, depth: GroupDepth) -> &'static [&'static str] {
    match (kind, depth) {
        (_, GroupDepth::None) => &[],
        (DirectoryKind::ActiveDirectory, _) => &["objectSid", "primaryGroupID"],
        (DirectoryKind::Ldap, _) => &["uid"],
    }
}

/// The user's groups at `depth`, sorted by DN; `None` for [`GroupDepth::None`].
///
/// Errors: the group base or a group search fails (`directory_unavailable`, `timeout`,
/// `insufficient_access` when the service account may not read `tokenGroups`), or an
/// OpenLDAP walk passes `group_nesting_limit` or `group_limit` (`internal`, naming the
/// key: a partial list would give the portal wrong roles).
pub async fn user_groups(
    ldap: &Ldap,
    settings: &DirectorySettings,
    cache: &GroupCache,
    user: &RawEntry,
    depth: GroupDepth,
) -> Result<Option<Vec<GroupInfo>>, JobError> {
    if depth == GroupDepth::None {
        return Ok(None);
    }
    let base = group_base(ldap, settings, cache).await?;
    let reader = Reader { ldap, settings, cache, base };
    let mut groups = match settings.kind {
        DirectoryKind::ActiveDirectory => ad::groups(&reader, user, depth).await?,
        DirectoryKind::Ldap => walk::groups(&reader, user, depth).await?,
    };
    groups.sort_by_cached_key(|g| crate::ldap::dn::match_key(&g.dn));
    groups.dedup_by(|a, b| crate::ldap::dn::match_key(&a.dn) == crate::ldap::dn::match_key(&b.dn));
    Ok(Some(groups))
}

/// `group_base_dn`, else the [`naming_context`].
async fn group_base(ldap: &Ldap, s: &DirectorySettings, cache: &GroupCache) -> Result<String, JobError> {
    match &s.login.group_base_dn {
        Some(base) => Ok(base.clone()),
        None => naming_context(ldap, s, cache).await,
    }
}

/// The naming context that holds `base_dn` (AD: `defaultNamingContext`; others: the root
/// DSE's `namingContexts` value that `base_dn` ends with, else `base_dn`), read once and
/// kept in `cache`.
pub async fn naming_context(ldap: &Ldap, s: &DirectorySettings, cache: &GroupCache) -> Result<String, JobError> {
    if let Some(base) = cache.base.lock().ok().and_then(|b| b.clone()) {
        return Ok(base);
    }
    let attrs = ["defaultNamingContext", "namingContexts"];
    let root = RawEntry::search(ldap.clone(), s.operation_timeout, "", Scope::Base, "(objectClass=*)", &attrs)
        .await
        .map_err(|e| e.to_job_error("reading the root DSE for the naming context"))?;
    let root = root.first();
    let base = match s.kind {
        DirectoryKind::ActiveDirectory => root.and_then(|r| r.first_text("defaultNamingContext")).map(str::to_owned),
        DirectoryKind::Ldap => root.and_then(|r| holding_context(r, &s.base_dn)),
    }
    .unwrap_or_else(|| s.base_dn.clone());
    if let Ok(mut kept) = cache.base.lock() {
        *kept = Some(base.clone());
    }
    Ok(base)
}

fn holding_context(root: &RawEntry, base_dn: &str) -> Option<String> {
    let fold = |d: &str| d.chars().filter(|c| !c.is_whitespace()).collect::<String>().to_lowercase();
    let base = fold(base_dn);
    root.merged()
        .iter()
        .filter(|a| a.name.eq_ignore_ascii_case("namingContexts"))
        .flat_map(|a| a.values())
        .filter_map(|v| std::str::from_utf8(v).ok())
        .filter(|c| !c.is_empty() && base.ends_with(&fold(c)))
        .max_by_key(|c| c.len())
        .map(str::to_owned)
}

#[cfg(test)]
mod tests;
