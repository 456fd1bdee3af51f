//! The queue actor's side of import progress (`queue/progress.rs`): the published list
//! of running imports, changed by the events that move them.

use std::time::Instant;

use actix::prelude::*;

use super::{Held, QueueActor};
use crate::queue::messages::{RememberScopeTotal, TrackImport, WatchImports};
use crate::queue::{ImportProgress, ImportRun, QueueError};

impl QueueActor {
    /// Publishes `progress` for import `id` (tracked from now on if it was not).
    pub(super) fn import_moved(&mut self, id: &str, progress: ImportProgress) {
        self.imports.send_modify(|runs| match runs.iter_mut().find(|r| r.job_id == id) {
            Some(run) => run.progress = progress,
            None => runs.push(ImportRun {
                job_id: id.to_owned(),
                progress,
                expected: None,
                since: Instant::now(),
                records_at_start: progress.records_stored,
            }),
        });
    }

    /// Reads the figures of a tracked import again (after a split or a delivery).
    pub(super) fn refresh_import(&mut self, id: &str) {
        if !self.imports.borrow().iter().any(|r| r.job_id == id) {
            return;
        }
        if let Ok(p) = self.queue.progress(id) {
            self.import_moved(id, p);
        }
    }

    /// The job no longer runs (finished, failed, cancelled, dropped).
    pub(super) fn forget_import(&mut self, id: &str) {
        self.imports.send_if_modified(|runs| {
            let before = runs.len();
            runs.retain(|r| r.job_id != id);
            runs.len() != before
        });
    }
}

impl Handler<TrackImport> for QueueActor {
    type Result = Held<Option<u64>>;
    fn handle(&mut self, msg: TrackImport, ctx: &mut Context<Self>) -> Self::Result {
        let out = self.track_import(msg, ctx);
        self.held(ctx, out)
    }
}

impl QueueActor {
    /// Tracks the import's progress from now on; its estimate may be journaled now.
    fn track_import(&mut self, msg: TrackImport, ctx: &mut Context<Self>) -> Result<Option<u64>, QueueError> {
        let expected = self.queue.expect_import(&msg.id, msg.scope.as_deref());
        self.publish(ctx);
        let expected = expected?;
        let progress = self.queue.progress(&msg.id)?;
        self.import_moved(&msg.id, progress);
        self.imports.send_modify(|runs| {
            if let Some(run) = runs.iter_mut().find(|r| r.job_id == msg.id) {
                run.expected = expected;
                // A new run (or a resumption) counts its rate from here.
                run.since = Instant::now();
                run.records_at_start = progress.records_stored;
            }
        });
        tracing::debug!(job_id = %msg.id, ?expected, "import progress tracked");
        Ok(expected)
    }
}

impl Handler<RememberScopeTotal> for QueueActor {
    type Result = Held<()>;
    fn handle(&mut self, msg: RememberScopeTotal, ctx: &mut Context<Self>) -> Self::Result {
        let out = self.queue.remember_scope_total(&msg.scope, msg.total);
        self.publish(ctx);
        self.held(ctx, out)
    }
}

impl Handler<WatchImports> for QueueActor {
    type Result = MessageResult<WatchImports>;
    fn handle(&mut self, _: WatchImports, _: &mut Context<Self>) -> Self::Result {
        MessageResult(self.imports.subscribe())
    }
}
