//! The point of no return of a running job: until its first directory write is sent, a
//! cancel or a passed deadline stops it; once a write was sent, the job runs to its end
//! and is reported by its outcome (a `cancelled` result for a write that happened would
//! tell the portal something false, and its audit line would be missing).
//!
//! One atomic decides the race between the job (about to write) and the dispatcher
//! (about to stop it): whichever moves it out of `OPEN` first wins.

use std::sync::atomic::{AtomicU8, Ordering};
use std::sync::Arc;

const OPEN: u8 = 0;
const COMMITTED: u8 = 1;
const STOPPED: u8 = 2;

#[derive(Debug, Clone, Default)]
pub struct PointOfNoReturn(Arc<AtomicU8>);

impl PointOfNoReturn {
    /// Job side, before its first write: `true` when it may write (the job can no longer
    /// be stopped), `false` when it was stopped first and must not write.
    pub fn commit(&self) -> bool {
        match self.0.compare_exchange(OPEN, COMMITTED, Ordering::AcqRel, Ordering::Acquire) {
            Ok(_) => true,
            Err(now) => now == COMMITTED,
        }
    }

    /// Dispatcher side: `true` when the job may be stopped now (it has written nothing
    /// and never will), `false` when a write was already sent.
    pub fn stop(&self) -> bool {
        match self.0.compare_exchange(OPEN, STOPPED, Ordering::AcqRel, Ordering::Acquire) {
            Ok(_) => true,
            Err(now) => now == STOPPED,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::PointOfNoReturn;

    #[test]
    fn the_first_of_commit_and_stop_wins() {
        let p = PointOfNoReturn::default();
        assert!(p.commit() && p.commit());
        assert!(!p.stop());
        let q = PointOfNoReturn::default();
        assert!(q.stop() && q.stop());
        assert!(!q.commit());
    }
}
