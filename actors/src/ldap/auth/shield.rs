//! The lockout shield: after `login_failure_limit` wrong passwords for one account within
//! `login_failure_window`, the connector answers `account_locked` itself
//! (`details.source = "connector"`, PROTOCOL.md §3) and sends no bind, so a portal under
//! a password spray cannot push the directory's bad-password count (AD `badPwdCount`,
//! ppolicy `pwdFailureTime`) to its lockout threshold and lock the real account.
//!
//! Counted per account (the found entry's DN, case-folded), so `jdoe` and
//! `jdoe@example.test` share one count. Memory is bounded: at most [`SHIELD_CAPACITY`]
//! accounts are remembered, the least recently failed forgotten first (each entry is the
//! DN and 24 bytes; about 3 MiB when full). A forgotten account starts again from zero,
//! so a spray over more accounts than that falls back on the directory's own lockout.

use std::num::NonZeroUsize;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use lru::LruCache;

use crate::directory::LoginSettings;

/// Accounts the shield remembers at once.
pub const SHIELD_CAPACITY: usize = 20_000;

#[derive(Debug, Clone, Copy)]
struct Failures {
    count: u32,
    last: Instant,
}

/// Recent wrong passwords per account.
pub struct LoginShield {
    limit: u32,
    window: Duration,
    recent: Mutex<LruCache<String, Failures>>,
}

/// What the shield says before a bind.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// Send the bind.
    Bind,
    /// Answer `account_locked` without a bind; the count holds until this much later.
    Refuse { retry_after: Duration },
}

impl LoginShield {
    pub fn new(settings: &LoginSettings) -> LoginShield {
        let cap = NonZeroUsize::new(SHIELD_CAPACITY).unwrap_or(NonZeroUsize::MIN);
        LoginShield {
            limit: settings.failure_limit,
            window: settings.failure_window,
            recent: Mutex::new(LruCache::new(cap)),
        }
    }

    fn key(dn: &str) -> String {
        dn.to_lowercase()
    }

    /// Whether a login for `dn` may bind now. A refused attempt does not extend the
    /// window: the account opens again `login_failure_window` after its last real failure.
    pub fn verdict(&self, dn: &str, now: Instant) -> Verdict {
        if self.limit == 0 {
            return Verdict::Bind;
        }
        let Ok(recent) = self.recent.lock() else { return Verdict::Bind };
        match recent.peek(&Self::key(dn)) {
            Some(f) if f.count >= self.limit && now.saturating_duration_since(f.last) < self.window => {
                Verdict::Refuse { retry_after: self.window - now.saturating_duration_since(f.last) }
            }
            _ => Verdict::Bind,
        }
    }

    /// A bind for `dn` failed with a wrong password: counts it (a count older than the
    /// window starts again at one). Returns the count.
    pub fn failed(&self, dn: &str, now: Instant) -> u32 {
        if self.limit == 0 {
            return 0;
        }
        let Ok(mut recent) = self.recent.lock() else { return 0 };
        let key = Self::key(dn);
        let count = match recent.get(&key) {
            Some(f) if now.saturating_duration_since(f.last) < self.window => f.count.saturating_add(1),
            _ => 1,
        };
        recent.put(key, Failures { count, last: now });
        count
    }

    /// A bind for `dn` succeeded: its count is cleared.
    pub fn succeeded(&self, dn: &str) {
        if let Ok(mut recent) = self.recent.lock() {
            recent.pop(&Self::key(dn));
        }
    }

    /// Accounts remembered now (for metrics and tests).
    pub fn remembered(&self) -> usize {
        self.recent.lock().map(|r| r.len()).unwrap_or(0)
    }
}

#[cfg(test)]
mod tests;
