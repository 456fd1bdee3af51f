//! Durable queue: one job from offer to delivered (accept+flush, ack, take+flush,
//! complete+flush, delivered), against the floor of the same number of raw sled
//! insert+flush calls in the same run; and 32 jobs at once through the queue actor, the
//! way the link and the dispatcher use it (each ack, result and delivery its own
//! message, sent together), where group commit lets them share flushes.

use std::sync::atomic::{AtomicU64, Ordering};

use actix::{Actor, Addr};
use connector_actors::protocol::Envelope;
use connector_actors::queue::{
    AcceptJobs, CompleteJob, DurableQueue, MarkAcknowledged, MarkDelivered, PeekOutbox, QueueActor, QueueSettings,
    TakeRunnable, Verdict,
};
use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use futures_util::future::join_all;
use serde_json::json;

static NEXT: AtomicU64 = AtomicU64::new(0);

fn envelope(id: &str) -> Envelope {
    let raw = json!({"id": id, "type": "ldap.authenticate",
        "payload": {"directory": "corp", "username": id, "password": "Secret-1"}});
    Envelope::parse(&raw, connector_actors::time::now_ms()).expect("valid envelope")
}

fn cycle(q: &mut DurableQueue, n: usize) {
    let now = connector_actors::time::now_ms();
    let ids: Vec<String> = (0..n).map(|_| format!("b-{}", NEXT.fetch_add(1, Ordering::Relaxed))).collect();
    q.accept(ids.iter().map(|id| envelope(id)).collect(), now).expect("accept");
    for id in &ids {
        q.acknowledged(id, now).expect("ack");
    }
    let run = q.take_runnable(now, n).expect("take");
    assert_eq!(run.len(), n);
    for job in run {
        q.complete(&job.id, Ok(json!({"authenticated": true})), now).expect("complete");
    }
    for p in q.outbox(n).expect("outbox") {
        q.delivered(&p.item, Verdict::Accepted, now).expect("delivered");
    }
}

/// `n` jobs through the actor: one accept, then every ack, result and delivery as its own
/// message, all of a step sent together (as the poller's acks and the jobs' results come).
async fn actor_cycle(q: &Addr<QueueActor>, n: usize) {
    let ids: Vec<String> = (0..n).map(|_| format!("a-{}", NEXT.fetch_add(1, Ordering::Relaxed))).collect();
    let jobs = ids.iter().map(|id| envelope(id)).collect();
    q.send(AcceptJobs { jobs }).await.expect("queue").expect("accept");
    for ack in join_all(ids.iter().map(|id| q.send(MarkAcknowledged { id: id.clone() }))).await {
        ack.expect("queue").expect("ack");
    }
    let run = q.send(TakeRunnable { free: n }).await.expect("queue").expect("take");
    assert_eq!(run.len(), n);
    let results =
        run.into_iter().map(|job| q.send(CompleteJob { id: job.id, outcome: Ok(json!({"authenticated": true})) }));
    for done in join_all(results).await {
        done.expect("queue").expect("complete");
    }
    let parcels = q.send(PeekOutbox { limit: n }).await.expect("queue").expect("outbox");
    assert_eq!(parcels.len(), n);
    let delivered = parcels.into_iter().map(|p| q.send(MarkDelivered { item: p.item, verdict: Verdict::Accepted }));
    for d in join_all(delivered).await {
        d.expect("queue").expect("delivered");
    }
}

fn bench_actor(c: &mut Criterion) {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut settings = QueueSettings::new(dir.path().join("q"));
    settings.caps = connector_actors::queue::LaneCaps::for_concurrency(64);
    let queue = DurableQueue::open(settings).expect("open");
    let status = connector_actors::status::StatusBoard::default().component("queue");
    let sys = actix::System::new();
    let addr = sys.block_on(async move { QueueActor::new(queue, status).0.start() });
    let mut g = c.benchmark_group("queue");
    g.throughput(Throughput::Elements(32));
    g.bench_function("actor_32_jobs_concurrent", |b| b.iter(|| sys.block_on(actor_cycle(&addr, 32))));
    g.finish();
}

fn bench(c: &mut Criterion) {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut settings = QueueSettings::new(dir.path().join("q"));
    settings.caps = connector_actors::queue::LaneCaps::for_concurrency(64);
    let mut q = DurableQueue::open(settings).expect("open");
    let raw_dir = tempfile::tempdir().expect("tempdir");
    let raw = sled::Config::new().path(raw_dir.path()).cache_capacity(64 << 20).open().expect("sled");

    let mut g = c.benchmark_group("queue");
    g.throughput(Throughput::Elements(1));
    g.bench_function("job_cycle_1", |b| b.iter(|| cycle(&mut q, 1)));
    // One job costs three flushes (accept, start, complete): the floor is three raw
    // insert+flush calls of a record of the same size.
    let record = vec![7u8; 600];
    g.bench_function("baseline_sled_3x_insert_flush", |b| {
        b.iter(|| {
            for _ in 0..3 {
                let k = NEXT.fetch_add(1, Ordering::Relaxed).to_be_bytes();
                raw.insert(k, record.clone()).expect("insert");
                raw.flush().expect("flush");
            }
        })
    });
    g.throughput(Throughput::Elements(32));
    g.bench_function("job_cycle_32_grouped", |b| b.iter(|| cycle(&mut q, 32)));
    g.finish();
}

criterion_group! {
    name = benches;
    config = Criterion::default().sample_size(20).measurement_time(std::time::Duration::from_secs(5));
    targets = bench, bench_actor
}
criterion_main!(benches);
