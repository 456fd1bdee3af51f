//! The storage the queue needs, as a trait, and its sled implementation.
//!
//! sled is pre-1.0 and its on-disk format will change: everything sled-specific stays
//! in this file so a later engine replaces one type.

use std::path::Path;
use std::sync::{Mutex, MutexGuard};

use super::wal::Wal;

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("the queue database is in use by another process (is the service running? stop it first): {0}")]
    Locked(String),
    #[error("queue database error: {0}")]
    Engine(String),
}

/// Key/value pairs as a scan returns them, in key order.
pub type Pairs = Vec<(Vec<u8>, Vec<u8>)>;

/// One write of a batch.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Write {
    Put(Vec<u8>, Vec<u8>),
    Delete(Vec<u8>),
}

/// Writes of one state transition; applied atomically.
#[derive(Debug, Default, Clone)]
pub struct WriteBatch {
    pub writes: Vec<Write>,
}

impl WriteBatch {
    pub fn put(&mut self, key: Vec<u8>, value: Vec<u8>) {
        self.writes.push(Write::Put(key, value));
    }

    pub fn delete(&mut self, key: Vec<u8>) {
        self.writes.push(Write::Delete(key));
    }
}

pub trait Store: Send {
    fn get(&self, key: &[u8]) -> Result<Option<Vec<u8>>, StoreError>;
    /// All (key, value) pairs whose key starts with `prefix`, in key order.
    fn scan(&self, prefix: &[u8]) -> Result<Pairs, StoreError>;
    /// Up to `limit` pairs under `prefix`, in key order.
    fn scan_limit(&self, prefix: &[u8], limit: usize) -> Result<Pairs, StoreError>;
    fn apply(&self, batch: WriteBatch) -> Result<(), StoreError>;
    /// Returns once everything applied so far is on disk.
    fn flush(&self) -> Result<(), StoreError>;
    /// Makes `writes` durable without applying them: its writes are not read back from this
    /// store until a [`Store::checkpoint`] applies them, so the caller keeps them (the
    /// queue's `Overlay`). Returns once they are on disk. The default applies and
    /// flushes (an engine without a log of its own).
    fn log(&self, writes: &[Write]) -> Result<(), StoreError> {
        self.apply(WriteBatch { writes: writes.to_vec() })?;
        self.flush()
    }
    /// Applies `batch`, which holds every write logged since the last checkpoint (and may
    /// hold more), and makes it durable; the log then starts again. The default applies
    /// and flushes.
    fn checkpoint(&self, batch: WriteBatch) -> Result<(), StoreError> {
        self.apply(batch)?;
        self.flush()
    }
    /// Bytes the database occupies on disk.
    fn size_on_disk(&self) -> Result<u64, StoreError>;
    /// Drops the engine's in-memory state and opens the database from disk again: after
    /// a failed write sled refuses every later write until it is reopened (its "global
    /// error"), and what it holds in memory may include the failed write. Errors: the
    /// database cannot be opened (still full or read-only, or gone from the path).
    fn reopen(&mut self) -> Result<(), StoreError> {
        Ok(())
    }
}

pub struct SledStore {
    dir: std::path::PathBuf,
    cache_bytes: u64,
    /// `None` only between dropping the engine and opening it again in [`Store::reopen`].
    open: Option<(sled::Db, sled::Tree)>,
    /// sled's log file, for the `fdatasync` its own flush leaves out (see [`Store::flush`]).
    log: Option<std::fs::File>,
    /// The write-ahead log [`Store::log`] writes (`wal.rs`); `None` like `open`.
    wal: Option<Mutex<Wal>>,
}

/// The write-ahead log's file, beside `queue.sled/`.
pub const WAL_FILE: &str = "queue.wal";
/// The `seq` of the last log record the database holds (8 bytes, big-endian), written in
/// the batch of every checkpoint: records up to it are not replayed again.
const LOG_SEQ: &[u8] = b"m/log_seq";

fn engine(e: sled::Error) -> StoreError {
    StoreError::Engine(e.to_string())
}

impl SledStore {
    /// Opens the database. The file lock is retried for up to 2 s: sled's flusher thread of
    /// a handle just dropped (or a process just exiting) may still hold it.
    pub fn open(dir: &Path, cache_bytes: u64) -> Result<SledStore, StoreError> {
        let mut tries = 0;
        loop {
            match Self::open_once(dir, cache_bytes) {
                Err(StoreError::Locked(_)) if tries < 20 => {
                    tries += 1;
                    std::thread::sleep(std::time::Duration::from_millis(100));
                }
                other => {
                    let (db, tree) = other?;
                    let log = crate::platform::open_for_sync(&dir.join("queue.sled").join("db"))
                        .map_err(|e| StoreError::Engine(format!("cannot open the queue's log file: {e}")))?;
                    let mut store = SledStore {
                        dir: dir.to_path_buf(),
                        cache_bytes,
                        open: Some((db, tree)),
                        log: Some(log),
                        wal: None,
                    };
                    store.replay()?;
                    return Ok(store);
                }
            }
        }
    }

    fn open_once(dir: &Path, cache_bytes: u64) -> Result<(sled::Db, sled::Tree), StoreError> {
        drop_unfinished_snapshots(&dir.join("queue.sled"))?;
        let db =
            sled::Config::new().path(dir.join("queue.sled")).cache_capacity(cache_bytes).open().map_err(
                |e| match e {
                    // sled reports the exclusive file lock as an I/O error "could not acquire lock".
                    sled::Error::Io(io) if io.to_string().contains("lock") => StoreError::Locked(io.to_string()),
                    other => engine(other),
                },
            )?;
        let tree = db.open_tree("queue").map_err(engine)?;
        Ok((db, tree))
    }

    fn tree(&self) -> Result<&sled::Tree, StoreError> {
        self.open.as_ref().map(|(_, t)| t).ok_or_else(closed)
    }

    fn db(&self) -> Result<&sled::Db, StoreError> {
        self.open.as_ref().map(|(d, _)| d).ok_or_else(closed)
    }

    fn wal(&self) -> Result<MutexGuard<'_, Wal>, StoreError> {
        let wal = self.wal.as_ref().ok_or_else(closed)?;
        // A panic while holding it left a log whose offset and seq are still its own.
        Ok(wal.lock().unwrap_or_else(|poisoned| poisoned.into_inner()))
    }

    /// Opens the write-ahead log and checkpoints the records sled does not have yet (a
    /// crash or a failed write came after their sync), then empties the log.
    fn replay(&mut self) -> Result<(), StoreError> {
        let checkpointed = match self.tree()?.get(LOG_SEQ).map_err(engine)? {
            None => 0,
            Some(v) => u64::from_be_bytes(v.as_ref().try_into().map_err(|_| {
                StoreError::Engine(format!("the queue database's {} is not 8 bytes", String::from_utf8_lossy(LOG_SEQ)))
            })?),
        };
        let (mut wal, records) = Wal::open(&self.dir.join(WAL_FILE), checkpointed)?;
        if !records.is_empty() {
            tracing::info!(records = records.len(), "queue: writing the records of its log to the database");
            let batch = WriteBatch { writes: records.into_iter().flatten().collect() };
            self.apply_marked(batch, wal.last_seq())?;
            self.flush()?;
        }
        if wal.len() > 0 {
            wal.truncate()?;
        }
        self.wal = Some(Mutex::new(wal));
        Ok(())
    }

    /// Applies `batch` with the mark that log records up to `log_seq` are in it (see
    /// [`LOG_SEQ`]); a mark of 0 (nothing logged yet) is left out.
    fn apply_marked(&self, batch: WriteBatch, log_seq: u64) -> Result<(), StoreError> {
        let mut sled_batch = sled::Batch::default();
        for w in batch.writes {
            match w {
                Write::Put(k, v) => sled_batch.insert(k, v),
                Write::Delete(k) => sled_batch.remove(k),
            }
        }
        if log_seq > 0 {
            sled_batch.insert(LOG_SEQ, &log_seq.to_be_bytes());
        }
        self.tree()?.apply_batch(sled_batch).map_err(engine)
    }
}

fn closed() -> StoreError {
    StoreError::Engine(
        "the queue database is closed after a failed write; it is reopened when storage works again".into(),
    )
}

/// sled 0.34 writes each snapshot to `snap.*.generating`, renamed when complete; but on
/// opening it reads the newest `snap.*` file, an unfinished one included, and refuses to
/// open (corruption) after a kill during that write. Every open writes a snapshot, so a
/// connector killed while starting could never start again. Later sled skips these files;
/// so do we, under sled's own file lock (a running process may be writing one). The log
/// still holds everything an unfinished snapshot would have summarised.
fn drop_unfinished_snapshots(folder: &Path) -> Result<(), StoreError> {
    let lock = match crate::platform::lock_exclusive(&folder.join("db")) {
        Ok(Some(lock)) => lock,
        Ok(None) => return Ok(()), // a new database
        Err(e) => return Err(StoreError::Locked(e.to_string())),
    };
    let entries = std::fs::read_dir(folder).map_err(|e| StoreError::Engine(format!("{}: {e}", folder.display())))?;
    for entry in entries.flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        if name.starts_with("snap.") && name.ends_with(".generating") {
            tracing::warn!(file = %name, "removing a queue snapshot a crash left unfinished");
            std::fs::remove_file(entry.path())
                .map_err(|e| StoreError::Engine(format!("cannot remove {}: {e}", entry.path().display())))?;
        }
    }
    drop(lock);
    Ok(())
}

fn collect(iter: sled::Iter, limit: usize) -> Result<Pairs, StoreError> {
    iter.take(limit).map(|kv| kv.map(|(k, v)| (k.to_vec(), v.to_vec())).map_err(engine)).collect()
}

impl Store for SledStore {
    fn get(&self, key: &[u8]) -> Result<Option<Vec<u8>>, StoreError> {
        Ok(self.tree()?.get(key).map_err(engine)?.map(|v| v.to_vec()))
    }

    fn scan(&self, prefix: &[u8]) -> Result<Pairs, StoreError> {
        collect(self.tree()?.scan_prefix(prefix), usize::MAX)
    }

    fn scan_limit(&self, prefix: &[u8], limit: usize) -> Result<Pairs, StoreError> {
        collect(self.tree()?.scan_prefix(prefix), limit)
    }

    /// Applied to sled directly. A store that logs must not apply writes older than a
    /// logged record this way (a replay would put the record's values back over them):
    /// the queue's `Overlay` applies only in checkpoints.
    fn apply(&self, batch: WriteBatch) -> Result<(), StoreError> {
        let log_seq = self.wal()?.last_seq();
        self.apply_marked(batch, log_seq)
    }

    /// sled's flush on Linux ends in `sync_file_range`, which writes the data but not the
    /// file's size and extents: after a crash or a file system error a "flushed" write
    /// can vanish (measured: an ext4 volume turned read-only lost the last seconds of
    /// flushed jobs). `fdatasync` on the log file makes the flush mean what it says.
    fn flush(&self) -> Result<(), StoreError> {
        self.db()?.flush().map_err(engine)?;
        match &self.log {
            Some(f) => f.sync_data().map_err(|e| StoreError::Engine(format!("IO error: {e}"))),
            None => Err(closed()),
        }
    }

    /// One record and one `fdatasync` of `queue.wal` (`wal.rs`).
    fn log(&self, writes: &[Write]) -> Result<(), StoreError> {
        self.wal()?.append(writes)
    }

    /// Into sled with the mark of the last logged record, flushed; the log restarts.
    fn checkpoint(&self, batch: WriteBatch) -> Result<(), StoreError> {
        let mut wal = self.wal()?;
        self.apply_marked(batch, wal.last_seq())?;
        self.flush()?;
        wal.restart();
        Ok(())
    }

    fn size_on_disk(&self) -> Result<u64, StoreError> {
        Ok(self.db()?.size_on_disk().map_err(engine)? + self.wal()?.len())
    }

    /// Opens sled again and replays the log into it (what was logged is durable; what the
    /// caller holds beyond that it writes again).
    fn reopen(&mut self) -> Result<(), StoreError> {
        // Dropped first: the new handle needs sled's file lock.
        self.close_engine();
        self.log = None;
        self.wal = None;
        // A database that was open is not there any more: the storage path now shows
        // something else (an unmounted volume); opening would start an empty queue.
        let file = self.dir.join("queue.sled").join("db");
        if !file.exists() {
            return Err(StoreError::Engine(format!(
                "{} is missing: is the storage volume mounted? (not created again, so no job is forgotten)",
                file.display()
            )));
        }
        let mut reopened = SledStore::open(&self.dir, self.cache_bytes)?;
        self.open = reopened.open.take();
        self.log = reopened.log.take();
        self.wal = reopened.wal.take();
        Ok(())
    }
}

impl SledStore {
    /// Drops sled's handles without the panic sled 0.34 raises when its storage is
    /// broken: its log's `Drop` syncs the file and unwraps the result
    /// (`pagecache/logger.rs`) unless a failed write of its own set its "global error"
    /// first, and a failure of our log (`queue.wal`) never reaches sled. Measured: a
    /// volume turned read-only killed the queue actor at the reopen of its first probe.
    /// So sled writes and flushes once more before: either that works (and so will the
    /// drop's sync) or it fails and sets the global error, which skips the sync.
    fn close_engine(&mut self) {
        if let Some((db, tree)) = self.open.take() {
            let mark = tree.get(LOG_SEQ).ok().flatten().map_or_else(|| 0u64.to_be_bytes().to_vec(), |v| v.to_vec());
            let _ = tree.insert(LOG_SEQ, mark).and_then(|_| db.flush());
        }
    }
}

impl Drop for SledStore {
    fn drop(&mut self) {
        self.close_engine();
    }
}
