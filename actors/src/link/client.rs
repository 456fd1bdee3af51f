//! The HTTP client of the portal: reqwest over rustls (system roots plus `ca_file`),
//! the Basic token and connector id on every request, and the one table that turns
//! each answer into a [`LinkError`] the link actors act on (PROTOCOL.md §1).

use std::time::Duration;

use reqwest::{header, Method, StatusCode};
use serde::de::DeserializeOwned;
use serde_json::Value;

use super::errors::{classify_transport, LinkError};
use super::settings::LinkSettings;
use crate::protocol::wire::ErrorBody;

/// Largest response body read from the server; more is a broken or hostile server.
const MAX_RESPONSE_BYTES: usize = 16 << 20;

/// Cheap to clone (one connection pool inside); immutable after construction.
#[derive(Clone)]
pub struct PortalClient {
    http: reqwest::Client,
    base: String,
    token: crate::secret::Secret,
    /// Counts failed requests by kind for `/metrics`.
    metrics: Option<crate::metrics::Metrics>,
}

impl std::fmt::Debug for PortalClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PortalClient").field("base", &self.base).finish()
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ClientBuildError {
    #[error("server.ca_file holds no usable certificate: {0}")]
    Ca(String),
    #[error("server.proxy is not usable: {0}")]
    Proxy(String),
    #[error("cannot build the HTTPS client: {0}")]
    Build(String),
}

/// An answer with a 2xx status: its body, parsed lazily.
#[derive(Debug)]
pub struct Answer {
    pub status: StatusCode,
    pub body: Vec<u8>,
    /// The `Date` header (unix ms), when the server sent a readable one.
    pub date_ms: Option<u64>,
}

impl Answer {
    pub fn json<T: DeserializeOwned>(&self) -> Result<T, LinkError> {
        serde_json::from_slice(&self.body)
            .map_err(|e| LinkError::BadResponse(format!("unreadable JSON from the server: {e}")))
    }
}

impl PortalClient {
    pub fn new(settings: &LinkSettings) -> Result<PortalClient, ClientBuildError> {
        let mut builder = reqwest::Client::builder()
            .connect_timeout(settings.connect_timeout)
            .timeout(settings.request_timeout)
            .user_agent(concat!("integration-connector/", env!("CARGO_PKG_VERSION")))
            .tcp_nodelay(true)
            // Redirects are errors, never followed (see `LinkError::Redirected`).
            .redirect(reqwest::redirect::Policy::none())
            .pool_idle_timeout(Duration::from_secs(50));
        if let Some(pem) = &settings.extra_ca_pem {
            let certs = reqwest::Certificate::from_pem_bundle(pem).map_err(|e| ClientBuildError::Ca(e.to_string()))?;
            builder = builder.tls_certs_merge(certs);
        }
        if let Some(proxy) = &settings.proxy {
            let p = reqwest::Proxy::all(proxy).map_err(|e| ClientBuildError::Proxy(e.to_string()))?;
            builder = builder.proxy(p.no_proxy(reqwest::NoProxy::from_env()));
        }
        let http = builder.build().map_err(|e| ClientBuildError::Build(format!("{e:#}")))?;
        Ok(PortalClient { http, base: settings.base_url.clone(), token: settings.token.clone(), metrics: None })
    }

    /// Counts every failed request in `metrics` (by [`LinkError::state_name`] or status).
    pub fn with_metrics(mut self, metrics: crate::metrics::Metrics) -> Self {
        self.metrics = Some(metrics);
        self
    }

    /// Sends one request, counting a failure in the metrics.
    pub async fn call(
        &self,
        method: Method,
        path: &str,
        connector_id: Option<&str>,
        body: Option<RequestBody>,
        timeout: Option<Duration>,
    ) -> Result<Answer, LinkError> {
        let out = self.call_uncounted(method, path, connector_id, body, timeout).await;
        if let (Err(e), Some(m)) = (&out, &self.metrics) {
            m.http_error(&e.metric_kind());
        }
        out
    }

    pub fn base_url(&self) -> &str {
        &self.base
    }

    /// Sends one request; 2xx comes back as an [`Answer`], everything else as a typed error.
    /// `timeout` overrides the request timeout (long polls wait longer than it).
    async fn call_uncounted(
        &self,
        method: Method,
        path: &str,
        connector_id: Option<&str>,
        body: Option<RequestBody>,
        timeout: Option<Duration>,
    ) -> Result<Answer, LinkError> {
        let mut req = self
            .http
            .request(method, format!("{}{}", self.base, path))
            .header(header::AUTHORIZATION, format!("Basic {}", self.token.expose()));
        if let Some(id) = connector_id {
            req = req.header("X-Connector-Id", id);
        }
        if let Some(t) = timeout {
            req = req.timeout(t);
        }
        req = match body {
            Some(RequestBody::Json(v)) => req.header(header::CONTENT_TYPE, "application/json").body(v.to_string()),
            Some(RequestBody::RawJson(bytes)) => req.header(header::CONTENT_TYPE, "application/json").body(bytes),
            Some(RequestBody::Zip(bytes)) => req.header(header::CONTENT_TYPE, "application/zip").body(bytes),
            Some(RequestBody::ZipFile { file, len }) => req
                .header(header::CONTENT_TYPE, "application/zip")
                .header(header::CONTENT_LENGTH, len)
                .body(reqwest::Body::from(file)),
            None => req,
        };
        let resp = req.send().await.map_err(|e| classify_transport(&e))?;
        let status = resp.status();
        let header_text = |name| resp.headers().get(name).and_then(|v: &header::HeaderValue| v.to_str().ok());
        let retry_after = header_text(header::RETRY_AFTER).and_then(crate::protocol::bounds::retry_after);
        let date = header_text(header::DATE).and_then(httpdate_ms);
        if status.is_redirection() {
            let location = header_text(header::LOCATION).unwrap_or("(no Location header)");
            let location: String = location.chars().take(512).collect();
            return Err(LinkError::Redirected { status: status.as_u16(), location });
        }
        let body = read_capped(resp).await?;
        if status.is_success() {
            return Ok(Answer { status, body, date_ms: date });
        }
        let detail = serde_json::from_slice::<ErrorBody>(&body)
            .map(|b| format!("{}: {}", b.error.code, b.error.message))
            .unwrap_or_else(|_| String::from_utf8_lossy(&body[..body.len().min(512)]).into_owned());
        Err(LinkError::from_status(status, retry_after, detail))
    }
}

pub enum RequestBody {
    Json(Value),
    /// JSON already serialized (outbox parcels).
    RawJson(Vec<u8>),
    Zip(Vec<u8>),
    /// A ZIP streamed from a file (a log bundle) of `len` bytes, never read into memory.
    ZipFile {
        file: tokio::fs::File,
        len: u64,
    },
}

/// An HTTP-date (RFC 9110 §5.6.7, e.g. `Sun, 06 Nov 1994 08:49:37 GMT`) as unix ms;
/// `None` for anything else (parsed by the `httpdate` crate).
pub fn httpdate_ms(text: &str) -> Option<u64> {
    httpdate::parse_http_date(text.trim()).ok().map(crate::time::unix_ms)
}

async fn read_capped(mut resp: reqwest::Response) -> Result<Vec<u8>, LinkError> {
    let mut out = Vec::new();
    while let Some(chunk) = resp.chunk().await.map_err(|e| classify_transport(&e))? {
        if out.len() + chunk.len() > MAX_RESPONSE_BYTES {
            return Err(LinkError::BadResponse(format!("response larger than {MAX_RESPONSE_BYTES} bytes")));
        }
        out.extend_from_slice(&chunk);
    }
    Ok(out)
}
