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

/// The resolution of an RFC 3339 timestamp, ms: 1,000 for whole seconds, 100 for one
/// fractional digit, down to 1 for three or more. A time written at a resolution may be
/// off by up to it (truncated or rounded).
pub fn resolution_ms(rfc3339: &str) -> u64 {
    let fraction = rfc3339.split_once('.').map_or(0, |(_, rest)| rest.chars().take_while(char::is_ascii_digit).count());
    10u64.pow(3u32.saturating_sub(fraction.min(3) as u32))
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

    #[test]
    fn resolution_follows_the_fraction() {
        assert_eq!(resolution_ms("2026-11-27T10:00:00Z"), 1_000);
        assert_eq!(resolution_ms("2026-11-27T10:00:00.5Z"), 100);
        assert_eq!(resolution_ms("2026-11-27T10:00:00.123Z"), 1);
        assert_eq!(resolution_ms("2026-11-27T10:00:00.123456789Z"), 1);
    }
}
