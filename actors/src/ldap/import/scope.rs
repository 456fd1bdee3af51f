//! Who was in an import's scope, and in which groups, when it handed out its delta token:
//! what a later delta compares with to find the entries that left the scope (PROTOCOL.md
//! §2.6 `moved_out`) and the members a group gained or lost, on directories that keep no
//! per-value change history (Samba 4.17 returns no `msDS-ReplValueMetaData`).
//!
//! # On disk, beside the queue's spool (`<storage>/queue/import-state/`)
//!
//! - `<scope>/<token>.scope1`: one file per (scope, token); `<scope>` is the hex digest of
//!   what decides who is in scope (directory, base as a [`Dn`], object class, filter,
//!   whether memberships are tracked), `<token>` the hex digest of the token the import
//!   handed out. Sorted, distinct 32-byte records `group ‖ member`: `member` is the
//!   entry's GUID (objectGUID / entryUUID, 16 bytes), `group` the digest of a group DN
//!   from its `memberOf` as [`Dn`] compares it, or [`IN_SCOPE`] (all zero: the entry was
//!   in scope). So "was X in scope" and "who was in G" are binary searches. The newest
//!   [`KEEP`] files of a scope stay (a portal may retry a delta with an older token).
//! - `jobs/<hex job id>.pairs`: the records of a running import, appended (and synced)
//!   before each batch is committed, so a batch in the queue always has its records here;
//!   a crash leaves at most records of an uncommitted batch, which only make the next
//!   delta re-send or report a little more, never less. Departures and deletions append
//!   [`LEFT`] records.
//!
//! # Invariants
//! - A scope file is written (sorted, synced, renamed into place) before the import that
//!   made it reports its token; it never exists half-written.
//! - It exists only when it is complete: after a full import, or after a delta whose
//!   token's file was there (old records, minus every member this delta touched, plus
//!   this delta's records). A delta without it writes none, so every later delta stays
//!   conservative until the next full import.
//! - Memory stays flat: the records are sorted in runs of [`RUN`] records and merged.

mod sorted;

use std::hash::{Hash, Hasher};
use std::io;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::directory::DirectoryKind;
use crate::ldap::dn::Dn;
use crate::ldap::entry::RawEntry;
use crate::queue::record_digest;

pub use sorted::ScopeFile;

/// An entry's GUID (16 bytes), or the digest of a group's DN.
pub type Key = [u8; 16];
/// The group half of "this member was in scope".
pub const IN_SCOPE: Key = [0; 16];
/// The group half of "this member left the scope in this import" (never kept in a file).
pub const LEFT: Key = [0xff; 16];
/// Scope files kept per scope.
pub const KEEP: usize = 4;
/// Records sorted in memory at once while building (1 MiB: at 4 MiB the 1M-user import's
/// peak RSS grew from 29 to 35 MiB, measured).
pub const RUN: usize = 32_768;

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

/// Whether an import tracks its records' `memberOf` in the scope file (AD, when the job
/// asks for `memberOf`), so a delta can tell who joined or left a group. Stored in the
/// plan as the `bool` it was before it had a name (`true` = tracked).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(from = "bool", into = "bool")]
pub enum Memberships {
    Tracked,
    Untracked,
}

impl From<bool> for Memberships {
    fn from(tracked: bool) -> Memberships {
        if tracked {
            Memberships::Tracked
        } else {
            Memberships::Untracked
        }
    }
}

impl From<Memberships> for bool {
    fn from(m: Memberships) -> bool {
        m == Memberships::Tracked
    }
}

/// The scope an import's entries were chosen by, as a directory name.
pub fn scope_id(
    directory: &str,
    kind: DirectoryKind,
    base: &Dn,
    class: &str,
    filter: &str,
    members: Memberships,
) -> String {
    let base = dn_key(base);
    // `true`/`false`, as before the enum: the id names scope files already on disk.
    let members = bool::from(members);
    let text = format!("v1\0{directory}\0{kind:?}\0{}\0{class}\0{filter}\0{members}", hex(&base));
    hex(&record_digest(&text))
}

/// A DN's key, equal exactly when the DNs are equal as [`Dn`] compares them (its `Hash`
/// reads the same normalised form as its `Eq`), fed to SHA-256 instead of SipHash.
pub fn dn_key(dn: &Dn) -> Key {
    struct Sha(ring::digest::Context);
    impl Hasher for Sha {
        fn write(&mut self, bytes: &[u8]) {
            self.0.update(bytes);
        }
        fn finish(&self) -> u64 {
            0
        }
    }
    let mut h = Sha(ring::digest::Context::new(&ring::digest::SHA256));
    dn.hash(&mut h);
    let mut out = [0u8; 16];
    out.copy_from_slice(&h.0.finish().as_ref()[..16]);
    out
}

/// The entry's GUID as 16 bytes: objectGUID as stored, entryUUID (RFC 4530) parsed.
pub fn member_key(kind: DirectoryKind, entry: &RawEntry) -> Option<Key> {
    match kind {
        DirectoryKind::ActiveDirectory => entry.first("objectGUID").and_then(|b| Key::try_from(b).ok()),
        DirectoryKind::Ldap => {
            let hex: Vec<u8> = entry.first_text("entryUUID")?.bytes().filter(|c| *c != b'-').collect();
            let mut out = [0u8; 16];
            for (i, byte) in out.iter_mut().enumerate() {
                *byte = u8::from_str_radix(std::str::from_utf8(hex.get(i * 2..i * 2 + 2)?).ok()?, 16).ok()?;
            }
            Some(out)
        }
    }
}

/// The records of an entry delivered in scope: in scope, and in each group of `memberOf`.
pub fn records_of(kind: DirectoryKind, entry: &RawEntry, memberships: Memberships, out: &mut Vec<u8>) {
    let Some(member) = member_key(kind, entry) else { return };
    out.extend_from_slice(&IN_SCOPE);
    out.extend_from_slice(&member);
    if memberships == Memberships::Untracked {
        return;
    }
    for (_, values) in entry.attributes.iter().filter(|(n, _)| is_member_of(n)) {
        for v in values {
            if let Some(dn) = std::str::from_utf8(v).ok().and_then(|s| Dn::parse(s).ok()) {
                out.extend_from_slice(&dn_key(&dn));
                out.extend_from_slice(&member);
            }
        }
    }
}

/// `memberOf`, also as a ranged `memberOf;range=…` not yet merged.
pub fn is_member_of(name: &str) -> bool {
    name.split(';').next().is_some_and(|n| n.eq_ignore_ascii_case("memberOf"))
}

/// The scope files of every import, and the record files of running ones.
#[derive(Debug, Clone)]
pub struct ScopeStore {
    dir: PathBuf,
}

impl ScopeStore {
    pub fn new(dir: PathBuf) -> ScopeStore {
        ScopeStore { dir }
    }

    fn file(&self, scope: &str, token: &str) -> PathBuf {
        self.dir.join(scope).join(format!("{}.scope1", hex(&record_digest(token))))
    }

    fn job_file(&self, job_id: &str) -> PathBuf {
        self.dir.join("jobs").join(format!("{}.pairs", hex(job_id.as_bytes())))
    }

    /// The scope file of `token`, if this host kept it.
    pub fn open(&self, scope: &str, token: &str) -> io::Result<Option<ScopeFile>> {
        ScopeFile::open(&self.file(scope, token))
    }

    pub fn exists(&self, scope: &str, token: &str) -> bool {
        self.file(scope, token).exists()
    }

    /// Appends a batch's records to the job's record file, synced (blocking).
    pub fn append(&self, job_id: &str, records: &[u8]) -> io::Result<()> {
        sorted::append(&self.job_file(job_id), records)
    }

    /// Writes the scope file of `token` from the job's records and, for a delta, the
    /// scope file of `old` (whose members this job touched are replaced); then removes
    /// the job's records and all but the newest [`KEEP`] files of the scope (blocking).
    pub fn build(&self, job_id: &str, scope: &str, old: Option<&str>, token: &str) -> io::Result<()> {
        let records = self.job_file(job_id);
        let old = old.map(|t| self.file(scope, t));
        let target = self.file(scope, token);
        sorted::build(&records, old.as_deref(), &target)?;
        let _ = std::fs::remove_file(&records);
        prune(target.parent().unwrap_or(Path::new(".")));
        Ok(())
    }

    /// Forgets a job's records (an import that failed for good).
    pub fn discard(&self, job_id: &str) {
        let _ = std::fs::remove_file(self.job_file(job_id));
    }
}

/// Keeps the newest [`KEEP`] scope files of a scope directory.
fn prune(dir: &Path) {
    let Ok(entries) = std::fs::read_dir(dir) else { return };
    let mut files: Vec<(std::time::SystemTime, PathBuf)> = entries
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == "scope1"))
        .filter_map(|p| Some((std::fs::metadata(&p).ok()?.modified().ok()?, p)))
        .collect();
    files.sort();
    let excess = files.len().saturating_sub(KEEP);
    for (_, p) in files.into_iter().take(excess) {
        let _ = std::fs::remove_file(p);
    }
}

#[cfg(test)]
mod tests;
