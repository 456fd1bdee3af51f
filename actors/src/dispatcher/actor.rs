//! The dispatcher actor (see `mod.rs`).

use std::collections::HashMap;
use std::time::Duration;

use actix::prelude::*;
use futures_util::future::{AbortHandle, Abortable};
use tokio::sync::oneshot;

use super::commit::PointOfNoReturn;
use super::messages::*;
use super::run::{run_job, Executors, JobContext};
use crate::errors::{ErrorCode, JobError};
use crate::metrics::{JobStarted, Metrics};
use crate::protocol::Lane;
use crate::queue::{CompleteJob, NextWakeup, QueueActor, QueueError, TakeRunnable};
use crate::status::{ComponentPublisher, ComponentState};
use serde_json::Value;

/// Asked again this long after the queue could not answer (storage unavailable, actor
/// restarting): the only timed look, and only during such a fault.
const QUEUE_RETRY: Duration = Duration::from_secs(1);
/// First wait before offering again a result the queue could not store; doubles up to the max.
const RESULT_RETRY_FIRST: Duration = Duration::from_millis(500);
const RESULT_RETRY_MAX: Duration = Duration::from_secs(8);

#[derive(Debug, Clone)]
pub struct DispatcherSettings {
    pub max_concurrency: usize,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Mode {
    Running,
    Draining,
}

pub struct Dispatcher {
    settings: DispatcherSettings,
    queue: Addr<QueueActor>,
    executors: Executors,
    /// Running jobs by id, with the handle that stops them on cancel and the point after
    /// which they may no longer be stopped.
    running: HashMap<String, (AbortHandle, PointOfNoReturn)>,
    /// A `TakeRunnable` is in flight: don't send another until it answers; `again`: an
    /// event came meanwhile, so take once more when it answers.
    taking: bool,
    again: bool,
    /// The one timer armed for the queue's next due job (a retry's backoff ending): every
    /// other wake-up is an event (jobs arrived, a job finished, a restart).
    wakeup: Option<SpawnHandle>,
    mode: Mode,
    drained: Vec<oneshot::Sender<()>>,
    status: ComponentPublisher,
    /// Job figures and the recent-jobs ring for `/metrics` and the UI (written only here).
    metrics: Option<Metrics>,
    /// Where bulk jobs (imports) run: a thread of their own, so their decoding and
    /// packing never delays a login's future or the link actors on this thread.
    bulk: Option<ArbiterHandle>,
}

impl Dispatcher {
    pub fn new(
        settings: DispatcherSettings,
        queue: Addr<QueueActor>,
        executors: Executors,
        status: ComponentPublisher,
    ) -> Self {
        Dispatcher {
            settings,
            queue,
            executors,
            running: HashMap::new(),
            taking: false,
            again: false,
            wakeup: None,
            mode: Mode::Running,
            drained: Vec::new(),
            status,
            metrics: None,
            bulk: None,
        }
    }

    /// Runs bulk-lane jobs on `arbiter` instead of this actor's thread.
    pub fn with_bulk_arbiter(mut self, arbiter: ArbiterHandle) -> Self {
        self.bulk = Some(arbiter);
        self
    }

    /// Records every finished run into `metrics`.
    pub fn with_metrics(mut self, metrics: Metrics) -> Self {
        self.metrics = Some(metrics);
        self
    }

    fn fill(&mut self, ctx: &mut Context<Self>) {
        if self.mode == Mode::Draining {
            return;
        }
        if self.taking {
            self.again = true;
            return;
        }
        let free = self.settings.max_concurrency.saturating_sub(self.running.len());
        if free == 0 {
            return;
        }
        self.taking = true;
        self.again = false;
        self.queue
            .send(TakeRunnable { free })
            .into_actor(self)
            .map(|answer, act, ctx| {
                act.taking = false;
                match answer {
                    Ok(Ok(jobs)) if jobs.is_empty() && act.again => act.fill(ctx),
                    Ok(Ok(jobs)) if jobs.is_empty() => act.arm_wakeup(ctx),
                    Ok(Ok(jobs)) => {
                        for job in jobs {
                            act.start(job, ctx);
                        }
                        act.fill(ctx);
                    }
                    // The queue reported it (its status says storage_unavailable) and resumes itself.
                    Ok(Err(QueueError::StorageUnavailable { .. })) => act.retry_later(ctx),
                    Ok(Err(e)) => {
                        tracing::error!(error = %e, "cannot take jobs from the queue");
                        act.retry_later(ctx);
                    }
                    Err(e) => {
                        tracing::error!(error = %e, "queue actor unreachable");
                        act.retry_later(ctx);
                    }
                }
            })
            .spawn(ctx);
    }

    /// Arms the one timer for the queue's next due job, replacing the one armed before.
    fn arm_wakeup(&mut self, ctx: &mut Context<Self>) {
        self.queue
            .send(NextWakeup)
            .into_actor(self)
            .map(|answer, act, ctx| {
                if let Some(old) = act.wakeup.take() {
                    ctx.cancel_future(old);
                }
                if let Ok(Some(due_ms)) = answer {
                    let wait = Duration::from_millis(due_ms.saturating_sub(crate::time::now_ms()).max(1));
                    act.wakeup = Some(ctx.run_later(wait, |act, ctx| {
                        act.wakeup = None;
                        act.fill(ctx);
                    }));
                }
            })
            .spawn(ctx);
    }

    fn retry_later(&mut self, ctx: &mut Context<Self>) {
        if let Some(old) = self.wakeup.take() {
            ctx.cancel_future(old);
        }
        self.wakeup = Some(ctx.run_later(QUEUE_RETRY, |act, ctx| {
            act.wakeup = None;
            act.fill(ctx);
        }));
    }

    fn start(&mut self, job: crate::queue::Runnable, ctx: &mut Context<Self>) {
        let id = job.id.clone();
        let bulk = if job.lane == Lane::Bulk { self.bulk.clone() } else { None };
        let no_return = PointOfNoReturn::default();
        let jctx = JobContext {
            queue: self.queue.clone(),
            job_id: id.clone(),
            attempts: job.attempts,
            no_return: no_return.clone(),
        };
        let span = tracing::info_span!("job", job_id = %id, job_type = %job.job_type);
        let observed = self.metrics.clone().map(|m| (m, JobStarted::new(&id, &job.job_type, &job.payload)));
        let began = std::time::Instant::now();
        let (handle, registration) = AbortHandle::new_pair();
        let work = Abortable::new(run_job(job, self.executors.clone(), jctx), registration);
        self.running.insert(id.clone(), (handle, no_return));
        let me = ctx.address();
        let run = tracing::Instrument::instrument(
            async move {
                let outcome = match work.await {
                    Ok(outcome) => outcome,
                    Err(_) => Err(JobError::new(ErrorCode::Cancelled, "cancelled by the server while it ran")),
                };
                if let Some((metrics, started)) = observed {
                    metrics.job_finished(&started, &outcome, began.elapsed());
                }
                me.do_send(RunFinished { id, outcome });
            },
            span,
        );
        match bulk {
            Some(arbiter) => {
                arbiter.spawn(run);
            }
            None => {
                tokio::spawn(run);
            }
        }
    }

    fn notify_drained(&mut self) {
        if self.running.is_empty() {
            for tx in self.drained.drain(..) {
                let _ = tx.send(());
            }
        }
    }
}

impl Actor for Dispatcher {
    type Context = Context<Self>;

    fn started(&mut self, ctx: &mut Context<Self>) {
        self.status.set(ComponentState::Running, None);
        self.fill(ctx);
    }
}

impl Supervised for Dispatcher {
    fn restarting(&mut self, ctx: &mut Context<Self>) {
        self.taking = false;
        self.wakeup = None;
        crate::system::on_restart(self, ctx, "dispatcher", &self.status);
    }
}

impl Handler<ReplaceDirectories> for Dispatcher {
    type Result = ();
    fn handle(&mut self, msg: ReplaceDirectories, _: &mut Context<Self>) {
        let names: Vec<&String> = msg.directories.keys().collect();
        tracing::info!(directories = ?names, "jobs from now on use the reloaded directories");
        self.executors.directories = msg.directories;
    }
}

impl Handler<JobsArrived> for Dispatcher {
    type Result = ();
    fn handle(&mut self, _: JobsArrived, ctx: &mut Context<Self>) {
        self.fill(ctx);
    }
}

impl Handler<RunFinished> for Dispatcher {
    type Result = ();
    fn handle(&mut self, msg: RunFinished, ctx: &mut Context<Self>) {
        // It stays in `running` until its result is stored, so a drain waits for that too.
        match &msg.outcome {
            Ok(_) => tracing::info!(job_id = %msg.id, "job succeeded"),
            Err(e) => tracing::info!(job_id = %msg.id, code = e.code.as_str(), "job failed"),
        }
        self.store_result(msg.id, msg.outcome, None, ctx);
    }
}

impl Dispatcher {
    /// Stores a finished job's result. While the queue cannot store it (storage
    /// unavailable, queue actor restarting) it is kept here and offered again with backoff
    /// (`retry` is the last wait): a result is never dropped, and the job keeps its
    /// running slot until its result is stored.
    fn store_result(
        &mut self,
        id: String,
        outcome: Result<Value, JobError>,
        retry: Option<Duration>,
        ctx: &mut Context<Self>,
    ) {
        self.queue
            .send(CompleteJob { id: id.clone(), outcome: outcome.clone() })
            .into_actor(self)
            .map(move |answer, act, ctx| {
                let kept = match answer {
                    // The queue's outbox head moved: that wakes the courier.
                    Ok(Ok(())) => false,
                    Ok(Err(e @ (QueueError::StorageUnavailable { .. } | QueueError::Store(_)))) => {
                        if retry.is_none() {
                            tracing::warn!(job_id = %id, error = %e, "the job's result cannot be stored now; it is kept and stored once the queue can write");
                        }
                        true
                    }
                    Ok(Err(e)) => {
                        tracing::error!(job_id = %id, error = %e, "cannot store the job's result");
                        false
                    }
                    Err(e) => {
                        tracing::warn!(job_id = %id, error = %e, "queue actor unreachable; the job's result is offered again");
                        true
                    }
                };
                if kept {
                    let wait = retry.map_or(RESULT_RETRY_FIRST, |w| (w * 2).min(RESULT_RETRY_MAX));
                    ctx.run_later(wait, move |act, ctx| act.store_result(id, outcome, Some(wait), ctx));
                    return;
                }
                act.running.remove(&id);
                act.notify_drained();
                act.fill(ctx);
            })
            .spawn(ctx);
    }
}

impl Handler<CancelRunning> for Dispatcher {
    type Result = ();
    fn handle(&mut self, msg: CancelRunning, _: &mut Context<Self>) {
        if let Some((handle, no_return)) = self.running.get(&msg.id) {
            if no_return.stop() {
                tracing::info!(job_id = %msg.id, "cancelling running job");
                handle.abort();
            } else {
                tracing::warn!(job_id = %msg.id, "cancel refused: the job has written to the directory; it runs to its end");
            }
        }
    }
}

impl Handler<Drain> for Dispatcher {
    type Result = ResponseFuture<()>;
    fn handle(&mut self, _: Drain, _: &mut Context<Self>) -> Self::Result {
        self.mode = Mode::Draining;
        let (tx, rx) = oneshot::channel();
        self.drained.push(tx);
        self.notify_drained();
        Box::pin(async move {
            let _ = rx.await;
        })
    }
}

impl Handler<RunningCount> for Dispatcher {
    type Result = usize;
    fn handle(&mut self, _: RunningCount, _: &mut Context<Self>) -> usize {
        self.running.len()
    }
}
