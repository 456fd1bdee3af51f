//! `integration-connector reload --config FILE --pid PID`: the unit's `ExecReload=`. It
//! reads the file as the service would (the same validation, and each directory's TLS
//! client), and only when it is valid sends SIGHUP to the service at `PID`; a file the
//! service would refuse is refused here, every problem printed, and the command exits 64
//! (`exit::CONFIG`), so `systemctl reload` fails and says why instead of reporting
//! success for a reload the service then refuses. The service still checks the file
//! again at SIGHUP (it may change in between).

use std::path::Path;

use connector_actors::directory::tls;

use crate::config::{self, ProcessEnv};
use crate::exit;

/// Every problem of the file at `path` (`file: key: message`, one each); empty when the
/// service would apply it.
pub fn problems(path: &Path) -> Vec<String> {
    match config::load(path, &ProcessEnv) {
        Err(errors) => errors.0.iter().map(ToString::to_string).collect(),
        Ok(s) => s
            .directories
            .iter()
            .filter_map(|d| {
                let e = tls::client_config(d.ca_pem.as_deref()).err()?;
                Some(format!("{}: directories.{}.ca_file: {e}", path.display(), d.name))
            })
            .collect(),
    }
}

/// Validates `config` and, when valid, asks the service at `pid` to reload it; returns
/// the exit code: 0 sent, 64 refused (problems on stderr), 1 the signal failed, 2 on
/// Windows (no signals: restart the service there).
pub fn run(config: &Path, pid: u32) -> u8 {
    let problems = problems(config);
    if !problems.is_empty() {
        for p in &problems {
            eprintln!("{p}");
        }
        eprintln!(
            "reload refused: {} has {} problem(s) (above); the service keeps its running configuration. Fix the \
             file and reload again.",
            config.display(),
            problems.len()
        );
        return exit::CONFIG;
    }
    signal(pid)
}

#[cfg(unix)]
fn signal(pid: u32) -> u8 {
    let Ok(pid) = libc::pid_t::try_from(pid) else {
        eprintln!("reload: {pid} is no process id");
        return exit::USAGE;
    };
    // SAFETY: kill(2) has no memory preconditions; a wrong pid fails with ESRCH/EPERM.
    if unsafe { libc::kill(pid, libc::SIGHUP) } != 0 {
        eprintln!("reload: cannot signal process {pid}: {}", std::io::Error::last_os_error());
        return exit::FAILURE;
    }
    println!("reload: the config is valid; process {pid} asked to reload it (SIGHUP)");
    exit::OK
}

#[cfg(windows)]
fn signal(_pid: u32) -> u8 {
    eprintln!("reload: Windows has no SIGHUP: the config is valid; restart the service to apply it");
    exit::USAGE
}
