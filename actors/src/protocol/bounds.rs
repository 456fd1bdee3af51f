//! Every number the server sends, bounded in one place (issue #14): a broken or hostile
//! server must never make the connector panic, stall or spin. A value out of range is
//! clamped into it, or, where no clamped value would mean anything, refused (the caller
//! says how). Each bound says why it is what it is.

use std::time::Duration;

/// Inclusive range of a number the server sends, with a [`Range::clamp`] that never panics.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Range {
    pub min: u64,
    pub max: u64,
}

impl Range {
    pub const fn clamp(self, v: u64) -> u64 {
        if v < self.min {
            self.min
        } else if v > self.max {
            self.max
        } else {
            v
        }
    }
}

/// `Retry-After` (seconds, 429/503). At most 10 min: the protocol says "wait at least
/// Retry-After", but a server that asks for hours (or 10^12 s) would park the poller and
/// the courier for good; after 10 min the connector asks again and a still overloaded
/// server answers 503 again, which costs one request. An HTTP-date or a negative number
/// is not a number of seconds: ignored (the backoff alone applies).
pub const RETRY_AFTER_S: Range = Range { min: 0, max: 600 };

/// `heartbeat_interval_s` (register answer). At least 1 s (0 would heartbeat in a hot
/// loop; tests use 1 s), at most 1 h: the portal shows a connector Offline after two
/// missed intervals, so a longer interval only hides a dead connector, and 10^9 s would
/// stop heartbeats for good.
pub const HEARTBEAT_INTERVAL_S: Range = Range { min: 1, max: 3600 };

/// `poll_timeout_s` (register answer): the `wait` of each long poll. At least 1 s (0
/// turns the long poll into a busy poll), at most 5 min: the poll's HTTP timeout is this
/// plus 15 s, and proxies and NATs drop idle connections after a few minutes.
pub const POLL_TIMEOUT_S: Range = Range { min: 1, max: 300 };

/// A job's `lease_s`. At least 1 s; at most a day (the lease only says how long the
/// server waits for the ack; the connector acks within seconds, so a bigger number
/// changes nothing but the stored value).
pub const LEASE_S: Range = Range { min: 1, max: 86_400 };

/// A job's `attempt` (server side count, stored and shown). At least 1 (the first
/// offer), at most 10^6: nothing retries a job a million times, and the value is
/// added to in places.
pub const ATTEMPT: Range = Range { min: 1, max: 1_000_000 };

/// `duration_s` of a `stream_logs` command: at least 1 s, at most a day (a stream is
/// for watching a problem live; a day-long stream would ship logs for days unasked).
pub const STREAM_DURATION_S: Range = Range { min: 1, max: 86_400 };

/// Longest id the server may send (a job id per PROTOCOL.md §2.3, and the same bound for
/// command and log request ids, which go into paths and logs the same way). A longer one
/// is refused: it cannot be a protocol id, and trimming it would name another object.
pub const MAX_ID_LEN: usize = 128;

/// Most commands one heartbeat answer is read for. Commands repeat in every answer
/// until done, so the rest are read from later answers; a server that sends 10^6 cannot
/// make one heartbeat spawn 10^6 tasks.
pub const MAX_COMMANDS_PER_HEARTBEAT: usize = 256;

/// A job's `created_at` and `deadline` must lie within a year of the server's now. A
/// timestamp from 1970 or 9999 is a server bug, not a job: it is refused as `invalid_job`
/// naming the field (clamping it would invent a time and run or expire the job on it).
pub const TIMESTAMP_WINDOW: Duration = Duration::from_secs(365 * 24 * 3600);

/// The latest deadline the connector keeps a job for: 30 days after the server's now
/// (or the job's `created_at`, when later). The longest default is 24 h (imports); a job
/// retried for longer is one nobody waits for any more, and a deadline in 9999 would keep
/// it in the queue for good. Later deadlines are clamped to this.
pub const DEADLINE_HORIZON: Duration = Duration::from_secs(30 * 24 * 3600);

/// Clock offsets (server minus local) beyond this are shown as a warning in the log,
/// the UI and `check`: logins have 30 s deadlines, so a clock that far off is one an
/// administrator must fix (NTP), even though deadlines are judged on server time.
pub const CLOCK_OFFSET_WARNING: Duration = Duration::from_secs(30);

/// A `Retry-After` header value (RFC 9110 §10.2.3: delay-seconds or an HTTP-date) as a
/// bounded wait; `None` when it is neither. A date in the past waits nothing.
pub fn retry_after(header: &str) -> Option<Duration> {
    let text = header.trim();
    let seconds = match text.parse::<u64>() {
        Ok(s) => s,
        Err(_) => {
            let at = httpdate::parse_http_date(text).ok()?;
            at.duration_since(std::time::SystemTime::now()).map_or(0, |d| d.as_secs() + u64::from(d.subsec_nanos() > 0))
        }
    };
    Some(Duration::from_secs(RETRY_AFTER_S.clamp(seconds)))
}

/// Whether a server timestamp (unix ms) lies within [`TIMESTAMP_WINDOW`] of `server_now_ms`.
pub fn plausible_time(ms: u64, server_now_ms: u64) -> bool {
    ms.abs_diff(server_now_ms) <= TIMESTAMP_WINDOW.as_millis() as u64
}

/// `deadline_ms` no later than [`DEADLINE_HORIZON`] after `from_ms` (the later of the
/// server's now and the job's `created_at`).
pub fn deadline_within_horizon(deadline_ms: u64, from_ms: u64) -> u64 {
    deadline_ms.min(from_ms.saturating_add(DEADLINE_HORIZON.as_millis() as u64))
}

/// The commands of one heartbeat answer to read now (at most
/// [`MAX_COMMANDS_PER_HEARTBEAT`]), and how many are left for later answers.
pub fn commands_to_read<T>(commands: &[T]) -> (&[T], usize) {
    let n = commands.len().min(MAX_COMMANDS_PER_HEARTBEAT);
    (&commands[..n], commands.len() - n)
}

/// Keeps the first `asked` of the jobs a poll answered (a server must not offer more
/// than `max`); returns how many were left unacknowledged (offered again after their lease).
pub fn jobs_to_take<T>(jobs: &mut Vec<T>, asked: u64) -> usize {
    let keep = usize::try_from(asked).unwrap_or(usize::MAX).min(jobs.len());
    let extra = jobs.len() - keep;
    jobs.truncate(keep);
    extra
}

#[cfg(test)]
mod tests;
