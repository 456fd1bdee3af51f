//! Mode bits: folders must not be writable by group or others, secrets not readable.

use std::io;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;

use super::{Exposure, Kind};

pub fn exposure(path: &Path, kind: Kind) -> io::Result<Option<Exposure>> {
    let mode = std::fs::metadata(path)?.permissions().mode() & 0o777;
    let (mask, verb, octal) = match kind {
        Kind::Folder => (0o022, "writable", "700"),
        Kind::Secret => (0o077, "readable", "600"),
    };
    Ok((mode & mask != 0).then(|| Exposure {
        what: format!("{verb} by other users (mode {mode:04o})"),
        fix: format!("`chmod {octal} {}`", path.display()),
    }))
}

pub fn describe(path: &Path) -> String {
    let mode = std::fs::metadata(path).map(|m| m.permissions().mode() & 0o777).unwrap_or(0);
    format!("mode {mode:04o}")
}

pub fn protect(path: &Path, kind: Kind) -> io::Result<()> {
    let mode = match kind {
        Kind::Folder => 0o700,
        Kind::Secret => 0o600,
    };
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode))
}
