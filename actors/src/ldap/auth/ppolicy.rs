//! The `pwdMaxAge` of an OpenLDAP user's password policy (its `pwdPolicySubentry`, else
//! `default_password_policy_dn`), read once per policy and kept for
//! [`GROUP_CACHE_TTL`](super::groups::GROUP_CACHE_TTL).

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Instant;

use ldap3::{Ldap, Scope};

use super::groups::{naming_context, GroupCache};

use super::groups::GROUP_CACHE_TTL;
use crate::directory::DirectorySettings;
use crate::ldap::entry::RawEntry;

/// Policies by DN (a directory has a handful): `pwdMaxAge` in seconds, `None` unreadable.
#[derive(Default)]
pub struct PolicyCache(Mutex<HashMap<String, (Option<u64>, Instant)>>);

impl PolicyCache {
    /// The user's `pwdMaxAge`; `None` when no policy applies or it cannot be read (the
    /// expiry is then unknown and shown as null; logged once per read).
    pub async fn max_age(&self, ldap: &Ldap, s: &DirectorySettings, user: &RawEntry) -> Option<u64> {
        let dn = user
            .first_text("pwdPolicySubentry")
            .map(str::to_owned)
            .or_else(|| s.login.default_password_policy_dn.clone())?;
        let now = Instant::now();
        if let Some((age, at)) = self.0.lock().ok()?.get(&crate::ldap::dn::match_key(&dn)) {
            if now.saturating_duration_since(*at) < GROUP_CACHE_TTL {
                return *age;
            }
        }
        let read =
            RawEntry::search(ldap.clone(), s.operation_timeout, &dn, Scope::Base, "(objectClass=*)", &["pwdMaxAge"])
                .await;
        let age = match &read {
            Ok(found) => found.first().and_then(|e| e.first_text("pwdMaxAge")).and_then(|a| a.trim().parse().ok()),
            Err(_) => None,
        };
        if age.is_none() {
            tracing::warn!(directory = %s.name, policy = %dn, "cannot read pwdMaxAge of the password policy: password expiry shown as unknown (null)");
        }
        self.0.lock().ok()?.insert(crate::ldap::dn::match_key(&dn), (age, now));
        age
    }
}

/// Every password policy's `pwdMaxAge` in the naming context, read once for a whole
/// import (one search), so each record's expiry needs no further read.
#[derive(Debug, Default)]
pub struct PolicyAges {
    ages: HashMap<String, u64>,
    default: Option<String>,
}

impl PolicyAges {
    /// Reads the `pwdPolicy` entries; a failure is logged and leaves expiry unknown (null)
    /// rather than failing the import.
    pub async fn read(ldap: &Ldap, s: &DirectorySettings, cache: &GroupCache) -> PolicyAges {
        let default = s.login.default_password_policy_dn.as_ref().map(|d| crate::ldap::dn::match_key(d));
        let found = match naming_context(ldap, s, cache).await {
            Ok(base) => RawEntry::search(
                ldap.clone(),
                s.operation_timeout,
                &base,
                Scope::Subtree,
                "(objectClass=pwdPolicy)",
                &["pwdMaxAge"],
            )
            .await
            .map_err(|e| e.to_string()),
            Err(e) => Err(e.message),
        };
        let ages = match found {
            Ok(entries) => entries
                .iter()
                .filter_map(|e| {
                    Some((crate::ldap::dn::match_key(&e.dn), e.first_text("pwdMaxAge")?.trim().parse().ok()?))
                })
                .collect(),
            Err(e) => {
                tracing::warn!(directory = %s.name, error = %e, "cannot read the password policies: records show no password expiry");
                HashMap::new()
            }
        };
        PolicyAges { ages, default }
    }

    /// The `pwdMaxAge` that applies to `user`.
    pub fn max_age(&self, user: &RawEntry) -> Option<u64> {
        let dn =
            user.first_text("pwdPolicySubentry").map(crate::ldap::dn::match_key).or_else(|| self.default.clone())?;
        self.ages.get(&dn).copied()
    }
}
