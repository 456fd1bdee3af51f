//! Admin controls: faults, body limits, the accepted token, and archiving connectors.

use std::time::Instant;

use actix_web::{web, HttpResponse};
use serde::Deserialize;
use serde_json::json;

use super::summary::connector_row;
use crate::body::parse_json;
use crate::error::ApiError;
use crate::faults::FaultSpec;
use crate::model::rfc3339;
use crate::state::Sim;

/// `GET /admin/faults`: the setting in force (`{}` when none).
pub async fn get_faults(sim: web::Data<Sim>) -> HttpResponse {
    HttpResponse::Ok().json(sim.lock().faults.current())
}

/// `POST /admin/faults`: replace the setting; absent fields are off.
pub async fn set_faults(sim: web::Data<Sim>, body: web::Bytes) -> Result<HttpResponse, ApiError> {
    let spec: FaultSpec = parse_json(&body)?;
    spec.validate()?;
    tracing::info!(?spec, "faults set");
    let mut state = sim.lock();
    state.faults.set(spec);
    Ok(HttpResponse::Ok().json(state.faults.current()))
}

/// `DELETE /admin/faults`.
pub async fn clear_faults(sim: web::Data<Sim>) -> HttpResponse {
    sim.lock().faults.clear();
    tracing::info!("faults cleared");
    HttpResponse::NoContent().finish()
}

/// `POST /admin/limits` body; absent fields keep their value.
#[derive(Debug, Deserialize)]
struct Limits {
    max_body_bytes: Option<usize>,
    max_upload_bytes: Option<usize>,
    max_records: Option<usize>,
}

fn limits_body(sim: &Sim) -> serde_json::Value {
    let state = sim.lock();
    json!({
        "max_body_bytes": state.config.max_body_bytes,
        "max_upload_bytes": state.config.max_upload_bytes,
        "max_records": state.config.max_records,
    })
}

/// `GET /admin/limits`.
pub async fn get_limits(sim: web::Data<Sim>) -> HttpResponse {
    HttpResponse::Ok().json(limits_body(&sim))
}

/// `POST /admin/limits` `{"max_body_bytes"?, "max_upload_bytes"?, "max_records"?}`.
pub async fn set_limits(sim: web::Data<Sim>, body: web::Bytes) -> Result<HttpResponse, ApiError> {
    let limits: Limits = parse_json(&body)?;
    {
        let mut state = sim.lock();
        if let Some(n) = limits.max_body_bytes {
            state.config.max_body_bytes = n;
        }
        if let Some(n) = limits.max_upload_bytes {
            state.config.max_upload_bytes = n;
        }
        if let Some(n) = limits.max_records {
            state.config.max_records = n.clamp(1, crate::records::MAX_RECORDS);
        }
    }
    Ok(HttpResponse::Ok().json(limits_body(&sim)))
}

#[derive(Debug, Deserialize)]
struct TokenBody {
    token: String,
}

/// `POST /admin/token` `{"token"}`: from now on only this token is accepted.
pub async fn set_token(sim: web::Data<Sim>, body: web::Bytes) -> Result<HttpResponse, ApiError> {
    let body: TokenBody = parse_json(&body)?;
    sim.lock().config.token = body.token;
    tracing::info!("accepted token replaced");
    Ok(HttpResponse::NoContent().finish())
}

/// `GET /admin/connectors/{id}`: the summary row plus what it registered and reported.
pub async fn connector(sim: web::Data<Sim>, id: web::Path<String>) -> Result<HttpResponse, ApiError> {
    let mut state = sim.lock();
    let interval = state.config.heartbeat_interval_s;
    let connector = state.connectors.find_mut(&id)?;
    let mut row = connector_row(connector, interval, Instant::now());
    let hb = connector.heartbeat.as_ref();
    let pending: Vec<_> = connector.commands.iter().filter(|c| !c.done).map(|c| &c.command).collect();
    if let Some(map) = row.as_object_mut() {
        map.insert("os".into(), json!(connector.os));
        map.insert("arch".into(), json!(connector.arch));
        map.insert("capabilities".into(), json!(connector.capabilities));
        map.insert("max_concurrency".into(), json!(connector.max_concurrency));
        map.insert("registered_directories".into(), connector.directories.clone());
        map.insert("uptime_s".into(), json!(hb.and_then(|h| h.uptime_s)));
        map.insert("components".into(), json!(hb.map(|h| &h.components)));
        map.insert("directories".into(), json!(hb.map(|h| &h.directories)));
        map.insert("heartbeat_at".into(), json!(hb.map(|h| rfc3339(h.at))));
        map.insert("clock_offset_s".into(), json!(hb.and_then(|h| h.clock_offset_s)));
        map.insert("pending_commands".into(), json!(pending));
    }
    Ok(HttpResponse::Ok().json(row))
}

fn set_archived(sim: &Sim, id: &str, archived: bool) -> Result<HttpResponse, ApiError> {
    sim.lock().connectors.find_mut(id)?.archived = archived;
    tracing::info!(connector_id = id, archived, "connector archive flag set");
    Ok(HttpResponse::Ok().json(json!({ "connector_id": id, "archived": archived })))
}

/// `POST /admin/connectors/{id}/archive`: its requests get 403 from now on.
pub async fn archive(sim: web::Data<Sim>, id: web::Path<String>) -> Result<HttpResponse, ApiError> {
    set_archived(&sim, &id, true)
}

/// `POST /admin/connectors/{id}/unarchive`.
pub async fn unarchive(sim: web::Data<Sim>, id: web::Path<String>) -> Result<HttpResponse, ApiError> {
    set_archived(&sim, &id, false)
}
