//! Loading the config as every command does: errors printed (exit 64), warnings logged.
//! The command table is `commands.rs`; this stays apart from it because the Windows
//! service's entry (`service/windows.rs`), which the command table starts, loads the
//! config the same way.

use crate::config::{self, ProcessEnv, Settings};
use crate::exit;

/// Loads the config, printing every error (exit 64) or every warning.
pub fn load(path: &std::path::Path) -> Result<Settings, u8> {
    match config::load(path, &ProcessEnv) {
        Ok(s) => {
            for w in &s.warnings {
                tracing::warn!("{w}");
            }
            Ok(s)
        }
        Err(errors) => {
            eprint!("{errors}");
            Err(exit::CONFIG)
        }
    }
}
