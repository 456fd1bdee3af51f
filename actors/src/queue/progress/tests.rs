//! The estimate is durable (it survives a reopen, and a started import keeps the one it
//! journaled), and the figures shown are computed from what the queue holds.

use std::time::{Duration, Instant};

use super::*;
use crate::queue::QueueSettings;

fn open(dir: &std::path::Path) -> DurableQueue {
    let mut s = QueueSettings::new(dir.to_path_buf());
    s.cache_bytes = 8 << 20;
    DurableQueue::open(s).unwrap()
}

#[test]
fn a_scope_count_survives_a_reopen_and_a_started_import_keeps_the_count_it_began_with() {
    let dir = tempfile::tempdir().unwrap();
    {
        let mut q = open(dir.path());
        assert_eq!(q.expect_import("j-1", Some("scope-a")).unwrap(), None, "no earlier full import: no estimate");
        q.remember_scope_total("scope-a", 50_005).unwrap();
    }
    let mut q = open(dir.path());
    assert_eq!(q.scope_total("scope-a").unwrap(), Some(50_005));
    assert_eq!(q.scope_total("scope-b").unwrap(), None);
    assert_eq!(q.expect_import("j-2", Some("scope-a")).unwrap(), Some(50_005));
    // A later full import of the scope changes the next estimate, not this import's.
    q.remember_scope_total("scope-a", 7).unwrap();
    drop(q);
    let mut q = open(dir.path());
    assert_eq!(q.expect_import("j-2", Some("scope-a")).unwrap(), Some(50_005), "journaled when it started");
    assert_eq!(q.step("j-2", EXPECTED_STEP).unwrap(), Some(serde_json::json!(50_005)));
    assert_eq!(q.expect_import("j-3", None).unwrap(), None, "a delta has no estimate");
}

#[test]
fn the_report_gives_rate_percent_and_time_left_from_the_figures() {
    let since = Instant::now();
    let run = ImportRun {
        job_id: "j-1".into(),
        progress: ImportProgress {
            batches_stored: 20,
            batches_delivered: 18,
            records_stored: 10_000,
            ..Default::default()
        },
        expected: Some(50_000),
        since,
        records_at_start: 0,
    };
    let r = run.report(since + Duration::from_secs(2));
    assert_eq!(r.records_per_s, 5_000.0);
    assert_eq!(r.percent, Some(20.0));
    assert_eq!(r.eta_s, Some(8));
    assert_eq!(r.batch_in_flight, Some(18));
    assert!(run.describe(since + Duration::from_secs(2)).contains("of ~50000 (20%)"));
    let counter = ImportRun { expected: None, ..run.clone() }.report(since + Duration::from_secs(2));
    assert_eq!((counter.percent, counter.eta_s), (None, None));
    let over = ImportRun { expected: Some(5_000), ..run }.report(since + Duration::from_secs(2));
    assert_eq!((over.percent, over.eta_s), (Some(100.0), Some(0)), "a directory that grew: capped, not past 100%");
}
