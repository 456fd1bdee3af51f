//! The wrong passwords an Active Directory DC already counts for an account, outside the
//! connector too (typos at a workstation, another application): its `badPwdCount`, which
//! still counts while the last one (`badPasswordTime`) lies within the domain's
//! `lockoutObservationWindow` ([MS-ADTS] 3.1.1.5.2.2 "Bad-Password-Count"; [MS-SAMR]
//! 3.1.1.8.14). The lockout shield sends no bind that could bring that count to the
//! domain's `lockoutThreshold` (counting the binds in flight as failures), so neither a
//! typo elsewhere nor a spray paced slower than `login_failure_window` (the DC's own
//! window is often longer: 30 min by default) lets the portal lock the account.
//!
//! Limits: `badPwdCount` is kept per DC (not replicated); the DC the connector reads may
//! know fewer failures than the PDC emulator. A fine-grained policy's own observation
//! window is not read: the domain's applies.

use std::sync::Mutex;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use ldap3::{Ldap, Scope};

use super::groups::{naming_context, GroupCache, GROUP_CACHE_TTL};
use crate::directory::DirectorySettings;
use crate::ldap::entry::RawEntry;

/// What the user search also reads for the count.
pub const ATTRIBUTES: [&str; 2] = ["badPwdCount", "badPasswordTime"];

/// 100-ns intervals between 1601-01-01 and 1970-01-01.
const FILETIME_UNIX_EPOCH: u64 = 116_444_736_000_000_000;

/// The domain's lockout policy.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DomainLockout {
    /// `lockoutThreshold`: the wrong passwords that lock an account (2 or more here).
    pub threshold: u32,
    /// `lockoutObservationWindow`.
    pub window: Duration,
}

/// The wrong passwords the directory counts for one account, and how many lock it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct DirectoryCount {
    pub failures: u32,
    /// 0: unknown, or the directory never locks.
    pub locks_at: u32,
}

/// The domain's lockout policy, read once per [`GROUP_CACHE_TTL`]; `None` when it cannot
/// be read, the domain never locks accounts, or locks at the first wrong password (no bind
/// is safe then; `check` warns): the shield then counts alone.
#[derive(Default)]
pub struct LockoutWindow(Mutex<Option<(Instant, Option<DomainLockout>)>>);

impl LockoutWindow {
    pub async fn get(&self, ldap: &Ldap, s: &DirectorySettings, groups: &GroupCache) -> Option<DomainLockout> {
        let now = Instant::now();
        if let Some((at, window)) = *self.0.lock().ok()? {
            if now.saturating_duration_since(at) < GROUP_CACHE_TTL {
                return window;
            }
        }
        let window = read(ldap, s, groups).await;
        if window.is_none() {
            tracing::info!(directory = %s.name, "no domain lockout policy read (none, or unreadable): the lockout shield counts only the wrong passwords sent through the connector");
        }
        *self.0.lock().ok()? = Some((now, window));
        window
    }
}

async fn read(ldap: &Ldap, s: &DirectorySettings, groups: &GroupCache) -> Option<DomainLockout> {
    let domain = naming_context(ldap, s, groups).await.ok()?;
    let attrs = ["lockoutThreshold", "lockoutObservationWindow"];
    let found = RawEntry::search(ldap.clone(), s.operation_timeout, &domain, Scope::Base, "(objectClass=*)", &attrs)
        .await
        .ok()?;
    let e = found.first()?;
    let threshold: u32 = e.first_text("lockoutThreshold")?.trim().parse().ok()?;
    // A negative 100-ns interval.
    let window: i64 = e.first_text("lockoutObservationWindow")?.trim().parse().ok()?;
    let window = Duration::from_nanos(window.unsigned_abs().saturating_mul(100));
    (threshold >= 2).then_some(DomainLockout { threshold, window })
}

/// What the DC counts for `user` at `now` under `lockout`.
pub fn count(user: &RawEntry, lockout: DomainLockout, now: SystemTime) -> DirectoryCount {
    DirectoryCount { failures: recent(user, lockout.window, now), locks_at: lockout.threshold }
}

/// The DC's count for the user at `dn`, read now (after a bind was admitted).
pub async fn read_count(
    ldap: &Ldap,
    s: &DirectorySettings,
    dn: &str,
    lockout: DomainLockout,
) -> Result<DirectoryCount, crate::errors::JobError> {
    let found = RawEntry::search(ldap.clone(), s.operation_timeout, dn, Scope::Base, "(objectClass=*)", &ATTRIBUTES)
        .await
        .map_err(|e| e.to_job_error("reading the user's bad-password count"))?;
    Ok(found
        .first()
        .map(|e| count(e, lockout, SystemTime::now()))
        .unwrap_or(DirectoryCount { failures: 0, locks_at: lockout.threshold }))
}

/// The wrong passwords the DC counts for `user` at `now`: its `badPwdCount` while the last
/// one lies within `window`, else 0 (the DC starts again at the next one).
pub fn recent(user: &RawEntry, window: Duration, now: SystemTime) -> u32 {
    let count: u32 = user.first_text("badPwdCount").and_then(|c| c.trim().parse().ok()).unwrap_or(0);
    let at = user.first_text("badPasswordTime").and_then(|t| t.trim().parse::<u64>().ok()).unwrap_or(0);
    let Some(since_unix) = at.checked_sub(FILETIME_UNIX_EPOCH) else { return 0 };
    let last = UNIX_EPOCH + Duration::from_nanos(since_unix.saturating_mul(100));
    match now.duration_since(last) {
        Ok(age) if age >= window => 0,
        _ => count,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn user(count: &str, at: SystemTime) -> RawEntry {
        let ft = at.duration_since(UNIX_EPOCH).map_or(0, |d| d.as_nanos() / 100) as u64 + FILETIME_UNIX_EPOCH;
        RawEntry {
            dn: "CN=u".into(),
            attributes: vec![
                ("badPwdCount".into(), vec![count.as_bytes().to_vec()]),
                ("badPasswordTime".into(), vec![ft.to_string().into_bytes()]),
            ],
        }
    }

    #[test]
    fn the_count_holds_within_the_observation_window_only() {
        let now = SystemTime::now();
        let window = Duration::from_secs(1800);
        assert_eq!(recent(&user("2", now - Duration::from_secs(60)), window, now), 2);
        assert_eq!(recent(&user("2", now - Duration::from_secs(1800)), window, now), 0, "the DC starts again");
        assert_eq!(recent(&user("0", now), window, now), 0);
        let never = RawEntry { dn: "CN=u".into(), attributes: vec![("badPwdCount".into(), vec![b"1".to_vec()])] };
        assert_eq!(recent(&never, window, now), 0, "no badPasswordTime: never failed");
    }
}
