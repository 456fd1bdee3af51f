//! The poller's intake under load (issue #17), against the real simulator over HTTP.

use std::time::Duration;

use connector_actors::queue::{CompleteJob, TakeRunnable};
use serde_json::{json, Value};

use super::parts;
use super::sim::{eventually, Sim};

const LIMIT: Duration = Duration::from_secs(30);

/// Jobs the simulator saw acknowledged (acked or done).
async fn taken(sim: &Sim) -> u64 {
    let s: Value = sim.get("/admin/summary").await;
    s["jobs"]["acked"].as_u64().unwrap_or(0) + s["jobs"]["done"].as_u64().unwrap_or(0)
}

/// A full window (2 × 8 jobs held) that frees one slot at a time while the portal holds
/// more: the poller waits until half of `max_concurrency` (4) slots are free and asks
/// for them in one poll, instead of polling for each freed slot. One-job rounds (poll,
/// store + flush, ack for a single job) held a saturated connector to ~300 logins/s.
#[actix::test]
async fn a_full_poller_waits_for_room_for_several_jobs_and_asks_for_them_in_one_poll() {
    let sim = Sim::start().await;
    // Logins of distinct users: no ordering key holds one behind another.
    let specs: Vec<Value> = (0..40)
        .map(|n| json!({"type": "ldap.authenticate", "payload": {"directory": "corp", "username": format!("u{n}"), "password": "x"}}))
        .collect();
    sim.submit(json!(specs)).await;
    let link = parts::start_with(&sim, 8);
    eventually(LIMIT, "the window of 16 jobs taken", || async { (taken(&sim).await >= 16).then_some(()) }).await;
    // The portal sees an ack before the queue has marked it: runnable a moment later.
    let mut running = Vec::new();
    let start = std::time::Instant::now();
    while running.len() < 4 {
        assert!(start.elapsed() < LIMIT, "timed out waiting for four acknowledged jobs to be runnable");
        running.extend(link.queue.send(TakeRunnable { free: 4 - running.len() }).await.unwrap().unwrap());
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    // One slot freed at a time, each with time for the poller to react to it (a pace,
    // not a timed assertion: a slower machine can only make the old behaviour pass).
    for job in running {
        link.queue.send(CompleteJob { id: job.id, outcome: Ok(json!({})) }).await.unwrap().unwrap();
        tokio::time::sleep(Duration::from_millis(300)).await;
    }
    eventually(LIMIT, "four more jobs taken", || async { (taken(&sim).await >= 20).then_some(()) }).await;
    let summary = sim.get("/admin/summary").await;
    let asked: Vec<u64> = summary["poll_max"].as_array().unwrap().iter().filter_map(Value::as_u64).collect();
    assert_eq!(asked.first(), Some(&16), "the first poll asks for the whole window: {asked:?}");
    assert!(asked[1..].iter().all(|&max| max >= 4), "a poll asked for fewer jobs than half the concurrency: {asked:?}");
    assert_eq!(taken(&sim).await, 20, "no more than the window was taken");
}
