//! Fault injection for the connector API, set at run time by `POST /admin/faults`:
//! added latency, an injected status (with `Retry-After`), and dropping the connection
//! after the request was fully processed.
//!
//! How the drop works: the handler returns a 200 whose streaming body fails on its first
//! poll. actix-http's HTTP/1 dispatcher encodes the response head into its write buffer,
//! polls the body in the same turn, and on the body error returns the error before it
//! flushes that buffer; the connection is then closed with nothing written. The client
//! sees the connection closed before any response (hyper: "connection closed before
//! message completed"; over TLS an unexpected EOF). The server speaks only HTTP/1.1
//! (actix-web is built without `http2`, so ALPN offers only `http/1.1`).

use std::time::Duration;

use actix_web::http::StatusCode;
use actix_web::web::Bytes;
use actix_web::HttpResponse;
use rand::Rng;
use serde::{Deserialize, Serialize};

use crate::error::ApiError;

/// The connector endpoints a fault can be limited to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Route {
    Register,
    Heartbeat,
    Jobs,
    Ack,
    Result,
    Records,
    /// Log uploads and log streams.
    Logs,
}

/// The admin's fault setting; every field absent means that fault is off.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct FaultSpec {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub latency_ms: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status: Option<u16>,
    /// Chance of the injected status per matching request; 1.0 when `status` is set alone.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status_rate: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub retry_after_s: Option<u64>,
    /// The `Location` of an injected 3xx `status` (required with one): a portal behind a
    /// misconfigured proxy or load balancer that redirects API calls.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub location: Option<String>,
    /// Answer every poll after this many seconds, whatever its `wait` (0: at once, as a
    /// broken server that ignores `wait` does).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub poll_wait_s: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub drop_after_process_rate: Option<f64>,
    /// The endpoints faults apply to; all when absent.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub paths: Option<Vec<Route>>,
    /// Lease for newly offered jobs, instead of each job's own.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub lease_s: Option<u64>,
    /// Apply to at most this many more matching requests, then switch everything off.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub count: Option<u64>,
}

impl FaultSpec {
    /// Refuse settings that cannot mean anything.
    pub fn validate(&self) -> Result<(), ApiError> {
        if let Some(status) = self.status {
            let redirect = (300..=399).contains(&status);
            if StatusCode::from_u16(status).map_or(true, |s| !(300..=599).contains(&s.as_u16())) {
                return Err(ApiError::BadRequest(format!("status {status} is not a 3xx, 4xx or 5xx code")));
            }
            if redirect != self.location.is_some() {
                return Err(ApiError::BadRequest("`location` goes with a 3xx status, and only with one".to_owned()));
            }
        }
        for (name, rate) in
            [("status_rate", self.status_rate), ("drop_after_process_rate", self.drop_after_process_rate)]
        {
            if rate.is_some_and(|r| !(0.0..=1.0).contains(&r)) {
                return Err(ApiError::BadRequest(format!("{name} must be within 0..1")));
            }
        }
        Ok(())
    }
}

/// What to do to one request.
#[derive(Debug, Default)]
pub struct Decision {
    pub latency: Option<Duration>,
    /// Answer with this error instead of processing the request.
    pub reject: Option<ApiError>,
    /// Process the request, then drop the connection without an answer.
    pub drop_after: bool,
}

/// The fault setting in force.
#[derive(Debug, Default)]
pub struct Faults {
    spec: Option<FaultSpec>,
}

impl Faults {
    /// Replace the setting; an empty one, or `count: 0`, switches faults off.
    pub fn set(&mut self, spec: FaultSpec) {
        let off = spec == FaultSpec::default() || spec.count == Some(0);
        self.spec = (!off).then_some(spec);
    }

    pub fn clear(&mut self) {
        self.spec = None;
    }

    pub fn current(&self) -> FaultSpec {
        self.spec.clone().unwrap_or_default()
    }

    /// The `wait` override of polls (see [`FaultSpec::poll_wait_s`]).
    pub fn poll_wait_s(&self) -> Option<u64> {
        self.spec.as_ref().and_then(|s| s.poll_wait_s)
    }

    /// The lease override for newly offered jobs.
    pub fn lease_override(&self) -> Option<u64> {
        self.spec.as_ref().and_then(|s| s.lease_s)
    }

    /// Decide the faults for one request on `route`, counting it against `count`.
    pub fn decide(&mut self, route: Route) -> Decision {
        let Some(spec) = self.spec.as_mut() else {
            return Decision::default();
        };
        if spec.paths.as_ref().is_some_and(|p| !p.contains(&route)) {
            return Decision::default();
        }
        let mut rng = rand::thread_rng();
        let mut chance = |rate: f64| rate >= 1.0 || rng.gen::<f64>() < rate;
        let reject = spec
            .status
            .and_then(|code| StatusCode::from_u16(code).ok())
            .filter(|_| chance(spec.status_rate.unwrap_or(1.0)))
            .map(|status| ApiError::Injected {
                status,
                retry_after_s: spec.retry_after_s,
                location: spec.location.clone(),
            });
        let drop_after = spec.drop_after_process_rate.is_some_and(&mut chance);
        let decision = Decision { latency: spec.latency_ms.map(Duration::from_millis), reject, drop_after };
        if let Some(count) = spec.count.as_mut() {
            *count = count.saturating_sub(1);
            if *count == 0 {
                self.spec = None;
            }
        }
        decision
    }
}

/// The error of the body stream that makes actix close the connection unanswered.
#[derive(Debug, thiserror::Error)]
#[error("connection dropped by fault injection")]
pub struct DropConnection;

/// A response that closes the connection before anything is written (see module doc).
pub fn dropped_response() -> HttpResponse {
    let body = futures_util::stream::once(async { Err::<Bytes, _>(DropConnection) });
    HttpResponse::Ok().streaming(body)
}

#[cfg(test)]
mod tests {
    use super::{FaultSpec, Faults, Route};

    #[test]
    fn paths_filter_and_count_switches_off() {
        let mut faults = Faults::default();
        faults.set(FaultSpec {
            status: Some(503),
            retry_after_s: Some(2),
            paths: Some(vec![Route::Ack]),
            lease_s: Some(3),
            count: Some(2),
            ..FaultSpec::default()
        });
        assert!(faults.decide(Route::Result).reject.is_none(), "other path untouched");
        assert_eq!(faults.lease_override(), Some(3));
        assert!(faults.decide(Route::Ack).reject.is_some());
        assert!(faults.decide(Route::Ack).reject.is_some());
        assert!(faults.decide(Route::Ack).reject.is_none(), "count used up");
        assert_eq!(faults.current(), FaultSpec::default());
    }

    #[test]
    fn rates_and_statuses_are_validated() {
        let bad_rate = FaultSpec { drop_after_process_rate: Some(1.5), ..FaultSpec::default() };
        assert!(bad_rate.validate().is_err());
        let bad_status = FaultSpec { status: Some(200), ..FaultSpec::default() };
        assert!(bad_status.validate().is_err());
        let mut faults = Faults::default();
        faults.set(FaultSpec { drop_after_process_rate: Some(1.0), ..FaultSpec::default() });
        assert!(faults.decide(Route::Register).drop_after);
    }

    #[test]
    fn a_redirect_needs_its_location_and_carries_it() {
        let bare = FaultSpec { status: Some(302), ..FaultSpec::default() };
        assert!(bare.validate().is_err(), "a 3xx without a location");
        let stray = FaultSpec { status: Some(503), location: Some("/x".into()), ..FaultSpec::default() };
        assert!(stray.validate().is_err(), "a location without a 3xx");
        let spec = FaultSpec { status: Some(302), location: Some("/elsewhere".into()), ..FaultSpec::default() };
        assert!(spec.validate().is_ok());
        let mut faults = Faults::default();
        faults.set(spec);
        let reject = faults.decide(Route::Result).reject.map(|e| actix_web::ResponseError::error_response(&e));
        let location = reject.as_ref().and_then(|r| r.headers().get("location")).and_then(|v| v.to_str().ok());
        assert_eq!(location, Some("/elsewhere"));
        assert_eq!(reject.map(|r| r.status().as_u16()), Some(302));
    }
}
