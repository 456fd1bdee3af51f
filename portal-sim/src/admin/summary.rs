//! Admin overview endpoints: the summary of jobs and connectors, and the violations.

use std::time::Instant;

use actix_web::{web, HttpResponse};
use serde_json::{json, Value};

use crate::connectors::Connector;
use crate::jobs::JobState;
use crate::model::rfc3339;
use crate::state::{Sim, State};

/// One connector as the summary lists it.
pub fn connector_row(connector: &Connector, interval_s: u64, now: Instant) -> Value {
    let hb = connector.heartbeat.as_ref();
    json!({
        "connector_id": connector.id,
        "name": connector.name,
        "hostname": connector.hostname,
        "version": connector.version,
        "online": connector.online(interval_s, now),
        "archived": connector.archived,
        "last_heartbeat": hb.map(|h| rfc3339(h.at)),
        "status": hb.map(|h| h.status.as_str()),
        "queue": hb.map(|h| &h.queue),
    })
}

/// The summary body; also used by the HTML page.
pub fn summary_of(state: &mut State) -> Value {
    state.jobs.sweep(Instant::now());
    let mut counts = [0u64; 5];
    for job in state.jobs.iter() {
        let slot = match job.state {
            JobState::Queued => 0,
            JobState::Leased { .. } => 1,
            JobState::Acked { .. } => 2,
            JobState::Done { .. } => 3,
            JobState::Cancelled { .. } => 4,
        };
        counts[slot] += 1;
    }
    let now = Instant::now();
    let interval = state.config.heartbeat_interval_s;
    let connectors: Vec<Value> = state.connectors.iter().map(|c| connector_row(c, interval, now)).collect();
    json!({
        "jobs": {
            "total": state.jobs.len(),
            "queued": counts[0],
            "leased": counts[1],
            "acked": counts[2],
            "done": counts[3],
            "cancelled": counts[4],
        },
        "violations": state.violations.total(),
        "requests": state.requests,
        "polls": state.polls,
        "poll_max": state.asked,
        "connectors": connectors,
    })
}

/// `GET /admin/summary`.
pub async fn summary(sim: web::Data<Sim>) -> HttpResponse {
    let body = summary_of(&mut sim.lock());
    HttpResponse::Ok().json(body)
}

/// `GET /admin/violations` → `{"total", "items": [{"kind","job_id","detail","at"}]}`.
pub async fn violations(sim: web::Data<Sim>) -> HttpResponse {
    let state = sim.lock();
    let items: Vec<_> = state.violations.items().collect();
    HttpResponse::Ok().json(json!({ "total": state.violations.total(), "items": items }))
}
