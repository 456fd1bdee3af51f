//! Tests of the queue's logic without an actix System: the durable queue on a real
//! sled directory, and the scheduler against a proptest model.

use std::collections::{HashMap, HashSet};
use std::time::Duration;

use proptest::prelude::*;
use serde_json::{json, Value};

use super::scheduler::{LaneCaps, Scheduler};
use super::*;
use crate::errors::{ErrorCode, JobError};
use crate::protocol::{Envelope, Lane};

const T0: u64 = 1_795_000_000_000;

fn settings(dir: &std::path::Path) -> QueueSettings {
    let mut s = QueueSettings::new(dir.to_path_buf());
    s.cache_bytes = 8 << 20;
    s
}

fn job(id: &str, kind: &str, extra: Value) -> Envelope {
    let mut raw = json!({"id": id, "type": kind, "created_at": crate::time::rfc3339(T0),
        "payload": {"directory": "corp", "username": id, "password": format!("pw-of-{id}")}});
    if let (Some(o), Some(e)) = (raw.as_object_mut(), extra.as_object()) {
        o.extend(e.clone());
    }
    Envelope::parse(&raw, T0).unwrap()
}

fn body(p: &Parcel) -> Value {
    serde_json::from_slice(&p.body).unwrap()
}

fn accept_ack(q: &mut DurableQueue, jobs: Vec<Envelope>) {
    let ids: Vec<String> = jobs.iter().map(|j| j.id.clone()).collect();
    q.accept(jobs, T0).unwrap();
    for id in ids {
        q.acknowledged(&id, T0).unwrap();
    }
}

#[test]
fn a_job_goes_from_offer_to_delivered_and_its_secret_is_erased() {
    let dir = tempfile::tempdir().unwrap();
    let mut q = DurableQueue::open(settings(dir.path())).unwrap();
    accept_ack(&mut q, vec![job("j-1", "ldap.authenticate", json!({}))]);
    let run = q.take_runnable(T0 + 1, 8).unwrap();
    assert_eq!(run.len(), 1);
    assert_eq!(run[0].payload["password"], "pw-of-j-1");
    assert!(q.get("j-1").unwrap().unwrap().sealed.is_some());
    q.complete("j-1", Ok(json!({"authenticated": true})), T0 + 2).unwrap();
    let parcels = q.outbox(10).unwrap();
    assert_eq!(parcels.len(), 1);
    assert_eq!(body(&parcels[0])["status"], "succeeded");
    assert_eq!(q.figures().awaiting_delivery, 1);
    q.delivered(&parcels[0].item, Verdict::Accepted, T0 + 3).unwrap();
    let rec = q.get("j-1").unwrap().unwrap();
    assert_eq!((rec.state, rec.sealed.is_none()), (JobState::Delivered, true));
    assert!(q.outbox(10).unwrap().is_empty());
    assert_eq!(q.figures(), Default::default());
}

#[test]
fn a_known_id_is_reported_and_never_stored_or_run_twice() {
    let dir = tempfile::tempdir().unwrap();
    let mut q = DurableQueue::open(settings(dir.path())).unwrap();
    accept_ack(&mut q, vec![job("j-1", "ldap.authenticate", json!({}))]);
    let again = q.accept(vec![job("j-1", "ldap.authenticate", json!({}))], T0).unwrap();
    assert_eq!(again, vec![("j-1".to_owned(), Accepted::Known(JobState::Acknowledged))]);
    assert_eq!(q.take_runnable(T0, 8).unwrap().len(), 1);
    assert!(q.take_runnable(T0, 8).unwrap().is_empty());
    let dup_in_one =
        q.accept(vec![job("j-2", "ldap.authenticate", json!({})), job("j-2", "ldap.authenticate", json!({}))], T0);
    assert_eq!(dup_in_one.unwrap().len(), 1);
}

#[test]
fn secrets_never_reach_the_sled_files_in_clear() {
    let dir = tempfile::tempdir().unwrap();
    {
        let mut q = DurableQueue::open(settings(dir.path())).unwrap();
        accept_ack(&mut q, vec![job("j-secret", "ldap.authenticate", json!({}))]);
        q.store.flush().unwrap();
    }
    let mut found = false;
    for entry in walk(dir.path()) {
        let bytes = std::fs::read(&entry).unwrap();
        found |= bytes.windows(b"pw-of-j-secret".len()).any(|w| w == b"pw-of-j-secret");
    }
    assert!(!found, "a password was written to disk in the clear");
}

fn walk(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).unwrap().flatten() {
        let p = e.path();
        if p.is_dir() {
            out.extend(walk(&p));
        } else {
            out.push(p);
        }
    }
    out
}

#[test]
fn a_restart_keeps_every_job_and_resumes_running_ones() {
    let dir = tempfile::tempdir().unwrap();
    {
        let mut q = DurableQueue::open(settings(dir.path())).unwrap();
        q.accept(vec![job("j-recv", "ldap.authenticate", json!({}))], T0).unwrap();
        accept_ack(
            &mut q,
            vec![job("j-run", "ad.delete_user", json!({"payload": {"directory": "corp", "user": {"dn": "CN=x"}}}))],
        );
        assert_eq!(q.take_runnable(T0, 8).unwrap().len(), 1);
    } // dropped without completing: as if killed
    let mut q = DurableQueue::open(settings(dir.path())).unwrap();
    assert_eq!(q.unacknowledged().unwrap(), vec!["j-recv".to_owned()]);
    let again = q.take_runnable(T0, 8).unwrap();
    assert_eq!(again.len(), 1);
    assert_eq!((again[0].id.as_str(), again[0].attempts), ("j-run", 2));
}

#[test]
fn a_job_that_keeps_crashing_the_process_is_declared_dead() {
    let dir = tempfile::tempdir().unwrap();
    let mut s = settings(dir.path());
    s.max_attempts = 2;
    {
        let mut q = DurableQueue::open(s.clone()).unwrap();
        accept_ack(&mut q, vec![job("j-poison", "ldap.authenticate", json!({}))]);
        q.take_runnable(T0, 1).unwrap();
    }
    {
        let mut q = DurableQueue::open(s.clone()).unwrap();
        assert_eq!(q.take_runnable(T0, 1).unwrap().len(), 1);
    }
    let q = DurableQueue::open(s).unwrap();
    let rec = q.get("j-poison").unwrap().unwrap();
    assert_eq!(rec.state, JobState::Dead);
    assert_eq!(rec.outcome.unwrap().error.unwrap().code, ErrorCode::Internal);
    assert_eq!(q.figures().dead, 1);
}

#[test]
fn a_long_job_killed_while_making_progress_is_not_taken_for_a_crash_loop() {
    let dir = tempfile::tempdir().unwrap();
    let mut s = settings(dir.path());
    s.max_attempts = 2;
    let import = || job("j-imp", "ldap.import", json!({"payload": {"directory": "corp", "mode": "full"}}));
    {
        let mut q = DurableQueue::open(s.clone()).unwrap();
        accept_ack(&mut q, vec![import()]);
    }
    for round in 0..4 {
        let mut q = DurableQueue::open(s.clone()).unwrap();
        assert_eq!(q.take_runnable(T0, 1).unwrap().len(), 1, "round {round}: the import was given up");
        let batch = NewBatch {
            records: vec![json!({"dn": round}).to_string()],
            keys: vec![round.to_string()],
            deleted: 0,
            last: false,
        };
        q.store_batch("j-imp", batch).unwrap();
    } // each round ends as if killed
    let q = DurableQueue::open(s).unwrap();
    assert_eq!(q.get("j-imp").unwrap().unwrap().state, JobState::Acknowledged);
}

#[test]
fn retryable_failures_back_off_then_give_up() {
    let dir = tempfile::tempdir().unwrap();
    let mut s = settings(dir.path());
    s.max_attempts = 3;
    let mut q = DurableQueue::open(s).unwrap();
    accept_ack(
        &mut q,
        vec![job("j-1", "ldap.authenticate", json!({"deadline": crate::time::rfc3339(T0 + 3_600_000)}))],
    );
    let mut now = T0;
    for attempt in 1..=3 {
        let run = q.take_runnable(now, 1).unwrap();
        assert_eq!(run.len(), 1, "attempt {attempt}");
        q.complete("j-1", Err(JobError::new(ErrorCode::Timeout, "slow")), now).unwrap();
        now += 61_000; // past any backoff (cap 60 s)
    }
    let rec = q.get("j-1").unwrap().unwrap();
    assert_eq!(rec.state, JobState::Dead);
    let err = rec.outcome.unwrap().error.unwrap();
    assert!(err.message.contains("gave up after 3 attempts") && !err.retryable);
}

#[test]
fn deadline_cancel_and_invalid_jobs_get_their_result_without_running() {
    let dir = tempfile::tempdir().unwrap();
    let mut q = DurableQueue::open(settings(dir.path())).unwrap();
    accept_ack(&mut q, vec![job("j-late", "ldap.authenticate", json!({}))]);
    assert!(q.take_runnable(T0 + 31_000, 8).unwrap().is_empty());
    accept_ack(
        &mut q,
        vec![job("j-cancel", "ldap.authenticate", json!({"created_at": crate::time::rfc3339(T0 + 40_000)}))],
    );
    assert_eq!(q.cancel("j-cancel", T0).unwrap(), CancelOutcome::Cancelled);
    accept_ack(&mut q, vec![job("j-bad", "ad.explode", json!({}))]);
    assert!(q.take_runnable(T0, 8).unwrap().is_empty());
    let codes: Vec<_> =
        q.outbox(10).unwrap().iter().map(|p| body(p)["error"]["code"].as_str().unwrap().to_owned()).collect();
    assert_eq!(codes, ["deadline_exceeded", "cancelled", "invalid_job"]);
}

#[test]
fn batches_leave_the_outbox_before_the_result_and_survive_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    {
        let mut q = DurableQueue::open(settings(dir.path())).unwrap();
        accept_ack(
            &mut q,
            vec![job("j-imp", "ldap.import", json!({"payload": {"directory": "corp", "mode": "full"}}))],
        );
        q.take_runnable(T0, 8).unwrap();
        let batch = |dn: &str, last| NewBatch {
            records: vec![json!({"dn": dn}).to_string()],
            keys: vec![dn.to_owned()],
            deleted: 0,
            last,
        };
        assert_eq!(q.store_batch("j-imp", batch("a", false)).unwrap(), 0);
        assert_eq!(q.seen("j-imp").unwrap(), vec![record_digest("a")]);
        assert_eq!(q.store_batch("j-imp", batch("b", true)).unwrap(), 1);
        assert!(q.step("j-imp", "import.done").unwrap().is_some());
        assert_eq!(q.progress("j-imp").unwrap().records_stored, 2);
        q.complete("j-imp", Ok(json!({"total": 2})), T0).unwrap();
    }
    let mut q = DurableQueue::open(settings(dir.path())).unwrap();
    let parcels = q.outbox(10).unwrap();
    let kinds: Vec<_> = parcels.iter().map(|p| p.item.kind).collect();
    assert_eq!(kinds, [OutboxKind::Batch { seq: 0 }, OutboxKind::Batch { seq: 1 }, OutboxKind::Result]);
    assert_eq!(body(&parcels[1])["records"][0]["dn"], "b");
    assert_eq!(body(&parcels[1])["seq"], 1);
    assert_eq!(body(&parcels[1])["last"], true);
    for p in &parcels {
        q.delivered(&p.item, Verdict::Accepted, T0).unwrap();
    }
    // New positions continue after the old ones after a reopen.
    assert_eq!(q.get("j-imp").unwrap().unwrap().batches_delivered, 2);
}

#[test]
fn a_refused_batch_is_halved_and_later_batches_move_up_in_order() {
    let dir = tempfile::tempdir().unwrap();
    let mut q = DurableQueue::open(settings(dir.path())).unwrap();
    accept_ack(&mut q, vec![job("j-imp", "ldap.import", json!({"payload": {"directory": "corp", "mode": "full"}}))]);
    q.take_runnable(T0, 8).unwrap();
    let batch = |names: &[&str], last| NewBatch {
        records: names.iter().map(|n| json!({"dn": n}).to_string()).collect(),
        keys: names.iter().map(|n| n.to_string()).collect(),
        deleted: 0,
        last,
    };
    q.store_batch("j-imp", batch(&["a", "b", "c", "d"], false)).unwrap();
    q.store_batch("j-imp", batch(&["e"], true)).unwrap();
    q.complete("j-imp", Ok(json!({"total": 5})), T0).unwrap();
    assert_eq!(q.split_batch("j-imp", 0).unwrap(), Split::Halved);
    let parcels = q.outbox(10).unwrap();
    let shapes: Vec<(OutboxKind, Value)> = parcels.iter().map(|p| (p.item.kind, body(p))).collect();
    assert_eq!(shapes.len(), 4);
    assert_eq!(shapes[0].0, OutboxKind::Batch { seq: 0 });
    assert_eq!(shapes[0].1["records"], json!([{"dn": "a"}, {"dn": "b"}]));
    assert_eq!(
        (shapes[1].1["seq"].clone(), shapes[1].1["records"].clone()),
        (json!(1), json!([{"dn": "c"}, {"dn": "d"}]))
    );
    assert_eq!((shapes[2].1["seq"].clone(), shapes[2].1["last"].clone()), (json!(2), json!(true)));
    assert_eq!(shapes[3].0, OutboxKind::Result);
    let mut seen = q.seen("j-imp").unwrap();
    seen.sort();
    let mut want: Vec<_> = ["a", "b", "c", "d", "e"].iter().map(|k| record_digest(k)).collect();
    want.sort();
    assert_eq!(seen, want, "the dedupe digests follow the records");
    // A batch of one record cannot be halved: it goes without it, and the result names it.
    assert_eq!(q.split_batch("j-imp", 2).unwrap(), Split::Trimmed);
}

#[test]
fn retention_removes_finished_jobs_and_dead_ones_can_be_retried_or_purged() {
    let dir = tempfile::tempdir().unwrap();
    let mut s = settings(dir.path());
    s.retention = Duration::from_secs(60);
    let mut q = DurableQueue::open(s).unwrap();
    accept_ack(&mut q, vec![job("j-1", "ldap.authenticate", json!({}))]);
    q.take_runnable(T0, 8).unwrap();
    q.complete("j-1", Ok(json!({})), T0).unwrap();
    let p = q.outbox(1).unwrap().remove(0);
    q.delivered(&p.item, Verdict::Accepted, T0).unwrap();
    assert_eq!(q.compact(T0 + 59_000).unwrap(), 0);
    assert_eq!(q.compact(T0 + 61_000).unwrap(), 1);
    assert!(q.get("j-1").unwrap().is_none());

    accept_ack(&mut q, vec![job("j-dead", "ldap.authenticate", json!({}))]);
    assert!(q.take_runnable(T0 + 100_000, 8).unwrap().is_empty()); // past its 30 s deadline
    assert_eq!(q.figures().dead, 1);
    q.retry("j-dead", T0 + 100_000).unwrap();
    assert_eq!(q.figures().dead, 0);
    assert_eq!(q.take_runnable(T0 + 100_001, 8).unwrap().len(), 1);
    q.complete("j-dead", Err(JobError::internal("boom")), T0 + 100_002).unwrap();
    assert!(matches!(q.retry("j-dead", T0), Err(QueueError::NotRetryable { .. })));

    accept_ack(&mut q, vec![job("j-dead2", "ldap.authenticate", json!({}))]);
    q.take_runnable(T0 + 200_000, 8).unwrap();
    assert_eq!(q.purge_dead().unwrap(), 1);
    assert!(q.get("j-dead2").unwrap().is_none());
    assert_eq!(q.figures().dead, 0);
}

#[test]
fn a_job_not_yet_acknowledged_keeps_later_jobs_of_its_key_waiting() {
    let dir = tempfile::tempdir().unwrap();
    let mut q = DurableQueue::open(settings(dir.path())).unwrap();
    let on = |id: &str, at: u64| {
        job(
            id,
            "ad.disable_user",
            json!({"ordering_key": "wf-1", "created_at": crate::time::rfc3339(at),
            "payload": {"directory": "corp", "user": {"dn": "CN=x"}}}),
        )
    };
    q.accept(vec![on("first", T0)], T0).unwrap(); // its ack got lost
    accept_ack(&mut q, vec![on("second", T0 + 1000)]);
    assert!(q.take_runnable(T0, 8).unwrap().is_empty(), "the later job overtook an unacknowledged one");
    q.acknowledged("first", T0).unwrap();
    let run: Vec<String> = q.take_runnable(T0, 8).unwrap().into_iter().map(|r| r.id).collect();
    assert_eq!(run, vec!["first".to_owned()]);
    // A job the server takes back (ack 404/409) no longer holds the line.
    q.accept(vec![on("third", T0 + 2000)], T0).unwrap();
    q.drop_job("third", T0).unwrap();
    q.complete("first", Ok(json!({})), T0).unwrap();
    assert_eq!(q.take_runnable(T0, 8).unwrap().len(), 1);
}

#[test]
fn a_dropped_job_can_be_offered_again_later() {
    let dir = tempfile::tempdir().unwrap();
    let mut q = DurableQueue::open(settings(dir.path())).unwrap();
    q.accept(vec![job("j-1", "ldap.authenticate", json!({}))], T0).unwrap();
    q.drop_job("j-1", T0).unwrap();
    assert!(q.take_runnable(T0, 8).unwrap().is_empty());
    let again = q.accept(vec![job("j-1", "ldap.authenticate", json!({}))], T0).unwrap();
    assert_eq!(again[0].1, Accepted::New);
}

#[test]
fn disk_use_stays_bounded_under_a_steady_stream() {
    let dir = tempfile::tempdir().unwrap();
    let mut s = settings(dir.path());
    s.retention = Duration::ZERO;
    let mut q = DurableQueue::open(s).unwrap();
    let mut sizes = Vec::new();
    for round in 0..6 {
        for i in 0..1_000 {
            let id = format!("j-{round}-{i}");
            accept_ack(&mut q, vec![job(&id, "ldap.authenticate", json!({}))]);
            q.take_runnable(T0, 8).unwrap();
            q.complete(&id, Ok(json!({"authenticated": true})), T0).unwrap();
            for p in q.outbox(8).unwrap() {
                q.delivered(&p.item, Verdict::Accepted, T0).unwrap();
            }
        }
        q.compact(T0 + 1).unwrap();
        q.store.flush().unwrap();
        sizes.push(q.size_on_disk().unwrap());
    }
    assert!(q.list().unwrap().is_empty());
    // After warm-up, six times the work must not take six times the space.
    assert!(sizes[5] < sizes[1] * 3, "disk use grows with total jobs: {sizes:?}");
}

// === scheduler model ===

#[derive(Debug, Clone)]
enum Op {
    Insert { key: u8, lane: u8, created: u8 },
    Take { free: u8 },
    Finish { pick: u8 },
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        (0u8..4, 0u8..3, 0u8..5).prop_map(|(key, lane, created)| Op::Insert { key, lane, created }),
        (1u8..5).prop_map(|free| Op::Take { free }),
        any::<u8>().prop_map(|pick| Op::Finish { pick }),
    ]
}

proptest! {
    #[test]
    fn scheduler_keeps_keys_ordered_exclusive_and_lanes_capped(ops in proptest::collection::vec(op(), 1..120), conc in 1usize..6) {
        let caps = LaneCaps::for_concurrency(conc);
        let mut s = Scheduler::new(caps);
        let mut next = 0u64;
        // Model: per key, waiting jobs as (created, arrival, id).
        let mut waiting: HashMap<u8, Vec<(u64, u64, String, Lane)>> = HashMap::new();
        let mut running: Vec<(String, u8, Lane)> = Vec::new();
        let mut started: HashSet<String> = HashSet::new();
        for op in ops {
            match op {
                Op::Insert { key, lane, created } => {
                    let lane = Lane::ALL[lane as usize];
                    let id = format!("j{next}");
                    s.insert(&id, &format!("k{key}"), lane, (created as u64, next), 0);
                    waiting.entry(key).or_default().push((created as u64, next, id, lane));
                    next += 1;
                }
                Op::Take { free } => {
                    let taken = s.take(0, free as usize);
                    prop_assert!(taken.len() <= free as usize);
                    for id in &taken {
                        prop_assert!(started.insert(id.clone()), "{} started twice", id);
                        let (key, line) = waiting.iter_mut().find(|(_, l)| l.iter().any(|w| &w.2 == id)).unwrap();
                        line.sort();
                        // Only the oldest job of a key may start, and only when none of the key runs.
                        prop_assert_eq!(&line[0].2, id);
                        prop_assert!(!running.iter().any(|r| r.1 == *key));
                        let w = line.remove(0);
                        running.push((id.clone(), *key, w.3));
                    }
                    prop_assert!(running.len() <= caps.max_concurrency);
                    for lane in Lane::ALL {
                        prop_assert!(running.iter().filter(|r| r.2 == lane).count() <= caps.per_lane[lane.index()]);
                    }
                    // Liveness: if nothing was taken while there was room, no job was eligible.
                    if taken.len() < free as usize {
                        for (key, line) in &waiting {
                            let Some(head) = line.iter().min() else { continue };
                            let lane_running = running.iter().filter(|r| r.2 == head.3).count();
                            let blocked = running.iter().any(|r| r.1 == *key)
                                || running.len() >= caps.max_concurrency
                                || lane_running >= caps.per_lane[head.3.index()];
                            prop_assert!(blocked, "eligible job {} was left waiting", head.2);
                        }
                    }
                }
                Op::Finish { pick } => {
                    if !running.is_empty() {
                        let (id, _, _) = running.remove(pick as usize % running.len());
                        s.finished(&id);
                    }
                }
            }
        }
    }
}

#[test]
fn interactive_work_has_slots_bulk_and_normal_cannot_take() {
    let caps = LaneCaps::for_concurrency(16);
    let mut s = Scheduler::new(caps);
    for i in 0..40u64 {
        s.insert(&format!("b{i}"), &format!("kb{i}"), Lane::Bulk, (0, i), 0);
        s.insert(&format!("n{i}"), &format!("kn{i}"), Lane::Normal, (0, 100 + i), 0);
    }
    let first = s.take(0, 16);
    assert_eq!(first.iter().filter(|i| i.starts_with('b')).count(), caps.per_lane[2]);
    assert_eq!(first.iter().filter(|i| i.starts_with('n')).count(), caps.per_lane[1]);
    assert!(first.len() < 16, "normal and bulk must leave room for logins");
    s.insert("login", "kl", Lane::Interactive, (5, 999), 0);
    assert_eq!(s.take(0, 16), vec!["login".to_owned()]);
}

#[test]
fn a_snapshot_a_kill_left_unfinished_does_not_keep_the_queue_shut() {
    let dir = tempfile::tempdir().unwrap();
    let mut q = DurableQueue::open(settings(dir.path())).unwrap();
    accept_ack(&mut q, vec![job("j-1", "ldap.authenticate", json!({}))]);
    drop(q);
    // What a kill during sled's snapshot write leaves: newer than any finished one, torn.
    let torn = dir.path().join("queue.sled").join("snap.FFFFFFFFFFFFFFFF.generating");
    std::fs::write(&torn, b"torn snapshot bytes, no valid checksum").unwrap();
    let q = DurableQueue::open(settings(dir.path())).unwrap();
    assert_eq!(q.get("j-1").unwrap().unwrap().state, JobState::Acknowledged);
    assert!(!torn.exists());
    // Never under a process that has the queue open: it may be writing that file now.
    std::fs::write(&torn, b"being written").unwrap();
    assert!(DurableQueue::open(settings(dir.path())).is_err());
    assert!(torn.exists());
}

#[test]
fn a_job_with_two_keys_waits_for_both_lines_and_holds_both() {
    use crate::queue::scheduler::KEY_SEPARATOR;
    let mut s = Scheduler::new(LaneCaps::for_concurrency(8));
    let both = format!("sam=x{KEY_SEPARATOR}dn=cn=john smith");
    s.insert("by-sam", "sam=x", Lane::Normal, (0, 0), 0);
    s.insert("create", &both, Lane::Normal, (0, 1), 0);
    s.insert("other-create", "dn=cn=john smith", Lane::Normal, (0, 2), 0);
    s.insert("unrelated", "sam=y", Lane::Normal, (0, 3), 0);
    // `create` waits behind `by-sam`; `other-create` behind `create` in the DN line.
    assert_eq!(s.take(0, 8), vec!["by-sam".to_owned(), "unrelated".to_owned()]);
    s.finished("by-sam");
    assert_eq!(s.take(0, 8), vec!["create".to_owned()]);
    s.insert("after", "sam=x", Lane::Normal, (0, 4), 0);
    assert!(s.take(0, 8).is_empty(), "both keys of a running job are held");
    s.finished("create");
    let mut next = s.take(0, 8);
    next.sort();
    assert_eq!(next, vec!["after".to_owned(), "other-create".to_owned()]);
    assert!(!s.remove_waiting("nobody"));
}

#[test]
fn a_batch_spooled_before_a_split_is_told_where_it_is_due_and_commits_there() {
    let dir = tempfile::tempdir().unwrap();
    let mut q = DurableQueue::open(settings(dir.path())).unwrap();
    accept_ack(&mut q, vec![job("j-imp", "ldap.import", json!({"payload": {"directory": "corp", "mode": "full"}}))]);
    q.take_runnable(T0, 8).unwrap();
    let batch = |names: &[&str]| NewBatch {
        records: names.iter().map(|n| json!({"dn": n}).to_string()).collect(),
        keys: names.iter().map(|n| n.to_string()).collect(),
        deleted: 0,
        last: false,
    };
    q.store_batch("j-imp", batch(&["a", "b"])).unwrap();
    // The import spools its next batch as seq 1 while the courier's 413 splits seq 0.
    let next = batch(&["c"]);
    let seen_bytes = next.spool(&q.spool(), "j-imp", 1, 32).unwrap();
    assert_eq!(q.split_batch("j-imp", 0).unwrap(), Split::Halved);
    let spooled = SpooledBatch { seq: 1, records: 1, deleted: 0, last: false, seen_bytes };
    match q.commit_batch("j-imp", spooled) {
        Err(QueueError::Renumbered { seq: 1, due: 2, .. }) => {}
        other => panic!("expected Renumbered to 2, got {other:?}"),
    }
    let seen_bytes = next.spool(&q.spool(), "j-imp", 2, 32).unwrap();
    q.commit_batch("j-imp", SpooledBatch { seq: 2, seen_bytes, ..spooled }).unwrap();
    let bodies: Vec<Value> = q.outbox(10).unwrap().iter().map(body).collect();
    let seqs: Vec<&Value> = bodies.iter().map(|b| &b["seq"]).collect();
    assert_eq!(seqs, [&json!(0), &json!(1), &json!(2)]);
    assert_eq!(bodies[2]["records"], json!([{"dn": "c"}]), "the late batch went out whole, as seq 2");
    assert_eq!(bodies[1]["records"], json!([{"dn": "b"}]));
}
