//! Fail-back with hysteresis: after a failover the pool runs on a worse-ranked server;
//! it returns to a better one only once that one has answered every probe for
//! `failback_after`, so a DC that flaps (answers, fails, answers) does not drag every
//! connection back and forth with it. Plain data, no I/O: the directory actor probes and
//! reports here what it saw.

use std::time::{Duration, Instant};

use super::Target;

/// What the actor should do after a probe round.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Decision {
    /// Stay on the current server.
    Stay,
    /// Move the pool to this better-ranked server (it answered for `failback_after`).
    Return(url::Url),
}

#[derive(Debug, Clone)]
pub struct Failback {
    after: Duration,
    /// The better server that has answered every probe since the instant.
    healthy: Option<(url::Url, Instant)>,
}

impl Failback {
    pub fn new(after: Duration) -> Failback {
        Failback { after, healthy: None }
    }

    /// Records one probe round: `answered` is the best-ranked server better than the
    /// current one that answered its probe now (`None`: none did, or none is better).
    /// A different server, or a round where it did not answer, starts the wait again.
    pub fn observe(&mut self, answered: Option<&Target>, now: Instant) -> Decision {
        let Some(target) = answered else {
            self.healthy = None;
            return Decision::Stay;
        };
        match &self.healthy {
            Some((url, since)) if *url == target.url => {
                if now.duration_since(*since) >= self.after {
                    self.healthy = None;
                    return Decision::Return(target.url.clone());
                }
            }
            _ => self.healthy = Some((target.url.clone(), now)),
        }
        Decision::Stay
    }

    /// Since when the better server has answered, if one has.
    pub fn waiting(&self) -> Option<(&url::Url, Instant)> {
        self.healthy.as_ref().map(|(u, t)| (u, *t))
    }
}
