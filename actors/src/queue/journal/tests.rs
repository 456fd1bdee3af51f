//! The typed steps read what earlier versions wrote as untyped JSON, and write the same
//! JSON back (so a queue moves between versions either way).

use serde_json::{json, Value};

use super::*;
use crate::ad::steps::{
    ChangeIntent, CreateAdded, CreateGroupAdded, CreateGroupIntent, CreateIntent, DeleteGroupIntent, DeleteIntent,
    MoveIntent,
};
use crate::ldap::import::ImportToken;
use crate::queue::{DurableQueue, QueueSettings};
use crate::status::StatusBoard;

/// A queue actor on a fresh folder, with one job's journal.
fn journal(dir: &std::path::Path) -> (Addr<QueueActor>, Journal) {
    let queue = DurableQueue::open(QueueSettings::new(dir.to_path_buf())).unwrap();
    let (actor, _) = QueueActor::new(queue, StatusBoard::default().component("queue"));
    let addr = actix::Supervisor::start(move |_| actor);
    (addr.clone(), Journal::new(addr, "job-1"))
}

async fn write_raw(queue: &Addr<QueueActor>, step: &str, value: Value) {
    queue.send(RecordStep { id: "job-1".into(), step: step.into(), value }).await.unwrap().unwrap();
}

async fn read_raw(queue: &Addr<QueueActor>, step: &str) -> Option<Value> {
    queue.send(ReadStep { id: "job-1".into(), step: step.into() }).await.unwrap().unwrap()
}

/// Writes `old` as an earlier version did, reads it typed (must equal `typed`), writes
/// `typed` and reads the raw JSON back (must equal `old`).
async fn same_both_ways<S: Step + PartialEq + Clone + std::fmt::Debug>(
    queue: &Addr<QueueActor>,
    j: &Journal,
    old: Value,
    typed: S,
) {
    write_raw(queue, S::NAME, old.clone()).await;
    assert_eq!(j.read::<S>().await.unwrap(), Some(typed.clone()), "{} as written before", S::NAME);
    j.record(&typed).await.unwrap();
    assert_eq!(read_raw(queue, S::NAME).await, Some(old), "{} as written now", S::NAME);
}

#[actix::test]
async fn steps_written_by_earlier_versions_as_plain_json_load_typed_and_are_written_the_same() {
    let dir = tempfile::tempdir().unwrap();
    let (queue, j) = journal(dir.path());
    // The shapes the AD operations and the import journaled before their steps were typed.
    let intent = CreateIntent {
        dn: "CN=a,OU=x,DC=corp".into(),
        usn: 12345,
        dc: "CN=NTDS Settings,CN=DC1".into(),
        invocation_id: "6f0c…".into(),
    };
    let old =
        json!({"dn": "CN=a,OU=x,DC=corp", "usn": 12345, "dc": "CN=NTDS Settings,CN=DC1", "invocation_id": "6f0c…"});
    same_both_ways(&queue, &j, old.clone(), intent.clone()).await;
    // The group and move jobs journaled the same shapes as plain JSON before their steps
    // were typed (one session, same release).
    same_both_ways(&queue, &j, old, CreateGroupIntent(intent)).await;
    same_both_ways(&queue, &j, json!({"guid": "0c"}), CreateGroupAdded { guid: Some("0c".into()) }).await;
    let group = DeleteGroupIntent { dn: "CN=g".into(), guid: Some("0d".into()) };
    same_both_ways(&queue, &j, json!({"dn": "CN=g", "guid": "0d"}), group).await;
    let moved = MoveIntent { old_dn: "CN=u,OU=a".into(), guid: Some("0e".into()), new_dn: "CN=u,OU=b".into() };
    same_both_ways(&queue, &j, json!({"old_dn": "CN=u,OU=a", "guid": "0e", "new_dn": "CN=u,OU=b"}), moved).await;
    same_both_ways(&queue, &j, json!({"guid": "0a1b"}), CreateAdded { guid: Some("0a1b".into()) }).await;
    same_both_ways(&queue, &j, json!({"guid": null}), CreateAdded { guid: None }).await;
    same_both_ways(&queue, &j, json!({"dn": "CN=b"}), DeleteIntent { dn: "CN=b".into() }).await;
    same_both_ways(&queue, &j, json!({"dn": "CN=c"}), ChangeIntent { dn: "CN=c".into() }).await;
    same_both_ways(&queue, &j, json!("usn:99:dc"), ImportToken("usn:99:dc".into())).await;
    same_both_ways(&queue, &j, json!(true), ImportDone(true)).await;
    assert_eq!(j.read::<DeleteIntent>().await.unwrap(), Some(DeleteIntent { dn: "CN=b".into() }));
}

#[actix::test]
async fn a_missing_step_is_none_and_a_step_of_another_shape_is_an_error_naming_it() {
    let dir = tempfile::tempdir().unwrap();
    let (queue, j) = journal(dir.path());
    assert_eq!(j.read::<CreateIntent>().await.unwrap(), None);
    write_raw(&queue, "create.intent", json!({"dn": "CN=a", "usn": "not a number"})).await;
    let e = j.read::<CreateIntent>().await.unwrap_err();
    assert!(e.message.contains("`create.intent` step is unreadable"), "{}", e.message);
    // A step worked out again when missing reads as missing instead.
    write_raw(&queue, "import.token", json!(42)).await;
    assert_eq!(j.read_if_readable::<ImportToken>().await.unwrap(), None);
}
