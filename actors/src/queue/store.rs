//! The storage the queue needs, as a trait, and its sled implementation.
//!
//! sled is pre-1.0 and its on-disk format will change: everything sled-specific stays
//! in this file so a later engine replaces one type.

use std::path::Path;

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
}

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
                    return Ok(SledStore {
                        dir: dir.to_path_buf(),
                        cache_bytes,
                        open: Some((db, tree)),
                        log: Some(log),
                    });
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

    fn apply(&self, batch: WriteBatch) -> Result<(), StoreError> {
        let mut sled_batch = sled::Batch::default();
        for w in batch.writes {
            match w {
                Write::Put(k, v) => sled_batch.insert(k, v),
                Write::Delete(k) => sled_batch.remove(k),
            }
        }
        self.tree()?.apply_batch(sled_batch).map_err(engine)
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

    fn size_on_disk(&self) -> Result<u64, StoreError> {
        self.db()?.size_on_disk().map_err(engine)
    }

    fn reopen(&mut self) -> Result<(), StoreError> {
        // Dropped first: the new handle needs sled's file lock.
        self.open = None;
        self.log = None;
        // A database that was open is not there any more: the storage path now shows
        // something else (an unmounted volume); opening would start an empty queue.
        let file = self.dir.join("queue.sled").join("db");
        if !file.exists() {
            return Err(StoreError::Engine(format!(
                "{} is missing: is the storage volume mounted? (not created again, so no job is forgotten)",
                file.display()
            )));
        }
        let reopened = SledStore::open(&self.dir, self.cache_bytes)?;
        self.open = reopened.open;
        self.log = reopened.log;
        Ok(())
    }
}
