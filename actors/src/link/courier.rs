//! The courier actor: drains the outbox to the server, in order, with the retry rules of
//! PROTOCOL.md §1 (results §2.5, import batches §2.6).
//!
//! - **Owns** the drain loop; the queue owns the outbox.
//! - **Receives** [`OutboxChanged`] (something new) and its own ticks.
//! - **Sends** `PeekOutbox`/`MarkDelivered` to the queue; 401/403 news to the session.
//! - **Order**: parcels of one job go one at a time in outbox order (batches before the
//!   result); different jobs go in parallel.
//! - **Failure policy**: 2xx (and 409 on a result: the server already has one) →
//!   delivered; 404 → the job is gone, drop; 400 → logged as a bug with the body, dropped;
//!   anything transient → kept, retried with backoff and at least `Retry-After`.
//! - **On shutdown**: nothing to do: what was not delivered is in sled.

use std::collections::BTreeMap;
use std::time::Duration;

use actix::prelude::*;
use futures_util::future::join_all;
use reqwest::Method;
use tokio::sync::watch;

use super::client::{PortalClient, RequestBody};
use super::errors::{wait_before_retry, LinkError, Recovery};
use super::messages::{ConnectorDisabled, TokenRejected};
use super::poller::encode_segment;
use super::session::Session;
use super::state::LinkState;
use crate::dispatcher::OutboxChanged;
use crate::queue::{MarkDelivered, OutboxKind, Parcel, PeekOutbox, QueueActor, Split, SplitBatch, Verdict};
use crate::status::{ComponentPublisher, ComponentState};

const PARCELS_PER_ROUND: usize = 256;
const TICK: Duration = Duration::from_secs(1);

pub struct Courier {
    client: PortalClient,
    queue: Addr<QueueActor>,
    session: Addr<Session>,
    link: watch::Receiver<LinkState>,
    busy: bool,
    again: bool,
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
        session: Addr<Session>,
        link: watch::Receiver<LinkState>,
        status: ComponentPublisher,
        outbox: watch::Receiver<u64>,
    ) -> Self {
        Courier {
            client,
            queue,
            session,
            link,
            busy: false,
            again: false,
            failures: 0,
            quiet_until: None,
            status,
            outbox,
        }
    }

    fn round(&mut self, ctx: &mut Context<Self>) {
        if self.busy {
            self.again = true;
            return;
        }
        if self.quiet_until.is_some_and(|t| tokio::time::Instant::now() < t) {
            return;
        }
        let Some(id) = self.link.borrow().ready_id().map(str::to_owned) else {
            return;
        };
        self.busy = true;
        self.again = false;
        let (client, queue) = (self.client.clone(), self.queue.clone());
        async move {
            let parcels = match queue.send(PeekOutbox { limit: PARCELS_PER_ROUND }).await {
                Ok(Ok(p)) => p,
                _ => return (0, None),
            };
            let mut by_job: BTreeMap<u64, Vec<Parcel>> = BTreeMap::new();
            let mut first_of: std::collections::HashMap<String, u64> = Default::default();
            for p in parcels {
                let key = *first_of.entry(p.item.job_id.clone()).or_insert(p.item.position);
                by_job.entry(key).or_default().push(p);
            }
            let chains = by_job.into_values().map(|chain| deliver_chain(&client, &queue, &id, chain));
            let outcomes = join_all(chains).await;
            let sent = outcomes.iter().map(|o| o.0).sum::<usize>();
            let error = outcomes.into_iter().find_map(|o| o.1);
            (sent, error)
        }
        .into_actor(self)
        .map(|(sent, error), act, ctx| {
            act.busy = false;
            match error {
                Some(e) => act.failed(e),
                None => act.failures = 0,
            }
            if (sent > 0 || act.again) && act.quiet_until.is_none() {
                act.round(ctx);
            }
        })
        .spawn(ctx);
    }

    fn failed(&mut self, e: LinkError) {
        self.failures = self.failures.saturating_add(1);
        match e.recovery() {
            Recovery::Reauthenticate => self.session.do_send(TokenRejected),
            Recovery::Disabled => self.session.do_send(ConnectorDisabled { detail: e.to_string() }),
            _ => {
                tracing::warn!(error = %e, "delivering results failed; they stay queued and will be retried")
            }
        }
        let wait = wait_before_retry(&e, self.failures).max(Duration::from_millis(100));
        self.quiet_until = Some(tokio::time::Instant::now() + wait);
    }
}

/// Sends one job's parcels in order; stops at the first transient error.
async fn deliver_chain(
    client: &PortalClient,
    queue: &Addr<QueueActor>,
    connector: &str,
    chain: Vec<Parcel>,
) -> (usize, Option<LinkError>) {
    let mut sent = 0;
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
                        return (sent + 1, None); // the job's parcels were queued again
                    }
                    Ok(Ok(Split::Single)) => {
                        tracing::error!(job_id = %job_id, seq, "one record is larger than the server accepts (413); it is dropped");
                        Verdict::Refused
                    }
                    _ => return (sent, Some(LinkError::TooLarge)),
                }
            }
            (Err(LinkError::BadRequest(body)), _) => {
                tracing::error!(job_id = %parcel.item.job_id, body = %body, "the server refused our body as malformed (bug); it will not be sent again");
                Verdict::Refused
            }
            (Err(e), _) => return (sent, Some(e)),
        };
        if queue.send(MarkDelivered { item: parcel.item, verdict }).await.is_err() {
            return (sent, None);
        }
        sent += 1;
    }
    (sent, None)
}

impl Actor for Courier {
    type Context = Context<Self>;

    fn started(&mut self, ctx: &mut Context<Self>) {
        self.status.set(ComponentState::Running, None);
        let mut outbox = self.outbox.clone();
        let me = ctx.address();
        actix::spawn(async move {
            while outbox.changed().await.is_ok() {
                me.do_send(OutboxChanged);
            }
        });
        ctx.run_interval(TICK, |act, ctx| {
            if act.quiet_until.is_some_and(|t| tokio::time::Instant::now() >= t) {
                act.quiet_until = None;
            }
            act.round(ctx);
        });
    }
}

impl Supervised for Courier {
    fn restarting(&mut self, _: &mut Context<Self>) {
        let n = self.status.restarted("restarted after a failure".into());
        tracing::warn!(restarts = n, "courier restarting");
        self.busy = false;
    }
}

impl Handler<OutboxChanged> for Courier {
    type Result = ();
    fn handle(&mut self, _: OutboxChanged, ctx: &mut Context<Self>) {
        self.round(ctx);
    }
}
