//! The dispatcher: runs acknowledged jobs.
//!
//! - **Owns** the set of running jobs (each a spawned future with an abort handle) and
//!   the drain state.
//! - **Receives** [`JobsArrived`] (the poller stored and acknowledged jobs),
//!   [`CancelRunning`] (the server's `cancel_job` for a running job), [`Drain`] (stop
//!   starting jobs; answered when none runs) and its own [`RunFinished`].
//! - **Sends** `TakeRunnable`/`CompleteJob`/`NextWakeup` to the queue and the job to its
//!   executor (a stored result moves the queue's outbox head, which wakes the courier).
//! - **Wakes** on events only: jobs arrived, a job finished, a restart; one timer for the
//!   queue's next due retry (`NextWakeup`), and a 1 s look while the queue cannot answer.
//! - **Failure policy**: a job's executor that panics fails that job with `internal`;
//!   a job that outlives its deadline is stopped with `deadline_exceeded`, and a cancel
//!   stops it, both only before its first directory write ([`PointOfNoReturn`]). The
//!   dispatcher itself holds nothing durable: after a restart it asks the queue again,
//!   and jobs it was running are resumed by the queue at the next start.
//! - **On shutdown**: [`Drain`] — no new job starts; running ones finish (the lifecycle
//!   owner bounds the wait).

mod actor;
mod commit;
mod context;
mod messages;
mod run;
#[cfg(feature = "test-jobs")]
mod test_jobs;

pub use actor::{Dispatcher, DispatcherSettings};
pub use commit::PointOfNoReturn;
pub use messages::*;
pub use run::{Executors, JobContext};
