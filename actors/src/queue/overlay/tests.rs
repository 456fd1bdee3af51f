//! The overlay reads as the engine would with the held writes applied, and gives them
//! to the engine as one batch at the flush, only then.

use std::sync::{Arc, Mutex};

use super::*;
use crate::queue::store::SledStore;

/// The real sled store, counting the batches it is given.
struct Counted {
    inner: SledStore,
    batches: Arc<Mutex<usize>>,
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
fn reads_see_held_writes_in_order_and_the_engine_gets_them_as_one_batch_at_the_flush() {
    let dir = tempfile::tempdir().unwrap();
    let batches = Arc::new(Mutex::new(0));
    let inner = Counted { inner: SledStore::open(dir.path(), 8 << 20).unwrap(), batches: batches.clone() };
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
    assert_eq!(*batches.lock().unwrap(), before + 1, "one batch for everything held");
    assert_eq!(keys(overlay.scan(b"o/").unwrap()), ["o/0", "o/2", "o/3", "o/4"]);
    assert_eq!(overlay.get(b"o/2").unwrap(), Some(b"b2".to_vec()));
}

#[test]
fn a_scan_merges_held_writes_before_between_and_after_the_engines_pairs() {
    let dir = tempfile::tempdir().unwrap();
    let inner = SledStore::open(dir.path(), 8 << 20).unwrap();
    inner.apply(batch(&[("p/b", Some("1")), ("p/d", Some("2")), ("p/f", Some("3")), ("q/a", Some("q"))])).unwrap();
    let overlay = Overlay::new(Box::new(inner));
    assert_eq!(keys(overlay.scan(b"p/").unwrap()), ["p/b", "p/d", "p/f"], "nothing held: the engine's pairs");
    overlay
        .apply(batch(&[("p/a", Some("0")), ("p/c", Some("x")), ("p/d", None), ("p/f", Some("3b")), ("p/g", Some("9"))]))
        .unwrap();
    let merged = overlay.scan(b"p/").unwrap();
    let text: Vec<(String, String)> =
        merged.into_iter().map(|(k, v)| (String::from_utf8(k).unwrap(), String::from_utf8(v).unwrap())).collect();
    let expected = [("p/a", "0"), ("p/b", "1"), ("p/c", "x"), ("p/f", "3b"), ("p/g", "9")];
    assert_eq!(text, expected.map(|(k, v)| (k.to_owned(), v.to_owned())));
    assert_eq!(keys(overlay.scan(b"q/").unwrap()), ["q/a"], "another prefix is untouched");
}
