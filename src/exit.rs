//! Exit codes, documented in the README ("Exit codes").

/// Success; for `check`, every check passed.
pub const OK: u8 = 0;
/// A `check` failed, or the service stopped on an error at run time.
pub const FAILURE: u8 = 1;
/// Command-line usage error (clap's own code).
pub const USAGE: u8 = 2;
/// The configuration is invalid (sysexits EX_CONFIG would be 78; we follow linkerd's 64).
pub const CONFIG: u8 = 64;
/// The storage path cannot be used (missing permission, or another instance holds it).
pub const STORAGE: u8 = 69;
/// An internal error (a bug).
pub const INTERNAL: u8 = 70;
/// A second SIGTERM/SIGINT ended the drain early.
pub const INTERRUPTED: u8 = 130;
