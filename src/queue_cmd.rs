//! `integration-connector queue …`: the durable queue, read and mended offline.

use clap::Subcommand;
use connector_actors::queue::{DurableQueue, JobRecord, QueueError, EXPECTED_STEP};
use connector_actors::time::{now_ms, rfc3339};

use crate::config::Settings;
use crate::exit;

#[derive(Subcommand)]
pub enum QueueAction {
    /// One line per stored job.
    List,
    /// One job in full (secrets are never shown).
    Show { id: String },
    /// Run a dead job again (its result must not have reached the portal yet).
    Retry { id: String },
    /// Remove every dead job.
    PurgeDead,
}

pub fn run(settings: &Settings, action: QueueAction) -> u8 {
    let mut queue = match DurableQueue::open(settings.queue.clone()) {
        Ok(q) => q,
        Err(e) => {
            eprintln!("cannot open the queue in {}: {e}", settings.queue.path.display());
            return exit::STORAGE;
        }
    };
    let outcome = match action {
        QueueAction::List => list(&queue),
        QueueAction::Show { id } => show(&queue, &id),
        QueueAction::Retry { id } => {
            queue.retry(&id, now_ms()).map(|_| println!("job {id} will run again at the next start"))
        }
        QueueAction::PurgeDead => queue.purge_dead().map(|n| println!("removed {n} dead job(s)")),
    };
    match outcome {
        Ok(()) => exit::OK,
        Err(QueueError::NotFound(id)) => {
            eprintln!("no job with id {id}");
            exit::FAILURE
        }
        Err(e) => {
            eprintln!("{e}");
            exit::FAILURE
        }
    }
}

fn list(queue: &DurableQueue) -> Result<(), QueueError> {
    let jobs = queue.list()?;
    println!("{:<24} {:<22} {:<18} {:<11} {:>3}  {:<20} ERROR", "ID", "TYPE", "STATE", "LANE", "TRY", "RECEIVED");
    for j in &jobs {
        println!(
            "{:<24} {:<22} {:<18} {:<11} {:>3}  {:<20} {}",
            j.id,
            j.job_type,
            j.state.as_str(),
            j.lane.as_str(),
            j.attempts,
            rfc3339(j.received_ms),
            error_code(j)
        );
    }
    let f = queue.figures();
    println!(
        "{} job(s): {} pending, {} running, {} awaiting delivery, {} dead",
        jobs.len(),
        f.pending,
        f.running,
        f.awaiting_delivery,
        f.dead
    );
    for q in queue.quarantined()? {
        println!("unreadable record moved aside: {} ({} bytes, kept under q/{})", q.key, q.bytes, q.key);
    }
    Ok(())
}

fn error_code(j: &JobRecord) -> &'static str {
    j.outcome.as_ref().and_then(|o| o.error.as_ref()).map_or("", |e| e.code.as_str())
}

/// An import's progress as the queue holds it: records stored, the batch on its way, and
/// the estimate journaled when it started (the count of the last full import of its
/// scope). No rate: the service is stopped while this runs (the page and `/api/status`
/// show it live).
fn progress(queue: &DurableQueue, job: &JobRecord) -> Result<serde_json::Value, QueueError> {
    if job.batches_stored == 0 && job.job_type != "ldap.import" {
        return Ok(serde_json::Value::Null);
    }
    let expected = queue.step(&job.id, EXPECTED_STEP)?.and_then(|v| v.as_u64());
    let percent = expected.filter(|e| *e > 0).map(|e| (job.records_stored as f64 * 100.0 / e as f64).min(100.0));
    Ok(serde_json::json!({
        "records": job.records_stored,
        "batch_in_flight": (job.batches_delivered < job.batches_stored).then_some(job.batches_delivered),
        "expected_total": expected,
        "percent": percent.map(|p| (p * 10.0).round() / 10.0),
    }))
}

fn show(queue: &DurableQueue, id: &str) -> Result<(), QueueError> {
    let job = queue.get(id)?.ok_or_else(|| QueueError::NotFound(id.to_owned()))?;
    let view = serde_json::json!({
        "id": job.id, "type": job.job_type, "state": job.state.as_str(), "lane": job.lane.as_str(),
        "ordering_key": job.ordering_key, "created_at": rfc3339(job.created_at_ms),
        "deadline": rfc3339(job.deadline_ms), "received_at": rfc3339(job.received_ms),
        "attempts": job.attempts, "payload": job.payload,
        "secrets": if job.sealed.is_some() { "sealed" } else { "none" },
        "result": job.outcome, "delivery": job.delivery,
        "batches": {"stored": job.batches_stored, "delivered": job.batches_delivered},
        "progress": progress(queue, &job)?,
    });
    println!("{}", serde_json::to_string_pretty(&view).unwrap_or_default());
    Ok(())
}
