//! Group commit: the writes of many transitions share one flush (one `fdatasync`).
//!
//! In [`Grouping::Grouped`] mode (the queue actor's), a transition that must be flushed
//! is applied to the store at once but not flushed: it joins the open [`Group`], and so
//! does every later transition until [`DurableQueue::settle`] flushes them all. Only then
//! are their memory changes applied, in the order the transitions came, and their
//! callers answered ([`DurableQueue::when_settled`]). A flush that fails undoes every
//! member (their pre-images, newest first), puts the allocation counters back and
//! answers each member `StorageUnavailable`: memory never saw any of them.
//!
//! While a group is open, a transition is built on the store (which holds the members'
//! writes) and on the counters that allocate outbox positions and arrival numbers (moved
//! on at once, so two members never take the same one); the rest of memory is the
//! flushed state. Calls that read that memory to decide what to hand out settle first:
//! [`DurableQueue::outbox`] always, [`DurableQueue::take_runnable`] when a member started,
//! placed or removed a job.

use super::change::{Durability, Effect};
use super::durable::DurableQueue;
use super::error::QueueError;
use super::store::{StoreError, WriteBatch};

/// Answers one caller once the group holding its transition is settled: `Ok` when that
/// flush succeeded (its memory changes are applied), `StorageUnavailable` when it failed.
pub type Waiter = Box<dyn FnOnce(Result<(), QueueError>) + Send>;

/// When a flushed transition reaches the disk.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Grouping {
    /// Flushed within the call that makes it (direct users: tests, the CLI, benches).
    Each,
    /// Joins the open group, flushed by [`DurableQueue::settle`] (the queue actor settles
    /// when its mailbox is empty).
    Grouped,
}

/// Transitions applied to the store, not yet flushed, their memory changes held back.
#[derive(Default)]
pub(super) struct Group {
    /// Pre-images of each member's keys, in member order.
    undo: Vec<WriteBatch>,
    effects: Vec<Effect>,
    waiters: Vec<Waiter>,
    /// The counters before the first member, put back if the group fails.
    position_before: u64,
    arrival_before: u64,
}

impl Group {
    /// The outbox's next position before the first member.
    pub(super) fn position_before(&self) -> u64 {
        self.position_before
    }

    pub(super) fn new(position_before: u64, arrival_before: u64) -> Group {
        Group { position_before, arrival_before, ..Group::default() }
    }

    /// Whether a member started, placed or removed a job (a take, an accept, a retry, a
    /// cancel, a drop, a deadline failure): the scheduler, which is memory, does not show
    /// it yet. (A take that missed a placed job could start a later one of its key first.)
    pub(super) fn reschedules(&self) -> bool {
        self.effects.iter().any(|e| matches!(e, Effect::Start(_) | Effect::Unschedule(_) | Effect::Schedule(_)))
    }

    /// A member: its pre-images (none when it wrote nothing) and memory changes.
    pub(super) fn join(&mut self, undo: Option<WriteBatch>, effects: Vec<Effect>) {
        self.undo.extend(undo);
        self.effects.extend(effects);
    }
}

impl DurableQueue {
    /// Sets when flushed transitions reach the disk (see [`Grouping`]). An open group
    /// stays open until [`Self::settle`].
    pub fn set_grouping(&mut self, grouping: Grouping) {
        self.grouping = grouping;
    }

    /// Whether transitions wait for [`Self::settle`].
    pub fn unsettled(&self) -> bool {
        self.group.is_some()
    }

    /// Runs `waiter` once everything applied so far is settled: now when nothing waits
    /// for a flush, else after the open group's flush (with its outcome).
    pub fn when_settled(&mut self, waiter: Waiter) {
        match &mut self.group {
            Some(group) => group.waiters.push(waiter),
            None => waiter(Ok(())),
        }
    }

    /// Flushes the open group, then applies its members' memory changes and answers
    /// their waiters. Errors: the flush failed: every member is undone and answered
    /// `StorageUnavailable`, and the storage is unavailable until a probe succeeds.
    pub fn settle(&mut self) -> Result<(), QueueError> {
        let Some(group) = self.group.take() else { return Ok(()) };
        if let Err(e) = self.store.flush() {
            self.group = Some(group);
            return Err(self.lost_storage(None, e));
        }
        self.flushed();
        for e in group.effects {
            self.apply_effect(e, Durability::Flushed);
        }
        for w in group.waiters {
            w(Ok(()));
        }
        Ok(())
    }

    /// A write or flush failed: the open group (if any) and `undo` (the pre-images of a
    /// write that failed now) are undone, newest first; returns the undo of all of them
    /// and answers the group's waiters.
    pub(super) fn fail_group(&mut self, undo: Option<WriteBatch>, e: &StoreError) -> Option<WriteBatch> {
        let Some(group) = self.group.take() else { return undo };
        self.next_position = group.position_before;
        self.next_arrival = group.arrival_before;
        let mut all = undo.unwrap_or_default();
        for member in group.undo.into_iter().rev() {
            all.writes.extend(member.writes);
        }
        let reason = e.to_string();
        for w in group.waiters {
            w(Err(QueueError::StorageUnavailable { reason: reason.clone() }));
        }
        Some(all)
    }
}

#[cfg(test)]
mod tests;
