//! Reload faults: SIGHUP while jobs run, with the config file gone, torn half-written,
//! and a burst of signals over a valid change. The connector keeps running on the
//! configuration it has (or the valid new one), and every job runs once.

use std::path::Path;
use std::time::Duration;

use serde_json::{json, Value};

use crate::harness::connector::config_for;
use crate::harness::servers;
use crate::harness::{eventually, logged_ui_url, Connector, Sim};
use crate::suite::{Scenario, Tally};

const LIMIT: Duration = Duration::from_secs(120);

pub fn scenarios() -> Vec<Scenario> {
    vec![Scenario::new(
        "reload: SIGHUP with the file gone, torn, and in a burst while jobs run: every job once, the running config kept",
        hangups_while_jobs_run,
    )]
}

fn touches(prefix: &str, n: usize, effects: &Path) -> Value {
    let specs: Vec<Value> = (0..n)
        .map(|i| {
            json!({"id": format!("{prefix}-{i}"), "type": "test.touch",
                   "payload": {"path": effects.display().to_string(), "sleep_ms": 20}})
        })
        .collect();
    Value::Array(specs)
}

async fn last_reload(ui: &str) -> Value {
    let status: Value = reqwest::get(format!("{}/api/status", ui.trim_end_matches('/')))
        .await
        .expect("GET /api/status")
        .json()
        .await
        .expect("status JSON");
    status["config"]["last_reload"].clone()
}

fn hup(c: &Connector) {
    assert_eq!(unsafe { libc::kill(c.pid().expect("running") as i32, libc::SIGHUP) }, 0);
}

async fn reloaded_after(ui: &str, before: &Value) -> Value {
    eventually(LIMIT, "the reload's outcome", || async {
        let now = last_reload(ui).await;
        (now != *before).then_some(now)
    })
    .await
}

async fn hangups_while_jobs_run() -> Tally {
    let env = servers::slapd();
    let sim = Sim::start(false).await;
    let dir = servers::slapd_directory("corp", &env, false);
    let c = Connector::for_sim(&sim, "c1", &dir);
    sim.wait_online(LIMIT).await;
    let ui = logged_ui_url(|| c.log_text()).await;
    let effects = c.dir.join("effects.txt");
    let good = std::fs::read_to_string(&c.config).expect("config");
    let mut sent = sim.submit(touches("before", 60, &effects)).await;

    // The file is gone (an editor's rename, a package upgrade in progress).
    let before = last_reload(&ui).await;
    std::fs::remove_file(&c.config).expect("remove config");
    hup(&c);
    let gone = reloaded_after(&ui, &before).await;
    assert_eq!(gone["outcome"], "refused", "{gone}");
    assert!(gone["problems"].to_string().contains("cannot read the config file"), "{gone}");
    sent.extend(sim.submit(touches("gone", 60, &effects)).await);

    // Torn: half of the file, cut inside a table.
    std::fs::write(&c.config, &good[..good.len() / 2]).expect("torn config");
    hup(&c);
    let torn = reloaded_after(&ui, &gone).await;
    assert_eq!(torn["outcome"], "refused", "{torn}");
    sent.extend(sim.submit(touches("torn", 60, &effects)).await);

    // A valid change, and ten signals at once.
    let changed = config_for(&sim, &c.dir.join("data"), &servers::slapd_directory("corp", &env, true));
    std::fs::write(&c.config, changed).expect("config");
    for _ in 0..10 {
        hup(&c);
    }
    eventually(LIMIT, "the valid file applied", || async {
        (last_reload(&ui).await["outcome"] == "applied").then_some(())
    })
    .await;
    sent.extend(sim.submit(touches("burst", 60, &effects)).await);
    let login = sim
        .submit(json!([{"type": "ldap.authenticate", "payload": {"directory": "corp",
            "username": env.get("SLAPD_USER_OK"), "password": env.get("SLAPD_USER_OK_PW")}}]))
        .await;
    let views = sim.wait_done(&sent, LIMIT).await;
    let login = sim.wait_done(&login, LIMIT).await.remove(0);
    assert_eq!(login["result"]["result"]["authenticated"], true, "{}", login["result"]);
    assert_eq!(sim.violations().await, 0, "{}", sim.log());

    let mut results: Vec<String> = views
        .iter()
        .filter(|v| v["result"]["status"] == "succeeded")
        .filter_map(|v| v["id"].as_str().map(str::to_owned))
        .collect();
    let written = std::fs::read_to_string(&effects).unwrap_or_default();
    for id in &sent {
        let n = written.lines().filter(|l| l == id).count();
        results.extend(std::iter::repeat_n(id.clone(), n.saturating_sub(1)));
    }
    Tally::from_results(&sent, &results)
}
