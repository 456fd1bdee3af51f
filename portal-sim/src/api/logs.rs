//! Log endpoints of the connector API (§2.7): a zip upload stored whole under
//! `<data dir>/uploads/`, and streamed lines appended to `<data dir>/streams/`.

use actix_web::{web, HttpRequest, HttpResponse};
use tokio::io::AsyncWriteExt;

use super::serve::{body_limit, required, serve};
use crate::body::{parse_json, read_limited};
use crate::error::ApiError;
use crate::faults::Route;
use crate::model::LogLines;
use crate::state::{Identity, Sim};

pub async fn upload_logs(
    sim: web::Data<Sim>,
    req: HttpRequest,
    path: web::Path<String>,
    payload: web::Payload,
) -> HttpResponse {
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

pub async fn stream_logs(
    sim: web::Data<Sim>,
    req: HttpRequest,
    path: web::Path<String>,
    payload: web::Payload,
) -> HttpResponse {
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
        let mut file = tokio::fs::OpenOptions::new().create(true).append(true).open(&target).await.map_err(io)?;
        file.write_all(text.as_bytes()).await.map_err(io)?;
        file.flush().await.map_err(io)?;
        sim.lock().logs.add_lines(&path, lines.lines.len() as u64);
        Ok(HttpResponse::NoContent().finish())
    })
    .await
}
