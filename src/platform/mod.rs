//! What differs between Unix and Windows, one module per concern, each the only place
//! with `cfg(unix)` / `cfg(windows)` for it:
//! - [`perms`]: who may read the storage, key and config files (mode bits, or an ACL of
//!   SYSTEM and Administrators), set by `configure` and verified by `check`;
//! - [`signals`]: what asks the process to drain (SIGTERM/SIGINT, or Ctrl+C/Ctrl+Break,
//!   console close and shutdown, and the service manager's Stop);
//! - [`paths`]: where an install puts the config and the storage by default;
//! - [`no_follow`]: opening a file in a folder another user owns (the storage path, when
//!   `check` runs as root).
//!
//! The Windows service itself (SCM dispatcher, install, recovery) is `src/service/`;
//! the actors crate's file modes are `connector_actors::platform`.

pub mod paths;
pub mod perms;
pub mod signals;

/// Makes `options` open no symbolic link (Unix O_NOFOLLOW: the service user owns the
/// storage path and could plant one for root to write through) and not wait on a FIFO
/// planted the same way (O_NONBLOCK; no effect on regular files). Windows: nothing (the
/// storage path's ACL admits SYSTEM and Administrators only).
pub fn no_follow(options: &mut std::fs::OpenOptions) -> &mut std::fs::OpenOptions {
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::custom_flags(options, libc::O_NOFOLLOW | libc::O_NONBLOCK);
    options
}
