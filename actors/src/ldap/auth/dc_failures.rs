//! The wrong passwords the directory itself already counts for an account, outside the
//! connector too (typos at a workstation, another application), and how many lock it:
//!
//! - Active Directory: `badPwdCount`, which counts while the last one (`badPasswordTime`)
//!   lies within the domain's `lockoutObservationWindow`, against `lockoutThreshold`
//!   ([MS-ADTS] 3.1.1.5.2.2 "Bad-Password-Count"; [MS-SAMR] 3.1.1.8.14).
//! - OpenLDAP ppolicy (draft-behera-ldap-password-policy-10 §5.3, §7.4): the
//!   `pwdFailureTime` values within the policy's `pwdFailureCountInterval` (0: all, until
//!   a successful bind), against `pwdMaxFailure` when `pwdLockout` is on; the policy is
//!   the user's `pwdPolicySubentry`, else `default_password_policy_dn`.
//!
//! The lockout shield sends no bind that could bring that count to the threshold
//! (counting the binds in flight as failures), so neither a typo elsewhere nor a spray
//! paced slower than `login_failure_window` (the directory's own window is often longer,
//! or endless) lets the portal lock the account.
//!
//! Limits: AD's `badPwdCount` is kept per DC (not replicated); the DC the connector reads
//! may know fewer failures than the PDC emulator. A fine-grained policy's (PSO) own
//! threshold and window are not read: the domain's apply.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use ldap3::{Ldap, Scope};

use super::expiry::generalized;
use super::groups::{naming_context, GroupCache, GROUP_CACHE_TTL};
use crate::directory::{DirectoryKind, DirectorySettings};
use crate::ldap::entry::RawEntry;

/// What the user search also reads for the count.
pub fn attributes(kind: DirectoryKind) -> &'static [&'static str] {
    match kind {
        DirectoryKind::ActiveDirectory => &["badPwdCount", "badPasswordTime"],
        DirectoryKind::Ldap => &["pwdFailureTime", "pwdPolicySubentry"],
    }
}

/// 100-ns intervals between 1601-01-01 and 1970-01-01.
const FILETIME_UNIX_EPOCH: u64 = 116_444_736_000_000_000;

/// A directory's lockout policy.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Lockout {
    /// The wrong passwords that lock an account (2 or more here).
    pub threshold: u32,
    /// How long a wrong password counts; `None`: until a successful bind.
    pub window: Option<Duration>,
}

/// The wrong passwords the directory counts for one account, and how many lock it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct DirectoryCount {
    pub failures: u32,
    /// 0: unknown, or the directory never locks.
    pub locks_at: u32,
}

/// Lockout policies by DN (AD: the domain; OpenLDAP: each ppolicy entry), read once per
/// [`GROUP_CACHE_TTL`]; `None` when unreadable, off, or locking at the first wrong
/// password (no bind is safe then; `check` warns): the shield then counts alone.
#[derive(Default)]
pub struct LockoutPolicies(Mutex<HashMap<String, (Instant, Option<Lockout>)>>);

impl LockoutPolicies {
    /// The policy that governs `user`.
    pub async fn get(
        &self,
        ldap: &Ldap,
        s: &DirectorySettings,
        groups: &GroupCache,
        user: &RawEntry,
    ) -> Option<Lockout> {
        let dn = match s.kind {
            DirectoryKind::ActiveDirectory => naming_context(ldap, s, groups).await.ok()?,
            DirectoryKind::Ldap => user
                .first_text("pwdPolicySubentry")
                .map(str::to_owned)
                .or_else(|| s.login.default_password_policy_dn.clone())?,
        };
        let now = Instant::now();
        if let Some((at, policy)) = self.0.lock().ok()?.get(&crate::ldap::dn::match_key(&dn)) {
            if now.saturating_duration_since(*at) < GROUP_CACHE_TTL {
                return *policy;
            }
        }
        let policy = read(ldap, s, &dn).await;
        if policy.is_none() {
            tracing::info!(directory = %s.name, policy = %dn, "no lockout policy read (none, off, or unreadable): the lockout shield counts only the wrong passwords sent through the connector");
        }
        self.0.lock().ok()?.insert(crate::ldap::dn::match_key(&dn), (now, policy));
        policy
    }
}

async fn read(ldap: &Ldap, s: &DirectorySettings, dn: &str) -> Option<Lockout> {
    let attrs: &[&str] = match s.kind {
        DirectoryKind::ActiveDirectory => &["lockoutThreshold", "lockoutObservationWindow"],
        DirectoryKind::Ldap => &["pwdLockout", "pwdMaxFailure", "pwdFailureCountInterval"],
    };
    let found =
        RawEntry::search(ldap.clone(), s.operation_timeout, dn, Scope::Base, "(objectClass=*)", attrs).await.ok()?;
    let e = found.first()?;
    let number = |name: &str| e.first_text(name).and_then(|v| v.trim().parse::<i64>().ok());
    let (threshold, window) = match s.kind {
        DirectoryKind::ActiveDirectory => {
            // A negative 100-ns interval.
            let window = number("lockoutObservationWindow")?.unsigned_abs().saturating_mul(100);
            (number("lockoutThreshold")?, Some(Duration::from_nanos(window)))
        }
        DirectoryKind::Ldap => {
            if !e.first_text("pwdLockout").is_some_and(|l| l.eq_ignore_ascii_case("TRUE")) {
                return None;
            }
            let interval = number("pwdFailureCountInterval").unwrap_or(0).unsigned_abs();
            (number("pwdMaxFailure")?, (interval > 0).then(|| Duration::from_secs(interval)))
        }
    };
    let threshold = u32::try_from(threshold).ok().filter(|t| *t >= 2)?;
    Some(Lockout { threshold, window })
}

/// What the directory counts for `user` at `now` under `lockout`.
pub fn count(kind: DirectoryKind, user: &RawEntry, lockout: Lockout, now: SystemTime) -> DirectoryCount {
    let failures = match kind {
        DirectoryKind::ActiveDirectory => ad_recent(user, lockout.window, now),
        DirectoryKind::Ldap => ppolicy_recent(user, lockout.window, now),
    };
    DirectoryCount { failures, locks_at: lockout.threshold }
}

/// The count for the user at `dn`, read now (after a bind was admitted).
pub async fn read_count(
    ldap: &Ldap,
    s: &DirectorySettings,
    dn: &str,
    lockout: Lockout,
) -> Result<DirectoryCount, crate::errors::JobError> {
    let attrs = attributes(s.kind);
    let found = RawEntry::search(ldap.clone(), s.operation_timeout, dn, Scope::Base, "(objectClass=*)", attrs)
        .await
        .map_err(|e| e.to_job_error("reading the user's count of wrong passwords"))?;
    let none = DirectoryCount { failures: 0, locks_at: lockout.threshold };
    Ok(found.first().map_or(none, |e| count(s.kind, e, lockout, SystemTime::now())))
}

fn within(window: Option<Duration>, at: SystemTime, now: SystemTime) -> bool {
    match (window, now.duration_since(at)) {
        (Some(w), Ok(age)) => age < w,
        _ => true,
    }
}

/// AD: `badPwdCount` while `badPasswordTime` lies within the window, else 0 (the DC
/// starts again at the next one).
fn ad_recent(user: &RawEntry, window: Option<Duration>, now: SystemTime) -> u32 {
    let count: u32 = user.first_text("badPwdCount").and_then(|c| c.trim().parse().ok()).unwrap_or(0);
    let at = user.first_text("badPasswordTime").and_then(|t| t.trim().parse::<u64>().ok()).unwrap_or(0);
    let Some(since_unix) = at.checked_sub(FILETIME_UNIX_EPOCH) else { return 0 };
    let last = UNIX_EPOCH + Duration::from_nanos(since_unix.saturating_mul(100));
    if within(window, last, now) {
        count
    } else {
        0
    }
}

/// ppolicy: the `pwdFailureTime` values within the window.
fn ppolicy_recent(user: &RawEntry, window: Option<Duration>, now: SystemTime) -> u32 {
    let times = user.merged().into_iter().filter(|a| a.name.eq_ignore_ascii_case("pwdFailureTime"));
    let values: Vec<Vec<u8>> = times.flat_map(|a| a.values().cloned().collect::<Vec<_>>()).collect();
    let recent = values
        .iter()
        .filter_map(|v| std::str::from_utf8(v).ok().and_then(generalized))
        .filter(|secs| within(window, UNIX_EPOCH + Duration::from_secs(*secs), now))
        .count();
    u32::try_from(recent).unwrap_or(u32::MAX)
}

#[cfg(test)]
mod tests;
