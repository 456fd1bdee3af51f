//! Faults of the audit journal: a line cut short by a crash or a full disk.

use std::time::Duration;

use connector_actors::audit::{AuditEntry, Change, FILE_NAME};
use serde_json::json;

use super::suite::{tally, Scenario};
use crate::harness::{servers, Connector, Sim};

pub fn scenarios() -> Vec<Scenario> {
    vec![
        Scenario::new("audit: a torn last line is moved aside and the connector starts", torn_tail),
        Scenario::new("audit: a torn line before the last one does not keep the connector down", torn_middle),
    ]
}

fn entry(n: u32) -> AuditEntry {
    AuditEntry {
        ts: "2026-11-27T10:00:00Z".into(),
        job_id: format!("earlier-{n}"),
        operation: "ad.update_user".into(),
        target_dn: "CN=someone,OU=Team,DC=example,DC=test".into(),
        target_guid: None,
        changes: vec![Change { attribute: "description".into(), before: json!(null), after: json!(["x"]) }],
        outcome: "succeeded".into(),
    }
}

/// Issue #14 item 2: one torn line at the end of `audit.jsonl` made every later start
/// exit 64 (and the unit does not restart on 64). Now the whole lines verify, the torn
/// bytes are kept beside the journal, and the next AD write links to the last whole line.
async fn torn_tail() -> super::suite::Tally {
    let env = servers::samba();
    let sim = Sim::start(true).await;
    let data = sim.dir.path().join("c1").join("data");
    std::fs::create_dir_all(&data).expect("storage dir");
    let journal = data.join(FILE_NAME);
    let mut file = std::fs::OpenOptions::new().create(true).append(true).open(&journal).expect("journal");
    let mut prev = connector_actors::audit::GENESIS.to_owned();
    for n in 0..2 {
        prev = connector_actors::audit::append(&mut file, &prev, entry(n)).expect("append");
    }
    let torn = b"{\"ts\":\"2026-11-30T01:02:03Z\",\"job_id\":\"cut-sh";
    std::io::Write::write_all(&mut file, torn).expect("torn tail");
    drop(file);

    let mut c = Connector::for_sim(&sim, "c1", &servers::samba_delegated_directory("ad", &env));
    sim.wait_online(Duration::from_secs(30)).await;
    let description = format!("fault-audit-{}", std::process::id());
    let ids = sim
        .submit(json!([{"type": "ad.update_user", "payload": {"directory": "ad",
            "user": {"sam_account_name": env.get("AD_TEAM_USER")},
            "replace": {"description": [description]}}}]))
        .await;
    let views = sim.wait_done(&ids, Duration::from_secs(60)).await;
    assert_eq!(views[0]["result"]["status"], "succeeded", "{}", views[0]);
    c.terminate(Duration::from_secs(20));

    // Two whole lines kept, two written by the update (its intent and its outcome).
    let verify = c.cli(&["audit", "verify"]);
    let said = String::from_utf8_lossy(&verify.stdout).into_owned();
    assert!(verify.status.success() && said.contains(": 4 line(s), chain intact"), "{said}");
    let aside: Vec<_> = std::fs::read_dir(&data)
        .expect("storage dir")
        .filter_map(Result::ok)
        .filter(|e| e.file_name().to_string_lossy().starts_with("audit.jsonl.torn-"))
        .collect();
    assert_eq!(aside.len(), 1, "one file keeps the torn bytes");
    assert_eq!(std::fs::read(aside[0].path()).expect("aside"), torn);
    assert!(c.log_text().contains("torn byte(s) after line 2"), "the start says what it did");
    tally(&sim, &ids).await
}

/// Review of issue #14: a journal torn *before* its last line (a line cut short, then
/// later lines appended after it: a crash under a version without recovery, a restored
/// backup, a disk error). `AuditActor::open` fails on the broken chain and `app::start`
/// turns every wiring error into exit 64, which the unit does not restart
/// (`RestartPreventExitStatus=64`): the connector stays down for good, logins and imports
/// included, over a journal only AD writes need (the same exit 64 follows a torn tail
/// that cannot be moved aside on a full disk). Expected: the connector runs, the `audit`
/// component says what is wrong, and only AD writes are refused.
async fn torn_middle() -> super::suite::Tally {
    let sim = Sim::start(false).await;
    let data = sim.dir.path().join("c1").join("data");
    std::fs::create_dir_all(&data).expect("storage dir");
    let journal = data.join(FILE_NAME);
    let mut file = std::fs::OpenOptions::new().create(true).append(true).open(&journal).expect("journal");
    let prev = connector_actors::audit::append(&mut file, connector_actors::audit::GENESIS, entry(0)).expect("append");
    std::io::Write::write_all(&mut file, b"{\"ts\":\"2026-11-30T01:02:03Z\",\"job_id\":\"cut-sh").expect("torn");
    std::io::Write::write_all(&mut file, b"\n").expect("newline");
    connector_actors::audit::append(&mut file, &prev, entry(2)).expect("append after the torn line");
    drop(file);

    let c = Connector::for_sim(&sim, "c1", "");
    let started = std::time::Instant::now();
    loop {
        if sim.summary().await["connectors"][0]["online"] == true {
            break;
        }
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "the connector never came online over a torn audit line; it said:\n{}",
            c.log_text().lines().rev().take(15).collect::<Vec<_>>().join("\n")
        );
        tokio::time::sleep(Duration::from_millis(300)).await;
    }
    let ids = sim.submit(json!([crate::harness::sim::noop(0), crate::harness::sim::noop(0)])).await;
    sim.wait_done(&ids, Duration::from_secs(30)).await;
    // It says so, and the heartbeat shows the journal failing (AD writes refused).
    assert!(c.log_text().contains("the audit journal cannot be used"), "{}", c.log_text());
    let summary = sim.summary().await;
    assert_eq!(summary["connectors"][0]["status"], "degraded", "{summary}");
    let cid = summary["connectors"][0]["connector_id"].as_str().unwrap_or_default().to_owned();
    let detail = sim.get(&format!("/admin/connectors/{cid}")).await.to_string();
    assert!(
        detail.contains("\"audit\"") && detail.contains("\"failing\""),
        "the audit component is not reported failing: {detail}"
    );
    tally(&sim, &ids).await
}
