//! Faults of the log upload: a portal that asks for more logs than memory holds.

use std::io::Read;
use std::time::Duration;

use serde_json::{json, Value};

use super::suite::{Scenario, Tally};
use crate::harness::{Connector, Sim};

const LIMIT: Duration = Duration::from_secs(30);
const CAP_MB: u64 = 8;

pub fn scenarios() -> Vec<Scenario> {
    vec![
        Scenario::new("logs: uploads are capped, streamed from a file and one at a time", capped_uploads),
        Scenario::new("logs: twenty upload_logs at once are all answered, one at a time", twenty_uploads),
    ]
}

/// The connector's peak resident memory so far (`VmHWM`), KiB.
fn peak_kib(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).expect("/proc status");
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .expect("VmHWM")
}

/// Issue #14 item 6: `upload_logs` built the whole bundle in memory, with no cap and no
/// limit on concurrent commands. 18 MiB of logs and four uploads asked at once: each
/// bundle stays under the cap (the newest files, the manifest naming the rest), the
/// uploads go one at a time, and the connector's peak memory grows by far less than
/// one bundle.
async fn capped_uploads() -> Tally {
    let sim = Sim::start_with(false, &["--heartbeat-interval-s", "1", "--max-upload-bytes", "104857600"]).await;
    let logs = sim.dir.path().join("c1/data/logs");
    std::fs::create_dir_all(&logs).expect("log dir");
    let now = connector_actors::time::now_ms();
    let old: Vec<String> =
        (1..=6).rev().map(|d| crate::harness::old_log(&logs, now - d * 86_400_000, 3 * 768 * 1024)).collect();
    let c = Connector::for_sim(&sim, "c1", &format!("[logging]\nupload_max_size_mb = {CAP_MB}\n"));
    let cid = sim.wait_online(LIMIT).await["connector_id"].as_str().expect("connector id").to_owned();
    let pid = c.pid().expect("connector pid");
    let before = peak_kib(pid);

    let mut asked = Vec::new();
    for _ in 0..4 {
        let ask = sim.post("/admin/log-requests", json!({"connector_id": cid})).await;
        asked.push(ask["request_id"].as_str().expect("request id").to_owned());
    }
    let mut arrived = Vec::new();
    for rid in &asked {
        let start = std::time::Instant::now();
        while sim.get(&format!("/admin/log-requests/{rid}")).await["received"] != true {
            let said: Vec<String> = c.log_text().lines().filter(|l| l.contains("upload")).map(str::to_owned).collect();
            assert!(
                start.elapsed() < LIMIT,
                "log upload {rid} did not arrive; the connector said:\n{}",
                said.join("\n")
            );
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
        let zip = reqwest::get(format!("{}/admin/log-requests/{rid}/download", sim.url))
            .await
            .expect("download")
            .bytes()
            .await
            .expect("zip")
            .to_vec();
        let cap = (CAP_MB << 20) + connector_actors::logship::bundle::MANIFEST_ALLOWANCE;
        assert!(zip.len() as u64 <= cap, "a {}-byte bundle passed the cap of {cap}", zip.len());
        let mut z = zip::ZipArchive::new(std::io::Cursor::new(zip)).expect("a zip");
        let names: Vec<String> = z.file_names().map(|n| n.expect("entry name").into_owned()).collect();
        let mut text = String::new();
        z.by_name("manifest.json").expect("manifest").read_to_string(&mut text).expect("manifest text");
        let m: Value = serde_json::from_str(&text).expect("manifest JSON");
        let cut: Vec<&str> =
            m["left_out"].as_array().expect("left_out").iter().filter_map(|l| l["name"].as_str()).collect();
        assert!(names.contains(&format!("logs/{}", old[5])), "the newest old file is in: {names:?}");
        assert!(cut.contains(&old[0].as_str()), "the oldest file is named as cut: {m}");
        assert!(text.contains("upload_max_size_mb"), "the manifest says why: {m}");
        arrived.push(rid.clone());
    }
    let grown_mib = peak_kib(pid).saturating_sub(before) / 1024;
    println!("  logs: the connector's peak memory grew by {grown_mib} MiB over four {CAP_MB} MiB uploads");
    assert!(grown_mib < CAP_MB, "peak memory grew by {grown_mib} MiB for {CAP_MB} MiB bundles: not streamed");
    assert!(c.log_text().matches("log upload delivered").count() >= 4);
    Tally::from_results(&asked, &arrived)
}

/// Review of issue #14: a portal that asks for 20 uploads at once (an impatient operator
/// clicking "Request logs"). The log shipper keeps one upload running and 8 waiting and
/// drops the rest with "ask again later", but the session has already remembered their
/// command ids as handled, so the portal's repeats of the same commands in every
/// heartbeat are ignored: the dropped requests are never uploaded and stay pending in
/// the portal for good. Every request the portal keeps asking for must arrive.
async fn twenty_uploads() -> Tally {
    let sim = Sim::start_with(false, &["--heartbeat-interval-s", "1"]).await;
    let c = Connector::for_sim(&sim, "c1", "");
    let cid = sim.wait_online(LIMIT).await["connector_id"].as_str().expect("connector id").to_owned();
    // Each upload takes a second at the portal, so the requests pile up behind the first.
    sim.faults(json!({"latency_ms": 1000, "paths": ["logs"]})).await;
    let mut asked = Vec::new();
    for _ in 0..20 {
        let ask = sim.post("/admin/log-requests", json!({"connector_id": cid})).await;
        asked.push(ask["request_id"].as_str().expect("request id").to_owned());
    }
    let deadline = std::time::Instant::now() + Duration::from_secs(120);
    let mut arrived = Vec::new();
    loop {
        arrived.clear();
        for rid in &asked {
            if sim.get(&format!("/admin/log-requests/{rid}")).await["received"] == true {
                arrived.push(rid.clone());
            }
        }
        if arrived.len() == asked.len() || std::time::Instant::now() > deadline {
            break;
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    let missing: Vec<&String> = asked.iter().filter(|r| !arrived.contains(r)).collect();
    assert!(
        missing.is_empty(),
        "{} of 20 log requests never arrived although the portal kept asking: {missing:?}; the connector said:\n{}",
        missing.len(),
        c.log_text().lines().filter(|l| l.contains("upload")).take(40).collect::<Vec<_>>().join("\n")
    );
    Tally::from_results(&asked, &arrived)
}
