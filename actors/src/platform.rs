//! File modes, the one place where this crate differs between Unix and Windows.
//!
//! On Unix these are std's own traits: files are created 0600 and folders 0700.
//! On Windows there are no mode bits; the same method names exist and do nothing,
//! because what protects the files there is the ACL of the storage root (SYSTEM and
//! Administrators only, inherited by everything created below it), which the root
//! package sets (`configure`, `service install`) and `check` verifies
//! (`src/platform/perms/`). `read_exact_at` reads at an offset on both.

#[cfg(unix)]
pub use std::os::unix::fs::{DirBuilderExt, FileExt, OpenOptionsExt, PermissionsExt};

#[cfg(windows)]
pub use self::windows::{DirBuilderExt, FileExt, OpenOptionsExt, PermissionsExt};

/// Whether a key file may be read by other users: its mode on Unix. On Windows the
/// storage root's inherited ACL decides, and `check` reports it, so never here.
pub fn readable_by_others(meta: &std::fs::Metadata) -> bool {
    #[cfg(unix)]
    return meta.permissions().mode() & 0o077 != 0;
    #[cfg(windows)]
    {
        let _ = meta;
        false
    }
}

/// Makes a file readable by its owner only (0600 on Unix; the inherited ACL on Windows).
pub fn owner_only(path: &std::path::Path) -> std::io::Result<()> {
    #[cfg(unix)]
    return std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600));
    #[cfg(windows)]
    {
        let _ = path;
        Ok(())
    }
}

/// Opens `path` so that no other process has it, or can open it, while the returned file
/// lives: an error when another process holds it; `Ok(None)` when it cannot be opened
/// for another reason (a new database: whoever opens it next reports the rest).
/// Unix: fs2's exclusive `flock` (sled's own lock on its `db` file), released on close.
/// Windows: no sharing at all, so nothing but this handle may have it open; a byte-range
/// lock would do too, but closing its handle does not release it under Wine 8.
/// Win32 ERROR_SHARING_VIOLATION: the file is open in another process without sharing.
const ERROR_SHARING_VIOLATION: i32 = 32;

pub fn lock_exclusive(path: &std::path::Path) -> std::io::Result<Option<std::fs::File>> {
    let mut options = std::fs::OpenOptions::new();
    options.read(true).write(true);
    #[cfg(windows)]
    std::os::windows::fs::OpenOptionsExt::share_mode(&mut options, 0);
    let file = match options.open(path) {
        Ok(f) => f,
        // Another process has it open.
        Err(e) if cfg!(windows) && e.raw_os_error() == Some(ERROR_SHARING_VIOLATION) => return Err(e),
        Err(_) => return Ok(None),
    };
    #[cfg(unix)]
    fs2::FileExt::try_lock_exclusive(&file)?;
    Ok(Some(file))
}

/// Opens an existing file only to `sync_data`/`sync_all` it (`fdatasync` of a file some
/// other handle writes, e.g. sled's log). Unix: read-only, which fsync accepts. Windows:
/// `FlushFileBuffers` fails with ERROR_ACCESS_DENIED (os error 5) on a handle without
/// write access, so it is opened for writing, and never written through; std's default
/// sharing (read, write, delete) leaves the writer's own handle alone.
pub fn open_for_sync(path: &std::path::Path) -> std::io::Result<std::fs::File> {
    let mut options = std::fs::OpenOptions::new();
    options.read(true).write(cfg!(windows));
    options.open(path)
}

/// Makes the entries of directory `dir` durable (a file created, renamed or removed in
/// it), after the files themselves were synced. Unix: fsync of the directory. Windows:
/// nothing, as SQLite's Windows VFS does: NTFS journals directory entries as metadata and
/// writes them with its log, and std cannot flush a directory there (it opens only with
/// FILE_FLAG_BACKUP_SEMANTICS, and a read-only handle refuses FlushFileBuffers with os
/// error 5, which failed every spool write of an import).
pub fn sync_dir(dir: &std::path::Path) -> std::io::Result<()> {
    #[cfg(unix)]
    return std::fs::File::open(dir)?.sync_all();
    #[cfg(windows)]
    {
        let _ = dir;
        Ok(())
    }
}

#[cfg(windows)]
mod windows {
    use std::io;

    /// `mode(…)` on `OpenOptions`: no mode bits on Windows (the ACL is inherited).
    pub trait OpenOptionsExt {
        fn mode(&mut self, mode: u32) -> &mut Self;
    }

    impl OpenOptionsExt for std::fs::OpenOptions {
        fn mode(&mut self, _: u32) -> &mut Self {
            self
        }
    }

    /// `mode(…)` on `DirBuilder`: no mode bits on Windows (the ACL is inherited).
    pub trait DirBuilderExt {
        fn mode(&mut self, mode: u32) -> &mut Self;
    }

    impl DirBuilderExt for std::fs::DirBuilder {
        fn mode(&mut self, _: u32) -> &mut Self {
            self
        }
    }

    /// Nothing: mode bits do not exist on Windows; present so the imports match.
    pub trait PermissionsExt {}

    /// Positioned reads and writes with Unix's names, on `seek_read`/`seek_write` (which
    /// also move the cursor: callers only use positioned access on such files).
    pub trait FileExt {
        fn read_exact_at(&self, buf: &mut [u8], offset: u64) -> io::Result<()>;
        fn write_all_at(&self, buf: &[u8], offset: u64) -> io::Result<()>;
    }

    impl FileExt for std::fs::File {
        fn read_exact_at(&self, mut buf: &mut [u8], mut offset: u64) -> io::Result<()> {
            use std::os::windows::fs::FileExt as _;
            while !buf.is_empty() {
                match self.seek_read(buf, offset) {
                    Ok(0) => return Err(io::Error::new(io::ErrorKind::UnexpectedEof, "failed to fill whole buffer")),
                    Ok(n) => {
                        buf = &mut buf[n..];
                        offset += n as u64;
                    }
                    Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                    Err(e) => return Err(e),
                }
            }
            Ok(())
        }

        fn write_all_at(&self, mut buf: &[u8], mut offset: u64) -> io::Result<()> {
            use std::os::windows::fs::FileExt as _;
            while !buf.is_empty() {
                match self.seek_write(buf, offset) {
                    Ok(0) => return Err(io::Error::new(io::ErrorKind::WriteZero, "failed to write whole buffer")),
                    Ok(n) => {
                        buf = &buf[n..];
                        offset += n as u64;
                    }
                    Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                    Err(e) => return Err(e),
                }
            }
            Ok(())
        }
    }
}
