//! The dispatcher with the real queue, on tokio's paused clock: no HTTP is involved,
//! so virtual time runs the jobs' sleeps at once and measures them exactly.

use std::collections::BTreeMap;
use std::time::Duration;

use actix::prelude::*;
use connector_actors::ad::{KnowledgeCache, MemberWriter};
use connector_actors::dispatcher::{Dispatcher, DispatcherSettings, Drain, Executors, JobsArrived, RunningCount};
use connector_actors::protocol::Envelope;
use connector_actors::queue::{AcceptJobs, DurableQueue, MarkAcknowledged, QueueActor, QueueSettings, TakeRunnable};
use connector_actors::status::StatusBoard;
use serde_json::json;

/// Three jobs of 10 s with room for two: a drain lets the two running finish (it
/// answers when they have, not before), and starts neither the third nor anything
/// offered after it; those stay queued for the next start.
#[actix::test]
async fn a_drain_waits_for_running_jobs_and_starts_no_other() {
    tokio::time::pause();
    let storage = tempfile::tempdir().unwrap();
    let board = StatusBoard::default();
    let (queue_actor, _) =
        QueueActor::new(DurableQueue::open(QueueSettings::new(storage.path().into())).unwrap(), board.component("q"));
    let queue = Supervisor::start(move |_| queue_actor);
    let executors = Executors {
        directories: BTreeMap::new(),
        audit: None,
        members: MemberWriter::default().start().recipient(),
        knowledge: KnowledgeCache::default(),
    };
    let settings = DispatcherSettings { max_concurrency: 2 };
    let dq = queue.clone();
    let status = board.component("dispatcher");
    let dispatcher = Supervisor::start(move |_| Dispatcher::new(settings, dq, executors, status));
    offer(&queue, &["j1", "j2", "j3"]).await;
    dispatcher.send(JobsArrived).await.unwrap();
    while dispatcher.send(RunningCount).await.unwrap() < 2 {
        tokio::task::yield_now().await;
    }
    let started = tokio::time::Instant::now();
    let mut drain = Box::pin(dispatcher.send(Drain));
    assert!(
        tokio::time::timeout(Duration::from_secs(5), &mut drain).await.is_err(),
        "the drain answered while two jobs still ran"
    );
    assert_eq!(dispatcher.send(RunningCount).await.unwrap(), 2);
    offer(&queue, &["j4"]).await;
    dispatcher.send(JobsArrived).await.unwrap();
    drain.await.unwrap();
    let waited = started.elapsed();
    assert!(waited >= Duration::from_secs(10) && waited < Duration::from_secs(11), "drained after {waited:?}");
    assert_eq!(dispatcher.send(RunningCount).await.unwrap(), 0);
    let left = queue.send(TakeRunnable { free: 10 }).await.unwrap().unwrap();
    let mut left: Vec<String> = left.into_iter().map(|r| r.id).collect();
    left.sort();
    assert_eq!(left, ["j3", "j4"], "a drain started a job, or lost one");
}

/// Stores and acknowledges `test.noop` jobs of 10 s, as the poller does.
async fn offer(queue: &Addr<QueueActor>, ids: &[&str]) {
    let now = connector_actors::time::now_ms();
    let jobs = ids
        .iter()
        .map(|id| {
            let raw = json!({"id": id, "type": "test.noop", "payload": {"sleep_ms": 10_000}});
            Envelope::parse(&raw, now).unwrap()
        })
        .collect();
    queue.send(AcceptJobs { jobs }).await.unwrap().unwrap();
    for id in ids {
        queue.send(MarkAcknowledged { id: (*id).to_owned() }).await.unwrap().unwrap();
    }
}
