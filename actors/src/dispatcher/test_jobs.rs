//! Job types for tests and benchmarks only (feature `test-jobs`, never in packaging).
//!
//! `test.touch` is a model of a real write: it appends the job id to a file, guarded by
//! the step journal exactly as directory writes are, so the crash test can count side
//! effects: an intent is journaled (flushed) before the write; a re-run that finds the
//! intent checks the file before writing again.

use std::io::Write;
use std::time::Duration;

use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

use super::context::JobContext;
use crate::errors::{ErrorCode, JobError};
use crate::protocol::payload::TestJob;
use crate::queue::{Journal, Step};

fn fail_with(p: &TestJob) -> Result<(), JobError> {
    match &p.fail_with {
        None => Ok(()),
        Some(code) => {
            let code: ErrorCode = serde_json::from_value(Value::String(code.clone()))
                .map_err(|_| JobError::invalid_job(format!("unknown fail_with code `{code}`")))?;
            Err(JobError::new(code, "failure requested by the test job"))
        }
    }
}

pub async fn noop(p: TestJob, ctx: JobContext) -> Result<Value, JobError> {
    if p.sleep_ms > 0 {
        tokio::time::sleep(Duration::from_millis(p.sleep_ms)).await;
    }
    if p.panic {
        // The one deliberate panic: a test-only job type (feature `test-jobs`) that proves
        // a panicking executor costs only its own job.
        #[allow(clippy::panic)]
        std::panic::panic_any("panic requested by the test job");
    }
    fail_with(&p)?;
    Ok(json!({"ok": true, "attempts": ctx.attempts}))
}

/// `intent` of `test.touch`: the file about to get the job id.
#[derive(Serialize, Deserialize)]
struct TouchIntent {
    path: String,
}

impl Step for TouchIntent {
    const NAME: &'static str = "intent";
}

/// `touched` of `test.touch`: the line is in the file. Stored as `true`.
#[derive(Serialize, Deserialize)]
struct Touched(bool);

impl Step for Touched {
    const NAME: &'static str = "touched";
}

pub async fn touch(p: TestJob, ctx: JobContext) -> Result<Value, JobError> {
    let path = p.path.clone().ok_or_else(|| JobError::invalid_job("payload of test.touch: missing field `path`"))?;
    let journal = Journal::new(ctx.queue.clone(), ctx.job_id.clone());
    if journal.read::<Touched>().await?.is_some() {
        return Ok(json!({"touched": true, "changed": false}));
    }
    let intent = journal.read::<TouchIntent>().await?;
    let line = format!("{}\n", ctx.job_id);
    let already =
        intent.is_some() && std::fs::read_to_string(&path).unwrap_or_default().lines().any(|l| l == ctx.job_id);
    if !already {
        journal.record(&TouchIntent { path: path.clone() }).await?;
        if p.sleep_ms > 0 {
            tokio::time::sleep(Duration::from_millis(p.sleep_ms)).await;
        }
        let mut f = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&path)
            .map_err(|e| JobError::internal(format!("cannot open {path}: {e}")))?;
        f.write_all(line.as_bytes()).and_then(|_| f.sync_data()).map_err(|e| JobError::internal(e.to_string()))?;
    }
    journal.record(&Touched(true)).await?;
    fail_with(&p)?;
    Ok(json!({"touched": true, "changed": !already}))
}
