//! What differs between Unix and Windows, one module per concern, each the only place
//! with `cfg(unix)` / `cfg(windows)` for it:
//! - [`perms`]: who may read the storage, key and config files (mode bits, or an ACL of
//!   SYSTEM and Administrators), set by `configure` and verified by `check`;
//! - [`signals`]: what asks the process to drain (SIGTERM/SIGINT, or Ctrl+C/Ctrl+Break,
//!   console close and shutdown, and the service manager's Stop);
//! - [`paths`]: where an install puts the config and the storage by default.
//!
//! The Windows service itself (SCM dispatcher, install, recovery) is `src/service/`;
//! the actors crate's file modes are `connector_actors::platform`.

pub mod paths;
pub mod perms;
pub mod signals;
