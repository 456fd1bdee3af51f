//! The clock offset, its uncertainty and the warning line.

use super::*;

#[test]
fn the_offset_is_taken_at_the_middle_of_the_round_trip() {
    assert_eq!(offset_ms(10_000, 1_000, 3_000), Some(8_000));
    assert_eq!(offset_ms(1_000, 30_000, 32_000), Some(-30_000));
    assert_eq!(offset_ms(0, 1_795_000_000_000, 1_795_000_000_000), None, "1970: refused");
    assert_eq!(offset_ms(u64::MAX, 0, 0), None);
}

#[test]
fn the_uncertainty_is_half_the_trip_plus_the_timestamps_resolution() {
    let watch = Stopwatch { sent_ms: now_ms() };
    let r = watch.reading(Some(&crate::time::rfc3339(now_ms())), None).unwrap();
    assert!(r.offset_ms.abs() < 1_000 && (1..1_000).contains(&r.uncertainty_ms), "{r:?}");
    let r = watch.reading(None, Some(now_ms())).unwrap();
    assert!(r.uncertainty_ms >= 1_000, "a Date header has whole seconds: {r:?}");
    assert_eq!(watch.reading(Some("not a time"), None), None);
}

#[test]
fn thirty_seconds_is_the_warning_line() {
    assert!(!offset_is_large(30_000) && !offset_is_large(-30_000));
    assert!(offset_is_large(30_001) && offset_is_large(-31_000));
    assert!(describe(-31_000).contains("31 s ahead of the portal's"));
    assert!(describe(45_000).contains("45 s behind"));
    assert_eq!(describe(1_400), "+1 s (portal minus this machine)");
    assert_eq!((offset_s(-1_600), offset_s(-1_400)), (-2, -1));
}
