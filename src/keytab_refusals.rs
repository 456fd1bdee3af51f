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

#[cfg(windows)]
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
    fn load(&self) -> Result<Vec<Refusal>, String> {
        let bytes = match read_regular(&self.path) {
            Ok(b) => b,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
            Err(e) => return Err(format!("{}: {e}", self.path.display())),
        };
        serde_json::from_slice(&bytes).map_err(|e| format!("{} is damaged: {e}", self.path.display()))
    }

    fn update(&self, change: &mut dyn FnMut(&mut Vec<Refusal>)) -> Result<(), String> {
        let dir = self.path.parent().unwrap_or(Path::new("."));
        let at = |e: std::io::Error| format!("{}: {e}", self.path.display());
        // `check` and the service may both write: one at a time (flock, released on close).
        let lock = create_private(&dir.join(LOCK_NAME), false, dir).map_err(at)?;
        fs2::FileExt::lock_exclusive(&lock).map_err(at)?;
        // A file that cannot be read is not replaced: it may hold refusals of other files.
        let mut all = self.load()?;
        change(&mut all);
        self.write(&all).map_err(at)
    }
}

/// The lock taken while the file is read, changed and written.
const LOCK_NAME: &str = "keytab-refusals.lock";

impl FileRefusals {
    fn write(&self, all: &[Refusal]) -> std::io::Result<()> {
        let dir = self.path.parent().unwrap_or(Path::new("."));
        let tmp = dir.join(format!(".{FILE_NAME}.{}", std::process::id()));
        let json = serde_json::to_vec_pretty(all).map_err(std::io::Error::other)?;
        let _ = std::fs::remove_file(&tmp); // left by a process of this pid that died
        let mut file = create_private(&tmp, true, dir)?;
        file.write_all(&json)?;
        file.sync_all()?;
        std::fs::rename(&tmp, &self.path)?;
        connector_actors::platform::sync_dir(dir)
    }
}

/// Opens `path` for writing, never through a symbolic link (the storage path's owner, the
/// service user, could plant one there for `check` run as root to write through);
/// `new`: it must not exist. The open file is made private and, when root writes it,
/// given the owner of `dir`, so the service can read it.
fn create_private(path: &Path, new: bool, dir: &Path) -> std::io::Result<std::fs::File> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true);
    if new {
        options.create_new(true);
    } else {
        options.create(true);
    }
    crate::platform::no_follow(&mut options);
    let file = options.open(path)?;
    regular_alone(&file, path)?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::{MetadataExt, PermissionsExt};
        file.set_permissions(std::fs::Permissions::from_mode(0o600))?;
        let owner = std::fs::metadata(dir)?;
        // SAFETY: geteuid has no preconditions and cannot fail (POSIX).
        if unsafe { libc::geteuid() } == 0 && owner.uid() != 0 {
            std::os::unix::fs::fchown(&file, Some(owner.uid()), Some(owner.gid()))?;
        }
    }
    #[cfg(windows)]
    {
        let _ = dir;
        perms::protect(path, Kind::Secret)?;
    }
    Ok(file)
}

/// The file's bytes, never through a symbolic link, and only from a regular file: a FIFO
/// planted there would block the reader for ever (hence O_NONBLOCK at open).
fn read_regular(path: &Path) -> std::io::Result<Vec<u8>> {
    let mut options = std::fs::OpenOptions::new();
    options.read(true);
    crate::platform::no_follow(&mut options);
    let mut file = options.open(path)?;
    regular_alone(&file, path)?;
    let mut bytes = Vec::new();
    std::io::Read::read_to_end(&mut file, &mut bytes)?;
    Ok(bytes)
}

/// The open `file` is a regular file with no other name (a hard link to another file,
/// made by whoever owns the storage path, is not written, chmodded or given away).
fn regular_alone(file: &std::fs::File, path: &Path) -> std::io::Result<()> {
    let meta = file.metadata()?;
    #[cfg(unix)]
    let alone = std::os::unix::fs::MetadataExt::nlink(&meta) == 1;
    #[cfg(windows)]
    let alone = true;
    if meta.is_file() && alone {
        Ok(())
    } else {
        Err(std::io::Error::other(format!("{} is not a regular file of its own", path.display())))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The service user may plant links in its storage path; `check` as root must not
    /// write through them (before: the link's target was overwritten and given away).
    #[cfg(unix)]
    #[test]
    fn a_link_planted_where_the_file_or_its_temporary_goes_is_not_written_through() {
        let dir = tempfile::tempdir().unwrap();
        let victim = dir.path().join("victim");
        std::fs::write(&victim, b"root's own").unwrap();
        let store = FileRefusals { path: dir.path().join(FILE_NAME) };
        let tmp = dir.path().join(format!(".{FILE_NAME}.{}", std::process::id()));
        std::os::unix::fs::symlink(&victim, &tmp).unwrap();
        std::os::unix::fs::symlink(&victim, dir.path().join(LOCK_NAME)).unwrap();
        assert!(store.update(&mut |all| all.push(refusal("/k"))).is_err(), "the planted lock link was followed");
        std::fs::remove_file(dir.path().join(LOCK_NAME)).unwrap();
        store.update(&mut |all| all.push(refusal("/k"))).unwrap();
        assert_eq!(std::fs::read(&victim).unwrap(), b"root's own");
        assert_eq!(store.load(), Ok(vec![refusal("/k")]));
        std::fs::remove_file(dir.path().join(FILE_NAME)).unwrap();
        std::os::unix::fs::symlink(&victim, dir.path().join(FILE_NAME)).unwrap();
        assert!(store.load().is_err(), "a planted link is not read");
    }

    fn refusal(keytab: &str) -> Refusal {
        Refusal {
            keytab: keytab.into(),
            principal: "svc@EXAMPLE.TEST".into(),
            len: 80,
            modified_ns: 1_700_000_000_000_000_000,
            why: "Preauthentication failed".into(),
            file_id: None,
        }
    }

    #[test]
    fn refusals_written_are_read_back_by_another_store_on_the_same_path() {
        let dir = tempfile::tempdir().unwrap();
        let a = FileRefusals { path: dir.path().join(FILE_NAME) };
        assert_eq!(a.load(), Ok(Vec::new()), "no file: nothing refused");
        a.update(&mut |all| all.extend([refusal("/k1"), refusal("/k2")])).unwrap();
        let b = FileRefusals { path: dir.path().join(FILE_NAME) };
        assert_eq!(b.load(), Ok(vec![refusal("/k1"), refusal("/k2")]));
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(dir.path().join(FILE_NAME)).unwrap().permissions().mode() & 0o777;
            assert_eq!(mode, 0o600);
        }
        let left: Vec<_> = std::fs::read_dir(dir.path()).unwrap().map(|e| e.unwrap().file_name()).collect();
        let mut expected = vec![std::ffi::OsString::from(FILE_NAME), std::ffi::OsString::from(LOCK_NAME)];
        let mut left = left;
        left.sort();
        expected.sort();
        assert_eq!(left, expected, "no temporary file left");
    }

    /// A file that cannot be read (damaged, a FIFO the storage path's owner planted, no
    /// permission) is an error, not "nothing refused": no keytab is offered then, and it
    /// is not overwritten (before: read as empty, and the refused keytab offered again; a
    /// FIFO hung `check` for ever).
    #[test]
    fn a_torn_file_or_a_fifo_is_an_error_and_is_not_replaced() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(FILE_NAME);
        std::fs::write(&path, b"[{\"keytab\": \"/k1\", \"princ").unwrap();
        let store = FileRefusals { path: path.clone() };
        assert!(store.load().unwrap_err().contains("is damaged"));
        assert!(store.update(&mut |all| all.push(refusal("/k3"))).is_err());
        assert_eq!(std::fs::read(&path).unwrap(), b"[{\"keytab\": \"/k1\", \"princ");
        #[cfg(unix)]
        {
            std::fs::remove_file(&path).unwrap();
            let made = std::process::Command::new("mkfifo").arg(&path).status().unwrap();
            assert!(made.success());
            assert!(store.load().unwrap_err().contains("not a regular file"), "a FIFO was read");
        }
    }
}
