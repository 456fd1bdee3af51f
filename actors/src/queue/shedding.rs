//! Shedding logins the connector cannot run in time (issue #17, overload): a login that
//! has already waited longer than `[connector] shed_logins_after` when its turn to run
//! comes is answered at once, failed `timeout` and retryable, without touching the
//! directory. Under overload the excess then leaves in milliseconds instead of waiting
//! (at the portal and in this queue) and running seconds late, and what does run stays
//! within the bound.
//!
//! Plain logic, no I/O: [`judge`] decides; `take_runnable` (`lifecycle.rs`) asks it for
//! each login it is about to start and writes the answer through the normal result path
//! (one `Tx`: durable first, then counted). Off unless configured.
//!
//! **Clock skew never sheds a login.** A login's age starts at the server's
//! `created_at`, moved to the local clock by the link's measured offset. Both may be off:
//! the offset by its bound (half the measuring round trip plus the resolution of the
//! server's clock reading, `link/clock.rs`), `created_at` by its own resolution (up to a
//! second when the portal writes whole seconds). Their sum is subtracted from the age
//! before it is compared, so a login is shed only when it waited longer than the
//! threshold however wrong the clocks are within their bounds. Without a measured offset
//! only the wait in this connector counts (stored → now, one clock). Always subtracting,
//! rather than only when the bound is large against the threshold, keeps one rule: with
//! millisecond timestamps on a LAN the bound is a few ms against hundreds.

use std::time::Duration;

use crate::errors::{ErrorCode, JobError};

/// What the queue knows of a login's age; every time is unix ms on the local clock.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LoginAge {
    /// The server's `created_at`, moved to the local clock by the measured offset.
    pub created_at_ms: u64,
    /// How far `created_at_ms` may be off: its resolution plus the offset's bound; `None`
    /// when no offset was measured (the time is the server's own, skew unknown).
    pub clock_uncertainty_ms: Option<u64>,
    /// When this connector stored the job.
    pub received_ms: u64,
}

/// Whether a login about to start runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    Run,
    /// Answer it `timeout` now: it waited `waited_ms` (its age as best known).
    Shed {
        waited_ms: u64,
    },
}

/// Judges a login about to start at `now_ms` against the threshold `after`.
pub fn judge(after: Duration, age: &LoginAge, now_ms: u64) -> Verdict {
    let here = now_ms.saturating_sub(age.received_ms);
    let since_created = now_ms.saturating_sub(age.created_at_ms);
    // The age no clock error within the bound can have made up, and the best estimate.
    let (sure, waited_ms) = match age.clock_uncertainty_ms {
        Some(bound) => (since_created.saturating_sub(bound).max(here), since_created.max(here)),
        None => (here, here),
    };
    if u128::from(sure) > after.as_millis() {
        Verdict::Shed { waited_ms }
    } else {
        Verdict::Run
    }
}

/// The result of a shed login: `timeout`, retryable, saying why and how long it waited.
pub fn at_capacity(after: Duration, waited_ms: u64) -> JobError {
    let message = format!(
        "the connector was at capacity: this login waited {waited_ms} ms, longer than shed_logins_after ({}), \
         so it was answered without trying the directory; try again",
        humantime::format_duration(after)
    );
    JobError::new(ErrorCode::Timeout, message)
        .with_detail("source", "connector")
        .with_detail("reason", "at_capacity")
        .with_detail("waited_ms", waited_ms)
}

/// How often shedding is said at warning level while it goes on.
const WARN_EVERY_MS: u64 = 60_000;

/// Tells the operator about shedding without a line per login: a warning at the first
/// shed and then at most once a minute with the count since, each login at debug.
#[derive(Debug, Default)]
pub struct ShedLog {
    warned_ms: Option<u64>,
    unsaid: u64,
}

impl ShedLog {
    pub fn shed(&mut self, job_id: &str, waited_ms: u64, after: Duration, now_ms: u64) {
        tracing::debug!(job_id, waited_ms, "login shed: it waited longer than shed_logins_after");
        self.unsaid += 1;
        if self.warned_ms.is_some_and(|t| now_ms.saturating_sub(t) < WARN_EVERY_MS) {
            return;
        }
        tracing::warn!(
            logins_shed = self.unsaid,
            shed_logins_after = %humantime::format_duration(after),
            "the connector is at capacity: logins that waited longer than shed_logins_after are answered `timeout` (retryable) without being run; add capacity (max_concurrency, directory servers, CPU) or lower the login rate"
        );
        self.warned_ms = Some(now_ms);
        self.unsaid = 0;
    }
}

#[cfg(test)]
mod tests;
