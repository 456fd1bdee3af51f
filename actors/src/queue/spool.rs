//! Import data kept beside sled rather than in it: each batch body as a file until it is
//! delivered, and the digests of every record a job stored appended to one file per job.
//! sled's memory grows with what it has ever held (measured: 123 MiB after a million
//! records through it, README "Benchmarks"); files cost no memory.
//!
//! Crash safety comes from sled, which stays the one source of truth: a body file for a
//! `seq` the job record does not count yet is simply written again, and the digest file
//! is read (and appended to) only up to the length the job record has committed.

use crate::platform::{DirBuilderExt, OpenOptionsExt};
use std::fs::{self, File, OpenOptions};
use std::io::{self, Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

pub struct Spool {
    root: PathBuf,
}

impl Spool {
    pub fn open(queue_path: &Path) -> io::Result<Spool> {
        let root = queue_path.join("spool");
        fs::DirBuilder::new().recursive(true).mode(0o700).create(&root)?;
        Ok(Spool { root })
    }

    /// Job ids may hold any character: the directory name is their hex.
    fn job_dir(&self, id: &str) -> PathBuf {
        let hex: String = id.bytes().map(|b| format!("{b:02x}")).collect();
        self.root.join(hex)
    }

    fn body_path(&self, id: &str, seq: u64) -> PathBuf {
        self.job_dir(id).join(format!("{seq:016x}.batch"))
    }

    fn create_job_dir(&self, id: &str) -> io::Result<PathBuf> {
        let dir = self.job_dir(id);
        if !dir.exists() {
            fs::DirBuilder::new().mode(0o700).create(&dir)?;
            crate::platform::sync_dir(&self.root)?;
        }
        Ok(dir)
    }

    fn open_write(path: &Path) -> io::Result<File> {
        OpenOptions::new().create(true).write(true).truncate(false).mode(0o600).open(path)
    }

    /// Writes batch `seq`'s body, durably (it is sent from here until delivered).
    pub fn write_body(&self, id: &str, seq: u64, body: &[u8]) -> io::Result<()> {
        let dir = self.create_job_dir(id)?;
        let path = self.body_path(id, seq);
        let created = !path.exists();
        let mut f = Self::open_write(&path)?;
        f.set_len(0)?;
        f.write_all(body)?;
        f.sync_all()?;
        if created {
            crate::platform::sync_dir(&dir)?;
        }
        Ok(())
    }

    pub fn read_body(&self, id: &str, seq: u64) -> io::Result<Option<Vec<u8>>> {
        match fs::read(self.body_path(id, seq)) {
            Ok(b) => Ok(Some(b)),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(e),
        }
    }

    pub fn remove_body(&self, id: &str, seq: u64) {
        let _ = fs::remove_file(self.body_path(id, seq));
    }

    /// Appends `digests` after the first `committed` bytes (dropping whatever an
    /// uncommitted store left beyond them); returns the new length to commit.
    pub fn append_seen(&self, id: &str, committed: u64, digests: &[u8]) -> io::Result<u64> {
        let dir = self.create_job_dir(id)?;
        let mut f = Self::open_write(&dir.join("seen"))?;
        f.set_len(committed)?;
        f.seek(SeekFrom::Start(committed))?;
        f.write_all(digests)?;
        f.sync_all()?;
        Ok(committed + digests.len() as u64)
    }

    /// The first `committed` bytes of the job's digest file.
    pub fn read_seen(&self, id: &str, committed: u64) -> io::Result<Vec<u8>> {
        if committed == 0 {
            return Ok(Vec::new());
        }
        let mut out = Vec::with_capacity(committed as usize);
        File::open(self.job_dir(id).join("seen"))?.take(committed).read_to_end(&mut out)?;
        Ok(out)
    }

    /// Where imports keep what outlives one job (who was in scope at each delta token:
    /// `ldap/import/scope.rs`), beside the spool so [`Spool::tidy`] never sees it.
    pub fn import_state_dir(&self) -> PathBuf {
        self.root.with_file_name("import-state")
    }

    pub fn remove_job(&self, id: &str) {
        let _ = fs::remove_dir_all(self.job_dir(id));
    }

    /// Removes what no job needs any more: the folders of jobs `keep` does not know, and
    /// the bodies below the `seq` it returns for the others (delivered before a crash).
    pub fn tidy(&self, keep: impl Fn(&str) -> Option<u64>) -> io::Result<()> {
        for dir in fs::read_dir(&self.root)? {
            let dir = dir?.path();
            let Some(id) = dir.file_name().and_then(|n| n.to_str()).and_then(unhex) else { continue };
            let Some(delivered) = keep(&id) else {
                let _ = fs::remove_dir_all(&dir);
                continue;
            };
            for file in fs::read_dir(&dir)? {
                let path = file?.path();
                let seq = path
                    .file_name()
                    .and_then(|n| n.to_str())
                    .and_then(|n| n.strip_suffix(".batch"))
                    .and_then(|s| u64::from_str_radix(s, 16).ok());
                if seq.is_some_and(|s| s < delivered) {
                    let _ = fs::remove_file(path);
                }
            }
        }
        Ok(())
    }
}

fn unhex(name: &str) -> Option<String> {
    let bytes: Option<Vec<u8>> =
        (0..name.len()).step_by(2).map(|i| name.get(i..i + 2).and_then(|h| u8::from_str_radix(h, 16).ok())).collect();
    String::from_utf8(bytes?).ok()
}

#[cfg(test)]
mod tests;
