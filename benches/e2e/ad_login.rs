//! Workload `ad-login`: the login per-step table (see `timing.rs`) on the shared test
//! Samba AD DC named by `IC_TEST_SAMBA_ENV` (LDAPS), without provisioning a DC of its own
//! (the `ad-read` workload needs ports 389/636 free; this one shares the running DC).

use std::time::Duration;

use serde_json::json;

use crate::harness::{servers, Connector, Sim};
use crate::timing::{self, Pacing};
use crate::Row;

pub async fn run() -> Vec<Row> {
    let env = servers::samba();
    let sim = Sim::start(false).await;
    let c = Connector::for_sim(&sim, "c1", &servers::samba_directory("ad", &env));
    sim.wait_online(Duration::from_secs(30)).await;
    let (rate, secs) = (20u32, 10u32);
    let (user, pw) = (env.get("AD_USER_OK").to_owned(), env.get("AD_FIXTURE_PW").to_owned());
    let spec =
        |_| json!({"type": "ldap.authenticate", "payload": {"directory": "ad", "username": user, "password": pw}});
    // One uncounted second: the first logins open the pool's connections.
    timing::run(&sim.url, rate, 1, Pacing::Even, spec).await;
    let samples = timing::run(&sim.url, rate, secs, Pacing::Even, spec).await;
    for s in &samples {
        assert_eq!(s.view["result"]["result"]["authenticated"], true, "{}", s.view["result"]);
    }
    eprintln!("{}", timing::steps_table(&format!("logins at {rate}/s on Samba AD (LDAPS), evenly spaced"), &samples));
    drop(c);
    let (p50, p99) = timing::p50_p99(samples.iter().map(|s| s.sim_ms).collect());
    vec![Row {
        workload: format!("login at {rate}/s on the shared test Samba AD (LDAPS), evenly spaced"),
        items: samples.len() as u64,
        seconds: secs as f64,
        baseline_per_s: None,
        note: format!("p50 {p50:.1} ms, p99 {p99:.1} ms (submit → result at the portal)"),
    }]
}
