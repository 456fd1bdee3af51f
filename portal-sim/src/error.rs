//! The simulator's one typed error for HTTP answers: each variant is one status code and
//! one protocol error code, rendered as `{"error": {"code", "message"}}` (PROTOCOL.md §1).

use actix_web::http::{header, StatusCode};
use actix_web::{HttpResponse, ResponseError};
use serde_json::json;

/// Why a request was refused. The message is for humans and logs; the code is stable.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// 400: malformed body or query, or a protocol rule the request breaks (e.g. a seq gap).
    #[error("{0}")]
    BadRequest(String),
    /// 401: token missing, wrong or revoked, or a connector id this server does not know.
    #[error("{0}")]
    Unauthorized(String),
    /// 403: the connector was archived.
    #[error("{0}")]
    Forbidden(String),
    /// 404: unknown or cancelled job, unknown log request or connector.
    #[error("{0}")]
    NotFound(String),
    /// 409: the job belongs to another connector, or a different result was already kept.
    #[error("{0}")]
    Conflict(String),
    /// 413: body over the configured limit, or more than 1,000 records in one batch.
    #[error("{0}")]
    TooLarge(String),
    /// 500: the simulator itself failed (e.g. writing an upload to disk).
    #[error("{0}")]
    Internal(String),
    /// A status injected by `POST /admin/faults`, optionally with `Retry-After`.
    #[error("injected fault: {status}")]
    Injected { status: StatusCode, retry_after_s: Option<u64>, location: Option<String> },
}

impl ApiError {
    /// The stable machine-readable code of the error body.
    pub fn code(&self) -> &'static str {
        match self {
            ApiError::BadRequest(_) => "bad_request",
            ApiError::Unauthorized(_) => "unauthorized",
            ApiError::Forbidden(_) => "archived",
            ApiError::NotFound(_) => "not_found",
            ApiError::Conflict(_) => "conflict",
            ApiError::TooLarge(_) => "payload_too_large",
            ApiError::Internal(_) => "internal",
            ApiError::Injected { .. } => "injected_fault",
        }
    }
}

impl ResponseError for ApiError {
    fn status_code(&self) -> StatusCode {
        match self {
            ApiError::BadRequest(_) => StatusCode::BAD_REQUEST,
            ApiError::Unauthorized(_) => StatusCode::UNAUTHORIZED,
            ApiError::Forbidden(_) => StatusCode::FORBIDDEN,
            ApiError::NotFound(_) => StatusCode::NOT_FOUND,
            ApiError::Conflict(_) => StatusCode::CONFLICT,
            ApiError::TooLarge(_) => StatusCode::PAYLOAD_TOO_LARGE,
            ApiError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
            ApiError::Injected { status, .. } => *status,
        }
    }

    fn error_response(&self) -> HttpResponse {
        let mut builder = HttpResponse::build(self.status_code());
        if let ApiError::Injected { retry_after_s: Some(secs), .. } = self {
            builder.insert_header((header::RETRY_AFTER, secs.to_string()));
        }
        if let ApiError::Injected { location: Some(to), .. } = self {
            builder.insert_header((header::LOCATION, to.as_str()));
        }
        builder.json(json!({"error": {"code": self.code(), "message": self.to_string()}}))
    }
}
