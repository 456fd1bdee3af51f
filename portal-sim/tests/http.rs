//! Whole-process test: the real `portal-sim` binary on port 0 with `--tls`, driven by a
//! real HTTPS client through register → submit → long poll → ack → result, plus the
//! faults, token, archive and log-upload paths and a clean exit on SIGTERM.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use reqwest::{Client, StatusCode};
use serde_json::{json, Value};

const TOKEN: &str = "dGVzdDp0b2tlbg==";

/// One running simulator, killed when dropped.
struct Sim {
    child: Child,
    url: String,
    client: Client,
    connector_id: String,
    _dir: tempfile::TempDir,
}

impl Sim {
    async fn start() -> Sim {
        let _ = rustls::crypto::ring::default_provider().install_default();
        let dir = tempfile::tempdir().expect("temp dir");
        let log = std::fs::File::create(dir.path().join("stderr.log")).expect("log file");
        let mut child = Command::new(env!("CARGO_BIN_EXE_portal-sim"))
            .args(["--listen", "127.0.0.1:0", "--tls", "--token", TOKEN, "--lease-s", "2"])
            .arg("--data-dir")
            .arg(dir.path())
            .env("RUST_LOG", "warn")
            .stdout(Stdio::piped())
            .stderr(Stdio::from(log))
            .spawn()
            .expect("start portal-sim");
        let stdout = child.stdout.take().expect("stdout");
        let mut line = String::new();
        BufReader::new(stdout).read_line(&mut line).expect("read stdout");
        let url = line
            .trim()
            .strip_prefix("portal-sim listening on ")
            .unwrap_or_else(|| panic!("unexpected first line {line:?}"))
            .to_owned();
        assert!(url.starts_with("https://127.0.0.1:"), "{url}");
        let written = std::fs::read_to_string(dir.path().join("url")).expect("url file");
        assert_eq!(written.trim(), url);
        let ca = std::fs::read(dir.path().join("ca.pem")).expect("ca.pem");
        let client = Client::builder()
            .tls_certs_only([reqwest::Certificate::from_pem(&ca).expect("ca cert")])
            .timeout(Duration::from_secs(30))
            .build()
            .expect("client");
        let mut sim = Sim { child, url, client, connector_id: String::new(), _dir: dir };
        let body = json!({"connector_id": null, "name": "ic-test", "hostname": "h.test",
                          "version": "0.1.0", "protocol_version": 1, "future_field": true});
        let reg = sim.post("/register", &body).await;
        assert_eq!(reg.status(), StatusCode::OK);
        let reg: Value = reg.json().await.expect("register json");
        assert_eq!(reg["poll_timeout_s"], 25);
        assert!(reg["server_time"].as_str().is_some_and(|t| t.ends_with('Z')));
        sim.connector_id = reg["connector_id"].as_str().expect("id").to_owned();
        sim
    }

    fn api(&self, path: &str) -> String {
        format!("{}/api/v1/integration-connector{path}", self.url)
    }

    async fn post(&self, path: &str, body: &Value) -> reqwest::Response {
        self.try_post(path, body).await.expect("request")
    }

    async fn try_post(&self, path: &str, body: &Value) -> reqwest::Result<reqwest::Response> {
        self.client
            .post(self.api(path))
            .header("Authorization", format!("Basic {TOKEN}"))
            .header("X-Connector-Id", &self.connector_id)
            .json(body)
            .send()
            .await
    }

    async fn poll(&self, wait: u64) -> Vec<Value> {
        let resp = self
            .client
            .get(self.api(&format!("/jobs?wait={wait}&max=8")))
            .header("Authorization", format!("Basic {TOKEN}"))
            .header("X-Connector-Id", &self.connector_id)
            .send()
            .await
            .expect("poll");
        assert_eq!(resp.status(), StatusCode::OK);
        let body: Value = resp.json().await.expect("poll json");
        body["jobs"].as_array().cloned().unwrap_or_default()
    }

    async fn admin(&self, method: reqwest::Method, path: &str, body: Option<Value>) -> Value {
        let mut req = self.client.request(method, format!("{}/admin{path}", self.url));
        if let Some(body) = body {
            req = req.json(&body);
        }
        let resp = req.send().await.expect("admin request");
        assert!(resp.status().is_success(), "admin {path}: {}", resp.status());
        resp.json().await.unwrap_or(Value::Null)
    }

    async fn submit(&self, spec: Value) -> String {
        let ids = self.admin(reqwest::Method::POST, "/jobs", Some(spec)).await;
        ids["ids"][0].as_str().expect("job id").to_owned()
    }

    async fn job(&self, id: &str) -> Value {
        self.admin(reqwest::Method::GET, &format!("/jobs/{id}"), None).await
    }

    /// SIGTERM the simulator and check that it exits 0.
    fn terminate(mut self) {
        let pid = self.child.id().to_string();
        let sent = Command::new("kill").args(["-TERM", &pid]).status().expect("kill");
        assert!(sent.success());
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            if let Some(status) = self.child.try_wait().expect("wait") {
                assert!(status.success(), "exit status {status}");
                return;
            }
            assert!(Instant::now() < deadline, "portal-sim did not stop on SIGTERM");
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

impl Drop for Sim {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn register_poll_ack_result_over_https() {
    let sim = Sim::start().await;
    let beat = sim.post("/heartbeat", &json!({"status": "online", "queue": {"pending": 0}})).await;
    assert_eq!(beat.status(), StatusCode::OK);

    // The long poll answers as soon as a job arrives, not after `wait`.
    let started = Instant::now();
    let (jobs, id) = tokio::join!(sim.poll(20), async {
        tokio::time::sleep(Duration::from_millis(300)).await;
        sim.submit(json!({"type": "ad.create_user", "payload": {"directory": "corp"}})).await
    });
    assert!(started.elapsed() < Duration::from_secs(5), "{:?}", started.elapsed());
    assert_eq!(jobs.len(), 1);
    assert_eq!(jobs[0]["id"], id.as_str());
    assert_eq!(jobs[0]["lease_s"], 2);
    assert_eq!(jobs[0]["attempt"], 1);
    assert!(jobs[0].get("priority").is_none(), "left-out fields stay out");
    assert_eq!(sim.job(&id).await["state"], "leased");

    let ack = sim.post(&format!("/jobs/{id}/ack"), &json!({})).await;
    assert_eq!(ack.status(), StatusCode::NO_CONTENT);
    let result = json!({"status": "succeeded", "result": {"dn": "CN=a", "guid": "g"},
                        "error": null, "attempts": 1});
    let posted = sim.post(&format!("/jobs/{id}/result"), &result).await;
    assert_eq!(posted.status(), StatusCode::NO_CONTENT);
    let again = sim.post(&format!("/jobs/{id}/result"), &result).await;
    assert_eq!(again.status(), StatusCode::NO_CONTENT);

    let job = sim.job(&id).await;
    assert_eq!(job["state"], "done");
    assert_eq!(job["result"], result);
    assert_eq!(job["leased_to"], sim.connector_id.as_str());
    let summary = sim.admin(reqwest::Method::GET, "/summary", None).await;
    assert_eq!(summary["violations"], 0);
    assert_eq!(summary["jobs"]["done"], 1);
    assert_eq!(summary["connectors"][0]["online"], true);
    assert!(sim.poll(0).await.is_empty());
    sim.terminate();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn drop_after_process_changes_state_but_answers_nothing() {
    let sim = Sim::start().await;
    let id = sim.submit(json!({"type": "t", "payload": {}})).await;
    assert_eq!(sim.poll(5).await.len(), 1);
    let faults = json!({"drop_after_process_rate": 1.0, "paths": ["ack"], "count": 1});
    sim.admin(reqwest::Method::POST, "/faults", Some(faults)).await;
    let dropped = sim.try_post(&format!("/jobs/{id}/ack"), &json!({})).await;
    assert!(dropped.is_err(), "the client must see no answer: {dropped:?}");
    assert_eq!(sim.job(&id).await["state"], "acked");
    let retry = sim.post(&format!("/jobs/{id}/ack"), &json!({})).await;
    assert_eq!(retry.status(), StatusCode::NO_CONTENT, "count used up, repeat ack fine");

    let faults = json!({"status": 503, "retry_after_s": 7, "paths": ["heartbeat"], "count": 1});
    sim.admin(reqwest::Method::POST, "/faults", Some(faults)).await;
    let busy = sim.post("/heartbeat", &json!({"status": "online"})).await;
    assert_eq!(busy.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(busy.headers()["retry-after"], "7");
    let fine = sim.post("/heartbeat", &json!({"status": "online"})).await;
    assert_eq!(fine.status(), StatusCode::OK);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn token_archive_and_lease_expiry() {
    let sim = Sim::start().await;
    let id = sim.submit(json!({"type": "t", "payload": {}, "lease_s": 1})).await;
    assert_eq!(sim.poll(5).await.len(), 1);
    // Not acked within its lease: offered again (attempt 2).
    let again = sim.poll(5).await;
    assert_eq!(again.first().map(|j| j["attempt"].clone()), Some(json!(2)));

    let token = json!({"token": "rotated"});
    let resp = sim.client.post(format!("{}/admin/token", sim.url)).json(&token).send().await;
    assert_eq!(resp.expect("token").status(), StatusCode::NO_CONTENT);
    let refused = sim.post(&format!("/jobs/{id}/ack"), &json!({})).await;
    assert_eq!(refused.status(), StatusCode::UNAUTHORIZED);
    let body: Value = refused.json().await.expect("error body");
    assert_eq!(body["error"]["code"], "unauthorized");
    let violations = sim.admin(reqwest::Method::GET, "/violations", None).await;
    assert_eq!(violations["items"][0]["kind"], "wrong_token");

    sim.admin(reqwest::Method::POST, "/token", Some(json!({"token": TOKEN}))).await;
    let path = format!("/connectors/{}/archive", sim.connector_id);
    sim.admin(reqwest::Method::POST, &path, None).await;
    let archived = sim.post("/heartbeat", &json!({"status": "online"})).await;
    assert_eq!(archived.status(), StatusCode::FORBIDDEN);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn log_upload_arrives_and_its_command_stops() {
    let sim = Sim::start().await;
    let ask = json!({"connector_id": sim.connector_id, "since": "2026-11-27T00:00:00Z"});
    let asked = sim.admin(reqwest::Method::POST, "/log-requests", Some(ask)).await;
    let rid = asked["request_id"].as_str().expect("request id").to_owned();
    let beat = sim.post("/heartbeat", &json!({"status": "online"})).await;
    let commands: Value = beat.json().await.expect("heartbeat json");
    assert_eq!(commands["commands"][0]["type"], "upload_logs");
    assert_eq!(commands["commands"][0]["request_id"], rid.as_str());

    let zip = b"PK\x05\x06not really a zip".to_vec();
    let upload = sim
        .client
        .post(sim.api(&format!("/log-requests/{rid}/upload")))
        .header("Authorization", format!("Basic {TOKEN}"))
        .header("X-Connector-Id", &sim.connector_id)
        .header("Content-Type", "application/zip")
        .body(zip.clone())
        .send()
        .await
        .expect("upload");
    assert_eq!(upload.status(), StatusCode::NO_CONTENT);
    let shown = sim.admin(reqwest::Method::GET, &format!("/log-requests/{rid}"), None).await;
    assert_eq!(shown["received"], true);
    let url = format!("{}/admin/log-requests/{rid}/download", sim.url);
    let got = sim.client.get(url).send().await.expect("download");
    assert_eq!(got.bytes().await.expect("bytes").as_ref(), zip.as_slice());
    let beat = sim.post("/heartbeat", &json!({"status": "online"})).await;
    let commands: Value = beat.json().await.expect("heartbeat json");
    assert_eq!(commands["commands"], json!([]));
    let page = sim.client.get(&sim.url).send().await.expect("page");
    assert!(page.text().await.expect("html").contains("ic-test"));
}

/// What benches read: each step's time after submit (`offered_ms` ≤ `acked_ms` ≤
/// `latency_ms`, none before it happened), `?wait_done` answered when the result is
/// stored rather than at the end of its wait, and each poll's `max` in the summary.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn job_views_time_each_step_and_wait_done_answers_when_the_result_is_stored() {
    let sim = Sim::start().await;
    let id = sim.submit(json!({"type": "t", "payload": {}})).await;
    assert_eq!(sim.poll(5).await.len(), 1);
    let offered = sim.job(&id).await;
    assert!(offered["offered_ms"].is_number(), "{offered}");
    assert!(offered["acked_ms"].is_null() && offered["latency_ms"].is_null(), "{offered}");
    let ack = sim.post(&format!("/jobs/{id}/ack"), &json!({})).await;
    assert_eq!(ack.status(), StatusCode::NO_CONTENT);
    let result = json!({"status": "succeeded", "result": {}, "error": null, "attempts": 1});
    let wait_path = format!("/jobs/{id}?wait_done=30");
    let started = Instant::now();
    let (view, posted) = tokio::join!(sim.admin(reqwest::Method::GET, &wait_path, None), async {
        tokio::time::sleep(Duration::from_millis(300)).await;
        sim.post(&format!("/jobs/{id}/result"), &result).await
    });
    assert_eq!(posted.status(), StatusCode::NO_CONTENT);
    assert!(started.elapsed() < Duration::from_secs(20), "answered at the end of the wait: {:?}", started.elapsed());
    assert_eq!(view["state"], "done", "{view}");
    let step = |k: &str| view[k].as_f64().unwrap_or_else(|| panic!("{k} in {view}"));
    assert!(step("offered_ms") <= step("acked_ms") && step("acked_ms") <= step("latency_ms"), "{view}");
    let summary = sim.admin(reqwest::Method::GET, "/summary", None).await;
    assert_eq!(summary["poll_max"], json!([8]), "the one poll asked for 8");
    sim.terminate();
}
