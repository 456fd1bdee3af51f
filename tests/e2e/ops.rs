//! Operability against the real binaries: the status page in headless Chromium,
//! `/metrics`, `/healthz`, `/readyz`, the admin token, log upload (time range, 413) and
//! streaming, the offline bundle, redaction, and every failure `check` explains.

use std::collections::HashMap;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::Duration;

use serde_json::{json, Value};

use crate::harness::browser::Browser;
use crate::harness::servers::{self, slapd_directory};
use crate::harness::sim::noop;
use crate::harness::{binary, eventually, Connector, Sim};

const LIMIT: Duration = Duration::from_secs(40);
const TOKEN_TEXT: &str =
    "Invalid Basic Authorization token (401): copy it again from the Integration Connector Credential Profile";

/// The UI address the connector logged.
async fn ui_url(c: &Connector) -> String {
    crate::harness::logged_ui_url(|| c.log_text()).await
}

async fn get(url: &str, auth: Option<&str>) -> (u16, String) {
    let mut req = reqwest::Client::new().get(url);
    if let Some(a) = auth {
        req = req.header("Authorization", a);
    }
    let resp = req.send().await.expect("GET");
    let status = resp.status().as_u16();
    (status, resp.text().await.unwrap_or_default())
}

/// `name{labels} value` lines of a Prometheus text body.
fn samples(text: &str) -> HashMap<String, f64> {
    text.lines()
        .filter(|l| !l.starts_with('#') && !l.is_empty())
        .filter_map(|l| l.rsplit_once(' '))
        .filter_map(|(k, v)| v.parse().ok().map(|v| (k.to_owned(), v)))
        .collect()
}

fn run_check(config: &Path, json: bool) -> (Option<i32>, String) {
    let mut cmd = Command::new(binary("integration-connector"));
    cmd.args(["check", "--config"]).arg(config);
    if json {
        cmd.arg("--json");
    }
    let out: Output = cmd.output().expect("run check");
    (out.status.code(), format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr)))
}

/// The output line of one check.
fn line<'a>(out: &'a str, name: &str) -> &'a str {
    out.lines()
        .find(|l| l.get(5..).is_some_and(|rest| rest.starts_with(&format!("{name}:"))))
        .unwrap_or_else(|| panic!("no line for {name} in:\n{out}"))
}

/// The `check` line for `name` failed and names each of `texts` (its cause and fix).
fn assert_fails(out: &str, name: &str, texts: &[&str]) {
    let l = line(out, name);
    assert!(l.starts_with("FAIL") && texts.iter().all(|t| l.contains(t)), "{name}: {l}");
}

fn write_config(dir: &Path, text: &str) -> PathBuf {
    std::fs::create_dir_all(dir).expect("dir");
    let path = dir.join("connector.toml");
    std::fs::write(&path, text).expect("config");
    std::fs::set_permissions(&path, std::os::unix::fs::PermissionsExt::from_mode(0o600)).expect("chmod");
    path
}

fn server_config(protocol: &str, host: &str, port: u16, token: &str, ca: Option<&Path>, storage: &Path) -> String {
    let ca = ca.map(|c| format!("ca_file = \"{}\"\n", c.display())).unwrap_or_default();
    format!(
        "[server]\nprotocol = \"{protocol}\"\nhost = \"{host}\"\nport = {port}\ntoken = \"{token}\"\nconnect_timeout = \"3s\"\n{ca}\n[storage]\npath = \"{}\"\n[ui]\nlisten = \"127.0.0.1:0\"\n",
        storage.display()
    )
}

fn zip_entries(bytes: &[u8]) -> (Value, Vec<String>) {
    let mut z = zip::ZipArchive::new(std::io::Cursor::new(bytes.to_vec())).expect("a zip");
    let names: Vec<String> = z.file_names().map(|n| n.expect("entry name").into_owned()).collect();
    let mut manifest = String::new();
    z.by_name("manifest.json").expect("manifest.json").read_to_string(&mut manifest).expect("read manifest");
    (serde_json::from_str(&manifest).expect("manifest JSON"), names)
}

fn all_zip_text(bytes: &[u8]) -> String {
    let mut z = zip::ZipArchive::new(std::io::Cursor::new(bytes.to_vec())).expect("a zip");
    let mut text = String::new();
    for i in 0..z.len() {
        let _ = z.by_index(i).expect("entry").read_to_string(&mut text);
    }
    text
}

async fn connector_id(sim: &Sim) -> String {
    sim.wait_online(LIMIT).await["connector_id"].as_str().expect("connector id").to_owned()
}

// === the status page ===

#[tokio::test]
async fn the_status_page_in_headless_chromium_shows_link_directory_queue_components_and_jobs_and_updates_live() {
    let slapd = servers::slapd();
    let sim = Sim::start(false).await;
    let c = Connector::for_sim(&sim, "c1", &slapd_directory("corp", &slapd, true));
    let cid = connector_id(&sim).await;
    let user = slapd.get("SLAPD_USER_OK").to_owned();
    let ids = sim
        .submit(json!([
            noop(5),
            {"id": "auth-1", "type": "ldap.authenticate", "payload": {"directory": "corp", "username": user, "password": "Wrong-Passw0rd-77"}},
            {"id": "bad-dir", "type": "ldap.authenticate", "payload": {"directory": "nowhere", "username": "bob", "password": "hunter2-secret-9"}},
        ]))
        .await;
    sim.wait_done(&ids, LIMIT).await;
    let url = ui_url(&c).await;
    let mut b = tokio::task::spawn_blocking(move || {
        let mut b = Browser::open(&url, 1280, 1300);
        b.wait_for("document.querySelectorAll('#jobs tr.job').length >= 3", LIMIT, "three jobs in the page");
        b
    })
    .await
    .expect("browser");
    let text = |b: &mut Browser, sel: &str| {
        b.eval(&format!("document.querySelector('{sel}').textContent")).as_str().unwrap_or("").to_owned()
    };
    assert_eq!(text(&mut b, "#conn-state"), "online");
    assert_eq!(text(&mut b, "#connector-id"), cid);
    assert!(text(&mut b, "#server-url").contains(&format!("127.0.0.1:{}", sim.port())));
    assert!(text(&mut b, "#last-heartbeat").contains("s ago"));
    for id in ["#q-pending", "#q-running", "#q-awaiting", "#q-dead"] {
        assert_eq!(text(&mut b, id), "0", "{id}");
    }
    let corp = text(&mut b, "tr.directory[data-name=corp]");
    assert!(corp.contains("yes") && corp.contains(slapd.get("SLAPD_LDAPS_URL")), "{corp}");
    let pool = text(&mut b, "tr.directory[data-name=corp] td.pool");
    let (in_use, size) = pool.split_once(" / ").expect("pool figures");
    assert!(size.parse::<u64>().unwrap() >= 1 && in_use.parse::<u64>().is_ok(), "{pool}");
    for comp in ["queue", "session", "poller", "courier", "dispatcher", "log_shipper", "ldap_pool:corp"] {
        let row = text(&mut b, &format!("tr.component[data-name=\"{comp}\"]"));
        assert!(row.contains("running") && row.contains('0'), "{comp}: {row}");
    }
    let auth = text(&mut b, "tr.job[data-id=auth-1]");
    assert!(
        auth.contains("ldap.authenticate") && auth.contains(&format!("corp: {user}")) && auth.contains("succeeded"),
        "{auth}"
    );
    let bad = text(&mut b, "tr.job[data-id=bad-dir]");
    assert!(bad.contains("failed") && bad.contains("unknown_directory") && bad.contains(" ms"), "{bad}");
    // The last hour at a glance: five charts; this minute's jobs as bars (the failed one
    // red), the login's time as a point, the same figures in /api/history.
    let charts = b.eval("[...document.querySelectorAll('svg[data-chart]')].map(s => s.dataset.chart).join(',')");
    assert_eq!(charts.as_str(), Some("jobs,logins,queue,directories,link"), "{charts}");
    let failed_bars = b.eval("document.querySelectorAll('svg[data-chart=jobs] rect.bar[data-series=failed]').length");
    assert!(failed_bars.as_u64() >= Some(1), "no failed-jobs bar: {failed_bars}");
    let title = text(&mut b, "svg[data-chart=logins] title");
    assert!(title.contains("p50") && title.contains(" ms"), "{title}");
    let ui = ui_url(&c).await;
    let history: Value = reqwest::get(format!("{}/api/history", ui.trim_end_matches('/')))
        .await
        .expect("history")
        .json()
        .await
        .expect("JSON");
    let minutes = history["minutes"].as_array().expect("minutes");
    let sum = |key: &str| minutes.iter().filter_map(|m| m[key].as_u64()).sum::<u64>();
    assert!(sum("succeeded") >= 2 && sum("failed") >= 1, "{history}");
    assert!(minutes.iter().any(|m| m["logins"].as_u64() >= Some(1) && m["login_p50_ms"].is_number()), "{history}");
    let html = b.eval("document.documentElement.outerHTML").as_str().unwrap_or("").to_owned();
    for secret in ["Wrong-Passw0rd-77", "hunter2-secret-9", slapd.get("SLAPD_SERVICE_PW"), sim.token.as_str()] {
        assert!(!html.contains(secret), "the page shows a secret");
    }
    // Live: a job that runs after the page opened shows in the table and in the log tail.
    sim.submit(json!([{"id": "live-1", "type": "test.noop", "payload": {}}])).await;
    let mut b = tokio::task::spawn_blocking(move || {
        b.wait_for("!!document.querySelector('#jobs tr.job[data-id=live-1]')", LIMIT, "live-1 in the job table");
        b.wait_for(
            "document.getElementById('tail').textContent.includes('job_id=live-1')",
            LIMIT,
            "live-1 in the log tail",
        );
        b
    })
    .await
    .expect("browser");
    let png = tokio::task::spawn_blocking(move || b.screenshot()).await.expect("screenshot");
    assert!(png.starts_with(b"\x89PNG") && png.len() > 10_000);
    let shot = Path::new(env!("CARGO_MANIFEST_DIR")).join("target/ui-screenshot.png");
    std::fs::write(&shot, &png).expect("keep the screenshot");
}

#[tokio::test]
async fn metrics_healthz_and_readyz_report_jobs_queue_pools_http_errors_restarts_and_link_state() {
    let slapd = servers::slapd();
    let sim = Sim::start_with(false, &["--heartbeat-interval-s", "1", "--poll-timeout-s", "2"]).await;
    sim.faults(json!({"status": 500, "paths": ["heartbeat"], "count": 1})).await;
    let c = Connector::for_sim(&sim, "c1", &slapd_directory("corp", &slapd, true));
    let cid = connector_id(&sim).await;
    let ids = sim
        .submit(json!([noop(0), noop(20), noop(0),
            {"type": "ldap.authenticate", "payload": {"directory": "nowhere", "username": "a", "password": "b-secret"}},
            {"type": "ldap.authenticate", "payload": {"directory": "corp", "username": slapd.get("SLAPD_USER_OK"), "password": slapd.get("SLAPD_USER_OK_PW")}}]))
        .await;
    sim.wait_done(&ids, LIMIT).await;
    let url = ui_url(&c).await;
    let m = eventually(LIMIT, "the heartbeat 500 counted", || async {
        let m = samples(&get(&format!("{url}metrics"), None).await.1);
        (m.get("ic_portal_http_errors_total{kind=\"500\"}").copied().unwrap_or(0.0) >= 1.0).then_some(m)
    })
    .await;
    assert_eq!(m["ic_jobs_total{type=\"test.noop\",outcome=\"succeeded\"}"], 3.0);
    assert_eq!(m["ic_jobs_total{type=\"ldap.authenticate\",outcome=\"failed\"}"], 1.0);
    assert_eq!(m["ic_jobs_total{type=\"ldap.authenticate\",outcome=\"succeeded\"}"], 1.0);
    assert_eq!(m["ic_job_duration_seconds_count{type=\"test.noop\"}"], 3.0);
    assert_eq!(m["ic_job_duration_seconds_bucket{type=\"test.noop\",le=\"+Inf\"}"], 3.0);
    assert!(m["ic_job_duration_seconds_sum{type=\"test.noop\"}"] >= 0.02);
    assert!(m["ic_job_duration_seconds_bucket{type=\"test.noop\",le=\"0.005\"}"] < 3.0, "the 20 ms job is above 5 ms");
    for state in ["pending", "running", "awaiting_delivery", "dead"] {
        assert_eq!(m[&format!("ic_queue_jobs{{state=\"{state}\"}}")], 0.0, "{state}");
    }
    assert_eq!(m["ic_queue_lane_jobs{priority=\"interactive\",state=\"waiting\"}"], 0.0);
    assert_eq!(m["ic_directory_reachable{directory=\"corp\"}"], 1.0);
    assert!(m["ic_directory_pool_size{directory=\"corp\"}"] >= 1.0);
    assert!(m.contains_key("ic_directory_pool_in_use{directory=\"corp\"}"));
    assert_eq!(m["ic_component_restarts_total{component=\"dispatcher\"}"], 0.0);
    assert_eq!(m["ic_component_running{component=\"log_shipper\"}"], 1.0);
    assert_eq!(m["ic_portal_online"], 1.0);
    assert_eq!(get(&format!("{url}healthz"), None).await, (200, "ok\n".to_owned()));
    assert_eq!(get(&format!("{url}readyz"), None).await.0, 200);
    let status: Value = serde_json::from_str(&get(&format!("{url}api/status"), None).await.1).expect("status JSON");
    assert_eq!(status["connection"]["connector_id"], cid.as_str());
    // Archived in the portal: the link is `disabled`, so not ready; the process is still healthy.
    sim.post(&format!("/admin/connectors/{cid}/archive"), json!({})).await;
    let body = eventually(LIMIT, "readyz to say not ready", || async {
        let (code, body) = get(&format!("{url}readyz"), None).await;
        (code == 503).then_some(body)
    })
    .await;
    assert!(body.contains("disabled") && body.contains("archived"), "{body}");
    assert_eq!(get(&format!("{url}healthz"), None).await.0, 200);
}

#[tokio::test]
async fn the_ui_asks_for_the_admin_token_when_set_and_a_non_loopback_listen_without_one_is_refused() {
    let sim = Sim::start(false).await;
    let token = "ui-admin-token-0123456789";
    let c = Connector::for_sim(&sim, "c1", &format!("[ui]\nlisten = \"127.0.0.1:0\"\nadmin_token = \"{token}\"\n"));
    sim.wait_online(LIMIT).await;
    let url = ui_url(&c).await;
    for path in ["", "metrics", "panel", "api/status", "logs/tail"] {
        assert_eq!(get(&format!("{url}{path}"), None).await.0, 401, "/{path} without the token");
        assert_eq!(
            get(&format!("{url}{path}"), Some("Bearer not-the-token-at-all")).await.0,
            401,
            "/{path} wrong token"
        );
    }
    let resp = reqwest::Client::new().get(&url).send().await.expect("GET");
    assert!(resp.headers()["www-authenticate"].to_str().unwrap().starts_with("Basic"));
    let (code, body) = get(&format!("{url}metrics"), Some(&format!("Bearer {token}"))).await;
    assert_eq!(code, 200);
    assert!(body.contains("ic_build_info"));
    use base64::Engine;
    let basic = base64::engine::general_purpose::STANDARD.encode(format!("admin:{token}"));
    assert_eq!(get(&url, Some(&format!("Basic {basic}"))).await.0, 200);
    assert_eq!(get(&format!("{url}healthz"), None).await.0, 200);
    assert_eq!(get(&format!("{url}readyz"), None).await.0, 200);

    let dir = sim.dir.path().join("open");
    let mut text = server_config("http", "127.0.0.1", sim.port(), &sim.token, None, &dir.join("data"));
    text = text.replace("listen = \"127.0.0.1:0\"", "listen = \"0.0.0.0:8086\"");
    let config = write_config(&dir, &text);
    let out =
        Command::new(binary("integration-connector")).args(["run", "--config"]).arg(&config).output().expect("run");
    assert_eq!(out.status.code(), Some(64));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("ui.listen: 0.0.0.0:8086 is not a loopback address: set ui.admin_token"), "{err}");
    let (code, out) = run_check(&config, false);
    assert_eq!(code, Some(64));
    assert!(line(&out, "config").starts_with("FAIL") && out.contains("not a loopback address"), "{out}");
}

// === logs ===

/// Writes an old log file of `kb` KiB of incompressible text, covering [start, start + 1 h].
fn old_log(dir: &Path, start_ms: u64, kb: usize) -> String {
    crate::harness::old_log(dir, start_ms, kb * 768)
}

async fn upload(sim: &Sim, cid: &str, since: Option<u64>, until: Option<u64>) -> Vec<u8> {
    let ts = |ms: Option<u64>| ms.map(connector_actors::time::rfc3339);
    let ask =
        sim.post("/admin/log-requests", json!({"connector_id": cid, "since": ts(since), "until": ts(until)})).await;
    let rid = ask["request_id"].as_str().expect("request id").to_owned();
    eventually(LIMIT, "the log upload to arrive", || async {
        (sim.get(&format!("/admin/log-requests/{rid}")).await["received"] == true).then_some(())
    })
    .await;
    let dl = reqwest::get(format!("{}/admin/log-requests/{rid}/download", sim.url)).await.expect("download");
    dl.bytes().await.expect("zip").to_vec()
}

#[tokio::test]
async fn upload_logs_sends_the_files_of_the_time_range_with_a_manifest_drops_the_oldest_on_413_and_bundle_works_offline(
) {
    let sim = Sim::start_with(false, &["--heartbeat-interval-s", "1"]).await;
    let logs = sim.dir.path().join("c1/data/logs");
    std::fs::create_dir_all(&logs).expect("log dir");
    let now = connector_actors::time::now_ms();
    let day = 86_400_000;
    let (d3, d2, d1) =
        (old_log(&logs, now - 3 * day, 400), old_log(&logs, now - 2 * day, 400), old_log(&logs, now - day, 400));
    let mut c = Connector::for_sim(&sim, "c1", "");
    let cid = connector_id(&sim).await;

    // Only the file of two days ago overlaps [-2 d - 30 min, -1 d - 30 min].
    let zip = upload(&sim, &cid, Some(now - 2 * day - 1_800_000), Some(now - day - 1_800_000)).await;
    let (m, names) = zip_entries(&zip);
    assert_eq!(
        names.iter().filter(|n| n.starts_with("logs/")).cloned().collect::<Vec<_>>(),
        vec![format!("logs/{d2}")]
    );
    assert_eq!(m["connector_id"], cid.as_str());
    assert!(m["version"].is_string() && m["host"].is_string() && m["time_range"]["since"].is_string());
    let left: Vec<&str> = m["left_out"].as_array().unwrap().iter().map(|l| l["name"].as_str().unwrap()).collect();
    assert!(left.contains(&d3.as_str()) && left.contains(&d1.as_str()), "{m}");
    assert!(m["left_out"]
        .as_array()
        .unwrap()
        .iter()
        .all(|l| l["reason"].as_str().unwrap().contains("outside the time range")));

    // Everything is ~925 KB compressed: over a 700 KB limit the oldest file goes.
    sim.post("/admin/limits", json!({"max_upload_bytes": 700_000})).await;
    let zip = upload(&sim, &cid, None, None).await;
    assert!(zip.len() <= 700_000);
    let (m, names) = zip_entries(&zip);
    assert!(
        !names.contains(&format!("logs/{d3}"))
            && names.contains(&format!("logs/{d2}"))
            && names.contains(&format!("logs/{d1}")),
        "{names:?}"
    );
    assert!(
        names.iter().any(|n| n.starts_with("logs/") && ![&d3, &d2, &d1].iter().any(|o| n.ends_with(o.as_str()))),
        "the current log is in"
    );
    let dropped = &m["left_out"][0];
    assert_eq!(dropped["name"], d3.as_str());
    assert!(dropped["reason"].as_str().unwrap().contains("413"), "{m}");
    let text = all_zip_text(&zip);
    assert!(text.contains("registered with the portal"));
    assert!(!text.contains(&sim.token), "the token is in the upload");
    assert!(c.log_text().contains("dropping the oldest file"));

    // The same bundle offline, while the service runs and after it stopped.
    let out_zip = sim.dir.path().join("bundle.zip");
    let since = connector_actors::time::rfc3339(now - day - 1_800_000);
    let out = c.cli(&["logs", "bundle", "-o", out_zip.to_str().unwrap(), "--since", &since]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let (m, names) = zip_entries(&std::fs::read(&out_zip).unwrap());
    assert!(names.contains(&format!("logs/{d1}")) && !names.contains(&format!("logs/{d2}")), "{names:?}");
    assert_eq!(m["left_out"].as_array().unwrap().len(), 2);
    assert_eq!(c.terminate(LIMIT), Some(0));
    let out = c.cli(&["logs", "bundle", "-o", out_zip.to_str().unwrap()]);
    assert!(out.status.success());
    let (m, names) = zip_entries(&std::fs::read(&out_zip).unwrap());
    assert_eq!(m["connector_id"], cid.as_str());
    assert_eq!(names.iter().filter(|n| n.starts_with("logs/")).count(), 4);
    let bad = c.cli(&["logs", "bundle", "-o", out_zip.to_str().unwrap(), "--since", "yesterday"]);
    assert_eq!(bad.status.code(), Some(2));
}

#[tokio::test]
async fn stream_logs_sends_new_lines_at_or_above_its_level_at_most_once_a_second_and_never_a_secret() {
    let sim = Sim::start_with(false, &["--heartbeat-interval-s", "1"]).await;
    let c = Connector::for_sim(&sim, "c1", "");
    let cid = connector_id(&sim).await;
    let ask = sim.post("/admin/log-streams", json!({"connector_id": cid, "duration_s": 4, "level": "warn"})).await;
    let rid = ask["request_id"].as_str().expect("request id").to_owned();
    eventually(LIMIT, "the stream to start", || async { c.log_text().contains("log stream requested").then_some(()) })
        .await;
    // Each malformed job logs a WARN; each failed login an INFO (below the stream's level).
    for n in 0..8 {
        sim.submit(json!([
            {"raw": {"id": format!("bad-{n}"), "type": "test.noop", "payload": [n]}},
            {"type": "ldap.authenticate", "payload": {"directory": "nowhere", "username": "u", "password": "Str3am-Secret!"}},
        ]))
        .await;
        tokio::time::sleep(Duration::from_millis(300)).await;
    }
    let ended = eventually(LIMIT, "the stream to end", || async {
        let log = c.log_text();
        log.lines().find(|l| l.contains("log stream ended")).map(str::to_owned)
    })
    .await;
    let requests: u64 = ended
        .split("requests=")
        .nth(1)
        .and_then(|r| r.split_whitespace().next())
        .and_then(|n| n.parse().ok())
        .expect("requests=");
    assert!((1..=5).contains(&requests), "{requests} requests in a 4 s stream: {ended}");
    let stored = eventually(LIMIT, "streamed lines at the simulator", || async {
        let s = sim.get(&format!("/admin/log-streams/{rid}")).await;
        (s["lines"].as_u64()? >= 1).then(|| s["path"].as_str().map(str::to_owned)).flatten()
    })
    .await;
    let text = std::fs::read_to_string(stored).expect("stream file");
    let lines: Vec<Value> = text.lines().map(|l| serde_json::from_str(l).expect("line JSON")).collect();
    assert!(lines.iter().all(|l| l["level"] == "WARN" || l["level"] == "ERROR"), "{text}");
    assert!(lines.iter().any(|l| l["message"].as_str().unwrap_or("").contains("invalid job")), "{text}");
    assert!(lines.iter().all(|l| l["ts"].is_string() && l["target"].is_string() && l["fields"].is_object()));
    for secret in ["Str3am-Secret!", sim.token.as_str()] {
        assert!(!text.contains(secret) && !c.log_text().contains(secret), "a secret was logged");
        for f in std::fs::read_dir(sim.dir.path().join("c1/data/logs")).unwrap() {
            assert!(!std::fs::read_to_string(f.unwrap().path()).unwrap().contains(secret));
        }
    }
}

// === check ===

#[tokio::test]
async fn check_passes_every_check_on_a_good_setup_and_speaks_json() {
    let slapd = servers::slapd();
    let sim = Sim::start(true).await;
    let dir = sim.dir.path().join("good");
    let text = server_config("https", "127.0.0.1", sim.port(), &sim.token, Some(&sim.ca_file()), &dir.join("data"));
    let config = write_config(&dir, &format!("{text}{}", slapd_directory("corp", &slapd, true)));
    let (code, out) = run_check(&config, false);
    assert_eq!(code, Some(0), "{out}");
    for name in [
        "config",
        "storage",
        "logging",
        "lock",
        "server.dns",
        "server.tcp",
        "server.tls",
        "server.token",
        "server.protocol",
        "server.clock",
        "directory.corp.tcp",
        "directory.corp.tls",
        "directory.corp.bind",
        "directory.corp.base_dn",
        "directory.corp.user_filter",
        "directory.corp.size_limit",
        "directory.corp.login_failure_limit",
    ] {
        assert!(line(&out, name).starts_with("OK"), "{name}: {out}");
    }
    let (code, out) = run_check(&config, true);
    assert_eq!(code, Some(0));
    let v: Value = serde_json::from_str(out.trim()).expect("one JSON document");
    assert_eq!(v["ok"], true);
    assert_eq!(
        v["checks"].as_array().unwrap().len(),
        17,
        "logging, server.clock and the lockout shield's are among them"
    );
    assert!(v["checks"].as_array().unwrap().iter().all(|c| c["status"] == "ok"));
}

/// A portal simulator on another loopback address (its certificate names 127.0.0.1 only).
struct OtherSim {
    child: Child,
    _dir: tempfile::TempDir,
    port: u16,
    ca: PathBuf,
}

impl Drop for OtherSim {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

async fn sim_at_127_0_0_2() -> OtherSim {
    let dir = tempfile::tempdir().expect("dir");
    let data = dir.path().join("sim");
    let child = Command::new(binary("portal-sim"))
        .args(["--listen", "127.0.0.2:0", "--token", "dGVzdDp0b2tlbg==", "--tls", "--data-dir"])
        .arg(&data)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("portal-sim");
    let url_file = data.join("url");
    let url = eventually(LIMIT, "portal-sim on 127.0.0.2", || {
        let f = url_file.clone();
        async move { std::fs::read_to_string(f).ok().filter(|s| !s.trim().is_empty()) }
    })
    .await;
    let port = url.trim().rsplit(':').next().and_then(|p| p.parse().ok()).expect("port");
    OtherSim { child, _dir: dir, port, ca: data.join("ca.pem") }
}

/// Answers every HTTP request 200 with JSON that is not the protocol's.
fn not_a_portal() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = listener.local_addr().expect("addr").port();
    std::thread::spawn(move || {
        for stream in listener.incoming().take(20) {
            let Ok(mut s) = stream else { continue };
            let _ = s.set_read_timeout(Some(Duration::from_secs(2)));
            let mut buf = [0u8; 8192];
            let _ = s.read(&mut buf);
            let body = "{\"hello\":\"world\"}";
            let _ = write!(s, "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}", body.len());
        }
    });
    port
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").expect("bind").local_addr().expect("addr").port()
}

#[tokio::test]
async fn check_names_the_cause_and_the_fix_of_each_server_failure() {
    let sim = Sim::start(true).await;
    let root = sim.dir.path();
    let case = |name: &str, protocol: &str, host: &str, port: u16, token: &str, ca: Option<&Path>| {
        let dir = root.join(name);
        write_config(&dir, &server_config(protocol, host, port, token, ca, &dir.join("data")))
    };
    // DNS: a 64-character label is refused by the resolver library itself, before any
    // packet is sent (checked with strace: no socket to the name server is opened).
    let long = format!("{}.example.com", "a".repeat(64));
    let (code, out) = run_check(&case("dns", "https", &long, 443, &sim.token, None), false);
    assert_eq!(code, Some(1));
    assert_fails(&out, "server.dns", &["cannot resolve", "fix: check the spelling of server.host"]);
    assert!(line(&out, "server.tcp").starts_with("SKIP") && line(&out, "server.token").starts_with("SKIP"));

    let (code, out) = run_check(&case("tcp", "https", "127.0.0.1", free_port(), &sim.token, None), false);
    assert_eq!(code, Some(1));
    assert_fails(&out, "server.tcp", &["refused the connection", "fix: check server.port"]);

    let (code, out) = run_check(&case("chain", "https", "127.0.0.1", sim.port(), &sim.token, None), false);
    assert_eq!(code, Some(1));
    assert_fails(&out, "server.tls", &["chain is not trusted", "fix: set server.ca_file"]);

    let other = sim_at_127_0_0_2().await;
    let (code, out) = run_check(&case("name", "https", "127.0.0.2", other.port, &sim.token, Some(&other.ca)), false);
    assert_eq!(code, Some(1));
    assert_fails(&out, "server.tls", &["not valid for the host name 127.0.0.2", "fix: set server.host"]);

    let (code, out) =
        run_check(&case("token", "https", "127.0.0.1", sim.port(), "d3Jvbmc6dG9rZW4=", Some(&sim.ca_file())), false);
    assert_eq!(code, Some(1));
    assert_fails(&out, "server.token", &[TOKEN_TEXT, "fix: copy the token again"]);
    assert!(line(&out, "server.tls").starts_with("OK"));

    let (code, out) = run_check(&case("protocol", "http", "127.0.0.1", not_a_portal(), &sim.token, None), false);
    assert_eq!(code, Some(1));
    assert_fails(&out, "server.protocol", &["not protocol version 1", "fix: check that server.host"]);
    let (_, json_out) = run_check(&root.join("protocol/connector.toml"), true);
    let v: Value = serde_json::from_str(json_out.trim()).expect("JSON");
    assert_eq!(v["ok"], false);
    let failed: Vec<&Value> = v["checks"].as_array().unwrap().iter().filter(|c| c["status"] == "fail").collect();
    assert_eq!(failed.len(), 1);
    assert!(failed[0]["fix"].as_str().unwrap().contains("ServiceOps portal"));
}

#[tokio::test]
async fn check_names_the_cause_and_the_fix_of_config_storage_and_lock_failures() {
    let sim = Sim::start(false).await;
    let root = sim.dir.path();
    let (code, out) =
        run_check(&write_config(&root.join("bad"), "[server]\nprotocol = \"https\"\nhots = \"x\"\n"), false);
    assert_eq!(code, Some(64));
    assert!(line(&out, "config").starts_with("FAIL") && out.contains("hots: unknown field"), "{out}");

    // Not writable: the storage path runs through a regular file (root ignores mode bits).
    std::fs::write(root.join("a-file"), "x").unwrap();
    let cfg = write_config(
        &root.join("nowrite"),
        &server_config("http", "127.0.0.1", sim.port(), &sim.token, None, &root.join("a-file/data")),
    );
    let (code, out) = run_check(&cfg, false);
    assert_eq!(code, Some(1));
    assert_fails(&out, "storage", &["cannot be created", "fix: create it"]);

    let data = root.join("open/data");
    std::fs::create_dir_all(&data).unwrap();
    std::fs::set_permissions(&data, std::os::unix::fs::PermissionsExt::from_mode(0o777)).unwrap();
    let (code, out) = run_check(
        &write_config(&root.join("open"), &server_config("http", "127.0.0.1", sim.port(), &sim.token, None, &data)),
        false,
    );
    assert_eq!(code, Some(1));
    assert_fails(&out, "storage", &["writable by other users (mode 0777)", "chmod 700"]);

    let c = Connector::for_sim(&sim, "running", "");
    sim.wait_online(LIMIT).await;
    let (code, out) = run_check(&c.config, false);
    assert_eq!(code, Some(1));
    assert_fails(&out, "lock", &["another instance", "fix: stop it first"]);
}

#[tokio::test]
async fn check_names_the_cause_and_the_fix_of_each_directory_failure() {
    let slapd = servers::slapd();
    let sim = Sim::start(false).await;
    let dir = sim.dir.path().join("dirs");
    let good = slapd_directory("ok", &slapd, true);
    let table = |name: &str| good.replace("[directories.ok]", &format!("[directories.{name}]"));
    let dirs = [
        table("tcp").replace(slapd.get("SLAPD_LDAPS_URL"), &format!("ldaps://127.0.0.1:{}", free_port())),
        table("tls").lines().filter(|l| !l.starts_with("ca_file")).collect::<Vec<_>>().join("\n") + "\n",
        table("bind").replace(slapd.get("SLAPD_SERVICE_PW"), "not-the-password"),
        table("base").replace(
            &format!("base_dn = \"{}\"", slapd.get("SLAPD_BASE_DN")),
            &format!("base_dn = \"ou=nowhere,{}\"", slapd.get("SLAPD_BASE_DN")),
        ),
        table("filter") + "user_filter = \"(&(uid={username})(!))\"\n",
        good.clone(),
    ];
    let text = server_config("http", "127.0.0.1", sim.port(), &sim.token, None, &dir.join("data")) + &dirs.concat();
    let (code, out) = run_check(&write_config(&dir, &text), false);
    assert_eq!(code, Some(1), "{out}");
    let expect = [
        ("directory.tcp.tcp", "refused the connection", "fix: check the host and port in directories.tcp.urls"),
        ("directory.tls.tls", "UnknownIssuer", "fix: set directories.tls.ca_file"),
        ("directory.bind.bind", "invalid credentials, LDAP 49", "fix: set directories.bind.bind_password"),
        ("directory.base.base_dn", "does not exist (LDAP 32, noSuchObject)", "fix: set directories.base.base_dn"),
        ("directory.filter.user_filter", "filter", "fix: correct directories.filter.user_filter"),
    ];
    for (name, cause, fix) in expect {
        assert_fails(&out, name, &[cause, fix]);
    }
    for name in ["tcp", "tls", "bind", "base_dn", "user_filter"] {
        assert!(line(&out, &format!("directory.ok.{name}")).starts_with("OK"), "{out}");
    }
    assert!(!out.contains(slapd.get("SLAPD_SERVICE_PW")) && !out.contains("not-the-password"));
    assert!(out.ends_with("5 of 44 checks failed\n"), "{out}");
}

/// AD directories: `check` resolves the scope policy's protected groups as the AD jobs
/// will, so a typo there (which would refuse every AD write) is found before start.
#[tokio::test]
async fn check_resolves_the_protected_groups_of_an_ad_directory() {
    let samba = servers::samba();
    let sim = Sim::start(false).await;
    let dir = sim.dir.path().join("ad");
    let good = servers::samba_delegated_directory("good", &samba);
    let typo = servers::samba_delegated_directory("typo", &samba)
        + "[directories.typo.policy]\nprotected_groups = [\"Tier0Admns\"]\n";
    let nosid = servers::samba_delegated_directory("nosid", &samba)
        + "[directories.nosid.policy]\nprotected_groups = [\"S-1-5-21-0-0-0-1234\"]\n";
    let named = servers::samba_delegated_directory("named", &samba)
        + "[directories.named.policy]\nprotected_groups = [\"Tier0Admins\", \"S-1-5-32-544\"]\n"
        + "writable_attributes = [\"description\", \"descriptoin\", \"userPassword\"]\n";
    let text = server_config("http", "127.0.0.1", sim.port(), &sim.token, None, &dir.join("data"))
        + &good
        + &typo
        + &nosid
        + &named;
    let (code, out) = run_check(&write_config(&dir, &text), false);
    assert_eq!(code, Some(1), "{out}");
    assert_fails(
        &out,
        "directory.typo.protected_groups",
        &["`Tier0Admns`", "cannot be resolved", "fix: correct directories.typo.policy.protected_groups"],
    );
    assert_fails(&out, "directory.nosid.protected_groups", &["`S-1-5-21-0-0-0-1234`", "cannot be resolved"]);
    for name in ["good", "named"] {
        let l = line(&out, &format!("directory.{name}.protected_groups"));
        assert!(l.starts_with("OK") && l.contains("protected principals resolved"), "{l}");
    }
    assert!(line(&out, "directory.named.protected_groups").contains("(2 configured"), "{out}");
    // A typo, or an attribute that is never writable, allows nothing: said before a job fails.
    let l = line(&out, "directory.named.writable_attributes");
    assert!(l.starts_with("WARN") && l.contains("`descriptoin`") && l.contains("`userPassword`"), "{l}");
    assert!(!l.contains("`description`"), "{l}");
}

fn run_check_with(config: &Path, args: &[&str]) -> (Option<i32>, String) {
    let out = Command::new(binary("integration-connector"))
        .args(["check", "--config"])
        .arg(config)
        .args(args)
        .output()
        .expect("run check");
    (out.status.code(), format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr)))
}

/// `check --upgrade` (what an upgrade runs over a kept config): a portal or directory
/// that does not answer warns, as the service starts and retries them; what the service
/// cannot start without still fails: a log folder it cannot write (it exits 69) and a
/// directory CA file it cannot use (it exits 64). Before, the first left the upgraded
/// service stopped and the other two passed.
#[tokio::test]
async fn check_upgrade_fails_only_on_what_the_service_cannot_start_without() {
    let sim = Sim::start(false).await;
    let root = sim.dir.path().join("upgrade");
    let base = server_config("http", "127.0.0.1", 9, &sim.token, None, &root.join("data"));
    let gone = "[directories.gone]\nkind = \"ldap\"\nurls = [\"ldap://127.0.0.1:9\"]\nbind_dn = \"cn=x\"\nbind_password = \"y\"\nbase_dn = \"dc=x\"\n";
    let cfg = write_config(&root.join("down"), &format!("{gone}\n{base}"));
    let (code, out) = run_check(&cfg, false);
    assert_eq!(code, Some(1), "{out}");
    let (code, out) = run_check_with(&cfg, &["--upgrade"]);
    assert_eq!(code, Some(0), "{out}");
    for name in ["server.tcp", "directory.gone.tcp"] {
        let l = line(&out, name);
        assert!(l.starts_with("WARN") && l.contains("(--upgrade: the service starts without it)"), "{out}");
    }

    std::fs::write(root.join("a-file"), "x").unwrap();
    let logs = format!("[logging]\ndir = \"{}\"\n", root.join("a-file/logs").display());
    let cfg = write_config(&root.join("logs"), &format!("{logs}{gone}\n{base}"));
    let (code, out) = run_check_with(&cfg, &["--upgrade"]);
    assert_eq!(code, Some(1), "{out}");
    assert_fails(&out, "logging", &["cannot be written", "logging.dir"]);

    let ca = root.join("not-a-ca.pem");
    std::fs::write(&ca, "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n").unwrap();
    let with_ca =
        gone.replace("base_dn = \"dc=x\"\n", &format!("base_dn = \"dc=x\"\nca_file = \"{}\"\n", ca.display()));
    let cfg = write_config(&root.join("ca"), &format!("{with_ca}\n{base}"));
    let (code, out) = run_check_with(&cfg, &["--upgrade"]);
    assert_ne!(code, Some(0), "a CA file the service cannot use passed the upgrade's check:\n{out}");

    // The portal's CA file too, though the portal does not answer (before: only
    // server.tcp failed, the CA file went unnamed, and the service then exited 64).
    let https = server_config("https", "127.0.0.1", 9, &sim.token, Some(&ca), &root.join("data"));
    let cfg = write_config(&root.join("server-ca"), &https);
    let (code, out) = run_check_with(&cfg, &["--upgrade"]);
    assert_ne!(code, Some(0), "{out}");
    assert!(out.lines().any(|l| l.starts_with("FAIL config:") && l.contains("server.ca_file")), "{out}");
}

/// `check` run by root on a storage path the service's user owns becomes that user (as
/// install.sh runs it): what it creates there (queue, sealing key, log folder) is the
/// service's, which could not start with root's (exit 69), and no link that user planted
/// there is written through with root's rights.
#[tokio::test]
async fn check_as_root_on_a_storage_path_of_another_user_runs_as_that_user() {
    use std::os::unix::fs::MetadataExt;
    let sim = Sim::start(false).await;
    let root = sim.dir.path().join("owned");
    let data = root.join("data");
    std::fs::create_dir_all(&data).unwrap();
    std::fs::set_permissions(&data, std::os::unix::fs::PermissionsExt::from_mode(0o700)).unwrap();
    std::os::unix::fs::chown(&data, Some(65534), Some(65534)).unwrap();
    // The parent must let that user reach its storage path.
    for dir in [sim.dir.path(), root.as_path()] {
        std::fs::set_permissions(dir, std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
    }
    let cfg = write_config(&root, &server_config("http", "127.0.0.1", sim.port(), &sim.token, None, &data));
    std::fs::set_permissions(&cfg, std::os::unix::fs::PermissionsExt::from_mode(0o644)).unwrap();
    let (code, out) = run_check(&cfg, false);
    assert_eq!(code, Some(0), "{out}");
    assert!(line(&out, "user").contains("running as uid 65534"), "{out}");
    let mut made = 0;
    for entry in std::fs::read_dir(&data).unwrap() {
        let entry = entry.unwrap();
        assert_eq!(entry.metadata().unwrap().uid(), 65534, "{} is root's", entry.path().display());
        made += 1;
    }
    assert!(made >= 2, "check made the queue and the key: {made} entries");
}
