//! `ldap.authenticate`: find the user with the directory's filter, bind as the found DN
//! on a connection of its own, and name the reason when the login fails.

use std::collections::HashSet;
use std::time::{Instant, SystemTime};

use ldap3::Scope;
use serde_json::{json, Map, Value};

use actix::Addr;

mod bind;
pub mod dc_failures;
pub mod expiry;
pub mod forest;
pub mod groups;
pub mod memory;
pub mod ppolicy;
pub mod shield;

use super::codes::{rc, LdapFailure, LoginReason};
use super::entry::RawEntry;
use super::escape::{user_filter, MAX_USERNAME_BYTES};
use super::record::entry_guid;
use crate::directory::{DirectoryActor, DirectoryKind, DirectorySettings, Lease};
use crate::errors::JobError;
use crate::protocol::payload::Authenticate;
use forest::Home;
pub use memory::{LoginMemories, LoginMemory};
use shield::{Admission, Attempt};

/// Attributes returned about an authenticated user.
fn user_attributes(kind: DirectoryKind) -> Vec<&'static str> {
    match kind {
        DirectoryKind::ActiveDirectory => vec![
            "objectGUID",
            "sAMAccountName",
            "userPrincipalName",
            "displayName",
            "mail",
            "givenName",
            "sn",
            "userAccountControl",
            "memberOf",
        ],
        DirectoryKind::Ldap => vec!["entryUUID", "uid", "cn", "displayName", "mail", "givenName", "sn", "memberOf"],
    }
}

fn refused(reason: LoginReason) -> Value {
    json!({"authenticated": false, "reason": reason.as_str(), "user": null})
}

/// The shield's refusal, logged without the user's name.
fn shield_refused(directory: &str, retry_after: std::time::Duration) -> Value {
    tracing::warn!(directory = %directory, retry_after_s = retry_after.as_secs(), "login refused by the lockout shield: too many recent wrong passwords for this account; no bind sent");
    shielded()
}

/// `account_locked` decided by the lockout shield, before any bind (PROTOCOL.md §3).
fn shielded() -> Value {
    json!({"authenticated": false, "reason": LoginReason::AccountLocked.as_str(), "user": null, "details": {"source": "connector"}})
}

/// `ldap.authenticate` (PROTOCOL.md §3): the user found with the directory's filter, the
/// lockout shield asked, the user's own bind, then (on success) the groups asked for and
/// the expiry times.
pub async fn authenticate(lease: Lease, directory: Addr<DirectoryActor>, p: Authenticate) -> Result<Value, JobError> {
    let s = lease.settings.clone();
    if p.password.is_empty() {
        // An empty password is an unauthenticated bind, which "succeeds": never send it.
        return Ok(refused(LoginReason::InvalidCredentials));
    }
    if p.username.is_empty() || p.username.len() > MAX_USERNAME_BYTES {
        return Ok(refused(LoginReason::UserNotFound));
    }
    let shown = user_attributes(s.kind);
    let mut asked = shown.clone();
    asked.extend_from_slice(groups::user_attributes(s.kind, p.groups));
    asked.extend_from_slice(expiry::attributes(s.kind));
    if s.login.failure_limit > 0 {
        asked.extend_from_slice(dc_failures::attributes(s.kind));
    }
    let found = match &s.forest.global_catalog {
        Some(gc) => forest::find_user(&lease, gc, &p.username, &asked).await?,
        None => find_user(&lease, &s, &p.username, &asked).await?.map(|e| (e, Home::Directory)),
    };
    let Some((mut entry, home)) = found else {
        return Ok(refused(LoginReason::UserNotFound));
    };
    let memory = &lease.memory;
    let attempt = match admit(&lease, &s, &entry).await? {
        Ok(attempt) => attempt,
        Err(refusal) => return Ok(refusal),
    };
    match bind::user_bind(&lease, &directory, &home, &entry.dn, p.password.expose()).await? {
        Some(LoginReason::InvalidCredentials) => {
            attempt.failed(Instant::now());
            return Ok(refused(LoginReason::InvalidCredentials));
        }
        // Any other answer (disabled, locked by the directory, …) is no wrong password:
        // the attempt gives its place back uncounted when dropped.
        Some(reason) => return Ok(refused(reason)),
        None => attempt.succeeded(),
    }
    // A user in more groups than MaxValRange gets `memberOf;range=0-1499` (and on a Windows
    // DC an empty `memberOf`): read the rest ([MS-ADTS] 3.1.1.3.1.3.3). Nothing to read
    // otherwise.
    // Groups and expiry are read at the user's own domain's DC (`forest.rs`).
    let (ldap, s) = match &home {
        Home::Directory => (&lease.ldap, &s),
        Home::Other { ldap, settings, .. } => (ldap, settings),
    };
    entry
        .complete_ranges(ldap, s.operation_timeout)
        .await
        .map_err(|e| e.to_job_error("reading the user's ranged attributes"))?;
    let (password_expires_at, account_expires_at) = match s.kind {
        DirectoryKind::ActiveDirectory => expiry::active_directory(&entry),
        DirectoryKind::Ldap => expiry::ldap(&entry, memory.policies.max_age(ldap, s, &entry).await),
    };
    let mut user = json!({
        "dn": entry.dn,
        "guid": entry_guid(s.kind, &entry),
        "attributes": text_attributes(&entry, &shown),
        "password_expires_at": password_expires_at,
        "account_expires_at": account_expires_at,
    });
    if let Some(found) = groups::user_groups(ldap, s, &memory.groups, &entry, p.groups).await? {
        user["groups"] = Value::Array(found.iter().map(groups::GroupInfo::to_json).collect());
    }
    Ok(json!({"authenticated": true, "reason": null, "user": user}))
}

/// The lockout shield's admission for `user`'s bind, given on AD the DC's own count of
/// wrong passwords (read again when other binds for the account ended or are on their
/// way since the user was read); `Err` holds the refusal to answer.
async fn admit<'a>(
    lease: &'a Lease,
    s: &DirectorySettings,
    user: &RawEntry,
) -> Result<Result<Attempt<'a>, Value>, JobError> {
    let memory = &lease.memory;
    let lockout = match s.login.failure_limit {
        0 => None,
        _ => memory.lockout.get(&lease.ldap, s, &memory.groups, user).await,
    };
    let known = lockout.map(|l| dc_failures::count(s.kind, user, l, SystemTime::now())).unwrap_or_default();
    let attempt = match memory.shield.admit(&user.dn, known, Instant::now).await {
        Admission::Bind(attempt) => attempt,
        Admission::Refuse { retry_after } => return Ok(Err(shield_refused(&s.name, retry_after))),
    };
    if let (Some(lockout), true) = (lockout, attempt.contended()) {
        let fresh = dc_failures::read_count(&lease.ldap, s, &user.dn, lockout).await?;
        if !attempt.confirm(fresh) {
            return Ok(Err(shield_refused(&s.name, std::time::Duration::ZERO)));
        }
    }
    Ok(Ok(attempt))
}

/// The one entry `username` names under `base_dn`; `None` when none or several do.
async fn find_user(
    lease: &Lease,
    s: &DirectorySettings,
    username: &str,
    attrs: &[&str],
) -> Result<Option<RawEntry>, JobError> {
    let filter = user_filter(&s.user_filter, username);
    let mut ldap = lease.ldap.clone();
    let search = ldap.with_timeout(s.operation_timeout).with_search_options(ldap3::SearchOptions::new().sizelimit(2));
    let search = super::referral::search_keeping_references(search, &s.base_dn, Scope::Subtree, &filter, attrs)
        .await
        .map_err(|e| LdapFailure::from_ldap(e).to_job_error("user search"))?;
    // sizeLimitExceeded with 2 entries: the name is ambiguous.
    if !rc::is_complete_or_size_limited(search.1.rc) {
        return Err(LdapFailure::Result { rc: search.1.rc, text: search.1.text.clone() }.to_job_error("user search"));
    }
    let (refs, found): (Vec<_>, Vec<_>) = search.0.into_iter().partition(|e| e.is_ref());
    let mut entries: Vec<RawEntry> =
        found.into_iter().map(RawEntry::parse).collect::<Result<_, _>>().map_err(|e| e.to_job_error("user search"))?;
    // Continuation references (other naming contexts, other domains): followed when
    // `follow_referrals` is on, else dropped as always.
    let refs: Vec<String> = refs.iter().flat_map(super::referral::reference_urls).collect();
    if !refs.is_empty() {
        let more = super::referral::follow(s, &lease.tls, refs, &filter, attrs)
            .await
            .map_err(|e| e.to_job_error("user search (following a referral)"))?;
        let mut seen: HashSet<String> = entries.iter().map(|e| crate::ldap::dn::match_key(&e.dn)).collect();
        entries.extend(more.entries.into_iter().filter(|e| seen.insert(crate::ldap::dn::match_key(&e.dn))));
        if let (Some(beyond), true) = (more.beyond, entries.is_empty()) {
            // "Not found" would be a guess: the user may be behind the references left.
            return Err(JobError::internal(format!(
                "the user search found no entry within referral_hops ({}) and left {} referral(s) unfollowed \
                 (first: {}): raise directories.{}.referral_hops, or narrow base_dn",
                beyond.hops, beyond.count, beyond.first, s.name
            )));
        }
    }
    let matches = entries.len();
    let mut entries = entries.into_iter();
    match (entries.next(), entries.next()) {
        (Some(one), None) => Ok(Some(one)),
        (None, _) => Ok(None),
        (Some(_), Some(_)) => {
            tracing::warn!(matches, "login name matches more than one directory entry; refused");
            Ok(None)
        }
    }
}

/// The wanted attributes' text values, one key per attribute under its plain name
/// (ranged parts merged, as in a record: PROTOCOL.md §2.6).
fn text_attributes(entry: &RawEntry, wanted: &[&str]) -> Value {
    let wanted: HashSet<String> = wanted.iter().map(|a| a.to_ascii_lowercase()).collect();
    let mut out = Map::new();
    for attr in entry.merged() {
        let lower = attr.name.to_ascii_lowercase();
        if !wanted.contains(&lower) || lower == "objectguid" || lower == "entryuuid" {
            continue;
        }
        let texts = attr.values().filter_map(|v| std::str::from_utf8(v).ok()).map(Value::from);
        out.insert(attr.name.to_owned(), Value::Array(texts.collect()));
    }
    Value::Object(out)
}

#[cfg(test)]
mod tests;
