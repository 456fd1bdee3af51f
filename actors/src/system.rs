//! Supervision, written down once.
//!
//! - Every long-lived actor is started under actix's `Supervisor`, which restarts it
//!   (same address, queued messages kept) when it *stops*.
//! - A panic in a handler is not seen by `Supervisor` (actix issues #158, #204): handlers
//!   that call into logic run it through [`guarded`], which catches the panic, logs it,
//!   and stops the actor so the supervisor restarts it.
//! - A restart waits [`restart_backoff`] before the actor resumes work and is counted on
//!   the status board (reported in heartbeats). State is in sled, so a restart loses
//!   nothing; the process itself is the last resort (systemd restarts it).

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::time::Duration;

use actix::{Actor, ActorContext};

/// Exponential backoff for the n-th restart (1-based): 100 ms doubling, capped at 30 s.
pub fn restart_backoff(restarts: u64) -> Duration {
    let ms = 100u64.saturating_mul(1u64 << restarts.saturating_sub(1).min(10));
    Duration::from_millis(ms.min(30_000))
}

/// Runs `f`; a panic inside becomes a logged error, `None`, and a stop of the actor.
pub fn guarded<A, T>(ctx: &mut A::Context, actor: &str, f: impl FnOnce() -> T) -> Option<T>
where
    A: Actor,
    A::Context: ActorContext,
{
    match catch_unwind(AssertUnwindSafe(f)) {
        Ok(v) => Some(v),
        Err(panic) => {
            let what = panic_message(&panic);
            tracing::error!(actor, panic = %what, "handler panicked; restarting the actor");
            ctx.stop();
            None
        }
    }
}

pub fn panic_message(panic: &Box<dyn std::any::Any + Send>) -> String {
    if let Some(s) = panic.downcast_ref::<&str>() {
        (*s).to_owned()
    } else if let Some(s) = panic.downcast_ref::<String>() {
        s.clone()
    } else {
        "unknown panic".to_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_grows_and_is_capped() {
        assert_eq!(restart_backoff(1), Duration::from_millis(100));
        assert_eq!(restart_backoff(2), Duration::from_millis(200));
        assert_eq!(restart_backoff(50), Duration::from_secs(30));
    }
}
