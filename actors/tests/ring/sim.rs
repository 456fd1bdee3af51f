//! The portal simulator (the `portal-sim` binary of this workspace) as a child process on
//! an ephemeral loopback port, and the few admin calls the ring's tests make.

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

pub const TOKEN: &str = "dGVzdDp0b2tlbg==";

pub struct Sim {
    child: Child,
    /// `http://127.0.0.1:{port}`.
    pub url: String,
    pub dir: tempfile::TempDir,
    http: reqwest::Client,
}

/// The binary next to this test's executable (`target/{profile}/portal-sim`).
fn binary() -> PathBuf {
    let exe = std::env::current_exe().expect("test executable path");
    let path = exe.parent().and_then(|deps| deps.parent()).expect("target profile dir").join("portal-sim");
    assert!(path.exists(), "{} is missing: run `cargo build --workspace --features test-jobs` first", path.display());
    path
}

impl Sim {
    pub async fn start() -> Sim {
        let _ = rustls::crypto::ring::default_provider().install_default();
        let dir = tempfile::tempdir().expect("temp dir");
        let child = Command::new(binary())
            .args(["--listen", "127.0.0.1:0", "--token", TOKEN, "--data-dir"])
            .arg(dir.path().join("sim"))
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(dir.path().join("sim.log")).expect("sim log"))
            .spawn()
            .expect("start portal-sim");
        let url_file = dir.path().join("sim").join("url");
        let start = Instant::now();
        let url = loop {
            if let Some(url) = std::fs::read_to_string(&url_file).ok().map(|s| s.trim().to_owned()) {
                if !url.is_empty() {
                    break url;
                }
            }
            assert!(start.elapsed() < Duration::from_secs(20), "portal-sim did not listen within 20 s");
            tokio::time::sleep(Duration::from_millis(50)).await;
        };
        let http = reqwest::Client::builder().pool_max_idle_per_host(0).build().expect("admin client");
        Sim { child, url, dir, http }
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

/// Polls `check` every 50 ms until it returns `Some`, or panics naming `what` after `limit`
/// (a liveness bound, not a performance assertion).
pub async fn eventually<T, F, Fut>(limit: Duration, what: &str, mut check: F) -> T
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Option<T>>,
{
    let start = Instant::now();
    loop {
        if let Some(v) = check().await {
            return v;
        }
        assert!(start.elapsed() < limit, "timed out after {limit:?} waiting for {what}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}
