//! The courier and the poller against the real portal simulator over HTTP.

use std::time::Duration;

use connector_actors::link::{LinkProblem, ProblemKind};
use connector_actors::queue::{CommitBatch, CompleteJob, GetSpool, NewBatch, SpooledBatch, TakeRunnable};
use serde_json::{json, Value};

use super::parts;
use super::sim::{eventually, Sim};

const LIMIT: Duration = Duration::from_secs(30);

/// Record `n` of the test import as the import writes it (JSON text), its DN and its
/// identity (the GUID).
fn record(n: usize) -> (String, String, String) {
    let (dn, guid) = (format!("uid=u{n:03},ou=people,dc=ring"), format!("guid-{n:03}"));
    let text = json!({"dn": dn, "guid": guid, "attributes": {"uid": [format!("u{n:03}")]}}).to_string();
    (text, dn, guid)
}

/// Stores an import's three batches of ten records and its result, as the import and
/// the dispatcher do, while the portal takes at most three records a batch: the courier
/// must halve every batch it is refused (413) and still deliver all thirty once, in
/// order, each batch before the next and the result after the last.
#[actix::test]
async fn the_courier_delivers_batches_in_order_halving_each_refused_one_and_the_result_last() {
    let sim = Sim::start().await;
    sim.post("/admin/limits", json!({"max_records": 3})).await;
    let ids = sim.submit(json!([{"type": "ldap.import", "payload": {"directory": "corp", "mode": "full"}}])).await;
    let mut link = parts::start(&sim);
    tokio::time::timeout(LIMIT, link.arrived.recv()).await.expect("the poller reports the job").expect("probe open");
    let taken = link.queue.send(TakeRunnable { free: 1 }).await.unwrap().unwrap();
    assert_eq!(taken.iter().map(|r| r.id.as_str()).collect::<Vec<_>>(), vec![ids[0].as_str()]);
    let id = &ids[0];
    let spool = link.queue.send(GetSpool).await.unwrap();
    let (mut seen_bytes, mut expected) = (0, Vec::new());
    for seq in 0..3u64 {
        let made: Vec<_> = (0..10).map(|i| record(seq as usize * 10 + i)).collect();
        expected.extend(made.iter().map(|(_, dn, _)| dn.clone()));
        let records = made.iter().map(|(text, _, _)| text.clone()).collect();
        let keys = made.iter().map(|(_, _, guid)| guid.clone()).collect();
        let batch = NewBatch { records, keys, deleted: 0, last: seq == 2 };
        seen_bytes = batch.spool(&spool, id, seq, seen_bytes).unwrap();
        let spooled = SpooledBatch { seq, records: 10, deleted: 0, last: seq == 2, seen_bytes };
        link.queue.send(CommitBatch { id: id.clone(), batch: spooled }).await.unwrap().unwrap();
    }
    let result = json!({"total": 30, "deleted": 0, "delta_token": "", "withheld": [], "mode": "full"});
    link.queue.send(CompleteJob { id: id.clone(), outcome: Ok(result) }).await.unwrap().unwrap();
    eventually(LIMIT, "the import's result at the portal", || async {
        (sim.get(&format!("/admin/jobs/{id}")).await["state"] == "done").then_some(())
    })
    .await;
    let stored = sim.get(&format!("/admin/jobs/{id}/records")).await;
    let got: Vec<&str> = stored["records"].as_array().unwrap().iter().filter_map(|r| r["dn"].as_str()).collect();
    assert_eq!(got, expected, "records lost, repeated or out of order");
    let batches = stored["batches"].as_array().unwrap();
    assert!(batches.len() >= 12, "no batch was halved: {batches:?}");
    assert!(batches.iter().all(|b| b["count"].as_u64() <= Some(3)), "a batch over the limit was kept");
    let lasts: Vec<bool> = batches.iter().map(|b| b["last"] == true).collect();
    assert_eq!(lasts.iter().filter(|l| **l).count(), 1, "one last batch: {batches:?}");
    assert_eq!(lasts.last(), Some(&true), "the last batch is the last one delivered");
    assert_eq!(sim.get("/admin/violations").await["total"], 0, "{}", sim.log());
    assert!(link.problems.try_recv().is_err(), "no 401/403 was answered, none reported");
}

/// A portal that refuses polls: a 401 and then a 403 each reach the session's inbox as
/// one `LinkProblem` (register and heartbeat are not refused, so the session itself
/// stays online and would never notice on its own).
#[actix::test]
async fn a_poll_answered_401_or_403_reaches_the_session_as_a_link_problem() {
    let sim = Sim::start().await;
    sim.post("/admin/faults", json!({"status": 401, "paths": ["jobs"]})).await;
    let mut link = parts::start(&sim);
    let p = tokio::time::timeout(LIMIT, next_problem(&mut link)).await.expect("a 401 reported");
    assert_eq!(p.kind, ProblemKind::TokenRejected);
    sim.post("/admin/faults", json!({"status": 403, "paths": ["jobs"]})).await;
    let disabled = tokio::time::timeout(LIMIT, async {
        loop {
            let p = next_problem(&mut link).await;
            if matches!(p.kind, ProblemKind::Disabled { .. }) {
                return p;
            }
        }
    })
    .await
    .expect("a 403 reported");
    let ProblemKind::Disabled { detail } = disabled.kind else { unreachable!() };
    assert!(detail.contains("403") || detail.to_lowercase().contains("disabled"), "{detail}");
}

/// A portal that answers every poll 503: the poller tries again, backing off, and does
/// not bother the session with it.
#[actix::test]
async fn a_poll_answered_503_is_backed_off_and_not_reported() {
    let sim = Sim::start().await;
    sim.post("/admin/faults", json!({"status": 503, "paths": ["jobs"]})).await;
    let mut link = parts::start(&sim);
    eventually(LIMIT, "the connector registered", || async {
        let s = sim.get("/admin/summary").await;
        s["connectors"].as_array().and_then(|c| c.first()).map(|_| ())
    })
    .await;
    let before = requests(&sim).await;
    tokio::time::sleep(Duration::from_secs(4)).await;
    let during = requests(&sim).await - before;
    // After n failures the next poll waits up to min(60 s, 2^n s) (full jitter, at least
    // 100 ms): the first retry comes within 2 s, and 4 s hold a few dozen requests at
    // most (a heartbeat included); a loop would make thousands.
    assert!(during <= 40, "{during} requests in 4 s while the portal answered 503 to polls");
    assert!(during >= 1, "the poller gave up on a 503 instead of trying again");
    assert!(link.problems.try_recv().is_err(), "a 503 is not the session's business");
}

async fn next_problem(link: &mut parts::Link) -> LinkProblem {
    link.problems.recv().await.expect("probe open")
}

/// Requests the portal got (a refused poll is not counted as a poll, only as a request).
async fn requests(sim: &Sim) -> u64 {
    let s: Value = sim.get("/admin/summary").await;
    s["requests"].as_u64().expect("requests in the summary")
}
