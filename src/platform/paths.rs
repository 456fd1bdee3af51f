//! Default locations of an install: what `configure` writes when not told otherwise,
//! and what the packages document (packaging/linux/README.md, packaging/windows/README.md).

use std::path::PathBuf;

/// The config file of an install: `/etc/integration-connector/connector.toml`, or
/// `%ProgramData%\Flotomate\IntegrationConnector\connector.toml` on Windows.
pub fn default_config() -> PathBuf {
    data_root().join("connector.toml")
}

/// The storage path (queue, key, logs, audit journal) of an install:
/// `/var/lib/integration-connector`, or `%ProgramData%\Flotomate\IntegrationConnector\storage`.
pub fn default_storage() -> PathBuf {
    #[cfg(unix)]
    return PathBuf::from("/var/lib/integration-connector");
    #[cfg(windows)]
    return data_root().join("storage");
}

#[cfg(unix)]
fn data_root() -> PathBuf {
    PathBuf::from("/etc/integration-connector")
}

/// `%ProgramData%` (C:\ProgramData when unset, as on every Windows since Vista).
#[cfg(windows)]
fn data_root() -> PathBuf {
    let program_data = std::env::var_os("ProgramData").map_or_else(|| PathBuf::from(r"C:\ProgramData"), PathBuf::from);
    program_data.join("Flotomate").join("IntegrationConnector")
}
