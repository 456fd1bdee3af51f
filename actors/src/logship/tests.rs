//! The bundle on real files and the stream against a probe, on tokio's paused clock.

use std::io::Read;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde_json::{Map, Value};
use tokio::sync::broadcast;
use tokio::time::Instant;

use super::bundle::{self, BundleInfo};
use super::line::LogLine;
use super::stream;
use crate::link::LinkError;

const H: u64 = 3_600_000;
const T0: u64 = 1_795_000_000_000;

fn write_log(dir: &std::path::Path, start_ms: u64, end_ms: u64, text: &str) -> String {
    let name = bundle::file_name(start_ms, "log");
    let path = dir.join(&name);
    std::fs::write(&path, text).unwrap();
    let f = std::fs::File::options().write(true).open(&path).unwrap();
    f.set_modified(crate::time::from_unix_ms(end_ms)).unwrap();
    name
}

#[test]
fn file_names_carry_their_start_time() {
    let name = bundle::file_name(T0, "log");
    assert!(name.starts_with("connector-") && name.ends_with("Z.log"), "{name}");
    assert_eq!(bundle::start_of(&name), Some(T0 / 1000 * 1000));
    assert_eq!(bundle::start_of("connector-junk.log"), None);
    assert_eq!(bundle::start_of("other.log"), None);
}

#[test]
fn the_time_range_selects_overlapping_files_and_the_manifest_says_what_was_left_out() {
    let dir = tempfile::tempdir().unwrap();
    let a = write_log(dir.path(), T0, T0 + H, "old line\n");
    let b = write_log(dir.path(), T0 + H, T0 + 2 * H, "middle line\n");
    let c = write_log(dir.path(), T0 + 2 * H, T0 + 3 * H, "new line\n");
    let files = bundle::list(dir.path()).unwrap();
    assert_eq!(files.iter().map(|f| f.name.clone()).collect::<Vec<_>>(), vec![a.clone(), b.clone(), c.clone()]);
    let (keep, left) = bundle::select(files, Some(T0 + H + 60_000), Some(T0 + 2 * H - 60_000));
    assert_eq!(keep.iter().map(|f| f.name.clone()).collect::<Vec<_>>(), vec![b.clone()]);
    assert_eq!(left.len(), 2);
    let journal = dir.path().join("audit.jsonl");
    std::fs::write(&journal, "{}\n").unwrap();
    let info = BundleInfo {
        connector_id: Some("c-1".into()),
        host: "h".into(),
        since: None,
        until: None,
        audit_journal: Some(journal),
    };
    let mut out = tempfile::tempfile().unwrap();
    let built = bundle::build(&info, &keep, bundle::AuditJournal::Included, &left, &mut out).unwrap();
    assert_eq!((built.files, built.bytes), (1, out.metadata().unwrap().len()));
    let mut archive = zip::ZipArchive::new(out).unwrap();
    assert!(archive.by_name("audit.jsonl").is_ok(), "the audit journal is not in the bundle");
    let mut manifest = String::new();
    archive.by_name("manifest.json").unwrap().read_to_string(&mut manifest).unwrap();
    let m: Value = serde_json::from_str(&manifest).unwrap();
    assert_eq!(m["connector_id"], "c-1");
    assert_eq!(m["files"][0]["name"], b.as_str());
    assert_eq!(m["left_out"].as_array().unwrap().len(), 2);
    let mut body = String::new();
    archive.by_name(&format!("logs/{b}")).unwrap().read_to_string(&mut body).unwrap();
    assert_eq!(body, "middle line\n");
}

#[test]
fn a_bundle_is_capped_newest_first_and_the_manifest_names_what_was_cut() {
    let dir = tempfile::tempdir().unwrap();
    let line = "x".repeat(100 * 1024);
    let names: Vec<String> = (0..4).map(|i| write_log(dir.path(), T0 + i * H, T0 + (i + 1) * H, &line)).collect();
    let journal = dir.path().join("audit.jsonl");
    std::fs::write(&journal, "{}\n").unwrap();
    let files = bundle::list(dir.path()).unwrap();
    // Room for the journal and two of the four 100 KiB files.
    let cap = bundle::MANIFEST_ALLOWANCE + 3 + 250 * 1024;
    let (keep, journal_in, cut) = bundle::fit(files, 3, cap);
    assert_eq!(journal_in, bundle::AuditJournal::Included, "the audit journal goes in first");
    assert_eq!(keep.iter().map(|f| f.name.clone()).collect::<Vec<_>>(), names[2..].to_vec(), "the newest files");
    assert_eq!(cut.iter().map(|c| c.name.clone()).collect::<Vec<_>>(), names[..2].to_vec());
    assert!(cut[0].reason.contains("logging.upload_max_size_mb"), "{}", cut[0].reason);
    let info =
        BundleInfo { connector_id: None, host: "h".into(), since: None, until: None, audit_journal: Some(journal) };
    let mut out = tempfile::tempfile().unwrap();
    let built = bundle::build(&info, &keep, journal_in, &cut, &mut out).unwrap();
    assert!(built.bytes <= cap, "{} bytes over the cap of {cap}", built.bytes);
    let mut manifest = String::new();
    zip::ZipArchive::new(out).unwrap().by_name("manifest.json").unwrap().read_to_string(&mut manifest).unwrap();
    let m: Value = serde_json::from_str(&manifest).unwrap();
    assert_eq!(m["left_out"].as_array().unwrap().len(), 2, "{m}");
    // A journal larger than the cap is named, not sent.
    let (_, journal_in, cut) = bundle::fit(Vec::new(), cap, cap);
    assert!(journal_in == bundle::AuditJournal::LeftOut && cut[0].name == "audit.jsonl");
}

/// One request seen by the probe: when, and its lines.
type Sent = (Instant, Vec<LogLine>);

fn line(level: &str, n: usize) -> LogLine {
    LogLine { ts: String::new(), level: level.into(), target: "t".into(), message: format!("m{n}"), fields: Map::new() }
}

#[tokio::test(start_paused = true)]
async fn a_stream_sends_at_most_one_request_per_second_only_lines_at_its_level_and_stops_at_its_end() {
    let (tx, rx) = broadcast::channel(10_000);
    let sent: Arc<Mutex<Vec<Sent>>> = Arc::default();
    let probe = sent.clone();
    let start = Instant::now();
    let producer = tokio::spawn(async move {
        for n in 0..500 {
            let _ = tx.send(line(if n % 2 == 0 { "INFO" } else { "DEBUG" }, n));
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    });
    let report = stream::run(rx, "info", Duration::from_secs(4), move |lines| {
        let probe = probe.clone();
        async move {
            probe.lock().unwrap().push((Instant::now(), lines));
            Ok::<(), LinkError>(())
        }
    })
    .await;
    producer.abort();
    let sent = sent.lock().unwrap();
    assert!(sent.len() >= 3 && sent.len() <= 5, "{} requests", sent.len());
    for w in sent.windows(2) {
        assert!(w[1].0 - w[0].0 >= stream::MIN_INTERVAL, "two requests within a second");
    }
    assert!(sent.iter().all(|(_, l)| l.iter().all(|l| l.level == "INFO")));
    let total: usize = sent.iter().map(|(_, l)| l.len()).sum();
    assert_eq!(total as u64, report.lines);
    assert!((190..=201).contains(&total), "{total} lines in 4 s");
    assert!(Instant::now() - start <= Duration::from_secs(5));
}

#[tokio::test(start_paused = true)]
async fn a_stream_whose_request_is_gone_stops() {
    let (tx, rx) = broadcast::channel(16);
    let _ = tx.send(line("ERROR", 1));
    let report = stream::run(rx, "info", Duration::from_secs(60), |_| async {
        Err::<(), _>(LinkError::NotFound("gone".into()))
    })
    .await;
    assert_eq!(report.requests, 1);
    assert!(report.stopped.is_some());
}
