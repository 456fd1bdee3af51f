//! Local checks: the storage path and the single-instance lock.

use connector_actors::platform::DirBuilderExt;

use connector_actors::queue::store::StoreError;
use connector_actors::queue::{DurableQueue, QueueError};

use std::path::Path;

use super::{Check, Report};
use crate::config::Settings;
use crate::platform::perms::{self, Exposure, Kind};

/// What the lock check left for the server checks.
pub enum Lock {
    /// Open: the connector id can be read and stored.
    Free(Box<DurableQueue>),
    /// Another instance runs.
    Held,
    NotChecked,
}

pub fn storage(s: &Settings, r: &mut Report) -> bool {
    let path = &s.queue.path;
    let name = "storage";
    if !path.exists() {
        if let Err(e) = std::fs::DirBuilder::new().recursive(true).mode(0o700).create(path) {
            r.add(Check::fail(
                name,
                format!("{} does not exist and cannot be created: {e}", path.display()),
                format!("create it for the service user (`mkdir -p {0} && chmod 700 {0}`) or set storage.path to a writable directory", path.display()),
            ));
            return false;
        }
    }
    let probe = path.join(format!(".ic-check-{}", std::process::id()));
    if let Err(e) = write_probe(&probe) {
        r.add(Check::fail(
            name,
            format!("{} is not writable: {e}", path.display()),
            format!(
                "give the service user write access to {} (or set storage.path to a writable directory)",
                path.display()
            ),
        ));
        return false;
    }
    if let Some(exposed) = exposure(path, Kind::Folder) {
        r.add(Check::fail(
            name,
            format!("{} is {}: they could change queued jobs or the sealing key", path.display(), exposed.what),
            exposed.fix,
        ));
        return false;
    }
    let key = path.join("connector.key");
    if key.exists() {
        if let Some(exposed) = exposure(&key, Kind::Secret) {
            r.add(Check::fail(
                name,
                format!("{} is {}: it unseals the passwords of queued jobs", key.display(), exposed.what),
                exposed.fix,
            ));
            return false;
        }
    }
    r.add(Check::ok(name, format!("{} is writable, {}", path.display(), perms::describe(path))));
    true
}

/// Who else may touch `path`; an unreadable mode or ACL counts as exposed (and says why).
fn exposure(path: &Path, kind: Kind) -> Option<Exposure> {
    match perms::exposure(path, kind) {
        Ok(e) => e,
        Err(e) => Some(Exposure {
            what: format!("of unknown protection (its mode or ACL cannot be read: {e})"),
            fix: format!("check who may access {}", path.display()),
        }),
    }
}

pub fn lock(s: &Settings, r: &mut Report) -> Lock {
    match DurableQueue::open(s.queue.clone()) {
        Ok(q) => {
            let jobs = q.list().map(|l| l.len()).unwrap_or(0);
            r.add(Check::ok("lock", format!("no other instance runs ({jobs} jobs stored)")));
            Lock::Free(Box::new(q))
        }
        Err(e @ QueueError::Store(StoreError::Locked(_))) => {
            r.add(Check::fail(
                "lock",
                format!("another instance of the connector is running on {}: {e}", s.queue.path.display()),
                if s.ui_listen.port() == 0 {
                    "stop it first (`systemctl stop integration-connector`)".to_owned()
                } else {
                    format!(
                        "stop it first (`systemctl stop integration-connector`), or look at its status page on http://{}/",
                        s.ui_listen
                    )
                },
            ));
            Lock::Held
        }
        Err(e) => {
            r.add(Check::fail(
                "lock",
                format!("the job queue in {} cannot be opened: {e}", s.queue.path.display()),
                "restore the storage path from a backup, or move it aside to start with an empty queue",
            ));
            Lock::NotChecked
        }
    }
}

/// Writes and removes a small file at `probe`, never through a symbolic link: the storage
/// path belongs to the service user, who could plant one for `check` run as root (an
/// upgrade runs it so) to overwrite another file through.
fn write_probe(probe: &std::path::Path) -> std::io::Result<()> {
    let _ = std::fs::remove_file(probe); // a link planted there is removed, not followed
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    crate::platform::no_follow(&mut options);
    std::io::Write::write_all(&mut options.open(probe)?, b"probe")?;
    std::fs::remove_file(probe)
}

/// The log folder (`logging.dir`) can be created and written: the service exits 69
/// (`exit::STORAGE`) at start when it cannot, so an upgrade's check fails on it too.
pub fn log_dir(s: &Settings, r: &mut Report) {
    let dir = &s.logging.dir;
    let made = std::fs::DirBuilder::new().recursive(true).mode(0o700).create(dir);
    match made.and_then(|_| write_probe(&dir.join(format!(".ic-check-{}", std::process::id())))) {
        Ok(()) => r.add(Check::ok("logging", format!("{} is writable", dir.display()))),
        Err(e) => r.add(Check::fail(
            "logging",
            format!("{} cannot be written: {e}", dir.display()),
            format!(
                "give the service user write access to {} (or set logging.dir to a writable folder)",
                dir.display()
            ),
        )),
    }
}

/// `check` run as root would create what the service keeps in its storage path (the
/// queue, the sealing key, the log folder) as root's, which the service, running as the
/// path's owner, then cannot open (it exits 69); and root writing in a folder that user
/// owns could be led through a link the user planted. So when the storage path exists
/// and belongs to another user, `check` becomes that user for the rest of its run, as
/// install.sh runs it: what it finds is then what the service will find.
#[cfg(unix)]
pub fn become_owner(s: &Settings, r: &mut Report) {
    use std::os::unix::fs::MetadataExt;
    // SAFETY: geteuid has no preconditions and cannot fail (POSIX).
    if unsafe { libc::geteuid() } != 0 {
        return;
    }
    let Ok(meta) = std::fs::symlink_metadata(&s.queue.path) else { return };
    if meta.uid() == 0 || !meta.is_dir() {
        return;
    }
    let (uid, gid) = (meta.uid(), meta.gid());
    // SAFETY: plain system calls on integers; each result is checked. setgroups before
    // setgid before setuid, as root's privileges are needed for the first two.
    let dropped =
        unsafe { libc::setgroups(0, std::ptr::null()) == 0 && libc::setgid(gid) == 0 && libc::setuid(uid) == 0 };
    if dropped {
        r.add(Check::ok(
            "user",
            format!("running as uid {uid}, gid {gid}: the owner of {}, as the service does", s.queue.path.display()),
        ));
    } else {
        let e = std::io::Error::last_os_error();
        r.add(Check::warn(
            "user",
            format!("cannot become uid {uid}, the owner of {}: {e}; checking as root", s.queue.path.display()),
        ));
    }
}

#[cfg(windows)]
pub fn become_owner(_s: &Settings, _r: &mut Report) {}
