//! Admin job endpoints: enqueue, inspect, list records, cancel.

use std::pin::pin;
use std::time::Duration;

use actix_web::{web, HttpResponse};
use serde_json::{json, Value};

use crate::body::parse_json;
use crate::error::ApiError;
use crate::jobs::{Job, WireForm};
use crate::model::rfc3339;
use crate::spec::parse_specs;
use crate::state::Sim;

/// `POST /admin/jobs`: one spec or an array → `{"ids": [..]}`; wakes the long polls. With
/// `--clock-skew-s`, a spec without `created_at` gets the skewed now.
pub async fn submit(sim: web::Data<Sim>, body: web::Bytes) -> Result<HttpResponse, ApiError> {
    let value: Value = parse_json(&body)?;
    let (default_lease, skew, now) = {
        let state = sim.lock();
        (state.config.lease_s, state.config.clock_skew_s, state.config.server_now())
    };
    let mut new = parse_specs(value, default_lease)?;
    if skew != 0 {
        // A skewed server stamps its jobs with its own clock (the connector's defaults
        // for a missing `created_at` would hide the skew).
        for job in new.iter_mut().filter(|j| j.form == WireForm::Spec) {
            if let Some(wire) = job.wire.as_object_mut() {
                wire.entry("created_at").or_insert_with(|| Value::String(rfc3339(now)));
            }
        }
    }
    let ids = sim.lock().jobs.enqueue(new)?;
    sim.jobs_ready.notify_waiters();
    Ok(HttpResponse::Ok().json(json!({ "ids": ids })))
}

fn view(job: &Job) -> Value {
    json!({
        "id": job.id,
        "type": job.job_type,
        "state": job.state.name(),
        "offers": job.offers,
        "acks": job.acks,
        "result_posts": job.result_posts,
        "result": job.result,
        "records_batches": job.records.batches().len(),
        "records_count": job.records.count(),
        "leased_to": job.holder(),
        "latency_ms": job.result_after.map(|d| d.as_secs_f64() * 1000.0),
        "offered_ms": job.offered_after.map(|d| d.as_secs_f64() * 1000.0),
        "acked_ms": job.acked_after.map(|d| d.as_secs_f64() * 1000.0),
        "first_records_ms": job.first_records_after.map(|d| d.as_secs_f64() * 1000.0),
        "last_records_ms": job.last_records_after.map(|d| d.as_secs_f64() * 1000.0),
    })
}

fn not_found(id: &str) -> ApiError {
    ApiError::NotFound(format!("job {id} not found"))
}

/// The query of `GET /admin/jobs/{id}`.
#[derive(Debug, serde::Deserialize)]
pub struct ShowQuery {
    /// Seconds to wait (at most [`MAX_WAIT_DONE_S`]) for the job to be done before answering.
    wait_done: Option<u64>,
}

/// Longest `?wait_done`.
const MAX_WAIT_DONE_S: u64 = 60;

/// `GET /admin/jobs/{id}[?wait_done=S]`: the job's view; with `wait_done`, answered as
/// soon as its result is stored (or after `S` seconds, whatever its state): a client
/// can time submit → result itself, independently of the simulator's own timestamps.
pub async fn show(
    sim: web::Data<Sim>,
    id: web::Path<String>,
    query: web::Query<ShowQuery>,
) -> Result<HttpResponse, ApiError> {
    let wait = Duration::from_secs(query.wait_done.unwrap_or(0).min(MAX_WAIT_DONE_S));
    let deadline = tokio::time::Instant::now() + wait;
    loop {
        let mut stored = pin!(sim.results_ready.notified());
        stored.as_mut().enable();
        {
            let state = sim.lock();
            let job = state.jobs.get(&id).ok_or_else(|| not_found(&id))?;
            if job.result.is_some() || tokio::time::Instant::now() >= deadline {
                return Ok(HttpResponse::Ok().json(view(job)));
            }
        }
        tokio::select! {
            _ = stored => {}
            _ = tokio::time::sleep_until(deadline) => {}
        }
    }
}

/// `GET /admin/jobs/{id}/records`: the batches and all their records in seq order.
pub async fn records(sim: web::Data<Sim>, id: web::Path<String>) -> Result<HttpResponse, ApiError> {
    let state = sim.lock();
    let job = state.jobs.get(&id).ok_or_else(|| not_found(&id))?;
    let batches = job.records.batches();
    let summary: Vec<Value> = batches
        .iter()
        .enumerate()
        .map(|(seq, b)| json!({"seq": seq, "count": b.records.len(), "last": b.last}))
        .collect();
    let all: Vec<&serde_json::value::RawValue> = batches.iter().flat_map(|b| b.records.iter().map(|r| &**r)).collect();
    Ok(HttpResponse::Ok().json(json!({ "batches": summary, "records": all })))
}

/// `POST /admin/jobs/{id}/cancel` → `{"job_id", "state", "command_id"}`.
pub async fn cancel(sim: web::Data<Sim>, id: web::Path<String>) -> Result<HttpResponse, ApiError> {
    let (outcome, command_id) = sim.lock().cancel_job(&id)?;
    Ok(HttpResponse::Ok().json(json!({
        "job_id": id.as_str(),
        "state": outcome.state,
        "command_id": command_id,
    })))
}
