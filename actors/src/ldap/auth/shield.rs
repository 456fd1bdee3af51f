//! The lockout shield: after `login_failure_limit` wrong passwords for one account within
//! `login_failure_window`, the connector answers `account_locked` itself
//! (`details.source = "connector"`, PROTOCOL.md §3) and sends no bind, so a portal under
//! a password spray cannot push the directory's bad-password count (AD `badPwdCount`,
//! ppolicy `pwdFailureTime`) to its lockout threshold and lock the real account.
//!
//! Counted per account (the found entry's DN, case-folded), so `jdoe` and
//! `jdoe@example.test` share one count. On AD the shield also sends no bind that could
//! bring the DC's own count (`badPwdCount`, typos elsewhere included, within the domain's
//! observation window) to its lockout threshold: see `dc_failures.rs`. A bind on its way counts as a possible failure:
//! logins for one account that run at once (the portal's own ordering keys, or the
//! sAMAccountName and the UPN of one user) wait while the failures counted plus the binds
//! in flight reach the limit, so no more than the limit of wrong passwords ever reaches
//! the directory; each wait is bounded by the binds' own timeout. The binds in flight are
//! kept apart from the failures (at most one entry per login running), so logins that
//! succeed never push a remembered failure out. Memory is bounded: at most [`SHIELD_CAPACITY`]
//! accounts are remembered, the least recently failed forgotten first (each entry is the
//! DN and 24 bytes; about 3 MiB when full). A forgotten account starts again from zero,
//! so a spray over more accounts than that falls back on the directory's own lockout.

use std::collections::HashMap;
use std::num::NonZeroUsize;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use lru::LruCache;
use tokio::sync::Notify;

use super::dc_failures::DirectoryCount;
use crate::directory::LoginSettings;

/// Accounts the shield remembers at once.
pub const SHIELD_CAPACITY: usize = 20_000;

#[derive(Debug, Clone, Copy)]
struct Failures {
    count: u32,
    last: Instant,
}

/// The failures remembered, and the binds admitted and not yet answered, per account.
struct State {
    recent: LruCache<String, Failures>,
    in_flight: HashMap<String, u32>,
}

/// Recent wrong passwords per account.
pub struct LoginShield {
    limit: u32,
    window: Duration,
    state: Mutex<State>,
    /// Woken whenever a bind in flight is answered, for the logins waiting on it.
    settled: Notify,
}

/// What the shield says of one login at one moment.
enum Verdict {
    /// `contended`: the account had failures or binds in flight, so a count of the
    /// directory's read before may be stale.
    Bind {
        contended: bool,
    },
    Wait,
    Refuse {
        retry_after: Duration,
    },
}

impl LoginShield {
    pub fn new(settings: &LoginSettings) -> LoginShield {
        let cap = NonZeroUsize::new(SHIELD_CAPACITY).unwrap_or(NonZeroUsize::MIN);
        LoginShield {
            limit: settings.failure_limit,
            window: settings.failure_window,
            state: Mutex::new(State { recent: LruCache::new(cap), in_flight: HashMap::new() }),
            settled: Notify::new(),
        }
    }

    fn key(dn: &str) -> String {
        crate::ldap::dn::match_key(dn)
    }

    /// Whether a login for `dn` may bind now, deciding at `now()`: refused while the
    /// account has `login_failure_limit` recent failures; while the failures plus the binds
    /// in flight reach the limit, waits for one of those binds to be answered. A refused
    /// attempt does not extend the window: the account opens again
    /// `login_failure_window` after its last real failure. [`Admission::Bind`] holds a
    /// place until its [`Attempt`] is answered (or dropped, on an error). `known`: what the
    /// directory itself counts (AD, see `dc_failures.rs`): refused too while its failures
    /// are one short of its threshold, and waits while they and the binds in flight are.
    pub async fn admit<'a>(&'a self, dn: &str, known: DirectoryCount, now: impl Fn() -> Instant) -> Admission<'a> {
        if self.limit == 0 {
            return Admission::Bind(Attempt { shield: self, key: None, contended: false });
        }
        let key = Self::key(dn);
        loop {
            let settled = self.settled.notified();
            match self.verdict(&key, known, now()) {
                Verdict::Bind { contended } => {
                    return Admission::Bind(Attempt { shield: self, key: Some(key), contended })
                }
                Verdict::Refuse { retry_after } => return Admission::Refuse { retry_after },
                Verdict::Wait => settled.await,
            }
        }
    }

    /// The verdict for `key` now; a place is taken when it is `Bind`.
    fn verdict(&self, key: &str, known: DirectoryCount, now: Instant) -> Verdict {
        let Ok(mut state) = self.state.lock() else { return Verdict::Bind { contended: true } };
        let (mine, retry_after) = match state.recent.peek(key) {
            Some(f) if now.saturating_duration_since(f.last) < self.window => {
                (f.count, self.window - now.saturating_duration_since(f.last))
            }
            _ => (0, self.window),
        };
        // Failures allowed before a bind could lock the account in the directory.
        let dc_room = known.locks_at.saturating_sub(1);
        if mine >= self.limit || (known.locks_at > 0 && known.failures >= dc_room) {
            return Verdict::Refuse { retry_after };
        }
        let in_flight = state.in_flight.entry(key.to_owned()).or_insert(0);
        let full = mine.saturating_add(*in_flight) >= self.limit
            || (known.locks_at > 0 && known.failures.saturating_add(*in_flight) >= dc_room);
        if full {
            if *in_flight == 0 {
                state.in_flight.remove(key);
            }
            return Verdict::Wait;
        }
        let contended = mine > 0 || *in_flight > 0;
        *in_flight += 1;
        Verdict::Bind { contended }
    }

    /// Whether a bind admitted for `key` still may go, given a fresh count of the
    /// directory's: the binds in flight besides it must leave room below its threshold.
    fn confirm(&self, key: &str, known: DirectoryCount) -> bool {
        if known.locks_at == 0 {
            return true;
        }
        let Ok(state) = self.state.lock() else { return true };
        let others = state.in_flight.get(key).copied().unwrap_or(1).saturating_sub(1);
        known.failures.saturating_add(others) < known.locks_at.saturating_sub(1)
    }

    /// Settles one admitted bind for `key` and wakes the logins waiting on it. Returns
    /// the account's count of failures now.
    fn settle(&self, key: &str, outcome: Outcome) -> u32 {
        let count = self.state.lock().map(|mut state| self.settle_locked(&mut state, key, outcome)).unwrap_or(0);
        self.settled.notify_waiters();
        count
    }

    fn settle_locked(&self, state: &mut State, key: &str, outcome: Outcome) -> u32 {
        if let Some(n) = state.in_flight.get_mut(key) {
            *n = n.saturating_sub(1);
            if *n == 0 {
                state.in_flight.remove(key);
            }
        }
        match outcome {
            Outcome::Failed(at) => {
                let count = match state.recent.get(key) {
                    Some(f) if at.saturating_duration_since(f.last) < self.window => f.count.saturating_add(1),
                    _ => 1,
                };
                state.recent.put(key.to_owned(), Failures { count, last: at });
                count
            }
            Outcome::Succeeded => {
                state.recent.pop(key);
                0
            }
            Outcome::Released => state.recent.peek(key).map_or(0, |f| f.count),
        }
    }

    /// Accounts remembered now (for metrics and tests).
    pub fn remembered(&self) -> usize {
        self.state.lock().map(|s| s.recent.len()).unwrap_or(0)
    }
}

/// What became of an admitted bind.
#[derive(Debug, Clone, Copy)]
enum Outcome {
    Failed(Instant),
    Succeeded,
    Released,
}

/// The shield's answer to [`LoginShield::admit`].
pub enum Admission<'a> {
    /// Send the bind, then say how it went on the attempt.
    Bind(Attempt<'a>),
    /// Answer `account_locked` without a bind; the count holds until this much later.
    Refuse { retry_after: Duration },
}

/// One admitted bind; its place is given back when it is answered or dropped.
pub struct Attempt<'a> {
    shield: &'a LoginShield,
    key: Option<String>,
    contended: bool,
}

impl Attempt<'_> {
    /// The account had failures or binds in flight when this bind was admitted: a count
    /// of the directory's read before the admission may miss some; read it again and
    /// [`Attempt::confirm`].
    pub fn contended(&self) -> bool {
        self.contended && self.key.is_some()
    }

    /// Whether this bind still may go, given a count of the directory's read after it was
    /// admitted (every bind that ended since is in it, every other one is in flight).
    pub fn confirm(&self, known: DirectoryCount) -> bool {
        self.key.as_deref().is_none_or(|k| self.shield.confirm(k, known))
    }

    /// The bind failed with a wrong password at `at`: counted (a count older than the
    /// window starts again at one). Returns the count.
    pub fn failed(mut self, at: Instant) -> u32 {
        self.key.take().map_or(0, |k| self.shield.settle(&k, Outcome::Failed(at)))
    }

    /// The bind succeeded: the account's count is cleared.
    pub fn succeeded(mut self) {
        if let Some(k) = self.key.take() {
            self.shield.settle(&k, Outcome::Succeeded);
        }
    }
}

impl Drop for Attempt<'_> {
    /// Answered otherwise (another reason, an error, a cancelled job): the place is given
    /// back uncounted.
    fn drop(&mut self) {
        if let Some(k) = self.key.take() {
            self.shield.settle(&k, Outcome::Released);
        }
    }
}

#[cfg(test)]
mod tests;
