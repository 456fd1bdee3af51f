//! Writes kept in memory and read through: a flush logs the ones since the last flush as
//! one record ([`Store::log`]), and the engine receives all of them only at a checkpoint.
//!
//! sled 0.34 seals its I/O buffer at every `apply_batch` and writes it with a waiting
//! `sync_file_range` (`pagecache/iobuf.rs`): each batch costs a disk write and wait of
//! its own, flushed or not (measured in the link bench: 8,512 of them against 220
//! `fdatasync`s in 6 s), and a sled flush several more. [`Overlay`] holds every write
//! applied since the last checkpoint, in key order, and reads through it; a flush writes
//! the ones applied since the last flush (a group, `group.rs`, and the deferred writes
//! before it) as one log record: one write, one `fdatasync` (`wal.rs`). Once the writes
//! logged since the last checkpoint reach [`CHECKPOINT_BYTES`], the flush instead gives
//! all held writes to the engine as one batch and flushes it ([`Store::checkpoint`]),
//! which bounds both the memory held here and the log; so does closing.
//!
//! What a read sees is unchanged: the engine's state with the held writes on top, in
//! order. A flush that fails keeps the held writes and those still to log: the queue puts
//! its undo on top of them, and the repair after [`Store::reopen`] logs the lot (`tx.rs`).

use std::cmp::Ordering;
use std::collections::BTreeMap;
use std::sync::{Mutex, MutexGuard};

use super::store::{Pairs, Store, StoreError, Write, WriteBatch};

/// Bytes of keys and values logged since the last checkpoint that make the next flush a
/// checkpoint (about the log's size, and at most the memory [`Overlay`] holds).
pub(super) const CHECKPOINT_BYTES: usize = 4 << 20;

/// A [`Store`] over another, holding writes until a checkpoint.
pub(super) struct Overlay {
    inner: Box<dyn Store>,
    /// (A mutex because [`Store`] writes through `&self`; only the queue's one owner uses it.)
    state: Mutex<State>,
}

#[derive(Default)]
struct State {
    /// Key → value, or `None` for a removal, since the last checkpoint.
    held: Held,
    /// The writes applied since the last successful flush, in order: the next log record.
    unlogged: Vec<Write>,
    /// Bytes of keys and values applied since the last checkpoint.
    bytes: usize,
}

type Held = BTreeMap<Vec<u8>, Option<Vec<u8>>>;

/// The held writes under `prefix`, in key order.
fn under<'a>(held: &'a Held, prefix: &'a [u8]) -> impl Iterator<Item = (&'a Vec<u8>, &'a Option<Vec<u8>>)> {
    held.range(prefix.to_vec()..).take_while(move |(k, _)| k.starts_with(prefix))
}

impl Overlay {
    pub(super) fn new(inner: Box<dyn Store>) -> Overlay {
        Overlay { inner, state: Mutex::new(State::default()) }
    }

    fn state(&self) -> MutexGuard<'_, State> {
        // A panic while holding it left maps that are still maps: use them.
        self.state.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Every held write to the engine as one batch, flushed; then nothing is held.
    fn checkpoint(&self, state: &mut State) -> Result<(), StoreError> {
        let mut batch = WriteBatch::default();
        for (k, v) in state.held.iter() {
            match v {
                Some(v) => batch.put(k.clone(), v.clone()),
                None => batch.delete(k.clone()),
            }
        }
        self.inner.checkpoint(batch)?;
        *state = State::default();
        Ok(())
    }

    /// `engine` (pairs under `prefix` from the engine, in key order) with the held writes
    /// on top: one merge of two sorted lists, and `engine` returned untouched when nothing
    /// under `prefix` is held (the common case: a scan costs what the engine's costs).
    fn merged(&self, prefix: &[u8], engine: Pairs) -> Pairs {
        let state = self.state();
        let mut writes = under(&state.held, prefix).peekable();
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
        let held = self.state().held.get(key).cloned();
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
        let removals = under(&self.state().held, prefix).filter(|(_, v)| v.is_none()).count();
        let engine = self.inner.scan_limit(prefix, limit.saturating_add(removals))?;
        let mut out = self.merged(prefix, engine);
        out.truncate(limit);
        Ok(out)
    }

    /// Held in memory, never fails: logged at the next flush.
    fn apply(&self, batch: WriteBatch) -> Result<(), StoreError> {
        let mut state = self.state();
        for w in batch.writes {
            let (k, v) = match &w {
                Write::Put(k, v) => (k, Some(v)),
                Write::Delete(k) => (k, None),
            };
            state.bytes += k.len() + v.map_or(0, Vec::len);
            state.held.insert(k.clone(), v.cloned());
            state.unlogged.push(w);
        }
        Ok(())
    }

    /// Logs the writes applied since the last flush as one record, or checkpoints every
    /// held write once [`CHECKPOINT_BYTES`] are reached. On failure nothing is dropped:
    /// the next flush writes them again.
    fn flush(&self) -> Result<(), StoreError> {
        let mut state = self.state();
        if state.unlogged.is_empty() {
            return Ok(());
        }
        if state.bytes >= CHECKPOINT_BYTES {
            return self.checkpoint(&mut state);
        }
        self.inner.log(&state.unlogged)?;
        state.unlogged.clear();
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
    /// Closing the queue checkpoints what is held, so the next open has no log to replay
    /// (best effort: a failure leaves what a crash would, which the log covers).
    fn drop(&mut self) {
        let mut state = std::mem::take(&mut *self.state());
        if state.held.is_empty() {
            return;
        }
        if let Err(e) = self.checkpoint(&mut state) {
            tracing::warn!(error = %e, "queue writes held at close could not be written to its database");
        }
    }
}

#[cfg(test)]
mod tests;
