//! The frame every connector request runs in: faults first, then the token and
//! connector checks, then the handler's work, then (if a fault says so) the connection is
//! dropped unanswered even though the work was done.

use std::future::Future;

use actix_web::http::header::{AsHeaderName, AUTHORIZATION};
use actix_web::{HttpRequest, HttpResponse, ResponseError};

use crate::error::ApiError;
use crate::faults::{dropped_response, Route};
use crate::state::{Identity, Sim};

fn header(req: &HttpRequest, name: impl AsHeaderName) -> Option<&str> {
    req.headers().get(name).and_then(|v| v.to_str().ok())
}

/// Run one connector request: faults, auth, `work`, and the drop-after-process fault.
pub async fn serve<F, Fut>(sim: &Sim, req: &HttpRequest, route: Route, identity: Identity, work: F) -> HttpResponse
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
    let caller = sim.lock().authorize(header(req, AUTHORIZATION), header(req, "x-connector-id"), identity);
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
pub fn required(caller: Option<String>) -> Result<String, ApiError> {
    caller.ok_or_else(|| ApiError::Internal("no connector id after authorization".to_owned()))
}

pub fn body_limit(sim: &Sim) -> usize {
    sim.lock().config.max_body_bytes
}
