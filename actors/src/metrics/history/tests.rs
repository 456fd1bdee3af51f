use super::*;

const T0: u64 = 1_800_000_000_000 - 1_800_000_000_000 % MINUTE_MS;

#[test]
fn events_are_filed_per_minute_and_empty_minutes_are_kept() {
    let mut h = History::default();
    h.job(T0 + 1_000, Outcome::Succeeded, None);
    h.job(T0 + 2_000, Outcome::Failed, Some(4.0));
    h.link_error(T0 + 3 * MINUTE_MS + 5);
    let m = h.minutes(T0 + 3 * MINUTE_MS + 10);
    assert_eq!(m.len(), 4, "{m:?}");
    assert_eq!((m[0].succeeded, m[0].failed, m[0].logins), (1, 1, 1));
    assert_eq!((m[1].succeeded, m[2].link_errors, m[3].link_errors), (0, 0, 1));
    assert_eq!(m[3].start_ms, T0 + 3 * MINUTE_MS);
}

#[test]
fn the_ring_keeps_one_hour_even_after_a_long_silence() {
    let mut h = History::default();
    for i in 0..100 {
        h.job(T0 + i * MINUTE_MS, Outcome::Succeeded, None);
    }
    let m = h.minutes(T0 + 99 * MINUTE_MS);
    assert_eq!(m.len(), MINUTES);
    assert_eq!(m[0].start_ms, T0 + 40 * MINUTE_MS);
    // A day without events: the hour is empty minutes, not the day's.
    let m = h.minutes(T0 + 99 * MINUTE_MS + 86_400_000);
    assert_eq!(m.len(), MINUTES);
    assert!(m.iter().all(|x| x.succeeded == 0));
}

#[test]
fn login_percentiles_are_within_a_bucket_of_the_truth() {
    let mut h = History::default();
    for i in 1..=100 {
        h.job(T0, Outcome::Succeeded, Some(i as f64 / 10.0)); // 0.1 … 10.0 ms
    }
    let m = &h.minutes(T0)[0];
    let (p50, p99) = (m.login_p50_ms.unwrap(), m.login_p99_ms.unwrap());
    assert!((5.0..=6.25).contains(&p50), "p50 {p50}");
    assert!((9.9..=12.4).contains(&p99), "p99 {p99}");
    assert_eq!(h.minutes(T0 + MINUTE_MS)[1].login_p50_ms, None, "no login, no figure");
}

#[test]
fn samples_keep_the_worst_of_the_minute() {
    let mut h = History::default();
    let s = |q: u64, reach: u64, rtt: f64| Sample {
        queue: [q, 0, 2 * q],
        directories: 2,
        directories_reachable: reach,
        directory_rtt_ms: Some(rtt),
    };
    h.sample(T0, &s(3, 2, 1.5));
    h.sample(T0 + 10_000, &s(1, 1, 0.5));
    let m = &h.minutes(T0)[0];
    assert_eq!(m.queue, Some([3, 0, 6]));
    assert_eq!((m.directories_reachable, m.directories, m.directory_rtt_ms), (Some(1), Some(2), Some(1.5)));
}
