//! `keytab-refusals.json` in the storage path: the keytab files whose key the KDC
//! refused (`connector_actors::directory::bind::keytab::stale`), so that neither a
//! restarted service nor a `check` run offers the same file again (each refusal counts
//! toward the service account's lockout). A JSON list of
//! [`Refusal`](connector_actors::directory::bind::keytab::stale::Refusal): paths,
//! principals, file lengths and times, the KDC's words; no key material. Written whole
//! through a temporary file, synced and renamed; private to the service (0600 / the
//! storage path's ACL), and owned by the storage path's owner when `check` runs as root.

use std::io::Write;
use std::path::{Path, PathBuf};

use connector_actors::directory::bind::keytab::stale::{keep_refusals_in, Refusal, RefusalStore};

use crate::platform::perms::{self, Kind};

/// The file's name in the storage path.
pub const FILE_NAME: &str = "keytab-refusals.json";

/// Refusals kept in `<storage>/keytab-refusals.json`.
pub struct FileRefusals {
    path: PathBuf,
}

impl FileRefusals {
    /// Hands the file in `storage` to the keytab binds of this process.
    pub fn keep_in(storage: &Path) {
        keep_refusals_in(Box::new(FileRefusals { path: storage.join(FILE_NAME) }));
    }
}

impl RefusalStore for FileRefusals {
    fn load(&self) -> Vec<Refusal> {
        let bytes = match std::fs::read(&self.path) {
            Ok(b) => b,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Vec::new(),
            Err(e) => {
                tracing::warn!(path = %self.path.display(), error = %e, "cannot read the keytab refusals");
                return Vec::new();
            }
        };
        serde_json::from_slice(&bytes).unwrap_or_else(|e| {
            tracing::warn!(path = %self.path.display(), error = %e, "the keytab refusals are torn; they are written anew at the next refusal");
            Vec::new()
        })
    }

    fn save(&self, all: &[Refusal]) -> Result<(), String> {
        self.write(all).map_err(|e| format!("{}: {e}", self.path.display()))
    }
}

impl FileRefusals {
    fn write(&self, all: &[Refusal]) -> std::io::Result<()> {
        let dir = self.path.parent().unwrap_or(Path::new("."));
        let tmp = dir.join(format!(".{FILE_NAME}.{}", std::process::id()));
        let json = serde_json::to_vec_pretty(all).map_err(std::io::Error::other)?;
        let mut file = std::fs::File::create(&tmp)?;
        perms::protect(&tmp, Kind::Secret)?;
        owned_as(dir, &tmp)?;
        file.write_all(&json)?;
        file.sync_all()?;
        std::fs::rename(&tmp, &self.path)?;
        connector_actors::platform::sync_dir(dir)
    }
}

/// `check` may run as root while the service runs as its own user: the file then gets
/// the storage path's owner, or the service could not read it.
#[cfg(unix)]
fn owned_as(dir: &Path, file: &Path) -> std::io::Result<()> {
    use std::os::unix::fs::MetadataExt;
    let meta = std::fs::metadata(dir)?;
    // SAFETY: geteuid has no preconditions and cannot fail (POSIX).
    let root = unsafe { libc::geteuid() } == 0;
    if root && meta.uid() != 0 {
        std::os::unix::fs::chown(file, Some(meta.uid()), Some(meta.gid()))?;
    }
    Ok(())
}

#[cfg(windows)]
fn owned_as(_dir: &Path, _file: &Path) -> std::io::Result<()> {
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn refusal(keytab: &str) -> Refusal {
        Refusal {
            keytab: keytab.into(),
            principal: "svc@EXAMPLE.TEST".into(),
            len: 80,
            modified_ns: 1_700_000_000_000_000_000,
            why: "Preauthentication failed".into(),
        }
    }

    #[test]
    fn refusals_written_are_read_back_by_another_store_on_the_same_path() {
        let dir = tempfile::tempdir().unwrap();
        let a = FileRefusals { path: dir.path().join(FILE_NAME) };
        assert_eq!(a.load(), Vec::new(), "no file: nothing refused");
        a.save(&[refusal("/k1"), refusal("/k2")]).unwrap();
        let b = FileRefusals { path: dir.path().join(FILE_NAME) };
        assert_eq!(b.load(), vec![refusal("/k1"), refusal("/k2")]);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(dir.path().join(FILE_NAME)).unwrap().permissions().mode() & 0o777;
            assert_eq!(mode, 0o600);
        }
        let left: Vec<_> = std::fs::read_dir(dir.path()).unwrap().map(|e| e.unwrap().file_name()).collect();
        assert_eq!(left, vec![std::ffi::OsString::from(FILE_NAME)], "no temporary file left");
    }

    #[test]
    fn a_torn_file_reads_as_nothing_and_is_replaced_whole() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(FILE_NAME);
        std::fs::write(&path, b"[{\"keytab\": \"/k1\", \"princ").unwrap();
        let store = FileRefusals { path: path.clone() };
        assert_eq!(store.load(), Vec::new());
        store.save(&[refusal("/k3")]).unwrap();
        assert_eq!(store.load(), vec![refusal("/k3")]);
    }
}
