//! Running as an installed service: the Windows service (`service run|install|uninstall`,
//! `windows.rs`) and `configure`, the install step every package shares (`configure.rs`):
//! the MSI calls it, since wixl cannot write a config, set an ACL or run `check`.
//!
//! On Linux the systemd unit runs `integration-connector run` (packaging/linux/), so the
//! `service` commands say so and exit 2.

pub mod configure;
#[cfg(windows)]
mod stop;
#[cfg(windows)]
mod windows;

use std::path::Path;

/// The name the SCM knows the service by (`sc query integration-connector`).
pub const SERVICE_NAME: &str = "integration-connector";
/// The name shown in services.msc.
pub const DISPLAY_NAME: &str = "Integration Connector";

/// `service run`: what the SCM starts. Returns the exit code (`exit.rs`).
pub fn run(config: &Path) -> u8 {
    #[cfg(windows)]
    return windows::run(config);
    #[cfg(not(windows))]
    unsupported(config)
}

/// `service install`: registers the service (auto start, LocalSystem, restart on
/// failure), protects storage and config (ACL), and starts it.
pub fn install(config: &Path) -> u8 {
    #[cfg(windows)]
    return windows::install(config);
    #[cfg(not(windows))]
    unsupported(config)
}

/// `service stop`: stops the service (it drains) and waits until its process has exited
/// (the MSI runs it before removing or replacing the program).
pub fn stop() -> u8 {
    #[cfg(windows)]
    return stop::run();
    #[cfg(not(windows))]
    unsupported(Path::new(""))
}

/// `service uninstall`: stops the service (it drains) and removes its registration.
pub fn uninstall() -> u8 {
    #[cfg(windows)]
    return windows::uninstall();
    #[cfg(not(windows))]
    unsupported(Path::new(""))
}

#[cfg(not(windows))]
fn unsupported(_: &Path) -> u8 {
    eprintln!(
        "the `service` commands manage the Windows service; on Linux systemd runs `integration-connector run` (packaging/linux/integration-connector.service)"
    );
    crate::exit::USAGE
}
