//! The poller actor: long-polls `GET /jobs`, stores each job durably, then acknowledges
//! it (PROTOCOL.md §2.3, §2.4).
//!
//! - **Owns** nothing durable; the queue owns the jobs.
//! - **Receives** [`StartDraining`] (stop polling) and its own `Poll` ticks.
//! - **Sends** `AcceptJobs`, `MarkAcknowledged`, `DropJob` to the queue, [`JobsArrived`]
//!   to the dispatcher, a [`LinkProblem`] (401, 403) to the session.
//! - **Backpressure**: asks for at most `2 × max_concurrency − (pending + running)` jobs
//!   (at most 32), and not at all while that room is under half of `max_concurrency`
//!   ([`batch_floor`]), so a full connector takes jobs in rounds of several, not one by one.
//! - **Dispatch**: each job is announced to the dispatcher as soon as its own ack is
//!   answered, not after the whole round's acks.
//! - **Failure policy**: transient errors back off (full jitter, cap 60 s, at least
//!   `Retry-After`); a job with no usable id is logged as a server bug and skipped; stored
//!   jobs whose ack got no answer are acknowledged again on the next round; while the
//!   queue's storage is unavailable it pauses (no ack, no fetch) until the queue works.
//! - **On shutdown**: [`StartDraining`] stops it; a poll in flight is abandoned (its jobs
//!   were not acknowledged, so the server offers them again after the lease).

use std::time::Duration;

use actix::prelude::*;
use reqwest::Method;
use tokio::sync::watch;

use super::client::PortalClient;
use super::errors::{backoff, wait_before_retry, LinkError};
use super::intake::{acknowledge, store, ACKS_IN_FLIGHT};
use super::messages::{LinkProblem, StartDraining};
use super::state::LinkState;
use crate::dispatcher::JobsArrived;
use crate::protocol::bounds;
use crate::protocol::wire::{JobsResponse, QueueFigures};
use crate::queue::{Accepted, ListUnacknowledged, QueueActor};
use crate::status::{ComponentPublisher, ComponentState};

/// Most jobs asked for in one poll.
const MAX_PER_POLL: u64 = 32;

// A poll's acks go out in one wave (`intake::ACKS_IN_FLIGHT`), not in two.
const _: () = assert!(ACKS_IN_FLIGHT as u64 >= MAX_PER_POLL);

/// The least room worth a poll: half of `max_concurrency` (at least 1, at most
/// [`MAX_PER_POLL`]). A full window that polls for every single freed slot makes each
/// job pay a whole round alone (poll, store + flush, ack; the ring test saw polls for
/// 16, 1, 1, 1, 1 jobs): issue #17 suspected this of its collapse to ~300 logins/s at
/// 2,000/s offered (not reproduced on the project's busy machine, where rounds took 14–15
/// jobs either way). Waiting for this much room keeps rounds of several jobs while the
/// other half of the window still holds work.
fn batch_floor(max_concurrency: u64) -> u64 {
    (max_concurrency / 2).clamp(1, MAX_PER_POLL)
}

/// Jobs to ask for with `figures` in the queue: the free room of the `2 × max_concurrency`
/// window up to [`MAX_PER_POLL`], or 0 (do not poll) below [`batch_floor`].
fn jobs_wanted(max_concurrency: u64, figures: &QueueFigures) -> u64 {
    let room = (2 * max_concurrency).saturating_sub(figures.pending + figures.running);
    if room < batch_floor(max_concurrency) {
        0
    } else {
        room.min(MAX_PER_POLL)
    }
}

#[derive(Message)]
#[rtype(result = "()")]
struct Poll;

pub struct Poller {
    client: PortalClient,
    queue: Addr<QueueActor>,
    dispatcher: Recipient<JobsArrived>,
    problems: Recipient<LinkProblem>,
    link: watch::Receiver<LinkState>,
    figures: watch::Receiver<QueueFigures>,
    max_concurrency: u64,
    draining: bool,
    failures: u32,
    /// Empty answers in a row that came back long before `wait` (see [`Round::EarlyEmpty`]).
    early_empty: u32,
    in_flight: Option<SpawnHandle>,
    status: ComponentPublisher,
}

pub struct PollerParts {
    pub client: PortalClient,
    pub queue: Addr<QueueActor>,
    pub dispatcher: Recipient<JobsArrived>,
    pub problems: Recipient<LinkProblem>,
    pub link: watch::Receiver<LinkState>,
    pub figures: watch::Receiver<QueueFigures>,
    pub max_concurrency: usize,
    pub status: ComponentPublisher,
}

/// One round's result.
enum Round {
    /// Jobs came (or none in `wait` seconds): poll again now.
    Again,
    /// Nothing to do until something changes: look again when it does.
    Idle(Waiting),
    /// Something failed; `progressed` when an earlier request of the round got through
    /// (the server is answering again: the backoff starts over).
    Failed { error: LinkError, progressed: bool },
    /// An empty answer long before `wait` ran out: a server that ignores `wait` would
    /// make the long poll a hot loop, so the next poll waits (backoff with jitter).
    EarlyEmpty,
}

/// What an idle poller waits for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Waiting {
    /// Not registered or not online: the link state changes when it is.
    Online,
    /// The queue holds as many jobs as it should: its figures change when one finishes.
    Room,
    /// The queue cannot write: it probes and resumes by itself, and nothing publishes
    /// that, so this one is a timed look ([`STORAGE_LOOK`]).
    Storage,
}

/// How often an idle poller looks at a queue whose storage is unavailable.
const STORAGE_LOOK: Duration = Duration::from_secs(1);

/// An empty answer within a second (or half the `wait`, when that is shorter) is
/// [`Round::EarlyEmpty`]; a later one is taken as the normal end of a long poll (a
/// server answering empty every few seconds costs little).
fn early_empty(took: Duration, wait_s: u64) -> Round {
    let enough = (Duration::from_secs(wait_s) / 2).min(Duration::from_secs(1));
    if took < enough {
        Round::EarlyEmpty
    } else {
        Round::Again
    }
}

/// Longest pause after empty answers that came back at once.
const EARLY_EMPTY_CAP: Duration = Duration::from_secs(10);

/// Acknowledges `ids` as `intake::acknowledge` does, telling the dispatcher after each
/// ack is answered: a job runs as soon as its own ack is in, not after the round's
/// slowest (the dispatcher coalesces the announcements into few `TakeRunnable`s).
async fn acknowledge_announcing(
    client: &PortalClient,
    queue: &Addr<QueueActor>,
    connector: &str,
    ids: Vec<String>,
    dispatcher: &Recipient<JobsArrived>,
) -> Result<(), LinkError> {
    use futures_util::stream::{self, StreamExt};
    let outcomes: Vec<Result<(), LinkError>> = stream::iter(ids)
        .map(|id| async move {
            let outcome = acknowledge(client, queue, connector, vec![id]).await;
            dispatcher.do_send(JobsArrived);
            outcome
        })
        .buffer_unordered(ACKS_IN_FLIGHT)
        .collect()
        .await;
    outcomes.into_iter().collect()
}

impl Poller {
    pub fn new(p: PollerParts) -> Self {
        Poller {
            client: p.client,
            queue: p.queue,
            dispatcher: p.dispatcher,
            problems: p.problems,
            link: p.link,
            figures: p.figures,
            max_concurrency: p.max_concurrency as u64,
            draining: false,
            failures: 0,
            early_empty: 0,
            in_flight: None,
            status: p.status,
        }
    }

    fn round(&self) -> impl std::future::Future<Output = Round> {
        let link = self.link.borrow().clone();
        let f = self.figures.borrow().clone();
        let want = jobs_wanted(self.max_concurrency, &f);
        let (client, queue, dispatcher) = (self.client.clone(), self.queue.clone(), self.dispatcher.clone());
        async move {
            let Some(id) = link.ready_id().map(str::to_owned) else {
                return Round::Idle(Waiting::Online);
            };
            // Acks that got no answer before (or before a restart) go out again first.
            let mut progressed = false;
            match queue.send(ListUnacknowledged).await {
                Ok(Ok(unacked)) => {
                    let any = !unacked.is_empty();
                    if let Err(error) = acknowledge(&client, &queue, &id, unacked).await {
                        return Round::Failed { error, progressed };
                    }
                    if any {
                        // Acknowledged now: runnable, and nothing else tells the dispatcher.
                        dispatcher.do_send(JobsArrived);
                    }
                    progressed = any;
                }
                // The queue cannot write (storage unavailable): acknowledge and fetch
                // nothing until it can; the queue reports why and resumes by itself.
                Ok(Err(_)) => return Round::Idle(Waiting::Storage),
                Err(_) => {}
            }
            if want == 0 {
                return Round::Idle(Waiting::Room);
            }
            let wait = link.poll_timeout_s;
            let path = format!("/jobs?wait={wait}&max={want}");
            let timeout = Some(Duration::from_secs(wait + 15));
            let asked = tokio::time::Instant::now();
            let answer = match client.call(Method::GET, &path, Some(&id), None, timeout).await {
                Ok(a) => a,
                Err(error) => return Round::Failed { error, progressed },
            };
            let mut jobs = match answer.json::<JobsResponse>() {
                Ok(r) => r.jobs,
                Err(error) => return Round::Failed { error, progressed },
            };
            if jobs.is_empty() {
                return early_empty(asked.elapsed(), wait);
            }
            let extra = bounds::jobs_to_take(&mut jobs, want);
            if extra > 0 {
                tracing::warn!(extra, asked = want, "the server offered more jobs than asked for; taking the first ones (the rest come back after their lease)");
            }
            // The queue could not store them (it says why): nothing acknowledged; the
            // server offers them again after their lease.
            let Some(accepted) = store(&queue, jobs, link.clock()).await else {
                return Round::Idle(Waiting::Storage);
            };
            let new = accepted.iter().filter(|(_, a)| matches!(a, Accepted::New)).count();
            let ids = accepted.into_iter().map(|(id, _)| id).collect();
            let outcome = acknowledge_announcing(&client, &queue, &id, ids, &dispatcher).await;
            match outcome {
                // Only jobs it could not take, or had taken before: an answer that brings
                // nothing new is backed off like an empty one, or a server that re-offers
                // them at once would make a hot loop.
                Ok(()) if new == 0 => early_empty(asked.elapsed(), wait),
                Ok(()) => Round::Again,
                Err(error) => Round::Failed { error, progressed: true },
            }
        }
    }

    /// Polls again once `waiting` changes: one wake-up per change, no timer (but storage).
    /// Each receiver marks what it has seen first and looks again, so a change between
    /// the round and this wait is not missed.
    fn wait_for(&mut self, waiting: Waiting, ctx: &mut Context<Self>) {
        let (mut link, mut figures) = (self.link.clone(), self.figures.clone());
        let max = self.max_concurrency;
        let changed = async move {
            match waiting {
                Waiting::Online => {
                    while link.borrow_and_update().ready_id().is_none() {
                        if link.changed().await.is_err() {
                            return;
                        }
                    }
                }
                Waiting::Room => loop {
                    let f = figures.borrow_and_update().clone();
                    if jobs_wanted(max, &f) > 0 || figures.changed().await.is_err() {
                        return;
                    }
                },
                Waiting::Storage => tokio::time::sleep(STORAGE_LOOK).await,
            }
        };
        let wake = changed.into_actor(self).map(|_, act, ctx| {
            act.in_flight = None;
            ctx.notify(Poll);
        });
        self.in_flight = Some(ctx.spawn(wake));
    }

    fn next(&mut self, ctx: &mut Context<Self>) {
        if self.draining {
            return;
        }
        let work = self.round().into_actor(self).map(|round, act, ctx| {
            act.in_flight = None;
            match round {
                Round::Again => {
                    act.failures = 0;
                    act.early_empty = 0;
                    ctx.notify(Poll);
                }
                Round::EarlyEmpty => {
                    act.failures = 0;
                    act.early_empty = act.early_empty.saturating_add(1);
                    let wait = backoff(act.early_empty, EARLY_EMPTY_CAP).max(Duration::from_millis(200));
                    if act.early_empty == 3 {
                        tracing::warn!(
                            "the server answers polls at once with no jobs (it ignores `wait`); polling with backoff"
                        );
                    }
                    ctx.notify_later(Poll, wait);
                }
                Round::Idle(waiting) => act.wait_for(waiting, ctx),
                Round::Failed { error, progressed } => {
                    if progressed {
                        act.failures = 0;
                    }
                    act.failed(error, ctx)
                }
            }
        });
        self.in_flight = Some(ctx.spawn(work));
    }

    fn failed(&mut self, e: LinkError, ctx: &mut Context<Self>) {
        self.failures = self.failures.saturating_add(1);
        match LinkProblem::of(&e) {
            Some(problem) => self.problems.do_send(problem),
            None => tracing::warn!(error = %e, "polling for jobs failed; retrying"),
        }
        let wait = wait_before_retry(&e, self.failures).max(Duration::from_millis(100));
        tracing::debug!(failures = self.failures, ?wait, "next poll after a failure");
        ctx.notify_later(Poll, wait);
    }
}

impl Actor for Poller {
    type Context = Context<Self>;

    fn started(&mut self, ctx: &mut Context<Self>) {
        self.status.set(ComponentState::Running, None);
        ctx.notify(Poll);
    }
}

impl Supervised for Poller {
    fn restarting(&mut self, ctx: &mut Context<Self>) {
        self.in_flight = None;
        crate::system::on_restart(self, ctx, "poller", &self.status);
    }
}

impl Handler<Poll> for Poller {
    type Result = ();
    fn handle(&mut self, _: Poll, ctx: &mut Context<Self>) {
        if self.in_flight.is_none() {
            self.next(ctx);
        }
    }
}

impl Handler<StartDraining> for Poller {
    type Result = ();
    fn handle(&mut self, _: StartDraining, ctx: &mut Context<Self>) {
        self.draining = true;
        if let Some(h) = self.in_flight.take() {
            ctx.cancel_future(h);
        }
        self.status.set(ComponentState::Stopped, Some("draining".into()));
    }
}
