//! Supervision, written down once.
//!
//! - Every long-lived actor is started under actix's `Supervisor`, which restarts it
//!   (same address, queued messages kept) when it *stops*.
//! - A panic in a handler is not seen by `Supervisor` (actix issues #158, #204): handlers
//!   that call into logic run it through [`guarded`], which catches the panic, logs it,
//!   and stops the actor so the supervisor restarts it.
//! - A restart ([`on_restart`], the one place every actor's `restarting` calls) is
//!   counted on the status board (reported in heartbeats) and waits [`restart_backoff`]
//!   before the actor resumes work (its mailbox is kept). State is in sled, so a restart
//!   loses nothing.
//! - Past [`RESTART_BUDGET`] restarts within [`BUDGET_WINDOW`] the actor escalates: the
//!   lifecycle owner drains and exits with 70, and systemd (`Restart=on-failure`) starts
//!   a fresh process. The process is the last resort.
//! - An actor others must answer before it exists is opened [`Early`]: its address is
//!   taken first, its collaborators built with it, then it starts (supervised).

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::time::Duration;

use actix::{Actor, ActorContext, AsyncContext, Context, WrapFuture};

use crate::status::ComponentPublisher;

mod early;
pub use early::Early;

/// Restarts of one actor allowed within [`BUDGET_WINDOW`] before it escalates: more is
/// a loop a restart does not mend (a fault that comes back at once).
pub const RESTART_BUDGET: usize = 10;
pub const BUDGET_WINDOW: Duration = Duration::from_secs(600);

/// What every supervised actor does when it restarts, written once: counts and logs the
/// restart, escalates past the budget, and holds its mailbox back for the backoff.
pub fn on_restart<A>(act: &A, ctx: &mut Context<A>, name: &str, status: &ComponentPublisher)
where
    A: Actor<Context = Context<A>>,
{
    let n = status.restarted("restarted after a failure".into());
    tracing::warn!(actor = name, restarts = n, "actor restarting");
    let recent = status.restarts_within(BUDGET_WINDOW);
    if recent > RESTART_BUDGET {
        let why = format!("{name} restarted {recent} times within {} s", BUDGET_WINDOW.as_secs());
        tracing::error!(actor = name, recent, "{why}: past the restart budget; the process will drain and exit");
        status.escalate(why);
    }
    ctx.wait(actix::clock::sleep(restart_backoff(n)).into_actor(act));
}

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
    fn a_component_past_its_restart_budget_escalates_once_the_window_holds_too_many() {
        let board = crate::status::StatusBoard::default();
        let publisher = board.component("poller");
        let escalations = board.escalations();
        for _ in 0..RESTART_BUDGET {
            publisher.restarted("x".into());
            assert!(publisher.restarts_within(BUDGET_WINDOW) <= RESTART_BUDGET);
        }
        assert!(escalations.borrow().is_none());
        assert_eq!(publisher.restarts_within(BUDGET_WINDOW), RESTART_BUDGET + 1);
        // Restarts older than the window no longer count.
        assert_eq!(publisher.restarts_within(Duration::ZERO), 1);
    }

    /// An actor that stops on every message, as a failing one would.
    struct Flaky(crate::status::ComponentPublisher);

    impl Actor for Flaky {
        type Context = Context<Self>;
    }

    impl actix::Supervised for Flaky {
        fn restarting(&mut self, ctx: &mut Context<Self>) {
            on_restart(self, ctx, "flaky", &self.0);
        }
    }

    #[derive(actix::Message)]
    #[rtype(result = "()")]
    struct Fail;

    impl actix::Handler<Fail> for Flaky {
        type Result = ();
        fn handle(&mut self, _: Fail, ctx: &mut Context<Self>) {
            ctx.stop();
        }
    }

    #[actix::test]
    async fn restarts_back_off_and_past_the_budget_reach_the_lifecycle_owner() {
        tokio::time::pause();
        let board = crate::status::StatusBoard::default();
        let mut escalations = board.escalations();
        let publisher = board.component("flaky");
        let addr = actix::Supervisor::start(|_| Flaky(publisher));
        let started = tokio::time::Instant::now();
        for _ in 0..=RESTART_BUDGET {
            let _ = addr.send(Fail).await;
        }
        let waited = tokio::time::timeout(Duration::from_secs(3600), escalations.changed()).await;
        assert!(waited.is_ok(), "no escalation after {} restarts", RESTART_BUDGET + 1);
        let why = escalations.borrow().clone().unwrap_or_default();
        assert!(why.contains("flaky restarted 11 times"), "{why}");
        // Each restart held the mailbox back: 100 ms doubling (capped at 30 s).
        assert!(started.elapsed() >= Duration::from_millis(100 + 200 + 400 + 800), "{:?}", started.elapsed());
    }

    #[test]
    fn backoff_grows_and_is_capped() {
        assert_eq!(restart_backoff(1), Duration::from_millis(100));
        assert_eq!(restart_backoff(2), Duration::from_millis(200));
        assert_eq!(restart_backoff(50), Duration::from_secs(30));
    }
}
