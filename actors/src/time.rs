//! Wall-clock helpers: the protocol speaks RFC 3339 UTC, the store keeps unix milliseconds.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// Milliseconds since the unix epoch; 0 for times before it (never produced by a sane clock).
pub fn unix_ms(t: SystemTime) -> u64 {
    t.duration_since(UNIX_EPOCH).map(|d| d.as_millis() as u64).unwrap_or(0)
}

pub fn now_ms() -> u64 {
    unix_ms(SystemTime::now())
}

pub fn from_unix_ms(ms: u64) -> SystemTime {
    UNIX_EPOCH + Duration::from_millis(ms)
}

/// RFC 3339 in UTC with millisecond precision (job timings need better than seconds).
pub fn rfc3339(ms: u64) -> String {
    humantime::format_rfc3339_millis(from_unix_ms(ms)).to_string()
}

/// Parses an RFC 3339 timestamp (UTC `Z` or an offset-free form) into unix milliseconds.
pub fn parse_rfc3339(s: &str) -> Option<u64> {
    humantime::parse_rfc3339_weak(s).ok().map(unix_ms)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_seconds() {
        let ms = 1_795_000_000_000;
        assert_eq!(parse_rfc3339(&rfc3339(ms)), Some(ms));
        assert_eq!(parse_rfc3339("not a time"), None);
    }
}
