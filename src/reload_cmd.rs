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

/// Every problem of the file at `path` (`file: key: message`, one each; empty when the
/// service would apply it), and the warnings the service would log with it.
pub fn problems(path: &Path) -> (Vec<String>, Vec<String>) {
    match config::load(path, &ProcessEnv) {
        Err(errors) => (errors.0.iter().map(ToString::to_string).collect(), Vec::new()),
        Ok(s) => {
            let problems = s
                .directories
                .iter()
                .filter_map(|d| {
                    let e = tls::client_config(d.ca_pem.as_deref()).err()?;
                    Some(format!("{}: directories.{}.ca_file: {e}", path.display(), d.name))
                })
                .collect();
            (problems, s.warnings)
        }
    }
}

/// Validates `config` and, when valid, asks the service at `pid` to reload it; returns
/// the exit code: 0 sent, 64 refused (problems on stderr), 1 the signal failed, 2 on
/// Windows (no signals: restart the service there).
pub fn run(config: &Path, pid: u32) -> u8 {
    if let Err(why) = is_connector(pid) {
        eprintln!("reload: {why}; nothing was signalled (give the service's pid: systemd's $MAINPID)");
        return exit::USAGE;
    }
    let (problems, warnings) = problems(config);
    for w in &warnings {
        eprintln!("warning: {w}");
    }
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

/// Whether `pid` is a process of this program: 0 and 1 are refused (0 would signal the
/// caller's own process group, 1 is init), and on Linux the process must run this
/// program's file (`/proc/PID/exe`, " (deleted)" after an upgrade replaced it), or, when
/// that link cannot be read (another user's process), bear its name (`/proc/PID/comm`),
/// so that a wrong pid does not hang up an unrelated process (SIGHUP ends most).
fn is_connector(pid: u32) -> Result<(), String> {
    if pid <= 1 {
        return Err(format!("{pid} is no service process id"));
    }
    #[cfg(target_os = "linux")]
    {
        let comm =
            std::fs::read_to_string(format!("/proc/{pid}/comm")).map_err(|e| format!("no process {pid} ({e})"))?;
        let comm = comm.trim_end();
        let ours = std::env::current_exe().map_err(|e| format!("cannot tell this program's path: {e}"))?;
        if let Ok(theirs) = std::fs::read_link(format!("/proc/{pid}/exe")) {
            let theirs = theirs.to_string_lossy();
            if theirs.trim_end_matches(" (deleted)") != ours.to_string_lossy() {
                return Err(format!("process {pid} runs {theirs}, not {}", ours.display()));
            }
            return Ok(());
        }
        let name: String = ours.file_name().map(|n| n.to_string_lossy().chars().take(15).collect()).unwrap_or_default();
        if comm != name {
            return Err(format!("process {pid} is {comm}, not {name}"));
        }
    }
    Ok(())
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

#[cfg(test)]
mod tests {
    use super::*;

    /// Before, `--pid 0` hung up the caller's whole process group and any other pid was
    /// signalled (a `sleep` ended) and reported as "asked to reload".
    #[cfg(target_os = "linux")]
    #[test]
    fn pid_0_init_and_another_program_are_not_signalled() {
        assert!(is_connector(0).is_err());
        assert!(is_connector(1).is_err());
        let mut other = std::process::Command::new("sleep").arg("30").spawn().unwrap();
        let refused = is_connector(other.id());
        let _ = other.kill();
        let _ = other.wait();
        let why = refused.unwrap_err();
        assert!(why.contains("runs") && why.contains("sleep"), "{why}");
    }
}
