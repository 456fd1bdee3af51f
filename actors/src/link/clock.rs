//! The offset between the server's clock and the local one, measured from each register
//! and heartbeat answer (`server_time` in the body, else the HTTP `Date` header), so job
//! deadlines are judged on server time (issue #14: a connector 30 s fast failed every
//! login `deadline_exceeded`).

use std::time::Duration;

use crate::protocol::bounds::{CLOCK_OFFSET_WARNING, TIMESTAMP_WINDOW};
use crate::time::{now_ms, parse_rfc3339, resolution_ms};

/// When a request left, to pair with its answer.
#[derive(Debug, Clone, Copy)]
pub struct Stopwatch {
    sent_ms: u64,
}

impl Stopwatch {
    pub fn start() -> Stopwatch {
        Stopwatch { sent_ms: now_ms() }
    }

    /// Server minus local clock in ms, from the answer's `server_time` (RFC 3339) or else
    /// its `Date` header (unix ms), taken as read at the middle of the round trip. `None`
    /// when the answer carries neither, or the offset is more than a year (a broken
    /// server clock: judging deadlines on it would be worse than on the local one).
    pub fn offset_ms(self, server_time: Option<&str>, date_ms: Option<u64>) -> Option<i64> {
        self.reading(server_time, date_ms).map(|r| r.offset_ms)
    }

    /// [`Stopwatch::offset_ms`] with how far it may be off ([`ClockReading`]).
    pub fn reading(self, server_time: Option<&str>, date_ms: Option<u64>) -> Option<ClockReading> {
        let received_ms = now_ms();
        let (server_ms, resolution_ms) = match server_time.and_then(|t| Some((parse_rfc3339(t)?, resolution_ms(t)))) {
            Some(read) => read,
            None => (date_ms?, DATE_RESOLUTION_MS),
        };
        let offset_ms = offset_ms(server_ms, self.sent_ms, received_ms)?;
        let half_trip = received_ms.saturating_sub(self.sent_ms).div_ceil(2);
        Some(ClockReading { offset_ms, uncertainty_ms: half_trip.saturating_add(resolution_ms) })
    }
}

/// A measured offset and its bound: the server read its clock somewhere within the round
/// trip (taken at the middle: off by at most half of it) and wrote it at its timestamp's
/// resolution (a whole-second `server_time` or `Date` may be up to a second off).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ClockReading {
    /// Server minus local clock, ms.
    pub offset_ms: i64,
    /// The true offset lies within `offset_ms ± uncertainty_ms`.
    pub uncertainty_ms: u64,
}

/// An HTTP `Date` header has whole seconds (RFC 9110 §5.6.7).
const DATE_RESOLUTION_MS: u64 = 1_000;

/// See [`Stopwatch::offset_ms`].
pub fn offset_ms(server_ms: u64, sent_ms: u64, received_ms: u64) -> Option<i64> {
    let middle = sent_ms / 2 + received_ms / 2;
    let offset = i64::try_from(server_ms).ok()?.checked_sub(i64::try_from(middle).ok()?)?;
    (offset.unsigned_abs() <= TIMESTAMP_WINDOW.as_millis() as u64).then_some(offset)
}

/// Whether an offset is large enough to warn an administrator about.
pub fn offset_is_large(offset_ms: i64) -> bool {
    Duration::from_millis(offset_ms.unsigned_abs()) > CLOCK_OFFSET_WARNING
}

/// The offset in whole seconds, rounded, for heartbeats, the UI and `check`.
pub fn offset_s(offset_ms: i64) -> i64 {
    (offset_ms as f64 / 1000.0).round() as i64
}

/// Plain words for an offset, with what to do when it is large.
pub fn describe(offset_ms: i64) -> String {
    let s = offset_s(offset_ms);
    let side = if s > 0 { "behind" } else { "ahead of" };
    if offset_is_large(offset_ms) {
        format!("this machine's clock is {} s {side} the portal's; deadlines are judged on the portal's clock, but fix the time of this machine (NTP: `timedatectl status`)", s.abs())
    } else {
        format!("{s:+} s (portal minus this machine)")
    }
}

#[cfg(test)]
#[path = "clock/tests.rs"]
mod tests;
