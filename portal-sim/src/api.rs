//! The connector-facing endpoints of PROTOCOL.md under `/api/v1/integration-connector`.
//! Each handler runs inside [`serve::serve`] (faults, token and connector checks, drop);
//! the log endpoints are in `api/logs.rs`.

use std::pin::pin;
use std::time::{Duration, Instant};

use actix_web::{web, HttpRequest, HttpResponse};
use serde_json::{json, Value};

use crate::body::{parse_json, read_limited};
use crate::error::ApiError;
use crate::faults::Route;
use crate::model::{HeartbeatRequest, PollQuery, RecordsBatch, RegisterRequest};
use crate::state::{Identity, Sim};
use serve::{body_limit, required, serve};

mod logs;
mod serve;

/// Longest long poll the server grants, whatever `wait` asks.
const MAX_WAIT_S: u64 = 300;
/// Jobs per poll when `max` is absent, and the most granted.
const DEFAULT_MAX: usize = 32;
const MAX_MAX: usize = 1000;

/// Mount the connector API on `cfg` (the caller scopes it under the base path).
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/register", web::post().to(register))
        .route("/heartbeat", web::post().to(heartbeat))
        .route("/jobs", web::get().to(poll_jobs))
        .route("/jobs/{id}/ack", web::post().to(ack))
        .route("/jobs/{id}/result", web::post().to(result))
        .route("/jobs/{id}/records", web::post().to(records))
        .route("/log-requests/{id}/upload", web::post().to(logs::upload_logs))
        .route("/log-streams/{id}", web::post().to(logs::stream_logs));
}

async fn register(sim: web::Data<Sim>, req: HttpRequest, payload: web::Payload) -> HttpResponse {
    serve(&sim, &req, Route::Register, Identity::Token, |_| async {
        let body = read_limited(payload, body_limit(&sim)).await?;
        let request: RegisterRequest = parse_json(&body)?;
        let response = sim.lock().register(request)?;
        tracing::info!(connector_id = %response.connector_id, "registered");
        Ok(HttpResponse::Ok().json(response))
    })
    .await
}

async fn heartbeat(sim: web::Data<Sim>, req: HttpRequest, payload: web::Payload) -> HttpResponse {
    serve(&sim, &req, Route::Heartbeat, Identity::AnyConnector, |caller| async {
        let id = required(caller)?;
        let body = read_limited(payload, body_limit(&sim)).await?;
        let request: HeartbeatRequest = parse_json(&body)?;
        let response = sim.lock().heartbeat(&id, request, Instant::now())?;
        Ok(HttpResponse::Ok().json(response))
    })
    .await
}

/// `GET /jobs?wait=&max=`: answer as soon as a job can be leased, or after `wait` s.
async fn poll_jobs(sim: web::Data<Sim>, req: HttpRequest) -> HttpResponse {
    serve(&sim, &req, Route::Jobs, Identity::Connector, |caller| async {
        let id = required(caller)?;
        let query = web::Query::<PollQuery>::from_query(req.query_string())
            .map_err(|e| ApiError::BadRequest(format!("invalid query: {e}")))?
            .into_inner();
        let max = query.max.unwrap_or(DEFAULT_MAX).clamp(1, MAX_MAX);
        let (default_wait, ignore_wait) = {
            let mut state = sim.lock();
            state.record_poll(max);
            (state.config.poll_timeout_s, state.faults.poll_wait_s())
        };
        let wait = ignore_wait.unwrap_or(query.wait.unwrap_or(default_wait)).min(MAX_WAIT_S);
        let deadline = tokio::time::Instant::now() + Duration::from_secs(wait);
        loop {
            let mut ready = pin!(sim.jobs_ready.notified());
            ready.as_mut().enable();
            let jobs = {
                let mut state = sim.lock();
                let lease = state.faults.lease_override();
                state.jobs.offer(&id, max, Instant::now(), lease)
            };
            if !jobs.is_empty() || tokio::time::Instant::now() >= deadline {
                return Ok(HttpResponse::Ok().json(json!({ "jobs": jobs })));
            }
            tokio::select! {
                _ = ready => {}
                _ = tokio::time::sleep_until(deadline) => {}
            }
        }
    })
    .await
}

async fn ack(sim: web::Data<Sim>, req: HttpRequest, path: web::Path<String>, payload: web::Payload) -> HttpResponse {
    serve(&sim, &req, Route::Ack, Identity::Connector, |caller| async {
        let id = required(caller)?;
        read_limited(payload, body_limit(&sim)).await?;
        sim.lock().jobs.ack(&id, &path, Instant::now())?;
        Ok(HttpResponse::NoContent().finish())
    })
    .await
}

async fn result(sim: web::Data<Sim>, req: HttpRequest, path: web::Path<String>, payload: web::Payload) -> HttpResponse {
    serve(&sim, &req, Route::Result, Identity::Connector, |caller| async {
        let id = required(caller)?;
        let body = read_limited(payload, body_limit(&sim)).await?;
        let result: Value = parse_json(&body)?;
        match result.get("status").and_then(Value::as_str) {
            Some("succeeded" | "failed") => {}
            _ => return Err(ApiError::BadRequest("result status must be \"succeeded\" or \"failed\"".to_owned())),
        }
        {
            let mut state = sim.lock();
            let state = &mut *state;
            state.jobs.post_result(&mut state.violations, &id, &path, result)?;
        }
        sim.results_ready.notify_waiters();
        Ok(HttpResponse::NoContent().finish())
    })
    .await
}

async fn records(
    sim: web::Data<Sim>,
    req: HttpRequest,
    path: web::Path<String>,
    payload: web::Payload,
) -> HttpResponse {
    serve(&sim, &req, Route::Records, Identity::Connector, |caller| async {
        let id = required(caller)?;
        let body = read_limited(payload, body_limit(&sim)).await?;
        // Parsed on the blocking pool: a multi-megabyte batch must not hold up the polls
        // and results this HTTP worker also serves (a login's latency is measured here).
        let batch: RecordsBatch = web::block(move || parse_json(&body))
            .await
            .map_err(|e| ApiError::Internal(format!("records body not parsed: {e}")))??;
        let mut state = sim.lock();
        let state = &mut *state;
        let max_records = state.config.max_records;
        state.jobs.post_records(&mut state.violations, &id, &path, batch, max_records)?;
        Ok(HttpResponse::NoContent().finish())
    })
    .await
}
