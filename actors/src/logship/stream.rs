//! `stream_logs`: new lines at or above a level, batched, at most one request per second,
//! for a given duration. Generic over the sender so it is tested with a probe.

use std::future::Future;
use std::time::Duration;

use tokio::sync::broadcast::{self, error::RecvError};
use tokio::time::Instant;

use super::line::{level_rank, LogLine};
use crate::link::errors::{LinkError, Recovery};

/// Fewest time between two requests of one stream (PROTOCOL.md §2.7).
pub const MIN_INTERVAL: Duration = Duration::from_secs(1);
/// Most lines in one request; more in one second are counted as dropped.
pub const MAX_BATCH: usize = 1000;

/// What a stream did.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct StreamReport {
    pub requests: u64,
    pub lines: u64,
    pub dropped: u64,
    /// Why it ended early (the request is gone on the server), if it did.
    pub stopped: Option<String>,
}

pub async fn run<F, Fut>(
    mut rx: broadcast::Receiver<LogLine>,
    level: &str,
    duration: Duration,
    mut post: F,
) -> StreamReport
where
    F: FnMut(Vec<LogLine>) -> Fut,
    Fut: Future<Output = Result<(), LinkError>>,
{
    let min = level_rank(level);
    let end = Instant::now() + duration;
    let mut report = StreamReport::default();
    let mut batch: Vec<LogLine> = Vec::new();
    let mut last_post: Option<Instant> = None;
    let mut open = true;
    loop {
        let next_send = last_post.map_or_else(Instant::now, |t| t + MIN_INTERVAL).max(Instant::now());
        let due = if batch.is_empty() { end } else { next_send.min(end) };
        tokio::select! {
            biased;
            _ = tokio::time::sleep_until(due), if due < end || !batch.is_empty() => {}
            _ = tokio::time::sleep_until(end) => break,
            got = rx.recv(), if open => {
                match got {
                    Ok(line) if level_rank(&line.level) >= min => {
                        if batch.len() < MAX_BATCH { batch.push(line) } else { report.dropped += 1 }
                    }
                    Ok(_) => {}
                    Err(RecvError::Lagged(n)) => report.dropped += n,
                    Err(RecvError::Closed) => open = false,
                }
                continue;
            }
        }
        if Instant::now() >= end {
            break;
        }
        if !send(&mut batch, &mut last_post, &mut report, &mut post).await {
            return report;
        }
    }
    if !batch.is_empty() {
        if let Some(t) = last_post {
            tokio::time::sleep_until(t + MIN_INTERVAL).await;
        }
        send(&mut batch, &mut last_post, &mut report, &mut post).await;
    }
    report
}

/// Sends the batch; `false` when the stream must stop.
async fn send<F, Fut>(
    batch: &mut Vec<LogLine>,
    last_post: &mut Option<Instant>,
    report: &mut StreamReport,
    post: &mut F,
) -> bool
where
    F: FnMut(Vec<LogLine>) -> Fut,
    Fut: Future<Output = Result<(), LinkError>>,
{
    if batch.is_empty() {
        return true;
    }
    let lines = std::mem::take(batch);
    let n = lines.len() as u64;
    *last_post = Some(Instant::now());
    report.requests += 1;
    match post(lines.clone()).await {
        Ok(()) => report.lines += n,
        Err(e @ (LinkError::NotFound(_) | LinkError::Conflict(_) | LinkError::Disabled(_))) => {
            report.stopped = Some(e.to_string());
            return false;
        }
        Err(LinkError::TooLarge) | Err(LinkError::BadRequest(_)) => report.dropped += n,
        Err(e) if e.recovery() == Recovery::Transient => *batch = lines,
        Err(_) => report.dropped += n,
    }
    true
}
