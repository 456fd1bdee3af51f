//! Who may touch the storage path, the sealing key and the config file.
//!
//! Unix: mode bits (folders 0700, secret files 0600, owned by the service user).
//! Windows: the DACL, which must allow SYSTEM and Administrators only (the service runs
//! as LocalSystem; the account running `check` counts as the owner, as on Unix),
//! protected from inheriting anything wider; what is created below a protected folder
//! inherits it. `protect` reads the ACL back and fails when it did not take. The rule is the same on both: nobody but the service
//! and the machine's administrators can read a secret or change a queued job.

mod sddl;
#[cfg(unix)]
mod unix;
#[cfg(windows)]
mod windows;

use std::io;
use std::path::Path;

#[cfg(unix)]
use self::unix as imp;
#[cfg(windows)]
use self::windows as imp;

pub use sddl::foreign_access;

/// What a path holds, which decides what "private" means for it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// A folder whose content others must not change (storage path): 0700 / the folder ACL.
    Folder,
    /// A file holding a secret (sealing key, config with a token): 0600 / the file ACL.
    Secret,
}

/// Why a path is not private, and the command that makes it so.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Exposure {
    /// e.g. "writable by other users (mode 0777)" or "open to BU besides SYSTEM and Administrators (ACL …)".
    pub what: String,
    /// e.g. "`chmod 700 /var/lib/integration-connector`".
    pub fix: String,
}

/// `None` when only the owner (Unix) or SYSTEM and Administrators (Windows) may access
/// `path`; errors when its metadata or ACL cannot be read.
pub fn exposure(path: &Path, kind: Kind) -> io::Result<Option<Exposure>> {
    imp::exposure(path, kind)
}

/// The protection in words for an OK line: "mode 0700" or "ACL: SYSTEM, Administrators and the service's account only".
pub fn describe(path: &Path) -> String {
    imp::describe(path)
}

/// Makes `path` private: chmod 0700/0600, or the protected ACL of SYSTEM and
/// Administrators (inherited by what a folder will hold).
pub fn protect(path: &Path, kind: Kind) -> io::Result<()> {
    imp::protect(path, kind)
}
