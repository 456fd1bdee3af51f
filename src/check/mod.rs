//! `integration-connector check`: the troubleshooting guide as a command. Each check
//! prints one line, `OK`, `FAIL` (with the cause and the fix in plain words), `WARN` or
//! `SKIP` (not checkable because an earlier check failed); `--json` prints the same as
//! one JSON document. The exit code is 0 when nothing failed, 64 for an invalid config,
//! else 1.
//!
//! Order: config → storage (writable, safe permissions) → lock (no other instance) →
//! server (DNS, TCP, TLS, token, protocol version) → each directory (TCP, TLS, bind,
//! base DN, user-filter search, AD protected groups, what imports need). Only loopback and the configured hosts are contacted.

mod credentials;
mod directory;
mod discovery;
mod global_catalog;
mod imports;
mod keytab;
mod local;
mod login;
mod password_policy;
mod server;

use std::path::Path;

use serde::Serialize;
use serde_json::json;

use crate::config::{self, ProcessEnv};
use crate::exit;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    Ok,
    Warn,
    Fail,
    Skip,
}

/// One check's outcome.
#[derive(Debug, Clone, Serialize)]
pub struct Check {
    pub name: String,
    pub status: Status,
    /// What was verified (OK), or the cause (FAIL/WARN/SKIP).
    pub detail: String,
    /// What to do, for a failure.
    pub fix: Option<String>,
}

impl Check {
    pub fn ok(name: impl Into<String>, detail: impl Into<String>) -> Check {
        Check { name: name.into(), status: Status::Ok, detail: detail.into(), fix: None }
    }
    pub fn fail(name: impl Into<String>, cause: impl Into<String>, fix: impl Into<String>) -> Check {
        Check { name: name.into(), status: Status::Fail, detail: cause.into(), fix: Some(fix.into()) }
    }
    pub fn warn(name: impl Into<String>, detail: impl Into<String>) -> Check {
        Check { name: name.into(), status: Status::Warn, detail: detail.into(), fix: None }
    }
    pub fn skip(name: impl Into<String>, why: impl Into<String>) -> Check {
        Check { name: name.into(), status: Status::Skip, detail: why.into(), fix: None }
    }
    pub fn passed(&self) -> bool {
        self.status != Status::Fail
    }

    fn line(&self) -> String {
        let tag = match self.status {
            Status::Ok => "OK  ",
            Status::Warn => "WARN",
            Status::Fail => "FAIL",
            Status::Skip => "SKIP",
        };
        match &self.fix {
            Some(fix) => format!("{tag} {}: {} — fix: {fix}", self.name, self.detail),
            None => format!("{tag} {}: {}", self.name, self.detail),
        }
    }
}

/// How `check` prints its report.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Output {
    /// One line a check, printed as it completes, then "n of m checks failed".
    Text,
    /// One JSON document at the end: `{"ok": bool, "checks": [Check, …]}` (`--json`).
    Json,
}

/// Which failures fail the run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Strictness {
    /// Every check (`check`, a first install).
    All,
    /// Only what the service cannot start without: the config (with each directory's CA
    /// file), the storage path and its lock, the log folder ([`LOCAL_CHECKS`]). The portal and the directories are the service's to
    /// retry: during an upgrade their failures warn, so one unreachable directory does
    /// not leave the service stopped (`check --upgrade`, used by install.sh and the MSI).
    Local,
}

/// The checks that fail an upgrade's run ([`Strictness::Local`]).
pub const LOCAL_CHECKS: [&str; 4] = ["config", "storage", "lock", "logging"];

/// The checks, printed as they complete (text) or at the end (JSON).
pub struct Report {
    output: Output,
    strictness: Strictness,
    pub checks: Vec<Check>,
}

impl Report {
    pub fn add(&mut self, mut c: Check) {
        if self.strictness == Strictness::Local && c.status == Status::Fail && !LOCAL_CHECKS.contains(&c.name.as_str())
        {
            c.status = Status::Warn;
            c.detail.push_str(" (--upgrade: the service starts without it)");
        }
        if self.output == Output::Text {
            println!("{}", c.line());
        }
        self.checks.push(c);
    }

    fn finish(self, code_on_failure: u8) -> u8 {
        let ok = self.checks.iter().all(Check::passed);
        if self.output == Output::Json {
            println!("{}", json!({"ok": ok, "checks": self.checks}));
        } else {
            let failed = self.checks.iter().filter(|c| !c.passed()).count();
            println!("{} of {} checks failed", failed, self.checks.len());
        }
        if ok {
            exit::OK
        } else {
            code_on_failure
        }
    }
}

/// Runs every check on the config at `path`; returns the exit code (0, 64 for an invalid
/// config, else 1 when a check that counts under `strictness` failed).
pub fn run(path: &Path, output: Output, strictness: Strictness) -> u8 {
    let mut r = Report { output, strictness, checks: Vec::new() };
    let settings = match config::load(path, &ProcessEnv) {
        Ok(s) => s,
        Err(errors) => {
            eprint!("{errors}");
            let causes: Vec<String> = errors.0.iter().map(|e| e.to_string()).collect();
            r.add(Check::fail(
                "config",
                causes.join("; "),
                "correct each key named above (every key is described in config/connector.example.toml)",
            ));
            return r.finish(exit::CONFIG);
        }
    };
    crate::logging::protect(&settings);
    r.add(Check::ok("config", format!("{} is valid", path.display())));
    for w in &settings.warnings {
        r.add(Check::warn("config", w.clone()));
    }
    // A keytab the KDC refused is not offered again by check either, whatever the storage
    // checks find (a path others may write, or one mounted read-only, is still read).
    local::become_owner(&settings, &mut r);
    crate::keytab_refusals::FileRefusals::keep_in(&settings.queue.path);
    let storage_ok = local::storage(&settings, &mut r);
    local::log_dir(&settings, &mut r);
    let queue = if storage_ok { local::lock(&settings, &mut r) } else { local::Lock::NotChecked };
    let runtime = match tokio::runtime::Builder::new_multi_thread().worker_threads(1).enable_all().build() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("cannot start the async runtime: {e}");
            return exit::INTERNAL;
        }
    };
    runtime.block_on(async {
        server::checks(&settings, queue, &mut r).await;
        for d in &settings.directories {
            directory::checks(d, &mut r).await;
            global_catalog::check(d, &mut r).await;
        }
    });
    r.finish(exit::FAILURE)
}
