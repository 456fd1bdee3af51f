//! The operator's view (issue 19) against the real binary, the real slapd (50,000 users)
//! and the simulator: a running import's progress on `/api/status`, in the heartbeat, on
//! the page in headless Chromium and in `queue show`, with its estimate surviving a
//! `kill -9`.

use std::path::Path;
use std::time::{Duration, Instant};

use serde_json::{json, Value};

use crate::harness::browser::Browser;
use crate::harness::servers;
use crate::harness::{eventually, Connector, Sim};

const LIMIT: Duration = Duration::from_secs(60);
const IMPORT_LIMIT: Duration = Duration::from_secs(300);

/// The UI address the connector logged after the first `from` bytes of its log (it
/// changes with each start: port 0).
pub async fn ui_url_after(c: &Connector, from: usize) -> String {
    eventually(LIMIT, "the connector to log its web UI address", || async {
        let text = c.log_text().get(from..)?.to_owned();
        let at = text.find("web UI listening url=")?;
        let rest = &text[at + "web UI listening url=".len()..];
        Some(rest.split_whitespace().next()?.trim_matches('"').trim_end_matches('/').to_owned())
    })
    .await
}

pub async fn status(ui: &str) -> Value {
    reqwest::get(format!("{ui}/api/status")).await.expect("GET /api/status").json().await.expect("status JSON")
}

/// The `/api/status` entry of import `id`, while it runs.
fn import_of(status: &Value, id: &str) -> Option<Value> {
    status["imports"].as_array()?.iter().find(|i| i["job_id"] == id).cloned()
}

/// Reads `/api/status` every 100 ms until import `id` has stored at least `records`
/// records; returns every sample of it seen.
async fn samples_until(ui: &str, id: &str, records: u64) -> Vec<Value> {
    let start = Instant::now();
    let mut seen = Vec::new();
    loop {
        if let Some(i) = import_of(&status(ui).await, id) {
            let r = i["records"].as_u64().unwrap_or(0);
            seen.push(i);
            if r >= records {
                return seen;
            }
        }
        assert!(start.elapsed() < IMPORT_LIMIT, "import {id} never reached {records} records: {seen:?}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// A full import of the people OU: only what slapd.sh generated lives there (tests add
/// under OUs of their own, harness `SlapdOu`), so two imports count the same.
fn import_job(env: &servers::ServerEnv, batch_size: u64) -> Value {
    let base = env.get("SLAPD_PEOPLE_DN");
    json!([{"type": "ldap.import", "payload": {"directory": "corp", "mode": "full", "base_dn": base, "batch_size": batch_size}}])
}

#[tokio::test]
async fn a_running_import_shows_its_progress_and_the_estimate_of_the_last_full_import_even_after_kill_9() {
    let env = servers::slapd();
    let sim = Sim::start_with(false, &["--heartbeat-interval-s", "1"]).await;
    let mut c = Connector::for_sim(&sim, "c1", &servers::slapd_directory("corp", &env, false));
    let cid = sim.wait_online(LIMIT).await["connector_id"].as_str().expect("id").to_owned();
    let ui = ui_url_after(&c, 0).await;

    // A first full import: no earlier count, so a counter, no estimate.
    let first = sim.submit(import_job(&env, 500)).await;
    let counted = samples_until(&ui, &first[0], 1).await;
    let last = counted.last().expect("a sample");
    assert!(last["expected_total"].is_null() && last["percent"].is_null(), "{last}");
    let done = sim.wait_done(&first, IMPORT_LIMIT).await;
    assert_eq!(done[0]["result"]["status"], "succeeded", "{}", done[0]["result"]);
    let total = done[0]["result"]["result"]["total"].as_u64().expect("total");
    assert!(total >= 50_000, "{total}");
    assert!(import_of(&status(&ui).await, &first[0]).is_none(), "a finished import is not shown as running");

    // The second: slowed at the portal (each records batch answered 150 ms late) so the
    // page is read many times while it runs, with batches on their way.
    sim.faults(json!({"latency_ms": 150, "paths": ["records"]})).await;
    let second = sim.submit(import_job(&env, 250)).await;
    let id = second[0].clone();
    let seen = samples_until(&ui, &id, 5_000).await;
    let records: Vec<u64> = seen.iter().filter_map(|s| s["records"].as_u64()).collect();
    assert!(records.windows(2).all(|w| w[0] <= w[1]), "records went back: {records:?}");
    assert!(records.iter().collect::<std::collections::BTreeSet<_>>().len() >= 3, "not seen rising: {records:?}");
    let now = seen.last().expect("sample").clone();
    assert_eq!(now["expected_total"].as_u64(), Some(total), "{now}");
    let pc = now["percent"].as_f64().expect("percent");
    assert!(pc > 0.0 && pc < 100.0, "{now}");
    assert!(now["records_per_s"].as_f64().is_some_and(|r| r > 0.0), "{now}");
    assert!(now["eta_s"].as_u64().is_some(), "{now}");
    assert!(seen.iter().any(|s| s["batch_in_flight"].as_u64().is_some()), "no batch seen in flight: {seen:?}");

    // The heartbeat carries it as a component (PROTOCOL.md §2.2: name, state, restarts,
    // detail; the figures in the extra field `progress`).
    let component = eventually(LIMIT, "the import in a heartbeat", || async {
        let d = sim.get(&format!("/admin/connectors/{cid}")).await;
        let text = d.to_string();
        text.contains(&format!("import:{id}")).then_some(text)
    })
    .await;
    assert!(component.contains(&format!("of ~{total}")) && component.contains("records/s"), "{component}");
    assert!(component.contains(&format!("\"expected_total\":{total}")), "{component}");

    // The page draws a bar for it (headless Chromium), kept as a screenshot.
    let url = format!("{ui}/");
    let row = format!("tr.import[data-id=\"{id}\"]");
    let sha = status(&ui).await["config"]["sha256"].as_str().expect("config hash").to_owned();
    let png = tokio::task::spawn_blocking(move || {
        let mut b = Browser::open(&url, 1280, 1400);
        b.wait_for(&format!("!!document.querySelector('{row} progress.bar')"), LIMIT, "the import's bar");
        // Which config runs: its hash (first 12 digits), its load time.
        let hash = b.eval("document.getElementById('config-hash').textContent");
        assert_eq!(hash.as_str(), Some(&sha[..12]), "{hash}");
        let loaded = b.eval("document.getElementById('config-loaded').textContent");
        assert!(loaded.as_str().is_some_and(|t| t.starts_with("20") && t.ends_with('Z')), "{loaded}");
        let value = b.eval(&format!("document.querySelector('{row} progress.bar').value"));
        assert!(value.as_f64().is_some_and(|v| v > 0.0 && v <= 100.0), "bar value {value}");
        let expected = b.eval(&format!("document.querySelector('{row} .expected').textContent"));
        assert_eq!(expected.as_str(), Some(total.to_string().as_str()));
        b.screenshot()
    })
    .await
    .expect("browser");
    assert!(png.starts_with(b"\x89PNG"));
    let kept = Path::new(env!("CARGO_MANIFEST_DIR")).join("target");
    std::fs::create_dir_all(&kept).expect("target dir");
    std::fs::write(kept.join("ui-import-screenshot.png"), &png).expect("keep the screenshot");

    // kill -9 mid-import: `queue show` reads the progress and the journaled estimate
    // offline; after the restart the resumed import shows the same estimate.
    c.kill9();
    let out = c.cli(&["queue", "show", &id]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let shown: Value = serde_json::from_slice(&out.stdout).expect("queue show JSON");
    let p = &shown["progress"];
    assert_eq!(p["expected_total"].as_u64(), Some(total), "{shown}");
    assert!(p["records"].as_u64().is_some_and(|r| r > 0 && r < total), "{shown}");
    let from = c.log_text().len();
    c.restart();
    let ui = ui_url_after(&c, from).await;
    let resumed = eventually(LIMIT, "the resumed import on /api/status", || async {
        import_of(&status(&ui).await, &id).filter(|i| i["records"].as_u64() > p["records"].as_u64())
    })
    .await;
    assert_eq!(resumed["expected_total"].as_u64(), Some(total), "{resumed}");
    sim.clear_faults().await;
    let done = sim.wait_done(&second, IMPORT_LIMIT).await;
    assert_eq!(done[0]["result"]["status"], "succeeded", "{}", done[0]["result"]);
    assert_eq!(done[0]["result"]["result"]["total"].as_u64(), Some(total));
    assert_eq!(sim.violations().await, 0, "{}", sim.log());
}
