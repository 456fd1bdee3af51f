//! Taking offered jobs in: each parsed and stored durably (PROTOCOL.md §2.3), then
//! acknowledged (§2.4). The poller runs these; the courier shares [`encode_segment`].

use actix::Addr;
use reqwest::Method;
use serde_json::Value;

use super::client::{PortalClient, RequestBody};
use super::clock::ClockReading;
use super::errors::LinkError;
use crate::protocol::Envelope;
use crate::queue::{AcceptJobs, Accepted, DropJob, JobState, MarkAcknowledged, QueueActor};
use crate::time::now_ms;

/// Parses and stores offered jobs; `None` when the queue failed (nothing acknowledged).
/// The measured `clock` (server minus local; none measured: taken as 0) puts the jobs'
/// times on the local clock, and its bound goes with them (a login's age is judged on it).
pub(super) async fn store(
    queue: &Addr<QueueActor>,
    jobs: Vec<Value>,
    clock: Option<ClockReading>,
) -> Option<Vec<(String, Accepted)>> {
    let clock_offset_ms = clock.map_or(0, |c| c.offset_ms);
    let server_now = now_ms().saturating_add_signed(clock_offset_ms);
    let mut envelopes = Vec::new();
    for raw in &jobs {
        match Envelope::parse(raw, server_now) {
            Ok(mut env) => {
                env.to_local_clock(clock_offset_ms);
                env.bound_local_clock(clock.map(|c| c.uncertainty_ms));
                if let Some(e) = &env.invalid {
                    tracing::warn!(job_id = %env.id, error = %e.message, "invalid job; it will fail with invalid_job");
                }
                envelopes.push(env);
            }
            Err(rejected) => {
                tracing::error!(reason = %rejected.reason, "server sent a job that cannot be acknowledged (bug in the server); skipped")
            }
        }
    }
    match queue.send(AcceptJobs { jobs: envelopes }).await {
        Ok(Ok(accepted)) => Some(accepted),
        Ok(Err(e)) => {
            tracing::error!(error = %e, "cannot store offered jobs; they are not acknowledged");
            None
        }
        Err(e) => {
            tracing::error!(error = %e, "queue unreachable");
            None
        }
    }
    .inspect(|list| {
        for (id, a) in list {
            if let Accepted::Known(state) = a {
                if *state != JobState::Received {
                    tracing::info!(job_id = %id, state = state.as_str(), "job offered again; acknowledging without running it again");
                }
            }
        }
    })
}

/// Acknowledges stored jobs, [`ACKS_IN_FLIGHT`] at a time. A transient error is
/// returned after the others finished; jobs it hit stay `received` and are
/// acknowledged again on the next round.
pub(super) async fn acknowledge(
    client: &PortalClient,
    queue: &Addr<QueueActor>,
    connector: &str,
    ids: Vec<String>,
) -> Result<(), LinkError> {
    use futures_util::stream::{self, StreamExt};
    let outcomes: Vec<Result<(), LinkError>> = stream::iter(ids)
        .map(|id| acknowledge_one(client, queue, connector, id))
        .buffer_unordered(ACKS_IN_FLIGHT)
        .collect()
        .await;
    outcomes.into_iter().collect()
}

/// Every ack of one poll at once (a poll brings at most 32 jobs, `poller.rs`): an ack is
/// a round trip on a kept-alive connection of the client's pool, and the next poll waits
/// for the last of them, so a second wave of 16 cost a whole extra round trip per poll.
pub(super) const ACKS_IN_FLIGHT: usize = 32;

async fn acknowledge_one(
    client: &PortalClient,
    queue: &Addr<QueueActor>,
    connector: &str,
    id: String,
) -> Result<(), LinkError> {
    let path = format!("/jobs/{}/ack", encode_segment(&id));
    let body = Some(RequestBody::Json(Value::Object(Default::default())));
    match client.call(Method::POST, &path, Some(connector), body, None).await {
        Ok(_) => {
            let _ = queue.send(MarkAcknowledged { id }).await;
            Ok(())
        }
        Err(LinkError::NotFound(_)) | Err(LinkError::Conflict(_)) => {
            tracing::info!(job_id = %id, "the server took the job back (ack 404/409); dropped without running");
            let _ = queue.send(DropJob { id }).await;
            Ok(())
        }
        Err(LinkError::BadRequest(body)) => {
            tracing::error!(job_id = %id, body = %body, "server refused our ack as malformed (bug); not retried this round");
            Ok(())
        }
        Err(e) => Err(e),
    }
}

/// Percent-encodes a job id for use as one path segment.
pub fn encode_segment(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}
