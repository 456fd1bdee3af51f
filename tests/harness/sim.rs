//! The portal simulator as a child process, and its admin API.

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use serde_json::{json, Value};

use super::{binary, eventually};

pub struct Sim {
    child: Child,
    pub url: String,
    pub dir: tempfile::TempDir,
    pub token: String,
    pub tls: bool,
    http: reqwest::Client,
}

impl Sim {
    pub async fn start(tls: bool) -> Sim {
        Sim::start_with(tls, &[]).await
    }

    pub async fn start_with(tls: bool, args: &[&str]) -> Sim {
        super::init();
        let dir = tempfile::tempdir().expect("temp dir");
        let token = "dGVzdDp0b2tlbg==".to_owned();
        let mut cmd = Command::new(binary("portal-sim"));
        cmd.args(["--listen", "127.0.0.1:0", "--token", &token, "--data-dir"])
            .arg(dir.path().join("sim"))
            .args(args)
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(dir.path().join("sim.log")).expect("sim log"));
        if tls {
            cmd.arg("--tls");
        }
        let child = cmd.spawn().expect("start portal-sim");
        let url_file = dir.path().join("sim").join("url");
        let url = eventually(Duration::from_secs(20), "portal-sim to listen", || {
            let f = url_file.clone();
            async move { std::fs::read_to_string(f).ok().map(|s| s.trim().to_owned()).filter(|s| !s.is_empty()) }
        })
        .await;
        let mut builder = reqwest::Client::builder();
        if tls {
            let pem = std::fs::read(dir.path().join("sim").join("ca.pem")).expect("sim ca.pem");
            builder = builder.tls_certs_merge(reqwest::Certificate::from_pem_bundle(&pem).expect("ca"));
        }
        // No idle connections kept: a keep-alive connection the simulator is closing at
        // the same moment would fail a request for reasons that are not under test.
        let http = builder.pool_max_idle_per_host(0).build().expect("admin client");
        Sim { child, url, dir, token, tls, http }
    }

    pub fn ca_file(&self) -> PathBuf {
        self.dir.path().join("sim").join("ca.pem")
    }

    pub fn port(&self) -> u16 {
        self.url.rsplit(':').next().and_then(|p| p.parse().ok()).expect("port in url")
    }

    pub async fn get(&self, path: &str) -> Value {
        let resp = self.http.get(format!("{}{path}", self.url)).send().await.expect("admin GET");
        resp.json().await.unwrap_or(Value::Null)
    }

    pub async fn post(&self, path: &str, body: Value) -> Value {
        let resp = self.http.post(format!("{}{path}", self.url)).json(&body).send().await.expect("admin POST");
        resp.json().await.unwrap_or(Value::Null)
    }

    /// Submits job specs (an array); returns their ids.
    pub async fn submit(&self, specs: Value) -> Vec<String> {
        let answer = self.post("/admin/jobs", specs).await;
        answer["ids"].as_array().expect("ids").iter().filter_map(|v| v.as_str().map(str::to_owned)).collect()
    }

    pub async fn job(&self, id: &str) -> Value {
        self.get(&format!("/admin/jobs/{id}")).await
    }

    pub async fn summary(&self) -> Value {
        self.get("/admin/summary").await
    }

    pub async fn violations(&self) -> u64 {
        self.get("/admin/violations").await["total"].as_u64().expect("violations total")
    }

    pub async fn faults(&self, spec: Value) {
        self.post("/admin/faults", spec).await;
    }

    pub async fn clear_faults(&self) {
        let _ = self.http.delete(format!("{}/admin/faults", self.url)).send().await;
    }

    /// Waits until every job in `ids` is done; returns their admin views.
    /// The views of `ids` once every one is done. Each poll asks only from the first job
    /// not yet seen done onward and stops at the next one still running, so waiting on
    /// thousands of jobs does not load the simulator (and the CPU a benchmark measures).
    pub async fn wait_done(&self, ids: &[String], limit: Duration) -> Vec<Value> {
        let start = std::time::Instant::now();
        let mut views = Vec::with_capacity(ids.len());
        while let Some(id) = ids.get(views.len()) {
            let v = self.job(id).await;
            if v["state"] == "done" {
                views.push(v);
                continue;
            }
            assert!(
                start.elapsed() < limit,
                "timed out after {limit:?} waiting for jobs to be done at the simulator: {} of {} done, {id} is {}",
                views.len(),
                ids.len(),
                v["state"]
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        views
    }

    /// Waits until the connector shows online.
    pub async fn wait_online(&self, limit: Duration) -> Value {
        eventually(limit, "a connector online at the simulator", || async {
            let s = self.summary().await;
            s["connectors"].as_array()?.iter().find(|c| c["online"] == true).cloned()
        })
        .await
    }

    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("sim.log")).unwrap_or_default()
    }
}

impl Drop for Sim {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A test job spec: `test.noop` with optional sleep.
pub fn noop(sleep_ms: u64) -> Value {
    json!({"type": "test.noop", "payload": {"sleep_ms": sleep_ms}})
}
