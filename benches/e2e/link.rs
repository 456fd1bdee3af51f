//! Workload `link`: no-op jobs through simulator → connector → result, against a
//! baseline client in this process that does the same protocol steps (poll, ack,
//! result) with no durability, on the same simulator build.

use std::time::{Duration, Instant};

use serde_json::{json, Value};

use crate::harness::{eventually, Connector, Sim};
use crate::Row;

const JOBS: u64 = 5_000;

async fn submit(sim: &Sim, n: u64) {
    for chunk in 0..n.div_ceil(1000) {
        let count = (n - chunk * 1000).min(1000);
        let specs: Vec<Value> = (0..count).map(|_| json!({"type": "test.noop", "payload": {}})).collect();
        sim.submit(json!(specs)).await;
    }
}

async fn wait_done(sim: &Sim, n: u64) {
    eventually(Duration::from_secs(600), "all jobs done", || async {
        (sim.summary().await["jobs"]["done"].as_u64()? >= n).then_some(())
    })
    .await;
}

/// Poll, ack, result, with 32 jobs in flight per poll and no disk: the floor.
async fn baseline(sim: &Sim) -> f64 {
    let http = reqwest::Client::new();
    let base = format!("{}/api/v1/integration-connector", sim.url);
    let auth = format!("Basic {}", sim.token);
    let reg: Value = http
        .post(format!("{base}/register"))
        .header("Authorization", &auth)
        .json(&json!({"connector_id": null, "name": "baseline", "hostname": "bench", "os": "linux",
            "arch": "x86_64", "version": "0", "protocol_version": 1, "capabilities": ["test.noop"],
            "directories": [], "max_concurrency": 32}))
        .send()
        .await
        .expect("register")
        .json()
        .await
        .expect("register body");
    let id = reg["connector_id"].as_str().expect("connector id").to_owned();
    submit(sim, JOBS).await;
    let start = Instant::now();
    let mut done = 0;
    while done < JOBS {
        let jobs: Value = http
            .get(format!("{base}/jobs?wait=1&max=32"))
            .header("Authorization", &auth)
            .header("X-Connector-Id", &id)
            .send()
            .await
            .expect("poll")
            .json()
            .await
            .expect("jobs");
        let list = jobs["jobs"].as_array().cloned().unwrap_or_default();
        let steps = list.iter().map(|j| {
            let (http, base, auth, id) = (http.clone(), base.clone(), auth.clone(), id.clone());
            let job = j["id"].as_str().unwrap_or_default().to_owned();
            async move {
                let post = |path: String, body: Value| {
                    http.post(format!("{base}{path}"))
                        .header("Authorization", &auth)
                        .header("X-Connector-Id", &id)
                        .json(&body)
                        .send()
                };
                post(format!("/jobs/{job}/ack"), json!({})).await.expect("ack");
                let result = json!({"status": "succeeded", "result": {"ok": true}, "error": null,
                    "started_at": null, "finished_at": "2026-11-27T00:00:00Z", "attempts": 1});
                post(format!("/jobs/{job}/result"), result).await.expect("result");
            }
        });
        futures_util::future::join_all(steps).await;
        done += list.len() as u64;
    }
    JOBS as f64 / start.elapsed().as_secs_f64()
}

pub async fn run() -> Vec<Row> {
    let base_sim = Sim::start(false).await;
    let baseline = baseline(&base_sim).await;
    eprintln!("link baseline: {baseline:.0} jobs/s");

    let mut rows = Vec::new();
    for (label, tls) in [("link: no-op jobs, HTTP", false), ("link: no-op jobs, HTTPS", true)] {
        let sim = Sim::start(tls).await;
        let connector = Connector::for_sim(&sim, "c1", "[connector]\nmax_concurrency = 32\n");
        sim.wait_online(Duration::from_secs(30)).await;
        let polls_before = sim.summary().await["polls"].as_u64().expect("the simulator's poll count");
        let start = Instant::now();
        submit(&sim, JOBS).await;
        wait_done(&sim, JOBS).await;
        let seconds = start.elapsed().as_secs_f64();
        let polls = sim.summary().await["polls"].as_u64().expect("the simulator's poll count") - polls_before;
        assert_eq!(sim.violations().await, 0, "protocol violations during the bench");
        drop(connector);
        let per_poll = JOBS as f64 / polls.max(1) as f64;
        let note = format!(
            "baseline: an in-process client doing poll/ack/result with nothing durable; {polls} polls, {per_poll:.1} jobs per poll"
        );
        rows.push(Row { workload: label.into(), items: JOBS, seconds, baseline_per_s: Some(baseline), note });
    }
    rows
}
