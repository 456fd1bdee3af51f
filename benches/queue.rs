//! Durable queue: one job from offer to delivered (accept+flush, ack, take+flush,
//! complete+flush, delivered), against the floor of the same number of raw sled
//! insert+flush calls in the same run.

use std::sync::atomic::{AtomicU64, Ordering};

use connector_actors::protocol::Envelope;
use connector_actors::queue::{DurableQueue, QueueSettings, Verdict};
use criterion::{criterion_group, criterion_main, Criterion, Throughput};
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
    targets = bench
}
criterion_main!(benches);
