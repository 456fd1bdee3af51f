//! The connector-facing endpoints of PROTOCOL.md under `/api/v1/integration-connector`.
//! Each handler runs inside [`serve`]: faults first, then the token and connector checks,
//! then the work, then (if a fault says so) the connection is dropped unanswered.

use std::future::Future;
use std::pin::pin;
use std::time::{Duration, Instant};

use actix_web::http::header::AUTHORIZATION;
use actix_web::{web, HttpRequest, HttpResponse, ResponseError};
use serde_json::{json, Value};
use tokio::io::AsyncWriteExt;

use crate::body::{parse_json, read_limited};
use crate::error::ApiError;
use crate::faults::{dropped_response, Route};
use crate::model::{HeartbeatRequest, LogLines, PollQuery, RecordsBatch, RegisterRequest};
use crate::state::{Identity, Sim};

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
        .route("/log-requests/{id}/upload", web::post().to(upload_logs))
        .route("/log-streams/{id}", web::post().to(stream_logs));
}

fn header<'a>(req: &'a HttpRequest, name: impl actix_web::http::header::AsHeaderName) -> Option<&'a str> {
    req.headers().get(name).and_then(|v| v.to_str().ok())
}

/// Run one connector request: faults, auth, `work`, and the drop-after-process fault.
async fn serve<F, Fut>(sim: &Sim, req: &HttpRequest, route: Route, identity: Identity, work: F) -> HttpResponse
where
    F: FnOnce(Option<String>) -> Fut,
    Fut: Future<Output = Result<HttpResponse, ApiError>>,
{
    let decision = {
        let mut state = sim.lock();
        state.requests += 1;
        state.faults.decide(route)
    };
    if let Some(latency) = decision.latency {
        tokio::time::sleep(latency).await;
    }
    if let Some(err) = decision.reject {
        return err.error_response();
    }
    let caller = sim.lock().authorize(
        header(req, AUTHORIZATION),
        header(req, "x-connector-id"),
        identity,
    );
    let outcome = match caller {
        Ok(caller) => work(caller).await,
        Err(err) => Err(err),
    };
    if decision.drop_after {
        tracing::info!(path = req.path(), "fault: dropping the connection after processing");
        return dropped_response();
    }
    outcome.unwrap_or_else(|err| {
        tracing::debug!(path = req.path(), %err, "refused");
        err.error_response()
    })
}

/// The connector id that [`Identity::Connector`] guarantees.
fn required(caller: Option<String>) -> Result<String, ApiError> {
    caller.ok_or_else(|| ApiError::Internal("no connector id after authorization".to_owned()))
}

fn body_limit(sim: &Sim) -> usize {
    sim.lock().config.max_body_bytes
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
        let default_wait = sim.lock().config.poll_timeout_s;
        let wait = query.wait.unwrap_or(default_wait).min(MAX_WAIT_S);
        let max = query.max.unwrap_or(DEFAULT_MAX).clamp(1, MAX_MAX);
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
            _ => {
                return Err(ApiError::BadRequest(
                    "result status must be \"succeeded\" or \"failed\"".to_owned(),
                ))
            }
        }
        let mut state = sim.lock();
        let state = &mut *state;
        state.jobs.post_result(&mut state.violations, &id, &path, result)?;
        Ok(HttpResponse::NoContent().finish())
    })
    .await
}

async fn records(sim: web::Data<Sim>, req: HttpRequest, path: web::Path<String>, payload: web::Payload) -> HttpResponse {
    serve(&sim, &req, Route::Records, Identity::Connector, |caller| async {
        let id = required(caller)?;
        let body = read_limited(payload, body_limit(&sim)).await?;
        let batch: RecordsBatch = parse_json(&body)?;
        let mut state = sim.lock();
        let state = &mut *state;
        state.jobs.post_records(&mut state.violations, &id, &path, batch)?;
        Ok(HttpResponse::NoContent().finish())
    })
    .await
}

async fn upload_logs(sim: web::Data<Sim>, req: HttpRequest, path: web::Path<String>, payload: web::Payload) -> HttpResponse {
    serve(&sim, &req, Route::Logs, Identity::Connector, |caller| async {
        let id = required(caller)?;
        let limit = sim.lock().config.max_upload_bytes;
        let body = read_limited(payload, limit).await?;
        let target = sim.lock().logs.upload_target(&path, &id)?;
        let partial = target.with_extension("zip.part");
        let io = |e: std::io::Error| ApiError::Internal(format!("storing the upload: {e}"));
        tokio::fs::write(&partial, &body).await.map_err(io)?;
        tokio::fs::rename(&partial, &target).await.map_err(io)?;
        sim.lock().logs.mark_received(&path, body.len() as u64);
        tracing::info!(request_id = %path, bytes = body.len(), "log upload stored");
        Ok(HttpResponse::NoContent().finish())
    })
    .await
}

async fn stream_logs(sim: web::Data<Sim>, req: HttpRequest, path: web::Path<String>, payload: web::Payload) -> HttpResponse {
    serve(&sim, &req, Route::Logs, Identity::Connector, |caller| async {
        let id = required(caller)?;
        let body = read_limited(payload, body_limit(&sim)).await?;
        let lines: LogLines = parse_json(&body)?;
        let target = sim.lock().logs.stream_target(&path, &id)?;
        let mut text = String::new();
        for line in &lines.lines {
            text.push_str(&line.to_string());
            text.push('\n');
        }
        let io = |e: std::io::Error| ApiError::Internal(format!("storing log lines: {e}"));
        let mut file = tokio::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&target)
            .await
            .map_err(io)?;
        file.write_all(text.as_bytes()).await.map_err(io)?;
        file.flush().await.map_err(io)?;
        sim.lock().logs.add_lines(&path, lines.lines.len() as u64);
        Ok(HttpResponse::NoContent().finish())
    })
    .await
}
