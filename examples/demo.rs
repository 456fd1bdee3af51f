//! The local demo (README "Demo"): the portal simulator over HTTPS, the connector, a
//! workload, a summary, then both keep running until Ctrl-C so the pages can be opened.

#[path = "../tests/harness/mod.rs"]
mod harness;

use std::time::{Duration, Instant};

use serde_json::{json, Value};

use harness::{Connector, Sim};

const JOBS: u64 = 500;

#[tokio::main]
async fn main() {
    let sim = Sim::start(true).await;
    println!("portal simulator:   {}/  (Integration Connector List, jobs, results)", sim.url);
    let connector = Connector::for_sim(&sim, "connector", "[connector]\nname = \"ic-demo\"\n");
    let online = sim.wait_online(Duration::from_secs(30)).await;
    println!("connector online:   {} ({})", online["name"], online["connector_id"]);

    let specs: Vec<Value> = (0..JOBS)
        .map(|i| match i % 10 {
            0 => json!({"type": "test.noop", "payload": {"fail_with": "user_not_found"}}),
            1 => {
                json!({"type": "ldap.authenticate", "payload": {"directory": "corp", "username": "a", "password": "b"}})
            }
            _ => json!({"type": "test.noop", "payload": {"sleep_ms": 5}}),
        })
        .collect();
    let start = Instant::now();
    let ids = sim.submit(json!(specs)).await;
    let views = sim.wait_done(&ids, Duration::from_secs(120)).await;
    let secs = start.elapsed().as_secs_f64();
    let mut outcomes = std::collections::BTreeMap::new();
    for v in &views {
        let key = match v["result"]["status"].as_str() {
            Some("succeeded") => "succeeded".to_owned(),
            _ => format!("failed: {}", v["result"]["error"]["code"].as_str().unwrap_or("?")),
        };
        *outcomes.entry(key).or_insert(0u64) += 1;
    }
    println!("\n{JOBS} jobs through simulator → connector → result in {secs:.2} s ({:.0} jobs/s)", JOBS as f64 / secs);
    for (k, n) in outcomes {
        println!("  {n:>5}  {k}");
    }
    println!("protocol violations seen by the simulator: {}", sim.violations().await);
    println!("connector log: {}", connector.log.display());
    println!("\nPress Ctrl-C to stop the simulator and the connector.");
    let _ = tokio::signal::ctrl_c().await;
    drop(connector);
    drop(sim);
}
