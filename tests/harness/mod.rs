//! Whole-process test harness: the real portal simulator and the real connector binary,
//! each a child process on an ephemeral loopback port, with a temp dir per test.
//! A missing binary fails the test loudly: build with `cargo build --workspace --features test-jobs`.

#![allow(dead_code)]

pub mod ber;
pub mod browser;
pub mod connector;
pub mod dns;
pub mod servers;
pub mod sim;

pub use connector::Connector;
pub use sim::Sim;

use std::path::PathBuf;
use std::time::{Duration, Instant};

/// `target/debug` (or the profile dir) holding the binaries under test.
pub fn bin_dir() -> PathBuf {
    let exe = std::env::current_exe().expect("test executable path");
    exe.parent().and_then(|deps| deps.parent()).expect("target profile dir").to_path_buf()
}

pub fn binary(name: &str) -> PathBuf {
    let path = bin_dir().join(name);
    assert!(
        path.exists(),
        "{} is missing: run `cargo build --workspace --features test-jobs` first (the README's test command does)",
        path.display()
    );
    path
}

pub fn init() {
    let _ = rustls::crypto::ring::default_provider().install_default();
}

/// Polls `check` every 50 ms until it returns `Some`, or panics with `what` after `limit`.
/// The limit is a liveness bound, not a performance assertion.
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
        assert!(start.elapsed() < limit, "timed out after {limit:?} waiting for: {what}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// The web UI address a connector logged (`web UI listening url=…`), once it has; `log`
/// reads the connector's log so far.
pub async fn logged_ui_url(log: impl Fn() -> String) -> String {
    eventually(Duration::from_secs(60), "the connector to log its web UI address", || async {
        let text = log();
        let at = text.find("web UI listening url=")?;
        let rest = &text[at + "web UI listening url=".len()..];
        Some(rest.split_whitespace().next()?.trim_matches('"').to_owned())
    })
    .await
}

/// An old log file in `dir` of `raw_bytes` random bytes as base64 (incompressible text),
/// named and dated as one opened at `start_ms` and last written an hour later.
pub fn old_log(dir: &std::path::Path, start_ms: u64, raw_bytes: usize) -> String {
    use base64::Engine;
    use rand::RngCore;
    let mut raw = vec![0u8; raw_bytes];
    rand::thread_rng().fill_bytes(&mut raw);
    let name = connector_actors::logship::bundle::file_name(start_ms, "log");
    let path = dir.join(&name);
    std::fs::write(&path, base64::engine::general_purpose::STANDARD.encode(raw)).expect("old log");
    let f = std::fs::File::options().write(true).open(&path).expect("open");
    f.set_modified(connector_actors::time::from_unix_ms(start_ms + 3_600_000)).expect("mtime");
    name
}
