//! Storage faults against the durable queue: a store that fails on command (over the
//! real sled store), torn records, and spool files out of step with the outbox.

use std::sync::{Arc, Mutex};

use serde_json::{json, Value};

use super::store::{Pairs, SledStore, Store, StoreError, WriteBatch};
use super::*;
use crate::errors::{ErrorCode, JobError};
use crate::protocol::Envelope;

const T0: u64 = 1_795_000_000_000;

/// How the store fails while a fault is set.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Fault {
    None,
    /// The write is refused (sled after an I/O error: its "global error").
    Apply,
    /// The write lands in memory, the flush fails (a full disk: the log cannot grow).
    Flush,
}

/// The real sled store with a switch that makes writes fail, and reopening too.
struct Flaky {
    inner: SledStore,
    fault: Arc<Mutex<Fault>>,
}

impl Flaky {
    fn fault(&self) -> Fault {
        *self.fault.lock().unwrap()
    }
    fn refused(&self) -> StoreError {
        StoreError::Engine("IO error: No space left on device (os error 28)".into())
    }
}

impl Store for Flaky {
    fn get(&self, key: &[u8]) -> Result<Option<Vec<u8>>, StoreError> {
        self.inner.get(key)
    }
    fn scan(&self, prefix: &[u8]) -> Result<Pairs, StoreError> {
        self.inner.scan(prefix)
    }
    fn scan_limit(&self, prefix: &[u8], limit: usize) -> Result<Pairs, StoreError> {
        self.inner.scan_limit(prefix, limit)
    }
    fn apply(&self, batch: WriteBatch) -> Result<(), StoreError> {
        match self.fault() {
            Fault::Apply => Err(self.refused()),
            _ => self.inner.apply(batch),
        }
    }
    fn flush(&self) -> Result<(), StoreError> {
        match self.fault() {
            Fault::None => self.inner.flush(),
            _ => Err(self.refused()),
        }
    }
    fn log(&self, writes: &[super::store::Write]) -> Result<(), StoreError> {
        match self.fault() {
            Fault::None => self.inner.log(writes),
            _ => Err(self.refused()),
        }
    }
    fn checkpoint(&self, batch: WriteBatch) -> Result<(), StoreError> {
        match self.fault() {
            Fault::None => self.inner.checkpoint(batch),
            _ => Err(self.refused()),
        }
    }
    fn size_on_disk(&self) -> Result<u64, StoreError> {
        self.inner.size_on_disk()
    }
    fn reopen(&mut self) -> Result<(), StoreError> {
        match self.fault() {
            Fault::None => self.inner.reopen(),
            _ => Err(self.refused()),
        }
    }
}

fn settings(dir: &std::path::Path) -> QueueSettings {
    let mut s = QueueSettings::new(dir.to_path_buf());
    s.cache_bytes = 8 << 20;
    s
}

fn open_flaky(dir: &std::path::Path) -> (DurableQueue, Arc<Mutex<Fault>>) {
    let fault = Arc::new(Mutex::new(Fault::None));
    let inner = SledStore::open(dir, 8 << 20).unwrap();
    let q = DurableQueue::open_with(Box::new(Flaky { inner, fault: fault.clone() }), settings(dir)).unwrap();
    (q, fault)
}

fn job(id: &str, kind: &str) -> Envelope {
    let raw = json!({"id": id, "type": kind, "created_at": crate::time::rfc3339(T0),
        "payload": {"directory": "corp", "username": id, "password": format!("pw-of-{id}"), "mode": "full"}});
    Envelope::parse(&raw, T0).unwrap()
}

fn one(records: &[&str], last: bool) -> NewBatch {
    NewBatch {
        records: records.iter().map(|n| json!({"dn": n}).to_string()).collect(),
        keys: records.iter().map(|n| n.to_string()).collect(),
        deleted: 0,
        last,
    }
}

/// A queue with a job in each state: received, acknowledged, running, an import running
/// with a batch stored, a result awaiting delivery, one delivered, and a dead job.
fn populated(q: &mut DurableQueue) {
    q.accept(vec![job("j-dead", "ldap.authenticate")], T0).unwrap();
    q.acknowledged("j-dead", T0).unwrap();
    assert!(q.take_runnable(T0 + 31_000, 8).unwrap().is_empty(), "its deadline passed: dead");
    let ids = ["j-old", "j-run", "j-imp", "j-done", "j-ack", "j-recv"];
    let jobs = ids.iter().map(|id| job(id, if *id == "j-imp" { "ldap.import" } else { "ldap.authenticate" }));
    q.accept(jobs.collect(), T0).unwrap();
    for id in ["j-old", "j-run", "j-imp", "j-done"] {
        q.acknowledged(id, T0).unwrap();
    }
    assert_eq!(q.take_runnable(T0, 8).unwrap().len(), 4);
    q.complete("j-old", Ok(json!({"authenticated": true})), T0).unwrap();
    let old = q.outbox(10).unwrap().into_iter().find(|p| p.item.job_id == "j-old").unwrap();
    q.delivered(&old.item, Verdict::Accepted, T0).unwrap();
    q.store_batch("j-imp", one(&["a", "b"], false)).unwrap();
    q.complete("j-done", Ok(json!({"authenticated": true})), T0).unwrap();
    q.acknowledged("j-ack", T0).unwrap();
    assert_eq!(q.get("j-dead").unwrap().unwrap().state, JobState::Dead);
}

/// Everything the queue shows: figures, unacknowledged ids, job records, outbox, and
/// when the next retry is due. Needs working storage (the outbox is refused otherwise).
fn snapshot(q: &mut DurableQueue) -> String {
    let mut unacked = q.unacknowledged().unwrap();
    unacked.sort();
    let jobs: Vec<_> = q
        .list()
        .unwrap()
        .into_iter()
        .map(|j| (j.id, j.state, j.attempts, j.delivery, j.batches_stored, j.batches_delivered, j.outcome.is_some()))
        .collect();
    let outbox: Vec<_> = q.outbox(100).unwrap().into_iter().map(|p| (p.item, p.body.len())).collect();
    let steps = (q.step("j-run", "intent").unwrap(), q.connector_id().unwrap());
    format!("{:?}\n{unacked:?}\n{jobs:?}\n{outbox:?}\n{:?}\n{steps:?}", q.figures(), q.next_wakeup_ms())
}

type Op = fn(&mut DurableQueue) -> Result<(), QueueError>;

fn first_parcel(q: &mut DurableQueue) -> OutboxItem {
    q.outbox(1).unwrap()[0].item.clone()
}

/// Every mutation of the queue, each from the populated state.
fn mutations() -> Vec<(&'static str, Op)> {
    vec![
        ("accept", |q| q.accept(vec![job("j-new", "ldap.authenticate")], T0).map(|_| ())),
        ("acknowledged", |q| q.acknowledged("j-recv", T0)),
        ("drop_job", |q| q.drop_job("j-recv", T0)),
        ("take_runnable", |q| q.take_runnable(T0 + 1, 8).map(|_| ())),
        ("complete", |q| q.complete("j-run", Ok(json!({"authenticated": false})), T0)),
        ("complete for a retry", |q| {
            q.complete("j-run", Err(JobError::new(ErrorCode::DirectoryUnavailable, "down")), T0)
        }),
        ("cancel", |q| q.cancel("j-ack", T0).map(|_| ())),
        ("commit_batch", |q| q.store_batch("j-imp", one(&["c"], true)).map(|_| ())),
        ("split_batch", |q| q.split_batch("j-imp", 0).map(|_| ())),
        ("record_step", |q| q.record_step("j-run", "intent", &json!({"dn": "x"}))),
        ("set_connector_id", |q| q.set_connector_id("c-2")),
        ("retry", |q| q.retry("j-dead", T0)),
        ("purge_dead", |q| q.purge_dead().map(|_| ())),
        ("compact", |q| q.compact(T0 + 30 * 24 * 3600 * 1000).map(|_| ())),
    ]
}

fn storage_unavailable<T: std::fmt::Debug>(r: Result<T, QueueError>) -> bool {
    matches!(r, Err(QueueError::StorageUnavailable { .. }))
}

/// The populated queue after `op` on storage that never failed.
fn healthy_after(op: &dyn Fn(&mut DurableQueue) -> Result<(), QueueError>) -> String {
    let dir = tempfile::tempdir().unwrap();
    let mut q = DurableQueue::open(settings(dir.path())).unwrap();
    populated(&mut q);
    op(&mut q).unwrap();
    snapshot(&mut q)
}

#[test]
fn a_failed_write_of_any_mutation_leaves_the_queue_as_it_was_and_it_proceeds_after_recovery() {
    let mut ops = mutations();
    ops.push(("delivered", |q| {
        let item = first_parcel(q);
        q.delivered(&item, Verdict::Accepted, T0)
    }));
    for fault in [Fault::Apply, Fault::Flush] {
        for (name, op) in &ops {
            let dir = tempfile::tempdir().unwrap();
            let (mut q, switch) = open_flaky(dir.path());
            populated(&mut q);
            let parcel = first_parcel(&mut q); // for `delivered`, read while storage works
            let deliver = |q: &mut DurableQueue| q.delivered(&parcel, Verdict::Accepted, T0);
            let op: &dyn Fn(&mut DurableQueue) -> Result<(), QueueError> =
                if *name == "delivered" { &deliver } else { op };
            let before = snapshot(&mut q);
            let figures = q.figures();
            *switch.lock().unwrap() = fault;
            let expected = match op(&mut q) {
                // A deferred write (ack, delivery, a login's start) is only held in memory
                // (`overlay.rs`: the engine sees writes at the flush, so a refused write and
                // a failed flush both show there): it stands, and the flush that must
                // follow fails instead.
                Ok(()) => {
                    assert!(storage_unavailable(q.flush_deferred()), "{name}: the flush that follows must fail");
                    healthy_after(op)
                }
                failed => {
                    assert!(storage_unavailable(failed), "{name} under {fault:?} must report storage_unavailable");
                    assert_eq!(q.figures(), figures, "{name} under {fault:?} changed the figures");
                    before.clone()
                }
            };
            assert!(q.storage_problem().is_some());
            assert!(storage_unavailable(q.unacknowledged()), "nothing may be acknowledged meanwhile");
            assert!(storage_unavailable(q.take_runnable(T0 + 2, 8)), "nothing may start meanwhile");
            assert!(storage_unavailable(q.outbox(10)), "nothing may be sent meanwhile");
            assert!(storage_unavailable(q.probe(T0)), "a probe fails while the storage does");
            *switch.lock().unwrap() = Fault::None;
            q.probe(T0).unwrap();
            assert!(q.storage_problem().is_none());
            assert_eq!(snapshot(&mut q), expected, "{name} under {fault:?}: the queue is not as it should be");
            if expected == before {
                op(&mut q).unwrap_or_else(|e| panic!("{name} after recovery: {e}"));
                assert_ne!(snapshot(&mut q), before, "{name} after recovery changed nothing");
            }
        }
    }
}

#[test]
fn jobs_whose_store_failed_are_never_listed_for_acknowledgement_even_after_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    {
        let (mut q, switch) = open_flaky(dir.path());
        q.accept(vec![job("j-1", "ldap.authenticate")], T0).unwrap();
        *switch.lock().unwrap() = Fault::Flush;
        assert!(storage_unavailable(q.accept(vec![job("j-2", "ldap.authenticate")], T0)));
        *switch.lock().unwrap() = Fault::None;
        q.probe(T0).unwrap();
        assert_eq!(q.unacknowledged().unwrap(), ["j-1"]);
        // Offered again (it was never acknowledged), it is new, and stored now.
        let again = q.accept(vec![job("j-2", "ldap.authenticate")], T0).unwrap();
        assert_eq!(again, [("j-2".to_owned(), Accepted::New)]);
        *switch.lock().unwrap() = Fault::Apply;
        assert!(storage_unavailable(q.accept(vec![job("j-3", "ldap.authenticate")], T0)));
    }
    let q = DurableQueue::open(settings(dir.path())).unwrap();
    let mut unacked = q.unacknowledged().unwrap();
    unacked.sort();
    assert_eq!(unacked, ["j-1", "j-2"]);
    assert!(q.get("j-3").unwrap().is_none());
}

#[test]
fn a_completion_that_could_not_be_stored_keeps_its_slot_and_is_stored_after_recovery() {
    let dir = tempfile::tempdir().unwrap();
    let (mut q, switch) = open_flaky(dir.path());
    q.accept(vec![job("j-1", "ldap.import"), job("j-2", "ldap.import")], T0).unwrap();
    q.acknowledged("j-1", T0).unwrap();
    q.acknowledged("j-2", T0).unwrap();
    assert_eq!(q.take_runnable(T0, 16).unwrap().len(), 2);
    *switch.lock().unwrap() = Fault::Flush;
    assert!(storage_unavailable(q.complete("j-1", Ok(json!({"total": 0})), T0)));
    assert_eq!(q.figures().running, 2, "the job still holds its slot");
    *switch.lock().unwrap() = Fault::None;
    q.probe(T0).unwrap();
    assert_eq!(q.get("j-1").unwrap().unwrap().state, JobState::Running, "the failed completion was undone");
    q.complete("j-1", Ok(json!({"total": 0})), T0).unwrap();
    assert_eq!(q.figures().running, 1, "the slot is free once the result is stored");
    let parcels = q.outbox(10).unwrap();
    assert_eq!(parcels.len(), 1, "exactly one result");
    assert_eq!(serde_json::from_slice::<Value>(&parcels[0].body).unwrap()["result"]["total"], 0);
}

#[test]
fn an_unreadable_job_or_outbox_record_is_moved_aside_and_the_rest_of_the_queue_opens() {
    let dir = tempfile::tempdir().unwrap();
    {
        let mut q = DurableQueue::open(settings(dir.path())).unwrap();
        populated(&mut q);
    }
    {
        let raw = SledStore::open(dir.path(), 8 << 20).unwrap();
        let mut b = WriteBatch::default();
        b.put(b"j/j-torn".to_vec(), b"{\"id\": \"j-torn\", \"sta".to_vec());
        b.put([b"o/".as_slice(), &7_000u64.to_be_bytes()].concat(), b"\x00garbage".to_vec());
        raw.apply(b).unwrap();
        raw.flush().unwrap();
    }
    let mut q = DurableQueue::open(settings(dir.path())).unwrap();
    let ids: Vec<String> = q.list().unwrap().into_iter().map(|j| j.id).collect();
    assert_eq!(ids.len(), 7, "every other job is there: {ids:?}");
    assert!(q.get("j-torn").unwrap().is_none());
    let aside: Vec<String> = q.quarantined().unwrap().into_iter().map(|r| r.key).collect();
    assert_eq!(aside, ["j/j-torn", "o/\\x00\\x00\\x00\\x00\\x00\\x00\\x1bX"]);
    assert!(!q.outbox(100).unwrap().is_empty(), "the good outbox entries are still sent");
    q.accept(vec![job("j-after", "ldap.authenticate")], T0).unwrap();
    assert_eq!(q.unacknowledged().unwrap().len(), 2, "j-recv and the new job");
}

fn body_file(dir: &std::path::Path, id: &str, seq: u64) -> std::path::PathBuf {
    let hex: String = id.bytes().map(|b| format!("{b:02x}")).collect();
    dir.join("spool").join(hex).join(format!("{seq:016x}.batch"))
}

/// An import running with two batches stored.
fn import_with_two_batches(q: &mut DurableQueue) {
    q.accept(vec![job("j-imp", "ldap.import")], T0).unwrap();
    q.acknowledged("j-imp", T0).unwrap();
    q.take_runnable(T0, 8).unwrap();
    q.store_batch("j-imp", one(&["a"], false)).unwrap();
    q.store_batch("j-imp", one(&["b"], true)).unwrap();
}

#[test]
fn a_delivered_batch_file_is_removed_only_once_its_removal_from_the_outbox_is_on_disk() {
    let dir = tempfile::tempdir().unwrap();
    {
        let (mut q, switch) = open_flaky(dir.path());
        import_with_two_batches(&mut q);
        let first = first_parcel(&mut q);
        q.delivered(&first, Verdict::Accepted, T0).unwrap();
        assert!(body_file(dir.path(), "j-imp", 0).exists(), "removed before the delivery's write was on disk");
        *switch.lock().unwrap() = Fault::Flush;
        assert!(storage_unavailable(q.flush_deferred()));
        assert!(body_file(dir.path(), "j-imp", 0).exists(), "removed though the flush failed");
        *switch.lock().unwrap() = Fault::None;
        q.probe(T0).unwrap();
        assert!(!body_file(dir.path(), "j-imp", 0).exists(), "not removed once the write was on disk");
        // A kill right after that flush, before the removal: the file outlives its entry.
        q.spool().write_body("j-imp", 0, b"{\"seq\":0}").unwrap();
        q.complete("j-imp", Ok(json!({"total": 2})), T0).unwrap();
        let parcels = q.outbox(10).unwrap();
        assert_eq!(parcels.len(), 2, "batch 1 and the result");
        for p in &parcels {
            q.delivered(&p.item, Verdict::Accepted, T0).unwrap();
        }
        q.flush_deferred().unwrap();
        // Again a kill before the removal: the delivered job's folder stays.
        q.spool().write_body("j-imp", 1, b"{\"seq\":1}").unwrap();
    }
    let mut q = DurableQueue::open(settings(dir.path())).unwrap();
    assert!(!body_file(dir.path(), "j-imp", 0).exists(), "an orphan body file is removed at open");
    assert!(
        !body_file(dir.path(), "j-imp", 1).parent().unwrap().exists(),
        "a delivered job's spool is removed at open"
    );
    assert!(q.outbox(10).unwrap().is_empty());
}

#[test]
fn an_outbox_entry_whose_batch_file_is_gone_is_dropped_once_and_does_not_take_the_window() {
    let dir = tempfile::tempdir().unwrap();
    let mut q = DurableQueue::open(settings(dir.path())).unwrap();
    import_with_two_batches(&mut q);
    // The old order: the file went first, and a kill lost the outbox removal.
    std::fs::remove_file(body_file(dir.path(), "j-imp", 0)).unwrap();
    let window = q.outbox(1).unwrap();
    assert_eq!(window.len(), 1, "the orphan took the peek window");
    assert_eq!(window[0].item.kind, OutboxKind::Batch { seq: 1 });
    assert_eq!(q.get("j-imp").unwrap().unwrap().batches_delivered, 1, "the lost batch counts as delivered");
    drop(q);
    // Resolved for good (no warning every round): the entry is gone from disk too.
    let raw = SledStore::open(dir.path(), 8 << 20).unwrap();
    let positions: Vec<_> = raw.scan(b"o/").unwrap().into_iter().map(|(k, _)| k).collect();
    assert_eq!(positions.len(), 1, "only batch 1's entry remains");
}
