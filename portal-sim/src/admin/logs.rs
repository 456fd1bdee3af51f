//! Admin log endpoints: ask a connector for an upload or a stream, and fetch the results.

use actix_web::http::header;
use actix_web::{web, HttpResponse};
use serde::Deserialize;
use serde_json::json;

use crate::body::parse_json;
use crate::error::ApiError;
use crate::model::Command;
use crate::state::Sim;

#[derive(Debug, Deserialize)]
struct UploadAsk {
    connector_id: String,
    since: Option<String>,
    until: Option<String>,
}

#[derive(Debug, Deserialize)]
struct StreamAsk {
    connector_id: String,
    #[serde(default = "default_duration")]
    duration_s: u64,
    #[serde(default = "default_level")]
    level: String,
}

fn default_duration() -> u64 {
    60
}

fn default_level() -> String {
    "info".to_owned()
}

/// A timestamp checked and normalised to RFC 3339 UTC seconds.
fn timestamp(name: &str, value: Option<String>) -> Result<Option<String>, ApiError> {
    value
        .map(|v| {
            humantime::parse_rfc3339_weak(&v)
                .map(|t| humantime::format_rfc3339_seconds(t).to_string())
                .map_err(|e| ApiError::BadRequest(format!("{name}: {e}")))
        })
        .transpose()
}

/// `POST /admin/log-requests` `{"connector_id","since"?,"until"?}` → `{"request_id"}`.
pub async fn request_upload(sim: web::Data<Sim>, body: web::Bytes) -> Result<HttpResponse, ApiError> {
    let ask: UploadAsk = parse_json(&body)?;
    let since = timestamp("since", ask.since)?;
    let until = timestamp("until", ask.until)?;
    let mut state = sim.lock();
    state.connectors.find_mut(&ask.connector_id)?;
    let request_id = state.next_id("lr");
    let rid = request_id.clone();
    let command_id =
        state.push_command(&ask.connector_id, |id| Command::UploadLogs { id, request_id: rid, since, until })?;
    state.logs.add_request(request_id.clone(), ask.connector_id);
    Ok(HttpResponse::Ok().json(json!({ "request_id": request_id, "command_id": command_id })))
}

/// `POST /admin/log-streams` `{"connector_id","duration_s","level"}` → `{"request_id"}`.
pub async fn request_stream(sim: web::Data<Sim>, body: web::Bytes) -> Result<HttpResponse, ApiError> {
    let ask: StreamAsk = parse_json(&body)?;
    let mut state = sim.lock();
    state.connectors.find_mut(&ask.connector_id)?;
    let request_id = state.next_id("ls");
    let rid = request_id.clone();
    let command_id = state.push_command(&ask.connector_id, |id| Command::StreamLogs {
        id,
        request_id: rid,
        duration_s: ask.duration_s,
        level: ask.level,
    })?;
    state.logs.add_stream(request_id.clone(), ask.connector_id);
    Ok(HttpResponse::Ok().json(json!({ "request_id": request_id, "command_id": command_id })))
}

/// `GET /admin/log-requests/{id}` → `{"received", "size", "path"}`.
pub async fn show_upload(sim: web::Data<Sim>, id: web::Path<String>) -> Result<HttpResponse, ApiError> {
    let state = sim.lock();
    let req = state.logs.request(&id).ok_or_else(|| ApiError::NotFound(format!("log request {id} not found")))?;
    Ok(HttpResponse::Ok().json(json!({
        "request_id": req.id,
        "connector_id": req.connector_id,
        "received": req.received,
        "size": req.size,
        "path": req.path,
    })))
}

/// `GET /admin/log-requests/{id}/download`: the zip as uploaded.
pub async fn download(sim: web::Data<Sim>, id: web::Path<String>) -> Result<HttpResponse, ApiError> {
    let path = {
        let state = sim.lock();
        match state.logs.request(&id) {
            Some(req) if req.received => req.path.clone(),
            Some(_) => return Err(ApiError::NotFound(format!("log request {id} has no upload yet"))),
            None => return Err(ApiError::NotFound(format!("log request {id} not found"))),
        }
    };
    let bytes =
        tokio::fs::read(&path).await.map_err(|e| ApiError::Internal(format!("reading {}: {e}", path.display())))?;
    Ok(HttpResponse::Ok()
        .content_type("application/zip")
        .insert_header((header::CONTENT_DISPOSITION, format!("attachment; filename=\"{id}.zip\"")))
        .body(bytes))
}

/// `GET /admin/log-streams/{id}` → `{"lines", "path"}`.
pub async fn show_stream(sim: web::Data<Sim>, id: web::Path<String>) -> Result<HttpResponse, ApiError> {
    let state = sim.lock();
    let stream = state.logs.stream(&id).ok_or_else(|| ApiError::NotFound(format!("log stream {id} not found")))?;
    Ok(HttpResponse::Ok().json(json!({
        "request_id": stream.id,
        "connector_id": stream.connector_id,
        "lines": stream.lines,
        "path": stream.path,
    })))
}
