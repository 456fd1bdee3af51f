//! What went wrong talking to the portal, classified once (PROTOCOL.md §1), with the
//! plain-words line an administrator sees in logs, the UI and `check`.

use std::error::Error as _;
use std::time::Duration;

use reqwest::StatusCode;

use crate::errors::TlsProblem;

#[derive(Debug, Clone, thiserror::Error, PartialEq)]
pub enum LinkError {
    #[error("the server rejected the request as malformed (400): {0}")]
    BadRequest(String),
    #[error(
        "Invalid Basic Authorization token (401): copy it again from the Integration Connector Credential Profile"
    )]
    Unauthorized,
    #[error("this connector was archived or deleted in the portal (403): {0}")]
    Disabled(String),
    #[error("not found on the server (404): {0}")]
    NotFound(String),
    #[error("conflict (409): {0}")]
    Conflict(String),
    #[error("body too large for the server (413)")]
    TooLarge,
    #[error("the server is overloaded ({status}); retry after {retry_after:?}")]
    Overloaded { status: u16, retry_after: Option<Duration> },
    #[error("server error {0}: {1}")]
    Server(u16, String),
    /// Any 3xx. Never followed: a redirected POST becomes a GET, whose 2xx would count a
    /// result as delivered that the portal never got.
    #[error("the server answered {status} redirecting to {location}; the connector does not follow redirects (a result or batch would be lost): set server.protocol, server.host and server.port to the address the portal answers on itself")]
    Redirected { status: u16, location: String },
    #[error("TLS certificate of the server is not trusted: {0} (set server.ca_file to the CA that signed it, or fix the server's certificate)")]
    Certificate(String),
    #[error("TLS: the server's certificate is not valid for this host name: {0} (server.host must match a name in the certificate)")]
    HostName(String),
    #[error(
        "cannot resolve the server's host name (DNS): {0} (check server.host and the DNS settings of this machine)"
    )]
    Dns(String),
    #[error(
        "connection refused by the server: {0} (is the portal reachable on this port? check server.port and firewalls)"
    )]
    Refused(String),
    #[error("the server did not answer in time: {0}")]
    Timeout(String),
    #[error("connection to the server failed: {0}")]
    Network(String),
    #[error("unexpected answer from the server: {0}")]
    BadResponse(String),
}

/// What the caller does next.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Recovery {
    /// Retry after backoff (or at least `Retry-After`).
    Transient,
    /// Register again (401).
    Reauthenticate,
    /// Stop taking jobs; keep heartbeating slowly (403).
    Disabled,
    /// The server will never take this body (400), or the thing is gone (404/409).
    GiveUp,
}

impl LinkError {
    pub fn from_status(status: StatusCode, retry_after: Option<Duration>, detail: String) -> LinkError {
        match status.as_u16() {
            400 => LinkError::BadRequest(detail),
            401 => LinkError::Unauthorized,
            403 => LinkError::Disabled(detail),
            404 => LinkError::NotFound(detail),
            409 => LinkError::Conflict(detail),
            413 => LinkError::TooLarge,
            429 | 503 => LinkError::Overloaded { status: status.as_u16(), retry_after },
            code => LinkError::Server(code, detail),
        }
    }

    /// The one table from error to behaviour, with the reason.
    pub fn recovery(&self) -> Recovery {
        match self {
            // "do not retry the same body"
            LinkError::BadRequest(_) => Recovery::GiveUp,
            LinkError::Unauthorized => Recovery::Reauthenticate,
            LinkError::Disabled(_) => Recovery::Disabled,
            // The job or request no longer exists, or belongs to someone else now.
            LinkError::NotFound(_) | LinkError::Conflict(_) => Recovery::GiveUp,
            // The caller splits or trims and sends again.
            LinkError::TooLarge => Recovery::GiveUp,
            // Not delivered: kept and retried until an administrator fixes the URL (or the
            // server stops redirecting).
            LinkError::Redirected { .. } => Recovery::Transient,
            // Certificates and DNS get fixed by an administrator while we keep trying.
            _ => Recovery::Transient,
        }
    }

    pub fn retry_after(&self) -> Option<Duration> {
        match self {
            LinkError::Overloaded { retry_after, .. } => *retry_after,
            _ => None,
        }
    }

    /// The label of this failure in `/metrics`: the HTTP status, or the transport class.
    pub fn metric_kind(&self) -> String {
        match self {
            LinkError::BadRequest(_) => "400".into(),
            LinkError::Unauthorized => "401".into(),
            LinkError::Disabled(_) => "403".into(),
            LinkError::NotFound(_) => "404".into(),
            LinkError::Conflict(_) => "409".into(),
            LinkError::TooLarge => "413".into(),
            LinkError::Overloaded { status, .. }
            | LinkError::Server(status, _)
            | LinkError::Redirected { status, .. } => status.to_string(),
            LinkError::Timeout(_) => "timeout".into(),
            LinkError::BadResponse(_) => "bad_response".into(),
            other => other.state_name().into(),
        }
    }

    /// A short state name for the UI and heartbeat detail.
    pub fn state_name(&self) -> &'static str {
        match self {
            LinkError::Unauthorized => "unauthorized",
            LinkError::Disabled(_) => "disabled",
            LinkError::Certificate(_) | LinkError::HostName(_) => "tls_error",
            LinkError::Dns(_) => "dns_error",
            LinkError::Refused(_) | LinkError::Network(_) | LinkError::Timeout(_) => "unreachable",
            _ => "server_error",
        }
    }
}

/// Turns a transport failure into the distinct cases an administrator can fix.
pub fn classify_transport(e: &reqwest::Error) -> LinkError {
    let chain = error_chain(e);
    let lower = chain.to_lowercase();
    if e.is_timeout() {
        LinkError::Timeout(chain)
    } else if let Some(problem) = TlsProblem::classify(&chain) {
        match problem {
            TlsProblem::HostName => LinkError::HostName(chain),
            TlsProblem::Untrusted => LinkError::Certificate(chain),
        }
    } else if lower.contains("dns error")
        || lower.contains("failed to lookup")
        || lower.contains("name or service not known")
    {
        LinkError::Dns(chain)
    } else if lower.contains("connection refused") {
        LinkError::Refused(chain)
    } else {
        LinkError::Network(chain)
    }
}

fn error_chain(e: &reqwest::Error) -> String {
    let mut parts = vec![e.to_string()];
    let mut source = e.source();
    while let Some(s) = source {
        let text = s.to_string();
        if !parts.iter().any(|p| p.contains(&text)) {
            parts.push(text);
        }
        source = s.source();
    }
    parts.join(": ")
}

/// Exponential backoff with full jitter (PROTOCOL.md §1): base 1 s, cap `cap`.
pub fn backoff(attempt: u32, cap: Duration) -> Duration {
    use rand::Rng;
    let ceiling = Duration::from_secs(1).saturating_mul(1u32 << attempt.min(16)).min(cap);
    let ms = rand::thread_rng().gen_range(0..=ceiling.as_millis() as u64);
    Duration::from_millis(ms)
}

/// How long to wait before retrying after `err`: at least `Retry-After` when given.
pub fn wait_before_retry(err: &LinkError, attempt: u32) -> Duration {
    let b = backoff(attempt, Duration::from_secs(60));
    match err.retry_after() {
        Some(ra) => ra.max(b.min(Duration::from_secs(1))),
        None => b,
    }
}

#[cfg(test)]
mod tests;
