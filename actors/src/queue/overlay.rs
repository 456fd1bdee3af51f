//! Writes kept in memory until the flush, then given to the engine as one batch.
//!
//! sled 0.34 seals its I/O buffer at every `apply_batch` and writes it with a waiting
//! `sync_file_range` (`pagecache/iobuf.rs`): each batch costs a disk write and wait of
//! its own, flushed or not (measured in the link bench: 8,512 of them against 220
//! `fdatasync`s in 6 s). [`Overlay`] holds every write applied since the last flush, in
//! key order, and reads through it, so a group (`group.rs`) and the deferred writes before
//! it reach the engine as one batch, written once and flushed once.
//!
//! What a read sees is unchanged: the engine's state with the held writes on top, in
//! order. A flush that fails keeps the held writes: the queue puts its undo on top of
//! them, and the repair after [`Store::reopen`] flushes the lot (`tx.rs`).

use std::cmp::Ordering;
use std::collections::BTreeMap;
use std::sync::{Mutex, MutexGuard};

use super::store::{Pairs, Store, StoreError, Write, WriteBatch};

/// A [`Store`] over another, holding writes until [`Store::flush`].
pub(super) struct Overlay {
    inner: Box<dyn Store>,
    /// Key → value, or `None` for a removal, since the last successful flush. (A mutex
    /// because [`Store`] writes through `&self`; only the queue's one owner uses it.)
    held: Mutex<Held>,
}

type Held = BTreeMap<Vec<u8>, Option<Vec<u8>>>;

/// The held writes under `prefix`, in key order.
fn under<'a>(held: &'a Held, prefix: &'a [u8]) -> impl Iterator<Item = (&'a Vec<u8>, &'a Option<Vec<u8>>)> {
    held.range(prefix.to_vec()..).take_while(move |(k, _)| k.starts_with(prefix))
}

impl Overlay {
    pub(super) fn new(inner: Box<dyn Store>) -> Overlay {
        Overlay { inner, held: Mutex::new(BTreeMap::new()) }
    }

    fn held(&self) -> MutexGuard<'_, Held> {
        // A panic while holding it left a map that is still a map: use it.
        self.held.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// `engine` (pairs under `prefix` from the engine, in key order) with the held writes
    /// on top: one merge of two sorted lists, and `engine` returned untouched when nothing
    /// under `prefix` is held (the common case: a scan costs what the engine's costs).
    fn merged(&self, prefix: &[u8], engine: Pairs) -> Pairs {
        let held = self.held();
        let mut writes = under(&held, prefix).peekable();
        if writes.peek().is_none() {
            return engine;
        }
        let mut out = Vec::with_capacity(engine.len());
        let mut pairs = engine.into_iter().peekable();
        loop {
            let order = match (pairs.peek(), writes.peek()) {
                (None, None) => break,
                (Some(_), None) => Ordering::Less,
                (None, Some(_)) => Ordering::Greater,
                (Some((k, _)), Some((h, _))) => k.as_slice().cmp(h.as_slice()),
            };
            if order == Ordering::Less {
                out.extend(pairs.next());
                continue;
            }
            if order == Ordering::Equal {
                // The held write replaces (or removes) the engine's pair.
                pairs.next();
            }
            if let Some((k, Some(v))) = writes.next() {
                out.push((k.clone(), v.clone()));
            }
        }
        out
    }
}

impl Store for Overlay {
    fn get(&self, key: &[u8]) -> Result<Option<Vec<u8>>, StoreError> {
        let held = self.held().get(key).cloned();
        match held {
            Some(value) => Ok(value),
            None => self.inner.get(key),
        }
    }

    fn scan(&self, prefix: &[u8]) -> Result<Pairs, StoreError> {
        Ok(self.merged(prefix, self.inner.scan(prefix)?))
    }

    fn scan_limit(&self, prefix: &[u8], limit: usize) -> Result<Pairs, StoreError> {
        // Each held removal may hide one of the engine's first pairs: read that many more.
        let removals = under(&self.held(), prefix).filter(|(_, v)| v.is_none()).count();
        let engine = self.inner.scan_limit(prefix, limit.saturating_add(removals))?;
        let mut out = self.merged(prefix, engine);
        out.truncate(limit);
        Ok(out)
    }

    /// Held in memory, never fails: the engine sees it at the next flush.
    fn apply(&self, batch: WriteBatch) -> Result<(), StoreError> {
        let mut held = self.held();
        for w in batch.writes {
            match w {
                Write::Put(k, v) => held.insert(k, Some(v)),
                Write::Delete(k) => held.insert(k, None),
            };
        }
        Ok(())
    }

    /// Gives the held writes to the engine as one batch and flushes it; they are
    /// dropped from memory only once both succeeded.
    fn flush(&self) -> Result<(), StoreError> {
        let mut held = self.held();
        if !held.is_empty() {
            let mut batch = WriteBatch::default();
            for (k, v) in held.iter() {
                match v {
                    Some(v) => batch.put(k.clone(), v.clone()),
                    None => batch.delete(k.clone()),
                }
            }
            self.inner.apply(batch)?;
        }
        self.inner.flush()?;
        held.clear();
        Ok(())
    }

    fn size_on_disk(&self) -> Result<u64, StoreError> {
        self.inner.size_on_disk()
    }

    fn reopen(&mut self) -> Result<(), StoreError> {
        self.inner.reopen()
    }
}

impl Drop for Overlay {
    /// Closing the queue writes what is held, as sled does with its own buffers when a
    /// handle is dropped (best effort: a failure leaves what a crash would).
    fn drop(&mut self) {
        if let Err(e) = self.flush() {
            tracing::warn!(error = %e, "queue writes held at close could not be written");
        }
    }
}

#[cfg(test)]
mod tests;
