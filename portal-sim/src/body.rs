//! Reading request bodies with a size limit and parsing JSON into typed errors, so every
//! refusal carries the protocol's error body (actix's own extractors answer in plain text).

use actix_web::web::{self, Bytes, BytesMut};
use futures_util::StreamExt;
use serde::de::DeserializeOwned;

use crate::error::ApiError;

/// Past this many bytes an oversized body is no longer drained before the 413.
const DRAIN_CAP: usize = 256 * 1024 * 1024;

/// The whole body, or 413 once it passes `limit` bytes. An oversized body is read to its
/// end (up to `DRAIN_CAP`) so the client gets the 413 instead of a reset mid-upload.
pub async fn read_limited(mut payload: web::Payload, limit: usize) -> Result<Bytes, ApiError> {
    let mut buf = BytesMut::new();
    let mut total = 0usize;
    while let Some(chunk) = payload.next().await {
        let chunk = chunk.map_err(|e| ApiError::BadRequest(format!("reading the body: {e}")))?;
        total = total.saturating_add(chunk.len());
        if total <= limit {
            buf.extend_from_slice(&chunk);
        } else if total > DRAIN_CAP {
            break;
        }
    }
    if total > limit {
        return Err(ApiError::TooLarge(format!("body of {total} bytes or more is over the limit of {limit}")));
    }
    Ok(buf.freeze())
}

/// Parse a JSON body; unknown fields are ignored by the target types.
pub fn parse_json<T: DeserializeOwned>(body: &[u8]) -> Result<T, ApiError> {
    serde_json::from_slice(body).map_err(|e| ApiError::BadRequest(format!("invalid JSON body: {e}")))
}
