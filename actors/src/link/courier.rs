//! The courier actor: drains the outbox to the server, in order, with the retry rules of
//! PROTOCOL.md §1 (results §2.5, import batches §2.6).
//!
//! - **Owns** the drain loop; the queue owns the outbox.
//! - **Receives** [`OutboxChanged`], which it sends itself when the queue's outbox head
//!   or the link state changes (one wake-up per event), and when a backoff ends.
//! - **Sends** `PeekOutbox`/`MarkDelivered`/`SplitBatch` to the queue; a [`LinkProblem`]
//!   (401, 403) to the session.
//! - **Order**: parcels of one job go one at a time in outbox order (batches before the
//!   result); different jobs go in parallel, each job's chain on its own, so a login's
//!   result never waits for an import's batches to finish uploading.
//! - **Failure policy**: 2xx (and 409 on a result: the server already has one) →
//!   delivered; 404 → the job is gone, drop; 400 → logged as a bug with the body, dropped;
//!   anything transient → kept, retried with backoff and at least `Retry-After`.
//! - **On shutdown**: nothing to do: what was not delivered is in sled.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::time::Duration;

use actix::prelude::*;
use reqwest::Method;
use tokio::sync::watch;

use super::client::{PortalClient, RequestBody};
use super::errors::{wait_before_retry, LinkError};
use super::intake::encode_segment;
use super::messages::{LinkProblem, OutboxChanged};
use super::state::LinkState;
use crate::queue::{MarkDelivered, OutboxKind, Parcel, PeekOutbox, QueueActor, Split, SplitBatch, Verdict};
use crate::status::{ComponentPublisher, ComponentState};

const PARCELS_PER_ROUND: usize = 256;
/// Looked again this long after the queue could not answer (storage unavailable, actor
/// restarting): the only timed look besides a failure's backoff.
const QUEUE_RETRY: Duration = Duration::from_secs(1);

pub struct Courier {
    client: PortalClient,
    queue: Addr<QueueActor>,
    problems: Recipient<LinkProblem>,
    link: watch::Receiver<LinkState>,
    /// A `PeekOutbox` is in flight; `again`: something changed meanwhile.
    peeking: bool,
    again: bool,
    /// Jobs whose parcels are being sent now (one chain per job at a time).
    in_flight: HashSet<String>,
    /// Peeks asked for so far, and the outbox positions chains have handled, each with
    /// the peek count when its chain ended: a peek asked before that may still list it
    /// (the queue had not marked it yet), so it is skipped until a later peek answers.
    peeks: u64,
    handled: HashMap<u64, u64>,
    failures: u32,
    /// No round before this instant (backoff after a failure).
    quiet_until: Option<tokio::time::Instant>,
    status: ComponentPublisher,
    /// Changes whenever the queue adds to the outbox.
    outbox: watch::Receiver<u64>,
}

impl Courier {
    pub fn new(
        client: PortalClient,
        queue: Addr<QueueActor>,
        problems: Recipient<LinkProblem>,
        link: watch::Receiver<LinkState>,
        status: ComponentPublisher,
        outbox: watch::Receiver<u64>,
    ) -> Self {
        Courier {
            client,
            queue,
            problems,
            link,
            peeking: false,
            again: false,
            in_flight: HashSet::new(),
            peeks: 0,
            handled: HashMap::new(),
            failures: 0,
            quiet_until: None,
            status,
            outbox,
        }
    }

    fn round(&mut self, ctx: &mut Context<Self>) {
        if self.peeking {
            self.again = true;
            return;
        }
        if self.quiet_until.is_some_and(|t| tokio::time::Instant::now() < t) {
            return;
        }
        if self.link.borrow().ready_id().is_none() {
            return;
        }
        self.peeking = true;
        self.again = false;
        self.peeks += 1;
        let asked = self.peeks;
        self.queue
            .send(PeekOutbox { limit: PARCELS_PER_ROUND })
            .into_actor(self)
            .map(move |answer, act, ctx| {
                act.peeking = false;
                match answer {
                    Ok(Ok(parcels)) => act.start_chains(parcels, ctx),
                    _ => act.look_again(QUEUE_RETRY, ctx),
                }
                // Chains that ended before this peek was asked are not in its answer.
                act.handled.retain(|_, ended| *ended >= asked);
                if act.again {
                    act.round(ctx);
                }
            })
            .spawn(ctx);
    }

    /// Starts sending the parcels of each job not already being sent, in outbox order.
    fn start_chains(&mut self, parcels: Vec<Parcel>, ctx: &mut Context<Self>) {
        // A chain failed while this peek was out: its backoff (and Retry-After) holds.
        if self.quiet_until.is_some_and(|t| tokio::time::Instant::now() < t) {
            return;
        }
        let Some(id) = self.link.borrow().ready_id().map(str::to_owned) else { return };
        let mut by_job: BTreeMap<u64, Vec<Parcel>> = BTreeMap::new();
        let mut first_of: HashMap<String, u64> = HashMap::new();
        let fresh =
            |p: &Parcel| !self.in_flight.contains(&p.item.job_id) && !self.handled.contains_key(&p.item.position);
        for p in parcels.into_iter().filter(fresh) {
            let key = *first_of.entry(p.item.job_id.clone()).or_insert(p.item.position);
            by_job.entry(key).or_default().push(p);
        }
        for chain in by_job.into_values() {
            let Some(job_id) = chain.first().map(|p| p.item.job_id.clone()) else { continue };
            self.in_flight.insert(job_id.clone());
            let (client, queue, id) = (self.client.clone(), self.queue.clone(), id.clone());
            async move { deliver_chain(&client, &queue, &id, chain).await }
                .into_actor(self)
                .map(move |(handled, error), act, ctx| {
                    act.in_flight.remove(&job_id);
                    let sent = handled.len();
                    let ended = act.peeks;
                    act.handled.extend(handled.into_iter().map(|position| (position, ended)));
                    match error {
                        Some(e) => act.failed(e, ctx),
                        None => act.failures = 0,
                    }
                    if sent > 0 && act.quiet_until.is_none() {
                        act.round(ctx);
                    } else if sent == 0 && act.quiet_until.is_none() {
                        // The queue did not take a verdict (restarting): look again.
                        act.look_again(QUEUE_RETRY, ctx);
                    }
                })
                .spawn(ctx);
        }
    }

    /// One round after `wait` (a backoff, or a queue that could not answer).
    fn look_again(&mut self, wait: Duration, ctx: &mut Context<Self>) {
        ctx.run_later(wait, |act, ctx| {
            if act.quiet_until.is_some_and(|t| tokio::time::Instant::now() >= t) {
                act.quiet_until = None;
            }
            act.round(ctx);
        });
    }

    fn failed(&mut self, e: LinkError, ctx: &mut Context<Self>) {
        self.failures = self.failures.saturating_add(1);
        match LinkProblem::of(&e) {
            Some(problem) => self.problems.do_send(problem),
            None => {
                tracing::warn!(error = %e, "delivering results failed; they stay queued and will be retried")
            }
        }
        let wait = wait_before_retry(&e, self.failures).max(Duration::from_millis(100));
        self.quiet_until = Some(tokio::time::Instant::now() + wait);
        self.look_again(wait, ctx);
    }
}

/// Sends one job's parcels in order; stops at the first transient error.
async fn deliver_chain(
    client: &PortalClient,
    queue: &Addr<QueueActor>,
    connector: &str,
    chain: Vec<Parcel>,
) -> (Vec<u64>, Option<LinkError>) {
    let mut handled = Vec::new();
    for parcel in chain {
        let job = encode_segment(&parcel.item.job_id);
        let path = match parcel.item.kind {
            OutboxKind::Result => format!("/jobs/{job}/result"),
            OutboxKind::Batch { .. } => format!("/jobs/{job}/records"),
        };
        let outcome =
            client.call(Method::POST, &path, Some(connector), Some(RequestBody::RawJson(parcel.body)), None).await;
        let verdict = match (outcome, parcel.item.kind) {
            (Ok(_), _) => Verdict::Accepted,
            (Err(LinkError::Conflict(d)), OutboxKind::Result) => {
                tracing::warn!(job_id = %parcel.item.job_id, detail = %d, "the server already had a result for this job (409)");
                Verdict::Accepted
            }
            (Err(LinkError::Conflict(d)), _) | (Err(LinkError::NotFound(d)), _) => {
                tracing::warn!(job_id = %parcel.item.job_id, detail = %d, "the server no longer has this job; dropping what was owed");
                Verdict::Refused
            }
            (Err(LinkError::TooLarge), OutboxKind::Batch { seq }) => {
                let job_id = parcel.item.job_id.clone();
                match queue.send(SplitBatch { id: job_id.clone(), seq }).await {
                    Ok(Ok(Split::Halved)) => {
                        tracing::info!(job_id = %job_id, seq, "records batch too large for the server (413): halved");
                        handled.push(parcel.item.position);
                        return (handled, None); // the job's parcels were queued again
                    }
                    // Rewritten without its one record: sent again at the same place.
                    Ok(Ok(Split::Trimmed)) => return (handled, None),
                    Ok(Ok(Split::Single)) => {
                        tracing::error!(job_id = %job_id, seq, "an empty records batch was refused as too large (413); it is dropped");
                        Verdict::Refused
                    }
                    _ => return (handled, Some(LinkError::TooLarge)),
                }
            }
            (Err(LinkError::BadRequest(body)), _) => {
                tracing::error!(job_id = %parcel.item.job_id, body = %body, "the server refused our body as malformed (bug); it will not be sent again");
                Verdict::Refused
            }
            (Err(e), _) => return (handled, Some(e)),
        };
        let position = parcel.item.position;
        if queue.send(MarkDelivered { item: parcel.item, verdict }).await.is_err() {
            return (handled, None);
        }
        handled.push(position);
    }
    (handled, None)
}

impl Actor for Courier {
    type Context = Context<Self>;

    fn started(&mut self, ctx: &mut Context<Self>) {
        self.status.set(ComponentState::Running, None);
        let (mut outbox, mut link) = (self.outbox.clone(), self.link.clone());
        let me = ctx.address();
        actix::spawn(async move {
            loop {
                let alive = tokio::select! {
                    o = outbox.changed() => o.is_ok(),
                    l = link.changed() => l.is_ok(),
                };
                if !alive || me.try_send(OutboxChanged).is_err() && !me.connected() {
                    return;
                }
            }
        });
        self.round(ctx);
    }
}

impl Supervised for Courier {
    fn restarting(&mut self, ctx: &mut Context<Self>) {
        self.peeking = false;
        self.in_flight.clear();
        self.handled.clear();
        crate::system::on_restart(self, ctx, "courier", &self.status);
    }
}

impl Handler<OutboxChanged> for Courier {
    type Result = ();
    fn handle(&mut self, _: OutboxChanged, ctx: &mut Context<Self>) {
        self.round(ctx);
    }
}
