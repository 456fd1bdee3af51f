//! The outbox: results and import batches owed to the server, in order.

use serde_json::Value;

use super::batch::{ImportProgress, NewBatch, Parcel, RecordDigest, Split, SpooledBatch, Verdict};
use super::change::{Durability, Effect, Tx};
use super::durable::DurableQueue;
use super::error::{decode, encode, QueueError};
use super::journal::{ImportDone, Step};
use super::keys;
use super::record::{Delivery, JobRecord, JobState, OutboxItem, OutboxKind};
use super::spool::Spool;
use std::sync::Arc;

impl DurableQueue {
    /// The position the next flushed outbox entry gets (grows with every entry): entries
    /// of an open group count once it is settled, so a wake-up never finds them unsent.
    pub fn outbox_head(&self) -> u64 {
        self.group.as_ref().map_or(self.next_position, |g| g.position_before())
    }

    /// Stores the next records batch of a running import and queues it for delivery,
    /// with the identity of each record (`keys`) so a resumed import skips them, and for
    /// the last batch the journal step `import.done`, all in one atomic write. Flushed
    /// before it returns: a repeat after a crash carries exactly the same records. (The
    /// import calls the two halves itself, the spool write off the queue actor.)
    #[cfg(test)]
    pub fn store_batch(&mut self, id: &str, batch_in: NewBatch) -> Result<u64, QueueError> {
        let Some(job) = self.load(id)? else { return Err(QueueError::NotFound(id.to_owned())) };
        let seq = job.batches_stored;
        let seen_bytes = batch_in.spool(&self.spool, id, seq, job.seen_bytes)?;
        let records = batch_in.records.len() as u64;
        self.commit_batch(
            id,
            SpooledBatch { seq, records, deleted: batch_in.deleted, last: batch_in.last, seen_bytes },
        )?;
        Ok(seq)
    }

    /// Commits a batch already in the spool (an import writes its batches there itself,
    /// so these writes never hold up the queue's other work): counts it, queues it for
    /// delivery and, for the last one, journals `import.done`, in one atomic write.
    pub fn commit_batch(&mut self, id: &str, b: SpooledBatch) -> Result<(), QueueError> {
        self.writable()?;
        let Some(mut job) = self.load(id)? else { return Err(QueueError::NotFound(id.to_owned())) };
        let seq = job.batches_stored;
        if b.seq < seq {
            // Only a split moves `batches_stored` on under an import (see `split_batch`).
            return Err(QueueError::Renumbered { id: id.to_owned(), seq: b.seq, due: seq });
        }
        if b.seq != seq {
            let reason = format!("batch {} committed where batch {seq} was due", b.seq);
            return Err(QueueError::Corrupt { key: format!("j/{id}"), reason });
        }
        job.records_stored += b.records;
        job.records_deleted += b.deleted;
        job.seen_bytes = b.seen_bytes;
        let mut tx = self.tx(Durability::Flushed);
        if b.last {
            tx.batch.put(keys::step(id, ImportDone::NAME), encode(&ImportDone(true)));
        }
        job.batches_stored += 1;
        tx.batch.put(keys::job(id), encode(&job));
        tx.push_outbox(id, OutboxKind::Batch { seq });
        self.commit(tx)
    }

    /// The spool, for an import to write its batches into before committing them.
    pub fn spool(&self) -> Arc<Spool> {
        self.spool.clone()
    }

    /// The digests of every record the job's stored batches hold, sorted (for a resumed
    /// import to skip them: 16 bytes per record, held only while it runs).
    pub fn seen(&self, id: &str) -> Result<Vec<RecordDigest>, QueueError> {
        let committed = self.load(id)?.map_or(0, |j| j.seen_bytes);
        let spooled = self.spool.read_seen(id, committed)?;
        let mut all: Vec<RecordDigest> =
            spooled.chunks_exact(16).filter_map(|c| RecordDigest::try_from(c).ok()).collect();
        // Batches a 413 split rewrote, and queues written before the spool, keep theirs in sled.
        for (_, v) in self.store.scan(&keys::seen_of(id))? {
            all.extend(v.chunks_exact(16).filter_map(|c| RecordDigest::try_from(c).ok()));
        }
        all.sort_unstable();
        Ok(all)
    }

    /// (batches stored, batches delivered, records stored, records deleted) of a job.
    pub fn progress(&self, id: &str) -> Result<ImportProgress, QueueError> {
        let job = self.load(id)?.ok_or_else(|| QueueError::NotFound(id.to_owned()))?;
        Ok(ImportProgress {
            batches_stored: job.batches_stored,
            batches_delivered: job.batches_delivered,
            records_stored: job.records_stored,
            records_deleted: job.records_deleted,
            seen_bytes: job.seen_bytes,
        })
    }

    /// The first `limit` parcels of the outbox, oldest first. Settles the open group and
    /// flushes first: nothing leaves before it is on disk. An entry whose body is gone (its batch file removed
    /// after a delivery whose own write a kill undid, or its job purged) is resolved:
    /// dropped with one warning naming job and seq, so it neither warns again nor takes a
    /// place in the window. Errors: the storage is unavailable (nothing is sent until it
    /// works: what it holds may include a write that failed).
    pub fn outbox(&mut self, limit: usize) -> Result<Vec<Parcel>, QueueError> {
        self.settle()?;
        self.flush_pending()?;
        loop {
            let mut out = Vec::new();
            let mut orphans = self.tx(Durability::Deferred);
            for (k, v) in self.store.scan_limit(keys::OUTBOX, limit)? {
                let item: OutboxItem = decode(&k, &v)?;
                let body = match item.kind {
                    OutboxKind::Result => self
                        .load(&item.job_id)?
                        .and_then(|j| j.outcome.map(|o| encode(&super::trim::naming_skipped(o, &j.skipped_records)))),
                    OutboxKind::Batch { seq } => self.batch_body(&item.job_id, seq)?,
                };
                match body {
                    Some(body) => out.push(Parcel { item, body }),
                    None => self.resolve_orphan(&mut orphans, &item)?,
                }
            }
            if orphans.batch.writes.is_empty() {
                return Ok(out);
            }
            self.commit(orphans)?;
        }
    }

    /// Drops an outbox entry that has no body, counting a batch as delivered (the one
    /// way a body goes missing without an operator is a delivery a kill cut short).
    fn resolve_orphan(&self, tx: &mut Tx, item: &OutboxItem) -> Result<(), QueueError> {
        tx.batch.delete(keys::outbox(item.position));
        let job = self.load(&item.job_id)?;
        match (item.kind, job) {
            (OutboxKind::Batch { seq }, Some(mut job)) => {
                tracing::warn!(job_id = %item.job_id, seq, "records batch in the outbox has no body (its spool file is gone: delivered before a restart, or removed by hand); dropped from the outbox");
                job.batches_delivered = job.batches_delivered.max(seq + 1);
                tx.batch.put(keys::job(&job.id), encode(&job));
            }
            (kind, _) => {
                tracing::warn!(job_id = %item.job_id, ?kind, "outbox entry whose job or result is gone (purged?); dropped from the outbox")
            }
        }
        Ok(())
    }

    /// The server answered a parcel. Results delivered erase the job's sealed secrets.
    /// The spool files the parcel frees are removed only once this is on disk.
    pub fn delivered(&mut self, item: &OutboxItem, verdict: Verdict, now_ms: u64) -> Result<(), QueueError> {
        self.writable()?;
        // Not flushed: lost in a crash, the parcel is sent again and answered 2xx/409.
        let mut tx = self.tx(Durability::Deferred);
        tx.batch.delete(keys::outbox(item.position));
        let job = self.load(&item.job_id)?;
        match (item.kind, job) {
            (OutboxKind::Batch { seq }, Some(mut job)) => {
                tx.batch.delete(keys::batch(&item.job_id, seq));
                job.batches_delivered = job.batches_delivered.max(seq + 1);
                tx.batch.put(keys::job(&job.id), encode(&job));
                tx.effect(Effect::SpoolBody(item.job_id.clone(), seq));
            }
            (OutboxKind::Result, Some(job)) if job.delivery == Delivery::Pending => {
                // A job's parcels go in order: its batches are all answered by now, and its
                // digests were only needed to resume it.
                tx.effect(Effect::SpoolJob(job.id.clone()));
                result_delivered(&mut tx, job, verdict, now_ms);
            }
            _ => {}
        }
        self.commit(tx)
    }

    /// Batch `seq`'s body: in sled when a 413 split rewrote it, else in the spool.
    fn batch_body(&self, id: &str, seq: u64) -> Result<Option<Vec<u8>>, QueueError> {
        match self.store.get(&keys::batch(id, seq))? {
            Some(body) => Ok(Some(body)),
            None => Ok(self.spool.read_body(id, seq)?),
        }
    }
}

impl DurableQueue {
    /// The server answered 413 to batch `seq` of job `id` (PROTOCOL.md §2.6: halve the
    /// batch). Every batch from `seq` on is unsent (a job's parcels go in order), so they
    /// are rewritten: the refused one as two halves, the later ones one `seq` higher, and
    /// the job's remaining outbox entries queued again in order.
    pub fn split_batch(&mut self, id: &str, seq: u64) -> Result<Split, QueueError> {
        self.writable()?;
        let Some(mut job) = self.load(id)? else { return Err(QueueError::NotFound(id.to_owned())) };
        let mut bodies: Vec<(Vec<String>, bool)> = Vec::new();
        let mut digests: Vec<Vec<u8>> = Vec::new();
        for s in seq..job.batches_stored {
            let key = keys::batch(id, s);
            let Some(raw) = self.batch_body(id, s)? else { continue };
            let body: Value = decode(&key, &raw)?;
            let records: Vec<String> = body["records"].as_array().into_iter().flatten().map(Value::to_string).collect();
            bodies.push((records, body["last"] == Value::Bool(true)));
            digests.push(self.store.get(&keys::seen(id, s))?.unwrap_or_default());
        }
        let Some((first, first_last)) = bodies.first().cloned() else { return Ok(Split::Single) };
        if first.len() == 1 {
            let refused = NewBatch { records: first, keys: Vec::new(), deleted: 0, last: first_last };
            return self.trim_single(job, seq, refused);
        }
        if first.len() < 2 {
            return Ok(Split::Single);
        }
        let half = first.len() / 2;
        let first_digests = digests.first().cloned().unwrap_or_default();
        let cut = (half * 16).min(first_digests.len());
        let mut new_bodies = vec![(first[..half].to_vec(), false), (first[half..].to_vec(), first_last)];
        new_bodies.extend(bodies.into_iter().skip(1));
        let mut new_digests = vec![first_digests[..cut].to_vec(), first_digests[cut..].to_vec()];
        new_digests.extend(digests.into_iter().skip(1));
        let mut tx = self.tx(Durability::Flushed);
        let mut requeue = Vec::new();
        for (k, v) in self.store.scan(keys::OUTBOX)? {
            let item: OutboxItem = decode(&k, &v)?;
            if item.job_id == id && !matches!(item.kind, OutboxKind::Batch { seq: s } if s < seq) {
                tx.batch.delete(k);
                if item.kind == OutboxKind::Result {
                    requeue.push(OutboxKind::Result);
                }
            }
        }
        for (i, ((records, last), d)) in new_bodies.into_iter().zip(new_digests).enumerate() {
            let s = seq + i as u64;
            let nb = NewBatch { records, keys: Vec::new(), deleted: 0, last };
            tx.batch.put(keys::batch(id, s), nb.body(s));
            if d.is_empty() {
                tx.batch.delete(keys::seen(id, s));
            } else {
                tx.batch.put(keys::seen(id, s), d);
            }
            tx.push_outbox(id, OutboxKind::Batch { seq: s });
        }
        for kind in requeue {
            tx.push_outbox(id, kind);
        }
        job.batches_stored += 1;
        tx.batch.put(keys::job(id), encode(&job));
        self.commit(tx)?;
        Ok(Split::Halved)
    }
}

/// The result of `job` was answered: settle it (memory changes when `tx` is committed).
fn result_delivered(tx: &mut Tx, mut job: JobRecord, verdict: Verdict, now_ms: u64) {
    tx.effect(Effect::ResultsSettled(1));
    job.sealed = None;
    job.delivery = match verdict {
        Verdict::Accepted => Delivery::Delivered,
        Verdict::Refused => Delivery::Refused,
    };
    if job.state == JobState::AwaitingDelivery {
        job.state = match verdict {
            Verdict::Accepted => JobState::Delivered,
            Verdict::Refused => {
                tx.effect(Effect::DeadAdded);
                JobState::Dead
            }
        };
    }
    tx.effect(Effect::Forget(job.id.clone()));
    tx.batch.put(keys::retention(*job.finished_ms.get_or_insert(now_ms), &job.id), Vec::new());
    tx.batch.put(keys::job(&job.id), encode(&job));
}
