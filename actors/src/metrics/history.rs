//! The last hour, minute by minute, for the status page's charts and `/api/history`: a
//! fixed ring of [`MINUTES`] figures in memory (about 10 KiB; nothing on disk, a restart
//! starts a new hour).
//!
//! Jobs, logins and link errors are counted as they happen; the queue's depth and the
//! directories' reachability and round trip are sampled (the UI's sampler calls
//! [`History::sample`] every few seconds) and kept at their worst value of the minute.

use std::collections::VecDeque;

use serde::Serialize;

/// How a finished job ended, as the history counts it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    Succeeded,
    Failed,
}

/// Minutes kept.
pub const MINUTES: usize = 60;
const MINUTE_MS: u64 = 60_000;
/// Login latency buckets: bucket `i` holds durations up to `0.25 ms × 1.25^i`, so a
/// percentile read from them is within 25 % (up to ~5 minutes; longer ones land last).
const LATENCY_BUCKETS: usize = 64;

/// One minute's figures. Sampled figures are `None` when no sample fell in the minute.
#[derive(Debug, Clone, Default, Serialize, PartialEq)]
pub struct Minute {
    /// Start of the minute, Unix ms.
    pub start_ms: u64,
    /// Jobs that finished this minute, by outcome.
    pub succeeded: u64,
    pub failed: u64,
    /// `ldap.authenticate` jobs that finished this minute, and their time in the
    /// connector at the 50th and 99th percentile, ms.
    pub logins: u64,
    pub login_p50_ms: Option<f64>,
    pub login_p99_ms: Option<f64>,
    /// The deepest the queue was (waiting + running) per lane `[interactive, normal, bulk]`.
    pub queue: Option<[u64; 3]>,
    /// The fewest directories reachable, out of `directories`.
    pub directories_reachable: Option<u64>,
    pub directories: Option<u64>,
    /// The slowest directory round trip (a pooled connection's health probe), ms.
    pub directory_rtt_ms: Option<f64>,
    /// Failed requests to the portal.
    pub link_errors: u64,
    #[serde(skip)]
    latency: Vec<u32>,
}

/// One sample of the figures that are not events.
#[derive(Debug, Clone, Default)]
pub struct Sample {
    pub queue: [u64; 3],
    pub directories: u64,
    pub directories_reachable: u64,
    pub directory_rtt_ms: Option<f64>,
}

/// The ring. Figures are filed under the minute of the `now_ms` they come with.
#[derive(Debug, Clone, Default)]
pub struct History {
    minutes: VecDeque<Minute>,
}

impl History {
    /// The minute `now_ms` falls in, opening it (and any empty minutes since the last).
    fn at(&mut self, now_ms: u64) -> &mut Minute {
        let start = now_ms - now_ms % MINUTE_MS;
        let last = self.minutes.back().map(|m| m.start_ms);
        match last {
            Some(l) if l >= start => {}
            _ => {
                let mut next =
                    last.map_or(start, |l| (l + MINUTE_MS).max(start.saturating_sub(MINUTE_MS * MINUTES as u64)));
                while next <= start {
                    self.minutes.push_back(Minute { start_ms: next, ..Minute::default() });
                    next += MINUTE_MS;
                }
                while self.minutes.len() > MINUTES {
                    self.minutes.pop_front();
                }
            }
        }
        let index = self.minutes.iter().rposition(|m| m.start_ms <= start).unwrap_or(0);
        &mut self.minutes[index]
    }

    /// A job finished: `login` for `ldap.authenticate`, with its time in the connector.
    pub fn job(&mut self, now_ms: u64, outcome: Outcome, login: Option<f64>) {
        let m = self.at(now_ms);
        match outcome {
            Outcome::Succeeded => m.succeeded += 1,
            Outcome::Failed => m.failed += 1,
        }
        if let Some(ms) = login {
            m.logins += 1;
            if m.latency.is_empty() {
                m.latency = vec![0; LATENCY_BUCKETS];
            }
            m.latency[bucket(ms)] += 1;
        }
    }

    pub fn link_error(&mut self, now_ms: u64) {
        self.at(now_ms).link_errors += 1;
    }

    /// Files a sample; the minute keeps the worst of its samples.
    pub fn sample(&mut self, now_ms: u64, s: &Sample) {
        let m = self.at(now_ms);
        let q = m.queue.get_or_insert([0; 3]);
        for (kept, now) in q.iter_mut().zip(s.queue) {
            *kept = (*kept).max(now);
        }
        m.directories = Some(s.directories);
        m.directories_reachable =
            Some(m.directories_reachable.map_or(s.directories_reachable, |r| r.min(s.directories_reachable)));
        if let Some(rtt) = s.directory_rtt_ms {
            m.directory_rtt_ms = Some(m.directory_rtt_ms.map_or(rtt, |r| r.max(rtt)));
        }
    }

    /// The last hour up to `now_ms`, oldest first, one entry per minute (empty minutes included).
    pub fn minutes(&mut self, now_ms: u64) -> Vec<Minute> {
        self.at(now_ms);
        self.minutes
            .iter()
            .map(|m| {
                let mut out = m.clone();
                out.login_p50_ms = percentile(&m.latency, 0.50);
                out.login_p99_ms = percentile(&m.latency, 0.99);
                out.latency = Vec::new();
                out
            })
            .collect()
    }
}

fn upper_bound(i: usize) -> f64 {
    0.25 * 1.25f64.powi(i as i32)
}

fn bucket(ms: f64) -> usize {
    (0..LATENCY_BUCKETS).find(|i| ms <= upper_bound(*i)).unwrap_or(LATENCY_BUCKETS - 1)
}

/// The `p` quantile of the bucket counts, as the upper bound of its bucket (rounded to 0.1 ms).
fn percentile(counts: &[u32], p: f64) -> Option<f64> {
    let total: u64 = counts.iter().map(|c| u64::from(*c)).sum();
    if total == 0 {
        return None;
    }
    let rank = ((total as f64) * p).ceil().max(1.0) as u64;
    let mut seen = 0;
    for (i, c) in counts.iter().enumerate() {
        seen += u64::from(*c);
        if seen >= rank {
            return Some((upper_bound(i) * 10.0).round() / 10.0);
        }
    }
    None
}

#[cfg(test)]
#[path = "history/tests.rs"]
mod tests;
