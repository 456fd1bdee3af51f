//! The overlay reads as the engine would with the held writes applied, logs the writes
//! of each flush as one record, and gives the engine every held write as one batch only
//! at a checkpoint.

use std::sync::{Arc, Mutex};

use super::*;
use crate::queue::store::SledStore;

/// The real sled store, counting the batches it is given and the records it logs.
struct Counted {
    inner: SledStore,
    batches: Arc<Mutex<usize>>,
    records: Arc<Mutex<usize>>,
}

impl Store for Counted {
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
        *self.batches.lock().unwrap() += 1;
        self.inner.apply(batch)
    }
    fn flush(&self) -> Result<(), StoreError> {
        self.inner.flush()
    }
    fn log(&self, writes: &[Write]) -> Result<(), StoreError> {
        *self.records.lock().unwrap() += 1;
        self.inner.log(writes)
    }
    fn checkpoint(&self, batch: WriteBatch) -> Result<(), StoreError> {
        *self.batches.lock().unwrap() += 1;
        self.inner.checkpoint(batch)
    }
    fn size_on_disk(&self) -> Result<u64, StoreError> {
        self.inner.size_on_disk()
    }
}

fn batch(writes: &[(&str, Option<&str>)]) -> WriteBatch {
    let mut b = WriteBatch::default();
    for (k, v) in writes {
        match v {
            Some(v) => b.put(k.as_bytes().to_vec(), v.as_bytes().to_vec()),
            None => b.delete(k.as_bytes().to_vec()),
        }
    }
    b
}

fn keys(pairs: Pairs) -> Vec<String> {
    pairs.into_iter().map(|(k, _)| String::from_utf8(k).unwrap()).collect()
}

#[test]
fn reads_see_held_writes_in_order_a_flush_logs_them_as_one_record_and_a_checkpoint_gives_the_engine_one_batch() {
    let dir = tempfile::tempdir().unwrap();
    let (batches, records) = (Arc::new(Mutex::new(0)), Arc::new(Mutex::new(0)));
    let sled = SledStore::open(dir.path(), 8 << 20).unwrap();
    let inner = Counted { inner: sled, batches: batches.clone(), records: records.clone() };
    inner.apply(batch(&[("o/1", Some("a")), ("o/2", Some("b")), ("o/3", Some("c")), ("x/1", Some("x"))])).unwrap();
    let before = *batches.lock().unwrap();
    let overlay = Overlay::new(Box::new(inner));
    overlay.apply(batch(&[("o/1", None), ("o/2", None), ("o/4", Some("d"))])).unwrap();
    overlay.apply(batch(&[("o/2", Some("b2")), ("o/0", Some("z"))])).unwrap();
    assert_eq!(*batches.lock().unwrap(), before, "nothing reaches the engine before the flush");
    assert_eq!(overlay.get(b"o/1").unwrap(), None);
    assert_eq!(overlay.get(b"o/2").unwrap(), Some(b"b2".to_vec()), "the later write wins");
    assert_eq!(overlay.get(b"x/1").unwrap(), Some(b"x".to_vec()));
    assert_eq!(keys(overlay.scan(b"o/").unwrap()), ["o/0", "o/2", "o/3", "o/4"]);
    // Held removals hide engine pairs: the limit still counts what a read would see.
    assert_eq!(keys(overlay.scan_limit(b"o/", 3).unwrap()), ["o/0", "o/2", "o/3"]);
    overlay.flush().unwrap();
    assert_eq!(*records.lock().unwrap(), 1, "one log record for both batches");
    assert_eq!(*batches.lock().unwrap(), before, "the engine sees nothing until a checkpoint");
    overlay.flush().unwrap();
    assert_eq!(*records.lock().unwrap(), 1, "nothing new: nothing logged");
    assert_eq!(keys(overlay.scan(b"o/").unwrap()), ["o/0", "o/2", "o/3", "o/4"]);
    assert_eq!(overlay.get(b"o/2").unwrap(), Some(b"b2".to_vec()));
    // Rewriting one key until the log holds CHECKPOINT_BYTES: one engine batch, then
    // nothing held, and the engine reads as the overlay did.
    let value = "v".repeat(64 << 10);
    let mut flushes = 0;
    while *batches.lock().unwrap() == before {
        overlay.apply(batch(&[("o/5", Some(&value))])).unwrap();
        overlay.flush().unwrap();
        flushes += 1;
    }
    assert_eq!(flushes, CHECKPOINT_BYTES / value.len(), "a checkpoint once the log holds CHECKPOINT_BYTES");
    assert_eq!(*batches.lock().unwrap(), before + 1);
    assert_eq!(*records.lock().unwrap(), flushes, "every flush before the checkpoint logged one record");
    assert!(overlay.state().held.is_empty() && overlay.state().unlogged.is_empty());
    assert_eq!(keys(overlay.scan(b"o/").unwrap()), ["o/0", "o/2", "o/3", "o/4", "o/5"]);
}
