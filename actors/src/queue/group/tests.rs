//! Group commit (`group.rs`): changes share one flush, memory and answers follow it,
//! and a failed flush undoes every member. The store is the real sled store, watched:
//! each write's sequence number and how far the last flush reached.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use actix::prelude::*;
use serde_json::json;

use super::super::store::{Pairs, SledStore, Store, StoreError, WriteBatch};
use super::super::*;
use crate::protocol::Envelope;
use crate::status::StatusBoard;

const T0: u64 = 1_795_000_000_000;

/// What the watched store saw: writes numbered in order, and the last flush's reach.
#[derive(Default)]
struct Seen {
    writes: u64,
    /// Number of the latest write of each key.
    last: HashMap<Vec<u8>, u64>,
    /// Every write numbered up to this one was flushed.
    durable: u64,
    flushes: u64,
}

#[derive(Clone, Default)]
struct Watch {
    seen: Arc<Mutex<Seen>>,
    fail_flush: Arc<AtomicBool>,
}

impl Watch {
    fn flushes(&self) -> u64 {
        self.seen.lock().unwrap().flushes
    }
    /// Whether the latest write of `key` is covered by a flush.
    fn durable(&self, key: &[u8]) -> bool {
        let s = self.seen.lock().unwrap();
        s.last.get(key).is_some_and(|n| *n <= s.durable)
    }
}

struct Watched {
    inner: SledStore,
    watch: Watch,
}

impl Store for Watched {
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
        let keys: Vec<Vec<u8>> = batch
            .writes
            .iter()
            .map(|w| match w {
                Write::Put(k, _) | Write::Delete(k) => k.clone(),
            })
            .collect();
        self.inner.apply(batch)?;
        let mut s = self.watch.seen.lock().unwrap();
        s.writes += 1;
        let n = s.writes;
        s.last.extend(keys.into_iter().map(|k| (k, n)));
        Ok(())
    }
    fn flush(&self) -> Result<(), StoreError> {
        if self.watch.fail_flush.load(Ordering::SeqCst) {
            return Err(StoreError::Engine("IO error: No space left on device (os error 28)".into()));
        }
        self.inner.flush()?;
        let mut s = self.watch.seen.lock().unwrap();
        s.durable = s.writes;
        s.flushes += 1;
        Ok(())
    }
    fn size_on_disk(&self) -> Result<u64, StoreError> {
        self.inner.size_on_disk()
    }
    fn reopen(&mut self) -> Result<(), StoreError> {
        self.inner.reopen()
    }
}

use super::super::store::Write;

fn open(dir: &std::path::Path) -> (DurableQueue, Watch) {
    let watch = Watch::default();
    let inner = SledStore::open(dir, 8 << 20).unwrap();
    let mut settings = QueueSettings::new(dir.to_path_buf());
    settings.cache_bytes = 8 << 20;
    let q = DurableQueue::open_with(Box::new(Watched { inner, watch: watch.clone() }), settings).unwrap();
    let start = watch.flushes();
    assert!(start <= 1, "opening flushes at most once");
    (q, watch)
}

/// A job of the normal lane (its start is flushed), each on a key of its own.
fn job(id: &str) -> Envelope {
    let raw = json!({"id": id, "type": "ad.unlock_user", "created_at": crate::time::rfc3339(T0),
        "payload": {"directory": "corp", "user": {"sam_account_name": id}}});
    Envelope::parse(&raw, T0).unwrap()
}

type Answers = Arc<Mutex<Vec<(String, bool)>>>;

/// Notes in `answers` when (and whether successfully) the change `name` was answered.
fn answer_to(q: &mut DurableQueue, answers: &Answers, name: &str) {
    let (answers, name) = (answers.clone(), name.to_owned());
    q.when_settled(Box::new(move |r| answers.lock().unwrap().push((name, r.is_ok()))));
}

#[test]
fn changes_before_a_settle_share_one_flush_and_memory_and_answers_follow_it() {
    let dir = tempfile::tempdir().unwrap();
    let (mut q, watch) = open(dir.path());
    q.set_grouping(Grouping::Grouped);
    let flushes = watch.flushes();
    let answers = Answers::default();
    for id in ["j-1", "j-2", "j-3"] {
        assert_eq!(q.accept(vec![job(id)], T0).unwrap(), vec![(id.to_owned(), Accepted::New)]);
        answer_to(&mut q, &answers, id);
    }
    // Stored, not flushed: nobody answered, memory does not count them yet.
    assert_eq!(watch.flushes(), flushes);
    assert!(answers.lock().unwrap().is_empty());
    assert_eq!(q.figures().pending, 0);
    assert!(q.unacknowledged().unwrap().is_empty());
    q.settle().unwrap();
    assert_eq!(watch.flushes(), flushes + 1, "three accepts, one flush");
    let all_ok: Vec<(String, bool)> = ["j-1", "j-2", "j-3"].iter().map(|id| (id.to_string(), true)).collect();
    assert_eq!(*answers.lock().unwrap(), all_ok);
    assert_eq!(q.figures().pending, 3);
    for id in ["j-1", "j-2", "j-3"] {
        assert!(watch.durable(&super::super::keys::job(id)), "{id} on disk when answered");
        q.acknowledged(id, T0).unwrap();
    }
    // Each got an arrival number of its own: they start in offer order.
    let run: Vec<String> = q.take_runnable(T0, 8).unwrap().into_iter().map(|r| r.id).collect();
    assert_eq!(run, ["j-1", "j-2", "j-3"]);
    q.settle().unwrap();
    let flushes = watch.flushes();
    for id in ["j-1", "j-2", "j-3"] {
        q.complete(id, Ok(json!({"ok": true})), T0).unwrap();
    }
    assert_eq!(q.outbox_head(), 0, "results in an open group are not announced");
    assert_eq!(q.figures().running, 3);
    // The outbox settles first, so it hands out the three results, each at its own place.
    let positions: Vec<u64> = q.outbox(10).unwrap().into_iter().map(|p| p.item.position).collect();
    assert_eq!(positions, [0, 1, 2]);
    assert_eq!(watch.flushes(), flushes + 1, "three results, one flush");
    assert_eq!((q.figures().running, q.figures().awaiting_delivery), (0, 3));
}

#[test]
fn a_take_joins_an_open_group_of_results_but_settles_one_that_started_jobs_first() {
    let dir = tempfile::tempdir().unwrap();
    let (mut q, watch) = open(dir.path());
    let ids = ["j-1", "j-2", "j-3", "j-4"];
    for id in ids {
        q.accept(vec![job(id)], T0).unwrap();
        q.acknowledged(id, T0).unwrap();
    }
    assert_eq!(q.take_runnable(T0, 1).unwrap().len(), 1);
    q.set_grouping(Grouping::Grouped);
    let flushes = watch.flushes();
    q.complete("j-1", Ok(json!({"ok": 1})), T0).unwrap();
    // Only a result is open: the take joins it (one flush for both, later).
    let first: Vec<String> = q.take_runnable(T0, 2).unwrap().into_iter().map(|r| r.id).collect();
    assert_eq!(first, ["j-2", "j-3"]);
    assert_eq!(watch.flushes(), flushes);
    // Their starts are open: the next take settles them first and never hands them out again.
    let second: Vec<String> = q.take_runnable(T0, 8).unwrap().into_iter().map(|r| r.id).collect();
    assert_eq!(second, ["j-4"]);
    assert_eq!(watch.flushes(), flushes + 1);
    q.settle().unwrap();
    assert_eq!(q.figures().running, 3);
    assert!(q.take_runnable(T0, 8).unwrap().is_empty());
}

#[test]
fn a_failed_group_flush_undoes_every_member_answers_each_and_leaves_memory_as_it_was() {
    let dir = tempfile::tempdir().unwrap();
    let (mut q, watch) = open(dir.path());
    for id in ["j-1", "j-2"] {
        q.accept(vec![job(id)], T0).unwrap();
        q.acknowledged(id, T0).unwrap();
    }
    assert_eq!(q.take_runnable(T0, 8).unwrap().len(), 2);
    q.set_grouping(Grouping::Grouped);
    let (figures, head) = (q.figures(), q.outbox_head());
    let answers = Answers::default();
    q.complete("j-1", Ok(json!({"ok": 1})), T0).unwrap();
    answer_to(&mut q, &answers, "complete j-1");
    q.complete("j-2", Ok(json!({"ok": 2})), T0).unwrap();
    answer_to(&mut q, &answers, "complete j-2");
    q.accept(vec![job("j-3")], T0).unwrap();
    answer_to(&mut q, &answers, "accept j-3");
    watch.fail_flush.store(true, Ordering::SeqCst);
    assert!(matches!(q.settle(), Err(QueueError::StorageUnavailable { .. })));
    let failed: Vec<(String, bool)> =
        ["complete j-1", "complete j-2", "accept j-3"].iter().map(|n| (n.to_string(), false)).collect();
    assert_eq!(*answers.lock().unwrap(), failed, "every member answered, each with the failure");
    assert_eq!((q.figures(), q.outbox_head()), (figures.clone(), head), "memory as before the group");
    watch.fail_flush.store(false, Ordering::SeqCst);
    q.probe(T0).unwrap();
    // On disk and in memory: both still running, no result owed, the third never stored.
    for id in ["j-1", "j-2"] {
        assert_eq!(q.get(id).unwrap().unwrap().state, JobState::Running, "{id}");
    }
    assert!(q.get("j-3").unwrap().is_none());
    assert!(q.outbox(10).unwrap().is_empty());
    assert_eq!(q.figures(), figures);
    // The results are offered again and take the places the failed group had taken.
    q.complete("j-2", Ok(json!({"ok": 2})), T0).unwrap();
    q.complete("j-1", Ok(json!({"ok": 1})), T0).unwrap();
    let owed: Vec<(u64, String)> =
        q.outbox(10).unwrap().into_iter().map(|p| (p.item.position, p.item.job_id)).collect();
    assert_eq!(owed, [(head, "j-2".to_owned()), (head + 1, "j-1".to_owned())]);
    assert_eq!(q.accept(vec![job("j-3")], T0).unwrap(), vec![("j-3".to_owned(), Accepted::New)]);
}

/// Through the actor: concurrent changes share a flush, and each caller hears back only
/// once its change is on disk (answering before the flush fails this test).
#[actix::test]
async fn the_actor_answers_each_change_only_after_the_flush_that_covers_it() {
    let dir = tempfile::tempdir().unwrap();
    let (q, watch) = open(dir.path());
    let (actor, _) = QueueActor::new(q, StatusBoard::default().component("queue"));
    let addr = actor.start();
    let flushes = watch.flushes();
    // Fewer than the mailbox holds (16), all sent before the actor runs: one group.
    let ids: Vec<String> = (0..12).map(|i| format!("j-{i}")).collect();
    let sends = ids.iter().map(|id| addr.send(AcceptJobs { jobs: vec![job(id)] }));
    let replies = futures_util::future::join_all(sends.map(|s| {
        let watch = watch.clone();
        async move {
            let accepted = s.await.unwrap().unwrap();
            let (id, _) = &accepted[0];
            (id.clone(), watch.durable(&super::super::keys::job(id)))
        }
    }))
    .await;
    for (id, durable) in &replies {
        assert!(durable, "{id} was answered before its write was flushed");
    }
    assert_eq!(watch.flushes(), flushes + 1, "twelve accepts sent together share one flush");
    // A failed flush answers every member with the failure, and nothing was counted.
    watch.fail_flush.store(true, Ordering::SeqCst);
    let acks = ids.iter().take(3).map(|id| addr.send(RecordStep { id: id.clone(), step: "s".into(), value: json!(1) }));
    for answer in futures_util::future::join_all(acks).await {
        assert!(matches!(answer.unwrap(), Err(QueueError::StorageUnavailable { .. })));
    }
    watch.fail_flush.store(false, Ordering::SeqCst);
    for id in ids.iter().take(3) {
        assert_eq!(addr.send(ReadStep { id: id.clone(), step: "s".into() }).await.unwrap().unwrap(), None);
    }
}
