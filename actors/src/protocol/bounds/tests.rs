use super::*;

#[test]
fn retry_after_is_capped_at_ten_minutes_and_other_text_is_ignored() {
    assert_eq!(retry_after("7"), Some(Duration::from_secs(7)));
    assert_eq!(retry_after(" 0 "), Some(Duration::ZERO));
    assert_eq!(retry_after("1000000000000"), Some(Duration::from_secs(600)));
    assert_eq!(retry_after("18446744073709551615"), Some(Duration::from_secs(600)));
    assert_eq!(retry_after("-5"), None);
    // An HTTP-date already past: retry now.
    assert_eq!(retry_after("Wed, 21 Oct 2026 07:28:00 GMT"), Some(Duration::ZERO));
    assert_eq!(retry_after("soon"), None);
    assert_eq!(retry_after("99999999999999999999999"), None);
}

#[test]
fn heartbeat_interval_is_between_one_second_and_one_hour() {
    assert_eq!(HEARTBEAT_INTERVAL_S.clamp(0), 1);
    assert_eq!(HEARTBEAT_INTERVAL_S.clamp(30), 30);
    assert_eq!(HEARTBEAT_INTERVAL_S.clamp(1_000_000_000), 3600);
    assert_eq!(HEARTBEAT_INTERVAL_S.clamp(u64::MAX), 3600);
}

#[test]
fn poll_timeout_is_between_one_second_and_five_minutes() {
    assert_eq!(POLL_TIMEOUT_S.clamp(0), 1);
    assert_eq!(POLL_TIMEOUT_S.clamp(25), 25);
    assert_eq!(POLL_TIMEOUT_S.clamp(u64::MAX), 300);
}

#[test]
fn lease_attempt_and_stream_duration_are_clamped() {
    assert_eq!((LEASE_S.clamp(0), LEASE_S.clamp(60), LEASE_S.clamp(u64::MAX)), (1, 60, 86_400));
    assert_eq!((ATTEMPT.clamp(0), ATTEMPT.clamp(3), ATTEMPT.clamp(u64::MAX)), (1, 3, 1_000_000));
    assert_eq!((STREAM_DURATION_S.clamp(0), STREAM_DURATION_S.clamp(u64::MAX)), (1, 86_400));
}

#[test]
fn timestamps_outside_a_year_of_the_server_now_are_implausible() {
    let now = 1_795_000_000_000; // 2026
    assert!(plausible_time(now, now));
    assert!(plausible_time(now - 30 * 24 * 3_600_000, now));
    assert!(!plausible_time(0, now), "1970");
    assert!(!plausible_time(253_402_300_799_000, now), "9999");
    assert!(!plausible_time(u64::MAX, now));
}

#[test]
fn deadlines_are_kept_at_most_thirty_days_ahead() {
    let now = 1_795_000_000_000;
    let month = 30 * 24 * 3_600_000;
    assert_eq!(deadline_within_horizon(now + 1000, now), now + 1000);
    assert_eq!(deadline_within_horizon(253_402_300_799_000, now), now + month);
    assert_eq!(deadline_within_horizon(u64::MAX, u64::MAX - 5), u64::MAX);
}

#[test]
fn a_heartbeat_answer_is_read_for_256_commands_at_most() {
    let many = vec![0u8; 1_000_000];
    let (now, later) = commands_to_read(&many);
    assert_eq!((now.len(), later), (256, 999_744));
    let (now, later) = commands_to_read(&many[..3]);
    assert_eq!((now.len(), later), (3, 0));
}

#[test]
fn no_more_jobs_are_taken_than_asked_for() {
    let mut jobs: Vec<u32> = (0..10_000).collect();
    assert_eq!(jobs_to_take(&mut jobs, 32), 9_968);
    assert_eq!(jobs, (0..32).collect::<Vec<_>>());
    assert_eq!(jobs_to_take(&mut jobs, u64::MAX), 0);
    assert_eq!(jobs.len(), 32);
}

/// Review of issue #14: RFC 9110 §10.2.3 allows `Retry-After` as an HTTP-date, and load
/// balancers and proxies in front of a portal send one with their 503. It is ignored, so
/// the connector retries after the plain backoff (0 to 2 s on the first failure) instead
/// of waiting at least until the date the server named (PROTOCOL.md §1 "wait at least
/// Retry-After"). The client already reads IMF-fixdate (`httpdate_ms`, for `Date`).
#[test]
fn retry_after_as_an_http_date_waits_until_that_date() {
    let at_ms = crate::time::now_ms() + 120_000;
    let iso = crate::time::rfc3339(at_ms); // 2026-12-01T00:10:00Z (maybe with .mmm)
    let days = at_ms / 86_400_000;
    let weekday = ["Thu", "Fri", "Sat", "Sun", "Mon", "Tue", "Wed"][(days % 7) as usize];
    let months = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];
    let month = months[iso[5..7].parse::<usize>().unwrap() - 1];
    let date = format!("{weekday}, {} {month} {} {} GMT", &iso[8..10], &iso[0..4], &iso[11..19]);
    let wait = retry_after(&date).unwrap_or_else(|| panic!("Retry-After: {date} was ignored"));
    assert!(wait >= Duration::from_secs(115) && wait <= Duration::from_secs(121), "{date} → {wait:?}");
}
