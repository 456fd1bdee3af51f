//! SIGKILL at random moments while jobs arrive and run: nothing acknowledged is lost,
//! nothing runs twice (side effects counted), every job ends with exactly one result.

use std::collections::{HashMap, HashSet};
use std::time::Duration;

use rand::Rng;
use serde_json::json;

use crate::harness::{Connector, Sim};

const KILLS: usize = 50;
const JOBS_PER_ROUND: usize = 12;

fn local_ids(c: &Connector) -> HashSet<String> {
    let out = c.cli(&["queue", "list"]);
    assert!(out.status.success(), "queue list failed: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .skip(1)
        .filter_map(|l| l.split_whitespace().next().map(str::to_owned))
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fifty_sigkills_lose_nothing_and_run_nothing_twice() {
    // Short leases: a job leased just before a kill is offered again within seconds.
    let sim = Sim::start_with(false, &["--lease-s", "5"]).await;
    let effects = sim.dir.path().join("side-effects.txt");
    let mut connector = Connector::for_sim(&sim, "c1", "[connector]\ndrain_grace = \"2s\"\n# 50 kills by the test, not by the jobs: no job may be taken for a crash loop.\nmax_attempts = 100\n");
    let mut rng = rand::thread_rng();
    let mut ids: Vec<String> = Vec::new();
    for round in 0..KILLS {
        let specs: Vec<_> = (0..JOBS_PER_ROUND)
            .map(|i| {
                let sleep_ms: u64 = rng.gen_range(0..150);
                json!({"id": format!("crash-{round}-{i}"), "type": "test.touch",
                       "payload": {"path": effects.display().to_string(), "sleep_ms": sleep_ms}})
            })
            .collect();
        ids.extend(sim.submit(json!(specs)).await);
        tokio::time::sleep(Duration::from_millis(rng.gen_range(50..600))).await;
        connector.kill9();
        // Every job the simulator saw acknowledged by us is in the local queue.
        let acked: Vec<String> = futures_util::future::join_all(ids.iter().map(|id| sim.job(id)))
            .await
            .into_iter()
            .filter(|v| v["acks"].as_u64().unwrap_or(0) > 0)
            .filter_map(|v| v["id"].as_str().map(str::to_owned))
            .collect();
        let local = local_ids(&connector);
        for id in &acked {
            assert!(local.contains(id), "round {round}: acknowledged job {id} is missing after SIGKILL");
        }
        connector.restart();
    }
    let views = wait_or_explain(&sim, &connector, &ids).await;
    for v in &views {
        assert_eq!(v["result"]["status"], "succeeded", "job {}: {}", v["id"], v["result"]);
    }
    let text = std::fs::read_to_string(&effects).expect("side-effect file");
    let mut counts: HashMap<&str, usize> = HashMap::new();
    for line in text.lines() {
        *counts.entry(line).or_default() += 1;
    }
    for id in &ids {
        assert_eq!(
            counts.get(id.as_str()).copied().unwrap_or(0),
            1,
            "job {id} ran {:?} times",
            counts.get(id.as_str())
        );
    }
    assert_eq!(counts.len(), ids.len(), "side effects of unknown jobs");
    assert_eq!(sim.violations().await, 0, "protocol violations:\n{}", sim.log());
    eprintln!("crash test: {KILLS} SIGKILLs, {} jobs, each ran exactly once", ids.len());
}

/// Waits for every job; on a timeout, says which jobs are not done and in what state.
async fn wait_or_explain(sim: &Sim, connector: &Connector, ids: &[String]) -> Vec<serde_json::Value> {
    let start = std::time::Instant::now();
    loop {
        let views = futures_util::future::join_all(ids.iter().map(|id| sim.job(id))).await;
        let open: Vec<String> = views
            .iter()
            .filter(|v| v["state"] != "done")
            .map(|v| format!("{} {} acks={} offers={}", v["id"], v["state"], v["acks"], v["offers"]))
            .collect();
        if open.is_empty() {
            return views;
        }
        if start.elapsed() > Duration::from_secs(240) {
            let log = connector.log_text();
            let tail: Vec<&str> = log.lines().rev().take(40).collect();
            panic!(
                "{} jobs not done after 240 s: {:?}\nconnector log (last lines, newest first):\n{}",
                open.len(),
                open,
                tail.join("\n")
            );
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}
