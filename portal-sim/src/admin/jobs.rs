//! Admin job endpoints: enqueue, inspect, list records, cancel.

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
    })
}

fn not_found(id: &str) -> ApiError {
    ApiError::NotFound(format!("job {id} not found"))
}

/// `GET /admin/jobs/{id}`.
pub async fn show(sim: web::Data<Sim>, id: web::Path<String>) -> Result<HttpResponse, ApiError> {
    let state = sim.lock();
    let job = state.jobs.get(&id).ok_or_else(|| not_found(&id))?;
    Ok(HttpResponse::Ok().json(view(job)))
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
