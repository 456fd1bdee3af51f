//! Durable first, memory after: every change of the queue is a [`Tx`], the writes of
//! one transition and the in-memory changes ([`Effect`]s) they stand for. The writes go
//! to the store first; the effects are applied only once the store took them, so a
//! write that fails (disk full, I/O error, read-only remount) leaves the queue's memory
//! exactly as it was.
//!
//! A failed write makes the storage *unavailable*: every later change is refused with
//! [`QueueError::StorageUnavailable`] without touching the store, until [`DurableQueue::probe`]
//! reopens the store, puts back what the failed write changed ([`Store::reopen`]: sled
//! may hold it in memory, or have written part of it), writes again the writes applied
//! but not yet flushed, and flushes a probe key.

use std::collections::HashSet;

use super::change::{Durability, Effect, Tx};
use super::durable::DurableQueue;
use super::error::QueueError;
use super::group::{Group, Grouping};
use super::keys;
use super::store::{StoreError, Write, WriteBatch};

impl DurableQueue {
    pub(super) fn tx(&self, durability: Durability) -> Tx {
        Tx { batch: WriteBatch::default(), effects: Vec::new(), durability, next_position: self.next_position }
    }

    /// `Err(StorageUnavailable)` while a failed write has not been repaired by [`Self::probe`].
    pub(super) fn writable(&self) -> Result<(), QueueError> {
        match &self.unavailable {
            None => Ok(()),
            Some(reason) => Err(QueueError::StorageUnavailable { reason: reason.clone() }),
        }
    }

    /// Why the storage is unavailable, while it is.
    pub fn storage_problem(&self) -> Option<&str> {
        self.unavailable.as_deref()
    }

    /// Writes `tx`, then applies its effects once the writes are flushed: within this
    /// call in [`Grouping::Each`] mode, at [`Self::settle`] when it joins a group
    /// (`group.rs`). A deferred `tx` with no group open changes memory now and reaches the
    /// disk with the next flush. On a failed write nothing in memory changes (the open
    /// group is undone with it) and the storage becomes unavailable.
    pub(super) fn commit(&mut self, tx: Tx) -> Result<(), QueueError> {
        self.writable()?;
        let Tx { batch, effects, durability, next_position } = tx;
        let wrote = !batch.writes.is_empty();
        let joins = self.group.is_some() || (wrote && durability == Durability::Flushed);
        let mut undo = None;
        if wrote {
            let pre = self.undo_of(&batch)?;
            let redo = (!joins).then(|| batch.clone());
            if let Err(e) = self.store.apply(batch) {
                return Err(self.lost_storage(Some(pre), e));
            }
            if let Some(b) = redo {
                self.outbox_unflushed |= next_position != self.next_position;
                self.unflushed.push(b);
            }
            undo = Some(pre);
        }
        if !joins {
            self.next_position = next_position;
            for e in effects {
                self.apply_effect(e, durability);
            }
            return Ok(());
        }
        let (position, arrival) = (self.next_position, self.next_arrival);
        let group = self.group.get_or_insert_with(|| Group::new(position, arrival));
        // The counters allocate at once (the next member must not take the same numbers).
        let (counters, held): (Vec<Effect>, Vec<Effect>) =
            effects.into_iter().partition(|e| matches!(e, Effect::NextArrival(_)));
        group.join(undo, held);
        self.next_position = next_position;
        for e in counters {
            self.apply_effect(e, Durability::Flushed);
        }
        match self.grouping {
            Grouping::Each => self.settle(),
            Grouping::Grouped => Ok(()),
        }
    }

    /// Flushes deferred writes that put something in the outbox (before anything is
    /// handed out for sending).
    pub(super) fn flush_pending(&mut self) -> Result<(), QueueError> {
        self.writable()?;
        if !self.outbox_unflushed {
            return Ok(());
        }
        self.flush_deferred()
    }

    /// Flushes every deferred write (the actor calls it every second, so an ack or a
    /// delivery is on disk soon, and the spool files deliveries freed are removed).
    pub fn flush_deferred(&mut self) -> Result<(), QueueError> {
        self.writable()?;
        if self.group.is_some() {
            return self.settle();
        }
        if self.unflushed.is_empty() {
            return Ok(());
        }
        if let Err(e) = self.store.flush() {
            return Err(self.lost_storage(None, e));
        }
        self.flushed();
        Ok(())
    }

    /// The writes that restore every key `batch` touches to what it holds now.
    fn undo_of(&self, batch: &WriteBatch) -> Result<WriteBatch, QueueError> {
        let mut undo = WriteBatch::default();
        let mut seen = HashSet::new();
        for w in &batch.writes {
            let key = match w {
                Write::Put(k, _) | Write::Delete(k) => k,
            };
            if !seen.insert(key.clone()) {
                continue;
            }
            match self.store.get(key)? {
                Some(old) => undo.put(key.clone(), old),
                None => undo.delete(key.clone()),
            }
        }
        Ok(undo)
    }

    /// Makes the storage unavailable after a failed write or flush; `undo` puts back what
    /// the failed write touched, and the open group is undone with it.
    pub(super) fn lost_storage(&mut self, undo: Option<WriteBatch>, e: StoreError) -> QueueError {
        let undo = self.fail_group(undo, &e);
        let reason = e.to_string();
        tracing::error!(error = %reason, "the queue cannot write to its storage path: no job is taken or acknowledged until a write succeeds again (free space there, or make it writable); it resumes by itself");
        if let Some(undo) = undo {
            // Best effort now (sled refuses it after an I/O error); done for sure by `probe`.
            let _ = self.store.apply(undo.clone());
            self.undo = Some(undo);
        }
        self.unavailable = Some(reason.clone());
        QueueError::StorageUnavailable { reason }
    }

    /// Everything applied so far is on disk: remove the files deferred writes freed.
    pub(super) fn flushed(&mut self) {
        self.unflushed.clear();
        self.outbox_unflushed = false;
        for e in std::mem::take(&mut self.after_flush) {
            self.apply_effect(e, Durability::Flushed);
        }
    }

    /// While the storage is unavailable, tries to make it work again: reopens the store,
    /// undoes the failed write, writes again what was applied but not flushed, and
    /// flushes a probe key. `Ok` when the storage works (now or already).
    pub fn probe(&mut self, now_ms: u64) -> Result<(), QueueError> {
        if self.unavailable.is_none() {
            return Ok(());
        }
        match self.repair(now_ms) {
            Ok(()) => {
                tracing::info!("the queue's storage is writable again; taking and acknowledging jobs resumes");
                self.unavailable = None;
                self.undo = None;
                self.flushed();
                Ok(())
            }
            Err(e) => {
                let reason = e.to_string();
                self.unavailable = Some(reason.clone());
                Err(QueueError::StorageUnavailable { reason })
            }
        }
    }

    fn repair(&mut self, now_ms: u64) -> Result<(), StoreError> {
        self.store.reopen()?;
        // Disk holds what was flushed plus any prefix of the later writes: the deferred
        // ones go again, then the failed one is undone (its pre-images are the state
        // after the deferred ones).
        for b in &self.unflushed {
            self.store.apply(b.clone())?;
        }
        if let Some(undo) = &self.undo {
            self.store.apply(undo.clone())?;
        }
        let mut probe = WriteBatch::default();
        probe.put(keys::PROBE.to_vec(), now_ms.to_string().into_bytes());
        self.store.apply(probe)?;
        self.store.flush()
    }

    pub(super) fn apply_effect(&mut self, e: Effect, durability: Durability) {
        match e {
            Effect::Live(id, state) => {
                self.live.insert(id, state);
            }
            Effect::Forget(id) => {
                self.live.remove(&id);
            }
            Effect::Schedule(s) => self.scheduler.insert(&s.id, &s.key, s.lane, s.place, s.not_before_ms),
            Effect::Release(id) => self.scheduler.release(&id),
            Effect::Unschedule(id) => {
                self.scheduler.remove_waiting(&id);
            }
            Effect::Start(id) => self.scheduler.start(&id),
            Effect::Finished(id) => self.scheduler.finished(&id),
            Effect::DeadAdded => self.dead += 1,
            Effect::LoginShed => self.logins_shed += 1,
            Effect::DeadRemoved(n) => self.dead = self.dead.saturating_sub(n),
            Effect::ResultPending => self.results_pending += 1,
            Effect::ResultsSettled(n) => self.results_pending = self.results_pending.saturating_sub(n),
            Effect::NextArrival(n) => self.next_arrival = n,
            Effect::SpoolJob(_) | Effect::SpoolBody(..) if durability == Durability::Deferred => {
                self.after_flush.push(e);
            }
            Effect::SpoolJob(id) => self.spool.remove_job(&id),
            Effect::SpoolBody(id, seq) => self.spool.remove_body(&id, seq),
        }
    }
}
