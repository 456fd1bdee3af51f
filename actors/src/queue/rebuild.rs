//! Opening the queue: the in-memory index rebuilt from the store, jobs found running
//! resumed, and unreadable records moved aside so one torn record never keeps the
//! whole queue shut.

use std::collections::HashMap;
use std::sync::Arc;

use super::change::{Durability, Effect, Slot};
use super::durable::DurableQueue;
use super::error::{decode, encode, QueueError};
use super::group::Grouping;
use super::keys;
use super::record::{Delivery, JobRecord, JobState, OutboxItem};
use super::scheduler::Scheduler;
use super::sealing::Sealer;
use super::settings::QueueSettings;
use super::spool::Spool;
use super::store::{SledStore, Store, WriteBatch};
use crate::errors::JobError;

/// A record moved aside because it could not be read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Quarantined {
    /// Its original key, e.g. `j/job-17` (a binary part shown as `\xNN`).
    pub key: String,
    /// Bytes of the value kept under `q/` + the original key.
    pub bytes: usize,
}

impl DurableQueue {
    /// Opens (or creates) the queue in `settings.path` and rebuilds the in-memory index.
    pub fn open(settings: QueueSettings) -> Result<DurableQueue, QueueError> {
        std::fs::create_dir_all(&settings.path)
            .map_err(|source| QueueError::StoragePath { path: settings.path.display().to_string(), source })?;
        let store = SledStore::open(&settings.path, settings.cache_bytes)?;
        Self::open_with(Box::new(store), settings)
    }

    pub fn open_with(store: Box<dyn Store>, settings: QueueSettings) -> Result<DurableQueue, QueueError> {
        // Writes reach the engine as one batch per flush (`overlay.rs`).
        let store: Box<dyn Store> = Box::new(super::overlay::Overlay::new(store));
        match store.get(keys::FORMAT)? {
            None => {
                let mut b = WriteBatch::default();
                b.put(keys::FORMAT.to_vec(), keys::FORMAT_VERSION.to_vec());
                store.apply(b)?;
            }
            Some(v) if v == keys::FORMAT_VERSION => {}
            Some(v) => return Err(QueueError::Format { found: String::from_utf8_lossy(&v).into_owned() }),
        }
        let sealer = Sealer::open(&settings.path)?;
        let spool = Arc::new(Spool::open(&settings.path)?);
        let mut queue = DurableQueue {
            store,
            sealer,
            spool,
            scheduler: Scheduler::new(settings.caps),
            settings,
            next_arrival: 0,
            next_position: 0,
            live: HashMap::new(),
            dead: 0,
            results_pending: 0,
            unflushed: Vec::new(),
            outbox_unflushed: false,
            after_flush: Vec::new(),
            unavailable: None,
            undo: None,
            grouping: Grouping::Each,
            group: None,
            logins_shed: 0,
            shed_log: Default::default(),
        };
        queue.rebuild()?;
        Ok(queue)
    }

    fn rebuild(&mut self) -> Result<(), QueueError> {
        // The outbox first: results this rebuild adds go after its last entry.
        let mut aside = WriteBatch::default();
        for (k, v) in self.store.scan(keys::OUTBOX)? {
            if readable::<OutboxItem>(&mut aside, &k, &v).is_some() {
                self.next_position = keys::outbox_position(&k).map_or(0, |p| p + 1);
            }
        }
        let mut tx = self.tx(Durability::Flushed);
        tx.batch.writes.append(&mut aside.writes);
        for (k, v) in self.store.scan(keys::JOBS)? {
            let Some(mut job) = readable::<JobRecord>(&mut tx.batch, &k, &v) else { continue };
            self.next_arrival = self.next_arrival.max(job.arrival + 1);
            if job.delivery == Delivery::Pending {
                self.results_pending += 1;
            }
            if job.state == JobState::Running && job.batches_stored > job.batches_at_start {
                // It was making progress when the process died (a kill, a reboot): not its fault.
                job.attempts = job.attempts.saturating_sub(1);
            }
            match job.state {
                JobState::Dead => self.dead += 1,
                JobState::Running if job.attempts >= self.settings.max_attempts => {
                    // It crashed the process every time it ran: stop feeding it.
                    let err = JobError::internal(format!(
                        "the connector stopped {} times while running this job; it was given up",
                        job.attempts
                    ));
                    self.finish_in(&mut tx, &mut job, Err(err), crate::time::now_ms(), JobState::Dead);
                }
                JobState::Running | JobState::Acknowledged => {
                    job.state = JobState::Acknowledged;
                    tx.effect(Effect::Schedule(Slot::of(&job)));
                    tx.batch.put(k.clone(), encode(&job));
                }
                // Stored, not acknowledged yet: it holds its place in its key's line.
                JobState::Received if job.invalid.is_none() => tx.effect(Effect::Schedule(Slot::holding(&job))),
                _ => {}
            }
            if !job.state.is_final() {
                tx.effect(Effect::Live(job.id.clone(), job.state));
            }
        }
        self.commit(tx)?;
        let kept = |id: &str| {
            let job = self.load(id).ok().flatten()?;
            // A job whose result was delivered needs no spool files (a crash may have come
            // between the delivery's write and their removal).
            (job.delivery == Delivery::None || job.delivery == Delivery::Pending).then_some(job.batches_delivered)
        };
        self.spool.tidy(kept)?;
        Ok(())
    }

    /// Records moved aside at an open because they could not be read, in key order.
    pub fn quarantined(&self) -> Result<Vec<Quarantined>, QueueError> {
        Ok(self
            .store
            .scan(keys::QUARANTINE)?
            .into_iter()
            .map(|(k, v)| Quarantined { key: show_key(&k[keys::QUARANTINE.len()..]), bytes: v.len() })
            .collect())
    }
}

/// The record decoded, or `None` after queueing its move to `q/{key}` in `batch`, with
/// one warning naming it.
fn readable<T: serde::de::DeserializeOwned>(batch: &mut WriteBatch, k: &[u8], v: &[u8]) -> Option<T> {
    match decode::<T>(k, v) {
        Ok(t) => Some(t),
        Err(e) => {
            tracing::warn!(key = %show_key(k), error = %e, "an unreadable queue record was moved aside (under q/); the rest of the queue opens. `queue check` lists it");
            batch.put([keys::QUARANTINE, k].concat(), v.to_vec());
            batch.delete(k.to_vec());
            None
        }
    }
}

/// A key as text, bytes that are not printable ASCII as `\xNN` (outbox positions are binary).
fn show_key(k: &[u8]) -> String {
    k.iter().map(|b| if b.is_ascii_graphic() { (*b as char).to_string() } else { format!("\\x{b:02x}") }).collect()
}
