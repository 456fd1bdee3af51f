//! The queue actor: translates messages into [`DurableQueue`] calls and publishes the
//! queue figures after each change. It runs on its own arbiter: sled flushes block it,
//! nobody else.

use std::time::Duration;

use actix::prelude::*;
use tokio::sync::watch;

use super::durable::DurableQueue;
use super::error::QueueError;
use super::group::Grouping;
use super::messages::*;
use crate::protocol::wire::QueueFigures;
use crate::status::{ComponentPublisher, ComponentState};
use crate::system::guarded;
use crate::time::now_ms;

const COMPACT_EVERY: Duration = Duration::from_secs(60);
/// Deferred writes (acks, deliveries) reach the disk at least this often.
const FLUSH_DEFERRED_EVERY: Duration = Duration::from_secs(1);
/// First wait before probing storage that failed a write; it doubles up to [`PROBE_MAX`].
const PROBE_FIRST: Duration = Duration::from_secs(1);
const PROBE_MAX: Duration = Duration::from_secs(8);

pub struct QueueActor {
    queue: DurableQueue,
    figures: watch::Sender<QueueFigures>,
    /// The outbox's next position: changes whenever something is added to the outbox,
    /// so the courier wakes at once instead of on its tick.
    outbox_head: watch::Sender<u64>,
    status: ComponentPublisher,
    /// Set while a probe of unavailable storage is scheduled: the wait before it.
    probing: Option<Duration>,
    /// Running imports' progress (`progress.rs`; updated in `actor/imports.rs`).
    imports: watch::Sender<Vec<super::ImportRun>>,
    /// A [`Settle`] of the open group is scheduled (`actor/settle.rs`).
    settling: bool,
}

impl QueueActor {
    /// The actor over `queue`, which it switches to [`Grouping::Grouped`]: changes share
    /// flushes, each answered after the flush that covers it (`group.rs`).
    pub fn new(mut queue: DurableQueue, status: ComponentPublisher) -> (Self, watch::Receiver<QueueFigures>) {
        queue.set_grouping(Grouping::Grouped);
        let (figures, rx) = watch::channel(queue.figures());
        let (outbox_head, _) = watch::channel(queue.outbox_head());
        let (imports, _) = watch::channel(Vec::new());
        (QueueActor { queue, figures, outbox_head, status, probing: None, imports, settling: false }, rx)
    }

    /// A receiver that changes whenever a running import's progress does.
    pub fn imports_watch(&self) -> watch::Receiver<Vec<super::ImportRun>> {
        self.imports.subscribe()
    }

    /// A receiver that changes whenever the outbox grows.
    pub fn outbox_watch(&self) -> watch::Receiver<u64> {
        self.outbox_head.subscribe()
    }

    /// Publishes the figures and outbox head (memory: flushed changes only), and
    /// schedules the settle of a group the last call left open.
    fn publish(&mut self, ctx: &mut Context<Self>) {
        self.watch_storage(ctx);
        self.settle_soon(ctx);
        let head = self.queue.outbox_head();
        self.outbox_head.send_if_modified(|h| std::mem::replace(h, head) != head);
        let now = self.queue.figures();
        self.figures.send_if_modified(|f| {
            let changed = *f != now;
            *f = now;
            changed
        });
    }

    fn compact(&mut self, ctx: &mut Context<Self>) {
        match guarded::<Self, _>(ctx, "queue", || self.queue.compact(now_ms())) {
            Some(Ok(n)) if n > 0 => tracing::debug!(removed = n, "compacted finished jobs"),
            // Reported once, as the queue's status; the probe brings compaction back.
            Some(Err(QueueError::StorageUnavailable { .. })) => {}
            Some(Err(e)) => tracing::error!(error = %e, "queue compaction failed"),
            _ => {}
        }
        self.publish(ctx);
    }

    /// After a failed write: reports `storage_unavailable` and probes the storage with
    /// backoff until a write succeeds, then reports `running` again.
    fn watch_storage(&mut self, ctx: &mut Context<Self>) {
        let Some(reason) = self.queue.storage_problem() else { return };
        if self.probing.is_some() {
            return;
        }
        let detail =
            format!("{reason}; free space on the storage path or make it writable: the queue resumes by itself");
        self.status.set(ComponentState::StorageUnavailable, Some(detail));
        self.probing = Some(PROBE_FIRST);
        ctx.run_later(PROBE_FIRST, |act, ctx| act.probe(ctx));
    }

    fn probe(&mut self, ctx: &mut Context<Self>) {
        match self.queue.probe(now_ms()) {
            Ok(()) => {
                self.probing = None;
                self.status.set(ComponentState::Running, None);
            }
            Err(e) => {
                tracing::debug!(error = %e, "queue storage still unavailable");
                let wait = self.probing.map_or(PROBE_FIRST, |w| (w * 2).min(PROBE_MAX));
                self.probing = Some(wait);
                ctx.run_later(wait, |act, ctx| act.probe(ctx));
            }
        }
        self.publish(ctx);
    }
}

impl Actor for QueueActor {
    type Context = Context<Self>;

    fn started(&mut self, ctx: &mut Context<Self>) {
        ctx.run_interval(COMPACT_EVERY, |act, ctx| act.compact(ctx));
        // After a restart: a group left open by the panic is settled.
        self.settle_soon(ctx);
        ctx.run_interval(FLUSH_DEFERRED_EVERY, |act, ctx| {
            // A failure makes the storage unavailable; `publish` reports it and probes.
            let _ = guarded::<Self, _>(ctx, "queue", || act.queue.flush_deferred());
            act.publish(ctx);
        });
        self.status.set(ComponentState::Running, None);
    }

    fn stopped(&mut self, _: &mut Context<Self>) {
        // Callers still waiting get their answer, and deferred acks and deliveries reach
        // the disk (a failure is logged by the queue; they are sent again at the start).
        let _ = self.queue.settle();
        let _ = self.queue.flush_deferred();
    }
}

impl Supervised for QueueActor {
    fn restarting(&mut self, ctx: &mut Context<Self>) {
        // A restart drops the scheduled probe and settle: they are scheduled again.
        self.probing = None;
        self.settling = false;
        crate::system::on_restart(self, ctx, "queue", &self.status);
    }
}

/// Runs one queue call under the panic guard; a panic answers as an engine error. The
/// handlers hold its answer until the flush that covers it ([`QueueActor::held`]).
macro_rules! queue_call {
    ($self:ident, $ctx:ident, $body:expr) => {{
        let out = guarded::<Self, _>($ctx, "queue", || $body)
            .unwrap_or_else(|| Err(QueueError::Corrupt { key: "-".into(), reason: "the queue actor panicked".into() }));
        $self.publish($ctx);
        out
    }};
}

impl Handler<AcceptJobs> for QueueActor {
    type Result = Held<Vec<(String, super::Accepted)>>;
    fn handle(&mut self, msg: AcceptJobs, ctx: &mut Context<Self>) -> Self::Result {
        let out = queue_call!(self, ctx, self.queue.accept(msg.jobs, now_ms()));
        self.held(ctx, out)
    }
}

impl Handler<MarkAcknowledged> for QueueActor {
    type Result = Held<()>;
    fn handle(&mut self, msg: MarkAcknowledged, ctx: &mut Context<Self>) -> Self::Result {
        let out = queue_call!(self, ctx, self.queue.acknowledged(&msg.id, now_ms()));
        self.held(ctx, out)
    }
}

impl Handler<DropJob> for QueueActor {
    type Result = Held<()>;
    fn handle(&mut self, msg: DropJob, ctx: &mut Context<Self>) -> Self::Result {
        let out = queue_call!(self, ctx, self.queue.drop_job(&msg.id, now_ms()));
        self.forget_import(&msg.id);
        self.held(ctx, out)
    }
}

impl Handler<ListUnacknowledged> for QueueActor {
    type Result = Result<Vec<String>, QueueError>;
    fn handle(&mut self, _: ListUnacknowledged, _: &mut Context<Self>) -> Self::Result {
        self.queue.unacknowledged()
    }
}

impl Handler<TakeRunnable> for QueueActor {
    type Result = Held<Vec<super::Runnable>>;
    fn handle(&mut self, msg: TakeRunnable, ctx: &mut Context<Self>) -> Self::Result {
        let out = queue_call!(self, ctx, self.queue.take_runnable(now_ms(), msg.free));
        self.held(ctx, out)
    }
}

impl Handler<CompleteJob> for QueueActor {
    type Result = Held<()>;
    fn handle(&mut self, msg: CompleteJob, ctx: &mut Context<Self>) -> Self::Result {
        let out = queue_call!(self, ctx, self.queue.complete(&msg.id, msg.outcome, now_ms()));
        self.forget_import(&msg.id);
        self.held(ctx, out)
    }
}

impl Handler<CancelJob> for QueueActor {
    type Result = Held<super::CancelOutcome>;
    fn handle(&mut self, msg: CancelJob, ctx: &mut Context<Self>) -> Self::Result {
        let out = queue_call!(self, ctx, self.queue.cancel(&msg.id, now_ms()));
        self.forget_import(&msg.id);
        self.held(ctx, out)
    }
}

impl Handler<CommitBatch> for QueueActor {
    type Result = Held<super::ImportProgress>;
    fn handle(&mut self, msg: CommitBatch, ctx: &mut Context<Self>) -> Self::Result {
        let out = queue_call!(
            self,
            ctx,
            self.queue.commit_batch(&msg.id, msg.batch).and_then(|_| self.queue.progress(&msg.id))
        );
        if let Ok(p) = &out {
            self.import_moved(&msg.id, *p);
        }
        self.held(ctx, out)
    }
}

impl Handler<GetSpool> for QueueActor {
    type Result = std::sync::Arc<super::spool::Spool>;
    fn handle(&mut self, _: GetSpool, _: &mut Context<Self>) -> Self::Result {
        self.queue.spool()
    }
}

impl Handler<SplitBatch> for QueueActor {
    type Result = Held<super::Split>;
    fn handle(&mut self, msg: SplitBatch, ctx: &mut Context<Self>) -> Self::Result {
        let out = queue_call!(self, ctx, self.queue.split_batch(&msg.id, msg.seq));
        self.refresh_import(&msg.id);
        self.held(ctx, out)
    }
}

impl Handler<LoadSeen> for QueueActor {
    type Result = <LoadSeen as Message>::Result;
    fn handle(&mut self, msg: LoadSeen, _: &mut Context<Self>) -> Self::Result {
        self.queue.seen(&msg.id)
    }
}

impl Handler<GetProgress> for QueueActor {
    type Result = <GetProgress as Message>::Result;
    fn handle(&mut self, msg: GetProgress, _: &mut Context<Self>) -> Self::Result {
        self.queue.progress(&msg.id)
    }
}

impl Handler<PeekOutbox> for QueueActor {
    type Result = Held<Vec<super::Parcel>>;
    fn handle(&mut self, msg: PeekOutbox, ctx: &mut Context<Self>) -> Self::Result {
        let out = queue_call!(self, ctx, self.queue.outbox(msg.limit));
        self.held(ctx, out)
    }
}

impl Handler<MarkDelivered> for QueueActor {
    type Result = Held<()>;
    fn handle(&mut self, msg: MarkDelivered, ctx: &mut Context<Self>) -> Self::Result {
        let out = queue_call!(self, ctx, self.queue.delivered(&msg.item, msg.verdict, now_ms()));
        if matches!(msg.item.kind, super::OutboxKind::Batch { .. }) {
            self.refresh_import(&msg.item.job_id);
        }
        self.held(ctx, out)
    }
}

impl Handler<GetConnectorId> for QueueActor {
    type Result = Result<Option<String>, QueueError>;
    fn handle(&mut self, _: GetConnectorId, _: &mut Context<Self>) -> Self::Result {
        self.queue.connector_id()
    }
}

impl Handler<SetConnectorId> for QueueActor {
    type Result = Held<()>;
    fn handle(&mut self, msg: SetConnectorId, ctx: &mut Context<Self>) -> Self::Result {
        let out = queue_call!(self, ctx, self.queue.set_connector_id(&msg.id));
        self.held(ctx, out)
    }
}

impl Handler<ReadStep> for QueueActor {
    type Result = <ReadStep as Message>::Result;
    fn handle(&mut self, msg: ReadStep, _: &mut Context<Self>) -> Self::Result {
        self.queue.step(&msg.id, &msg.step)
    }
}

impl Handler<RecordStep> for QueueActor {
    type Result = Held<()>;
    fn handle(&mut self, msg: RecordStep, ctx: &mut Context<Self>) -> Self::Result {
        let out = queue_call!(self, ctx, self.queue.record_step(&msg.id, &msg.step, &msg.value));
        self.held(ctx, out)
    }
}

impl Handler<NextWakeup> for QueueActor {
    type Result = Option<u64>;
    fn handle(&mut self, _: NextWakeup, _: &mut Context<Self>) -> Self::Result {
        self.queue.next_wakeup_ms()
    }
}

mod imports;
mod settle;
use settle::Held;
#[cfg(test)]
mod tests;
