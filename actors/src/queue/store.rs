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
#[derive(Debug, Clone)]
pub enum Write {
    Put(Vec<u8>, Vec<u8>),
    Delete(Vec<u8>),
}

/// Writes of one state transition; applied atomically.
#[derive(Debug, Default)]
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
}

pub struct SledStore {
    db: sled::Db,
    tree: sled::Tree,
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
                other => return other,
            }
        }
    }

    fn open_once(dir: &Path, cache_bytes: u64) -> Result<SledStore, StoreError> {
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
        Ok(SledStore { db, tree })
    }
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
        Ok(self.tree.get(key).map_err(engine)?.map(|v| v.to_vec()))
    }

    fn scan(&self, prefix: &[u8]) -> Result<Pairs, StoreError> {
        collect(self.tree.scan_prefix(prefix), usize::MAX)
    }

    fn scan_limit(&self, prefix: &[u8], limit: usize) -> Result<Pairs, StoreError> {
        collect(self.tree.scan_prefix(prefix), limit)
    }

    fn apply(&self, batch: WriteBatch) -> Result<(), StoreError> {
        let mut sled_batch = sled::Batch::default();
        for w in batch.writes {
            match w {
                Write::Put(k, v) => sled_batch.insert(k, v),
                Write::Delete(k) => sled_batch.remove(k),
            }
        }
        self.tree.apply_batch(sled_batch).map_err(engine)
    }

    fn flush(&self) -> Result<(), StoreError> {
        self.db.flush().map(|_| ()).map_err(engine)
    }

    fn size_on_disk(&self) -> Result<u64, StoreError> {
        self.db.size_on_disk().map_err(engine)
    }
}
