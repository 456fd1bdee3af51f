//! Timing logins two ways at once (issue #17): the simulator's own timestamps
//! (`offered_ms`, `acked_ms`, `latency_ms` after its enqueue) and an independent client
//! in this process that timestamps its own submit and the moment it learns of the
//! result (`GET /admin/jobs/{id}?wait_done`, over one kept-alive connection per task).
//! The client's figure includes its submit's and its wait's round trips, so it is an
//! upper bound of the true latency; the simulator's must sit just below it.
//!
//! Also the per-step table: where a login's time goes between the portal and the
//! connector, from those timestamps and the result's `started_at` / `finished_at`.

use std::time::{Duration, Instant};

use serde_json::{json, Value};

/// How the offered rate is spread over time.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Pacing {
    /// One login every 1/rate s, each its own submit: what a portal with many users sees.
    Even,
    /// The bench's old pattern: every 50 ms, one submit of rate/20 logins.
    Bursts,
}

/// One login as both clocks saw it (ms).
#[derive(Debug, Clone)]
pub struct Sample {
    /// This process: before its submit → its wait answered with the result.
    pub client_ms: f64,
    /// The simulator: enqueue → result stored.
    pub sim_ms: f64,
    pub offered_ms: f64,
    pub acked_ms: f64,
    /// The connector's `finished_at − started_at` (ms resolution).
    pub exec_ms: f64,
    pub view: Value,
}

/// Submits `specs(i)` for `i` in `0..rate × secs` at `rate`/s, paced by `pacing`, and
/// waits for every result; the samples in submit order.
pub async fn run(url: &str, rate: u32, secs: u32, pacing: Pacing, spec: impl Fn(usize) -> Value) -> Vec<Sample> {
    let total = (rate * secs) as usize;
    let per_submit = match pacing {
        Pacing::Even => 1,
        Pacing::Bursts => (rate as usize / 20).max(1),
    };
    let gap = Duration::from_secs_f64(per_submit as f64 / rate as f64);
    // Kept-alive connections, idle for less than the simulator's 5 s keep-alive, so none
    // is closed under a request; no connect in what the client times.
    let http =
        reqwest::Client::builder().tcp_nodelay(true).pool_idle_timeout(Duration::from_secs(2)).build().expect("client");
    let begin = tokio::time::Instant::now();
    let mut tasks = Vec::new();
    for (n, first) in (0..total).step_by(per_submit).enumerate() {
        tokio::time::sleep_until(begin + gap * n as u32).await;
        let specs: Vec<Value> = (first..(first + per_submit).min(total)).map(&spec).collect();
        let (url, http) = (url.to_owned(), http.clone());
        tasks.push(tokio::spawn(async move { one_submit(&http, &url, specs).await }));
    }
    let mut out = Vec::with_capacity(total);
    for t in tasks {
        out.extend(t.await.expect("login task"));
    }
    out
}

/// One submit of `specs` and the wait for each of their results.
async fn one_submit(http: &reqwest::Client, url: &str, specs: Vec<Value>) -> Vec<Sample> {
    let t0 = Instant::now();
    let answer: Value = http
        .post(format!("{url}/admin/jobs"))
        .json(&json!(specs))
        .send()
        .await
        .expect("submit")
        .json()
        .await
        .expect("submit answer");
    let ids: Vec<String> =
        answer["ids"].as_array().expect("ids").iter().filter_map(|v| v.as_str().map(str::to_owned)).collect();
    let mut out = Vec::new();
    for id in ids {
        let view = loop {
            let v: Value = http
                .get(format!("{url}/admin/jobs/{id}?wait_done=30"))
                .send()
                .await
                .expect("wait")
                .json()
                .await
                .expect("view");
            if v["state"] == "done" {
                break v;
            }
        };
        let client_ms = t0.elapsed().as_secs_f64() * 1000.0;
        out.push(Sample { client_ms, ..Sample::of_view(&view) });
    }
    out
}

impl Sample {
    /// The simulator's figures of one job's admin view (no client timing: NaN).
    pub fn of_view(view: &Value) -> Sample {
        let ms = |k: &str| view[k].as_f64().unwrap_or(f64::NAN);
        Sample {
            client_ms: f64::NAN,
            sim_ms: ms("latency_ms"),
            offered_ms: ms("offered_ms"),
            acked_ms: ms("acked_ms"),
            exec_ms: exec_ms(&view["result"]).unwrap_or(f64::NAN),
            view: view.clone(),
        }
    }
}

pub fn exec_ms(r: &Value) -> Option<f64> {
    let start = humantime::parse_rfc3339_weak(r["started_at"].as_str()?).ok()?;
    let end = humantime::parse_rfc3339_weak(r["finished_at"].as_str()?).ok()?;
    Some(end.duration_since(start).ok()?.as_secs_f64() * 1000.0)
}

pub fn percentile(sorted: &[f64], p: f64) -> f64 {
    sorted.get(((sorted.len() as f64 - 1.0) * p).round() as usize).copied().unwrap_or(f64::NAN)
}

pub fn p50_p99(mut v: Vec<f64>) -> (f64, f64) {
    v.retain(|x| x.is_finite());
    v.sort_by(f64::total_cmp);
    (percentile(&v, 0.5), percentile(&v, 0.99))
}

/// The per-step table (markdown) of `samples`: p50 and p99 of each step, in ms.
pub fn steps_table(title: &str, samples: &[Sample]) -> String {
    let col = |f: &dyn Fn(&Sample) -> f64| p50_p99(samples.iter().map(f).collect());
    let rows: [(&str, (f64, f64)); 7] = [
        ("submit → handed out in a poll answer (simulator: poll wake-up, hand-out)", col(&|s| s.offered_ms)),
        ("handed out → acked (connector: parse, store + flush, ack round trip)", col(&|s| s.acked_ms - s.offered_ms)),
        (
            "acked → result stored, less the run (connector: scheduling, result flush, post; a login's start is not flushed)",
            col(&|s| s.sim_ms - s.acked_ms - s.exec_ms),
        ),
        ("the run: started_at → finished_at (search, bind, reads; ms resolution)", col(&|s| s.exec_ms)),
        ("submit → result stored (simulator's latency)", col(&|s| s.sim_ms)),
        ("independent client: before its submit → result seen", col(&|s| s.client_ms)),
        ("client − simulator (the measuring tool's own share)", col(&|s| s.client_ms - s.sim_ms)),
    ];
    let mut out = format!("\n{title} ({} logins)\n| step | p50 ms | p99 ms |\n|---|---:|---:|\n", samples.len());
    for (name, (p50, p99)) in rows {
        out.push_str(&format!("| {name} | {p50:.2} | {p99:.2} |\n"));
    }
    out
}

/// The directory's own steps, timed by a bare client in the same run (markdown rows).
pub fn bare_table(searches: &[f64], binds: &[f64]) -> String {
    let total: Vec<f64> = searches.iter().zip(binds).map(|(a, b)| a + b).collect();
    let mut out = format!(
        "\nbare client, same slapd, same rate ({} logins)\n| step | p50 ms | p99 ms |\n|---|---:|---:|\n",
        total.len()
    );
    for (name, v) in [
        ("search (service connection)", searches.to_vec()),
        ("bind as the user", binds.to_vec()),
        ("search + bind", total),
    ] {
        let (p50, p99) = p50_p99(v);
        out.push_str(&format!("| {name} | {p50:.2} | {p99:.2} |\n"));
    }
    out
}

/// The disk's floor under a login's connector share: each login waits for two flushes in
/// a row (its job stored before its ack, PROTOCOL.md §2.3; its result stored before its
/// post, §2.5), so this times two appends of 512 bytes each followed by `fdatasync`, in
/// a file in `dir`, `rate` times a second for `secs` seconds. Returns the pairs' times, ms.
pub fn two_flushes_ms(dir: &std::path::Path, rate: u64, secs: u64) -> Vec<f64> {
    use std::io::Write;
    assert!(rate > 0, "a rate of 0 flushes per second");
    let path = dir.join("flush-floor");
    let mut file = std::fs::File::create(&path).expect("flush-floor file");
    let pause = std::time::Duration::from_secs_f64(1.0 / rate as f64);
    let mut out = Vec::new();
    for _ in 0..rate * secs {
        let start = std::time::Instant::now();
        for _ in 0..2 {
            file.write_all(&[b'x'; 512]).expect("write");
            file.sync_data().expect("fdatasync");
        }
        out.push(start.elapsed().as_secs_f64() * 1000.0);
        std::thread::sleep(pause.saturating_sub(start.elapsed()));
    }
    let _ = std::fs::remove_file(path);
    out
}
