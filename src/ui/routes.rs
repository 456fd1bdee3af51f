//! The UI's handlers: each reads snapshots and answers at once.

use actix_web::http::header;
use actix_web::web::{Bytes, Data};
use actix_web::{HttpRequest, HttpResponse};
use base64::Engine;
use connector_actors::link::Connection;
use connector_actors::status::ComponentState;
use tokio::sync::broadcast::error::RecvError;

use super::{guard, metrics as prom, page, UiState};

/// `None` when allowed; else the 401 asking for the token (Basic: any user, the token as
/// password; or `Authorization: Bearer <token>`).
fn deny(req: &HttpRequest, state: &UiState) -> Option<HttpResponse> {
    let token = state.admin_token.borrow().clone()?;
    let given = req.headers().get(header::AUTHORIZATION).and_then(|v| v.to_str().ok()).unwrap_or("");
    let ok = if let Some(b) = given.strip_prefix("Bearer ") {
        guard::token_matches(b.trim(), &token)
    } else if let Some(b) = given.strip_prefix("Basic ") {
        base64::engine::general_purpose::STANDARD
            .decode(b.trim())
            .ok()
            .and_then(|raw| String::from_utf8(raw).ok())
            .and_then(|pair| pair.split_once(':').map(|(_, pw)| guard::token_matches(pw, &token)))
            .unwrap_or(false)
    } else {
        false
    };
    (!ok).then(|| {
        HttpResponse::Unauthorized()
            .insert_header((header::WWW_AUTHENTICATE, "Basic realm=\"integration-connector\", charset=\"UTF-8\""))
            .body("the admin token is required: use it as the password (any user name), or send Authorization: Bearer <token>\n")
    })
}

pub async fn index(req: HttpRequest, state: Data<UiState>) -> HttpResponse {
    if let Some(d) = deny(&req, &state) {
        return d;
    }
    HttpResponse::Ok().content_type("text/html; charset=utf-8").body(page::document(&state))
}

pub async fn panel(req: HttpRequest, state: Data<UiState>) -> HttpResponse {
    if let Some(d) = deny(&req, &state) {
        return d;
    }
    HttpResponse::Ok().content_type("text/html; charset=utf-8").body(page::panel(&state))
}

pub async fn status_json(req: HttpRequest, state: Data<UiState>) -> HttpResponse {
    if let Some(d) = deny(&req, &state) {
        return d;
    }
    HttpResponse::Ok().json(page::status_value(&state))
}

/// `/api/history`: the last hour, one entry per minute, oldest first (the charts' figures).
pub async fn history_json(req: HttpRequest, state: Data<UiState>) -> HttpResponse {
    if let Some(d) = deny(&req, &state) {
        return d;
    }
    HttpResponse::Ok().json(serde_json::json!({"minutes": state.metrics.history()}))
}

pub async fn metrics(req: HttpRequest, state: Data<UiState>) -> HttpResponse {
    if let Some(d) = deny(&req, &state) {
        return d;
    }
    HttpResponse::Ok().content_type("text/plain; version=0.0.4; charset=utf-8").body(prom::render(&state))
}

/// 200 while the process serves and no component has stopped for good.
pub async fn healthz(state: Data<UiState>) -> HttpResponse {
    let stopped: Vec<String> =
        state.board.components().into_iter().filter(|c| c.state == ComponentState::Stopped).map(|c| c.name).collect();
    if stopped.is_empty() {
        HttpResponse::Ok().content_type("text/plain").body("ok\n")
    } else {
        HttpResponse::ServiceUnavailable().content_type("text/plain").body(format!("stopped: {}\n", stopped.join(", ")))
    }
}

/// 200 when the link to the portal is online and the queue can write (jobs can flow);
/// else 503 with the reason (`storage_unavailable: …` when the storage path failed a write).
pub async fn readyz(state: Data<UiState>) -> HttpResponse {
    if let Some(why) = state.board.storage_problem() {
        return HttpResponse::ServiceUnavailable()
            .content_type("text/plain")
            .body(format!("not ready: storage_unavailable {why}\n"));
    }
    let link = state.link.borrow().clone();
    if link.connection == Connection::Online {
        HttpResponse::Ok().content_type("text/plain").body("ready\n")
    } else {
        let why = link.reason.unwrap_or_default();
        HttpResponse::ServiceUnavailable()
            .content_type("text/plain")
            .body(format!("not ready: {} {why}\n", link.connection.as_str()))
    }
}

/// Server-sent events: each new (redacted) log line as `data: <json>`.
pub async fn tail(req: HttpRequest, state: Data<UiState>) -> HttpResponse {
    if let Some(d) = deny(&req, &state) {
        return d;
    }
    let rx = state.tap.tx.subscribe();
    let stream = futures_util::stream::unfold(rx, |mut rx| async move {
        loop {
            match rx.recv().await {
                Ok(line) => {
                    let json = serde_json::to_string(&line).unwrap_or_default();
                    return Some((Ok::<_, actix_web::Error>(Bytes::from(format!("data: {json}\n\n"))), rx));
                }
                Err(RecvError::Lagged(_)) => continue,
                Err(RecvError::Closed) => return None,
            }
        }
    });
    HttpResponse::Ok()
        .content_type("text/event-stream")
        .insert_header((header::CACHE_CONTROL, "no-cache"))
        .streaming(stream)
}
