//! Running one job: payload → typed job → executor, bounded by the deadline, panics
//! caught. Plain async code; the actor only spawns it.

use std::collections::BTreeMap;
use std::panic::AssertUnwindSafe;
use std::time::Duration;

use actix::{Addr, Recipient};
use futures_util::FutureExt;
use serde_json::Value;

use crate::ad::{self, AdContext};
use crate::audit::AppendAudit;
use crate::directory::{Checkout, CheckoutWrites, DirectoryActor};
use crate::errors::{ErrorCode, JobError};
use crate::ldap::{auth, import};
use crate::protocol::{Family, JobKind, JobType};
use crate::queue::Runnable;
use crate::system::panic_message;
use crate::time::now_ms;

pub use super::context::JobContext;

/// The executors this build has: one directory actor per configured directory.
#[derive(Clone)]
pub struct Executors {
    pub directories: BTreeMap<String, Addr<DirectoryActor>>,
    /// Where AD writes are audited (`None` only in tests that do not write).
    pub audit: Option<Recipient<AppendAudit>>,
    /// Coalesces the group adds of creates.
    pub members: Recipient<ad::AddMember>,
    /// What the AD jobs know of each directory (schema, protected groups, DCs).
    pub knowledge: ad::KnowledgeCache,
}

impl Executors {
    /// Job types announced in `capabilities`: those something here can run.
    pub fn capabilities(&self) -> Vec<String> {
        JobType::available()
            .filter(|t| t.family() == Family::Test || !self.directories.is_empty())
            .map(|t| t.name().to_owned())
            .collect()
    }
}

pub async fn run_job(job: Runnable, executors: Executors, ctx: JobContext) -> Result<Value, JobError> {
    let left = Duration::from_millis(job.deadline_ms.saturating_sub(now_ms()));
    let no_return = ctx.no_return.clone();
    let mut work = std::pin::pin!(AssertUnwindSafe(execute(job, executors, ctx)).catch_unwind());
    let finished = match tokio::time::timeout(left, &mut work).await {
        Ok(done) => Ok(done),
        Err(_) if no_return.stop() => Err(()),
        Err(_) => {
            tracing::warn!("the job's deadline passed after it wrote to the directory: it runs to its end");
            Ok(work.await)
        }
    };
    match finished {
        Ok(Ok(outcome)) => outcome,
        Ok(Err(panic)) => {
            let what = panic_message(&panic);
            tracing::error!(panic = %what, "job executor panicked");
            Err(JobError::internal("the connector hit an internal error running this job; it was logged"))
        }
        Err(_) => Err(JobError::new(ErrorCode::DeadlineExceeded, "the job's deadline passed while it ran")),
    }
}

async fn execute(job: Runnable, executors: Executors, ctx: JobContext) -> Result<Value, JobError> {
    let kind = JobKind::parse(&job.job_type, &job.payload)?;
    let directory = match kind.directory() {
        Some(dir) => Some(executors.directories.get(dir).cloned().ok_or_else(|| {
            JobError::new(
                ErrorCode::UnknownDirectory,
                format!("no directory named `{dir}` is configured on this connector"),
            )
        })?),
        None => None,
    };
    let checkout = |d: &Addr<DirectoryActor>| {
        let d = d.clone();
        async move { d.send(Checkout).await.map_err(|e| JobError::internal(format!("directory actor: {e}")))? }
    };
    match (kind, directory) {
        (JobKind::Authenticate(p), Some(d)) => {
            let lease = checkout(&d).await?;
            if !lease.settings.encrypted() {
                return Err(JobError::new(
                    ErrorCode::ForbiddenByPolicy,
                    format!("directory `{}` is configured without TLS: passwords are never sent over it", p.directory),
                ));
            }
            auth::authenticate(lease, d, p).await
        }
        (JobKind::Import(p), Some(d)) => {
            import::run(import::ImportJob {
                job_id: ctx.job_id.clone(),
                queue: ctx.queue.clone(),
                directory: d,
                payload: p,
            })
            .await
        }
        (kind, Some(d)) if JobType::parse(&job.job_type).map(JobType::family) == Some(Family::Ad) => {
            let lease =
                d.send(CheckoutWrites).await.map_err(|e| JobError::internal(format!("directory actor: {e}")))??;
            let knowledge = executors.knowledge.for_directory(&lease.settings.name);
            let ctx = AdContext {
                lease,
                queue: ctx.queue.clone(),
                audit: executors.audit.clone(),
                members: executors.members.clone(),
                job_id: ctx.job_id.clone(),
                operation: job.job_type.clone(),
                no_return: ctx.no_return.clone(),
                knowledge,
            };
            ad::execute(kind, ctx).await
        }
        #[cfg(feature = "test-jobs")]
        (JobKind::TestNoop(p), _) => super::test_jobs::noop(p, ctx).await,
        #[cfg(feature = "test-jobs")]
        (JobKind::TestTouch(p), _) => super::test_jobs::touch(p, ctx).await,
        _ => Err(JobError::invalid_job(format!(
            "job type `{}` is not supported by this connector version",
            job.job_type
        ))),
    }
}
