//! The server link against the simulator over real HTTP(S): status codes, lost acks
//! and results, leases, several connectors, wrong CA/token, server down, bad jobs, drain.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use serde_json::{json, Value};

use crate::harness::sim::noop;
use crate::harness::{eventually, Connector, Sim};

const LIMIT: Duration = Duration::from_secs(30);

fn touch(sim: &Sim, id: &str, sleep_ms: u64) -> Value {
    let path = sim.dir.path().join("effects.txt");
    json!({"id": id, "type": "test.touch", "payload": {"path": path.display().to_string(), "sleep_ms": sleep_ms}})
}

fn effect_counts(sim: &Sim) -> HashMap<String, usize> {
    let text = std::fs::read_to_string(sim.dir.path().join("effects.txt")).unwrap_or_default();
    let mut counts = HashMap::new();
    for l in text.lines() {
        *counts.entry(l.to_owned()).or_default() += 1;
    }
    counts
}

async fn wait_log(c: &Connector, needle: &str) {
    eventually(LIMIT, &format!("connector log line containing {needle:?}"), || async {
        c.log_text().contains(needle).then_some(())
    })
    .await;
}

#[tokio::test]
async fn jobs_run_over_https_and_invalid_or_oversized_jobs_fail_while_good_ones_still_run() {
    let sim = Sim::start(true).await;
    let _c = Connector::for_sim(&sim, "c1", "");
    let big = "x".repeat(1_100_000);
    let ids = sim
        .submit(json!([
            {"raw": {"id": "bad-no-type", "payload": {}}},
            {"raw": {"id": "bad-payload", "type": "test.noop", "payload": [1, 2]}},
            {"id": "bad-field", "type": "ldap.authenticate", "payload": {"directory": "corp", "username": 7, "password": "x"}},
            {"id": "bad-type", "type": "ad.format_c", "payload": {}},
            {"id": "bad-big", "type": "test.noop", "payload": {"blob": big}},
            {"id": "bad-dir", "type": "ldap.authenticate", "payload": {"directory": "nowhere", "username": "a", "password": "b"}},
            {"id": "good", "type": "test.noop", "payload": {}},
        ]))
        .await;
    let views = sim.wait_done(&ids, LIMIT).await;
    let by_id: HashMap<&str, &Value> = views.iter().map(|v| (v["id"].as_str().unwrap(), v)).collect();
    let code = |id: &str| by_id[id]["result"]["error"]["code"].as_str().unwrap_or("").to_owned();
    let message = |id: &str| by_id[id]["result"]["error"]["message"].as_str().unwrap_or("").to_owned();
    assert_eq!(code("bad-no-type"), "invalid_job");
    assert!(message("bad-no-type").contains("`type`"));
    assert!(message("bad-payload").contains("`payload`"));
    assert!(message("bad-field").contains("invalid type"), "{}", message("bad-field"));
    assert!(message("bad-type").contains("ad.format_c"));
    assert!(message("bad-big").contains("bytes"));
    assert_eq!(code("bad-dir"), "unknown_directory");
    assert_eq!(by_id["good"]["result"]["status"], "succeeded");
    assert_eq!(sim.violations().await, 0);
}

#[tokio::test]
async fn a_lost_ack_and_a_lost_result_still_end_with_one_run_and_one_result() {
    let sim = Sim::start(false).await;
    let _c = Connector::for_sim(&sim, "c1", "");
    sim.wait_online(LIMIT).await;
    sim.faults(json!({"drop_after_process_rate": 1.0, "paths": ["ack"], "count": 1})).await;
    let a = sim.submit(json!([touch(&sim, "lost-ack", 0)])).await;
    sim.wait_done(&a, LIMIT).await;
    sim.faults(json!({"drop_after_process_rate": 1.0, "paths": ["result"], "count": 1})).await;
    let b = sim.submit(json!([touch(&sim, "lost-result", 0)])).await;
    sim.wait_done(&b, LIMIT).await;
    // The simulator stored the first post; the connector never saw the answer, so it sends
    // the same body again, and the simulator takes it as an identical repeat.
    eventually(LIMIT, "the lost result to be sent again", || async {
        (sim.job("lost-result").await["result_posts"].as_u64()? >= 2).then_some(())
    })
    .await;
    let counts = effect_counts(&sim);
    assert_eq!((counts["lost-ack"], counts["lost-result"]), (1, 1));
    let a_view = sim.job("lost-ack").await;
    assert!(a_view["acks"].as_u64().unwrap() >= 2, "the lost ack was not repeated: {a_view}");
    assert_eq!(sim.violations().await, 0, "{}", sim.log());
}

#[tokio::test]
async fn an_ack_after_the_lease_expired_never_runs_the_job_twice() {
    let sim = Sim::start(false).await;
    let _c = Connector::for_sim(&sim, "c1", "");
    sim.wait_online(LIMIT).await;
    // Acks arrive after the 1 s lease: the job is offered again meanwhile.
    sim.faults(json!({"lease_s": 1, "latency_ms": 1500, "paths": ["ack"], "count": 2})).await;
    let ids = sim.submit(json!([touch(&sim, "late-ack", 0)])).await;
    let views = sim.wait_done(&ids, LIMIT).await;
    assert_eq!(views[0]["result"]["status"], "succeeded");
    assert_eq!(effect_counts(&sim)["late-ack"], 1);
    assert_eq!(sim.violations().await, 0, "{}", sim.log());
}

#[tokio::test]
async fn ack_404_and_409_drop_the_job_without_running_it() {
    let sim = Sim::start_with(false, &["--lease-s", "1"]).await;
    let c = Connector::for_sim(&sim, "c1", "");
    sim.wait_online(LIMIT).await;
    for status in [404, 409] {
        sim.faults(json!({"status": status, "paths": ["ack"], "count": 1})).await;
        let id = format!("refused-{status}");
        let ids = sim.submit(json!([touch(&sim, &id, 0)])).await;
        // The simulator offers it again after the 1 s lease; then it runs, once.
        let views = sim.wait_done(&ids, LIMIT).await;
        assert!(views[0]["offers"].as_u64().unwrap() >= 2);
        assert_eq!(effect_counts(&sim)[&id], 1);
    }
    assert!(c.log_text().contains("took the job back"));
}

#[tokio::test]
async fn overload_and_server_errors_are_retried_honouring_retry_after() {
    let sim = Sim::start(false).await;
    let c = Connector::for_sim(&sim, "c1", "");
    sim.wait_online(LIMIT).await;
    sim.faults(json!({"status": 429, "retry_after_s": 2, "paths": ["result"], "count": 1})).await;
    let started = Instant::now();
    let ids = sim.submit(json!([noop(0)])).await;
    sim.wait_done(&ids, LIMIT).await;
    assert!(started.elapsed() >= Duration::from_secs(2), "Retry-After: 2 was not honoured");
    for status in [500, 502, 503] {
        sim.faults(json!({"status": status, "paths": ["result", "jobs", "ack"], "count": 2})).await;
        let ids = sim.submit(json!([noop(0)])).await;
        let views = sim.wait_done(&ids, LIMIT).await;
        assert_eq!(views[0]["result"]["status"], "succeeded");
    }
    assert!(c.log_text().contains("retrying") || c.log_text().contains("will be retried"));
    assert_eq!(sim.violations().await, 0);
}

#[tokio::test]
async fn a_result_refused_with_400_is_not_sent_again_and_the_job_is_dead() {
    let sim = Sim::start(false).await;
    let mut c = Connector::for_sim(&sim, "c1", "");
    sim.wait_online(LIMIT).await;
    sim.faults(json!({"status": 400, "paths": ["result"], "count": 1})).await;
    let ids = sim.submit(json!([noop(0)])).await;
    wait_log(&c, "refused our body as malformed").await;
    tokio::time::sleep(Duration::from_millis(1500)).await;
    // The injected 400 came before the simulator processed the post: had the connector
    // sent the body again, it would have been stored.
    let view = sim.job(&ids[0]).await;
    assert_eq!(
        (view["result_posts"].as_u64(), view["state"].as_str()),
        (Some(0), Some("acked")),
        "a 400'd body was sent again: {view}"
    );
    c.terminate(LIMIT);
    let out = c.cli(&["queue", "list"]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.lines().any(|l| l.starts_with(&ids[0]) && l.contains("dead")), "{text}");
}

#[tokio::test]
async fn a_wrong_token_is_unauthorized_until_fixed_and_an_archived_connector_takes_no_jobs() {
    let sim = Sim::start(false).await;
    let c = Connector::for_sim(&sim, "c1", "");
    let online = sim.wait_online(LIMIT).await;
    sim.post("/admin/token", json!({"token": "bmV3OnRva2Vu"})).await;
    wait_log(&c, "Invalid Basic Authorization token (401)").await;
    sim.post("/admin/token", json!({"token": sim.token})).await;
    let ids = sim.submit(json!([noop(0)])).await;
    sim.wait_done(&ids, Duration::from_secs(60)).await;

    let id = online["connector_id"].as_str().unwrap();
    sim.post(&format!("/admin/connectors/{id}/archive"), json!({})).await;
    wait_log(&c, "archived or deleted in the portal (403)").await;
    let ids = sim.submit(json!([noop(0)])).await;
    tokio::time::sleep(Duration::from_secs(2)).await;
    assert_ne!(sim.job(&ids[0]).await["state"], "done", "an archived connector took a job");
}

#[tokio::test]
async fn a_wrong_ca_and_a_server_that_is_down_give_plain_words() {
    let sim = Sim::start(true).await;
    let root = sim.dir.path().join("no-ca");
    let text = crate::harness::connector::config_for(&sim, &root.join("data"), "").replace("ca_file", "# ca_file");
    let c = Connector::start(&root, &text);
    wait_log(&c, "TLS certificate of the server is not trusted").await;

    let down = sim.dir.path().join("down");
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let text = format!(
        "[server]\nprotocol = \"http\"\nhost = \"127.0.0.1\"\nport = {port}\ntoken = \"eA==\"\n[storage]\npath = \"{}\"\n",
        down.join("data").display()
    );
    let c2 = Connector::start(&down, &text);
    wait_log(&c2, "connection refused by the server").await;
}

#[tokio::test]
async fn three_connectors_share_the_work_and_a_sigkilled_one_loses_nothing() {
    let sim = Sim::start_with(false, &["--lease-s", "2"]).await;
    let mut cs: Vec<Connector> =
        (0..3).map(|i| Connector::for_sim(&sim, &format!("c{i}"), "[connector]\nmax_concurrency = 4\n")).collect();
    let specs: Vec<Value> = (0..150).map(|i| touch(&sim, &format!("multi-{i}"), 40)).collect();
    let ids = sim.submit(json!(specs)).await;
    tokio::time::sleep(Duration::from_millis(700)).await;
    cs[1].kill9();
    tokio::time::sleep(Duration::from_secs(3)).await;
    // Jobs it had acknowledged are on its disk: it finishes them when it comes back.
    cs[1].restart();
    let views = sim.wait_done(&ids, Duration::from_secs(90)).await;
    let mut owners: HashMap<String, usize> = HashMap::new();
    for v in &views {
        assert_eq!(v["result"]["status"], "succeeded");
        *owners.entry(v["leased_to"].as_str().unwrap_or("").to_owned()).or_default() += 1;
    }
    assert!(owners.len() >= 2, "work was not shared: {owners:?}");
    let counts = effect_counts(&sim);
    for id in &ids {
        assert_eq!(counts.get(id), Some(&1), "{id}");
    }
    assert_eq!(sim.violations().await, 0, "{}", sim.log());
}

#[tokio::test]
async fn sigterm_drains_running_jobs_then_exits_zero() {
    let sim = Sim::start(false).await;
    let mut c = Connector::for_sim(&sim, "c1", "[connector]\ndrain_grace = \"20s\"\n");
    sim.wait_online(LIMIT).await;
    let ids = sim.submit(json!([noop(1500)])).await;
    eventually(LIMIT, "job acknowledged", || async { (sim.job(&ids[0]).await["acks"].as_u64()? > 0).then_some(()) })
        .await;
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert_eq!(c.terminate(LIMIT), Some(0));
    let view = sim.job(&ids[0]).await;
    assert_eq!(view["result"]["status"], "succeeded", "drain did not let the job finish: {view}");
    assert!(c.log_text().contains("all running jobs finished"));
}

#[tokio::test]
async fn a_second_signal_exits_at_once_and_the_job_resumes_at_the_next_start() {
    let sim = Sim::start(false).await;
    let mut c = Connector::for_sim(&sim, "c1", "[connector]\ndrain_grace = \"60s\"\n");
    sim.wait_online(LIMIT).await;
    let ids = sim.submit(json!([touch(&sim, "slow", 3000)])).await;
    eventually(LIMIT, "job acknowledged", || async { (sim.job(&ids[0]).await["acks"].as_u64()? > 0).then_some(()) })
        .await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    let pid = c.pid().unwrap() as i32;
    unsafe { libc::kill(pid, libc::SIGTERM) };
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(c.terminate(LIMIT), Some(130));
    c.restart();
    let views = sim.wait_done(&ids, LIMIT).await;
    assert_eq!(views[0]["result"]["status"], "succeeded");
    assert_eq!(effect_counts(&sim)["slow"], 1);
}

#[tokio::test]
async fn a_panicking_job_fails_alone_and_the_connector_keeps_running() {
    let sim = Sim::start(false).await;
    let mut c = Connector::for_sim(&sim, "c1", "");
    sim.wait_online(LIMIT).await;
    let ids = sim.submit(json!([{"type": "test.noop", "payload": {"panic": true}}])).await;
    let views = sim.wait_done(&ids, LIMIT).await;
    assert_eq!(views[0]["result"]["error"]["code"], "internal", "{}", views[0]["result"]);
    assert!(!views[0]["result"]["error"]["message"].as_str().unwrap().contains("panic requested"), "panic text leaked");
    assert_eq!(c.exited(), None, "the process died");
    let ids = sim.submit(json!([noop(0)])).await;
    assert_eq!(sim.wait_done(&ids, LIMIT).await[0]["result"]["status"], "succeeded");
    assert!(c.log_text().contains("job executor panicked"));
}
