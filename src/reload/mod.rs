//! Reload without a restart: SIGHUP (`systemctl reload integration-connector`, the unit's
//! `ExecReload=`) reads the config file again.
//!
//! - **Refused whole** when the file is invalid (every problem logged, one line each, and
//!   shown on the page and in `/api/status`): the running configuration stays as it was.
//! - **Applied in place** when it is valid:
//!   - directories (URLs, bind, TLS, pool sizes, the AD scope policy `allowed_ous`,
//!     `allowed_operations`, protected groups, …): a directory whose settings changed, or
//!     a new one, gets a fresh directory actor (pool) that takes every new job; jobs
//!     already running keep the old actor, their lease and connections, and finish on it
//!     (it is told to [`Retire`] and stops once nothing holds it). A directory removed
//!     from the file: jobs already running on it finish; queued and new jobs naming it
//!     fail `unknown_directory` (not retried: the portal must send them to a connector
//!     that has it). What the AD jobs read of a changed directory (schema, protected
//!     groups) is read again.
//!   - `logging.level` (the log filter), and `ui.admin_token`.
//! - **Named, not applied**, when changed: what only a restart takes ([`diff::restart_only`]:
//!   storage path, server URL, token, CA, proxy, UI address, job slots, log files); and the
//!   directory list the portal was told at registration (sent again at the next start).
//!
//! The page and `/api/status` show the loaded file's time and SHA-256 ([`ConfigView`]).
//! `actors/` hears of a reload only as typed messages (`ReplaceDirectories`, `Retire`).

mod diff;
mod signal;

use std::collections::BTreeMap;

use actix::prelude::*;
use connector_actors::ad::KnowledgeCache;
use connector_actors::directory::{tls, DirectoryActor, Retire};
use connector_actors::dispatcher::{Dispatcher, ReplaceDirectories};
use connector_actors::secret::Secret;
use connector_actors::status::StatusBoard;
use connector_actors::time::rfc3339;
use serde::Serialize;
use tokio::sync::watch;

use crate::config::{self, DirectorySettings, ProcessEnv, Settings};

/// What a reload needs of the running connector (built by `app::start`).
pub struct Parts {
    /// Each directory's login memory (lockout shield, group cache), kept across reloads.
    pub login_memories: std::sync::Arc<connector_actors::ldap::auth::LoginMemories>,
    pub dispatcher: Addr<Dispatcher>,
    pub board: StatusBoard,
    /// The directory actors jobs use now, by name.
    pub directories: BTreeMap<String, Addr<DirectoryActor>>,
    pub knowledge: KnowledgeCache,
    /// Where directory actors run.
    pub arbiter: ArbiterHandle,
}

/// The loaded config as the page and `/api/status` show it.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct ConfigView {
    pub file: String,
    /// SHA-256 of the file's bytes as running now, hex.
    pub sha256: String,
    pub loaded_at: String,
    pub last_reload: Option<ReloadReport>,
}

/// The outcome of the last reload.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct ReloadReport {
    pub at: String,
    /// `applied` or `refused`.
    pub outcome: &'static str,
    /// SHA-256 of the file that was read (for a refusal, not the one running).
    pub sha256: Option<String>,
    /// Every problem of a refused file (`file:line: key: message`).
    pub problems: Vec<String>,
    /// What changed in place.
    pub applied: Vec<String>,
    /// Changed keys that take effect only at the next start (the running values stay).
    pub needs_restart: Vec<String>,
}

fn view(s: &Settings, last_reload: Option<ReloadReport>) -> ConfigView {
    ConfigView {
        file: s.file.display().to_string(),
        sha256: s.source.sha256.clone(),
        loaded_at: rfc3339(s.source.loaded_ms),
        last_reload,
    }
}

/// The UI's ends of what a reload changes.
pub struct UiFeeds {
    pub config: watch::Receiver<ConfigView>,
    pub admin_token: watch::Receiver<Option<Secret>>,
}

/// Starts listening for reloads of `settings` (SIGHUP); returns what the UI reads.
/// Without `parts` (or without a SIGHUP handler) the configuration changes only with a
/// restart, which is logged.
pub fn start(settings: &Settings, parts: Option<Parts>) -> UiFeeds {
    let Some(parts) = parts else {
        let (_, config) = watch::channel(view(settings, None));
        let (_, admin_token) = watch::channel(settings.ui_admin_token.clone());
        return UiFeeds { config, admin_token };
    };
    let (reloader, feeds) = Reloader::new(settings.clone(), parts);
    if let Err(e) = reloader.listen() {
        tracing::error!(error = %e, "cannot listen for SIGHUP: the configuration changes only with a restart");
    }
    feeds
}

/// Owns the running settings and applies reloads to them.
pub struct Reloader {
    running: Settings,
    parts: Parts,
    view: watch::Sender<ConfigView>,
    admin_token: watch::Sender<Option<Secret>>,
}

impl Reloader {
    pub fn new(running: Settings, parts: Parts) -> (Reloader, UiFeeds) {
        let (view, config) = watch::channel(view(&running, None));
        let (admin_token, token_rx) = watch::channel(running.ui_admin_token.clone());
        (Reloader { running, parts, view, admin_token }, UiFeeds { config, admin_token: token_rx })
    }

    /// Listens for SIGHUP and reloads at each (Unix; see `signal.rs` for Windows).
    /// Errors when the handler cannot be installed.
    pub fn listen(mut self) -> std::io::Result<()> {
        let mut hangups = signal::Hangups::listen()?;
        actix::spawn(async move {
            loop {
                hangups.next().await;
                tracing::info!(file = %self.running.file.display(), "SIGHUP: reading the configuration again");
                self.reload();
            }
        });
        Ok(())
    }

    /// Reads the file again and applies it, or refuses it whole.
    pub fn reload(&mut self) {
        let at = rfc3339(connector_actors::time::now_ms());
        let report = match config::load(&self.running.file, &ProcessEnv) {
            Err(errors) => self.refuse(at, None, errors.0.iter().map(ToString::to_string).collect()),
            Ok(new) => match self.tls_of(&new) {
                Err(problems) => self.refuse(at, Some(new.source.sha256.clone()), problems),
                Ok(tls) => self.apply(at, new, tls),
            },
        };
        self.view.send_replace(view(&self.running, Some(report)));
    }

    fn refuse(&self, at: String, sha256: Option<String>, problems: Vec<String>) -> ReloadReport {
        tracing::error!(
            problems = problems.len(),
            "configuration reload refused: the running configuration is kept; fix the file and reload again"
        );
        for p in &problems {
            tracing::error!("config problem: {p}");
        }
        ReloadReport { at, outcome: "refused", sha256, problems, applied: Vec::new(), needs_restart: Vec::new() }
    }

    /// The TLS client of each directory to replace, or every problem building them.
    fn tls_of(
        &self,
        new: &Settings,
    ) -> Result<Vec<(DirectorySettings, std::sync::Arc<rustls::ClientConfig>)>, Vec<String>> {
        let mut out = Vec::new();
        let mut problems = Vec::new();
        for d in diff::directories(&self.running, new).replaced {
            match tls::client_config(d.ca_pem.as_deref()) {
                Ok(c) => out.push((d, c)),
                Err(e) => problems.push(format!("{}: directories.{}.ca_file: {e}", new.file.display(), d.name)),
            }
        }
        if problems.is_empty() {
            Ok(out)
        } else {
            Err(problems)
        }
    }

    fn apply(
        &mut self,
        at: String,
        new: Settings,
        tls: Vec<(DirectorySettings, std::sync::Arc<rustls::ClientConfig>)>,
    ) -> ReloadReport {
        // New secrets are masked before anything could log them.
        crate::logging::protect(&new);
        for w in &new.warnings {
            tracing::warn!("{w}");
        }
        let mut applied = self.apply_directories(&new, tls);
        if new.ui_admin_token != self.running.ui_admin_token {
            self.admin_token.send_replace(new.ui_admin_token.clone());
            applied.push("ui.admin_token".to_owned());
        }
        let level_changed = new.logging.level != self.running.logging.level;
        if level_changed {
            applied.push(format!(
                "logging.level = {}",
                new.logging.level.as_deref().unwrap_or("(IC_LOG, RUST_LOG or info)")
            ));
        }
        let mut needs_restart: Vec<String> =
            diff::restart_only(&self.running, &new).into_iter().map(str::to_owned).collect();
        if new.link.directories != self.running.link.directories {
            needs_restart.push("the directory list announced to the portal (sent at registration)".to_owned());
        }
        tracing::info!(applied = ?applied, sha256 = %new.source.sha256, "configuration reloaded");
        if !needs_restart.is_empty() {
            tracing::warn!(keys = ?needs_restart, "these changes take effect only after a restart; the running values stay until then");
        }
        // Last, so that the lines above are written under the filter they were decided under.
        if level_changed {
            if let Err(e) = crate::logging::set_level(new.logging.level.as_deref()) {
                tracing::error!(error = %e, "cannot change the log filter");
            }
        }
        self.running.directories = new.directories.clone();
        self.running.ui_admin_token = new.ui_admin_token.clone();
        self.running.logging.level = new.logging.level.clone();
        self.running.source = new.source.clone();
        ReloadReport {
            at,
            outcome: "applied",
            sha256: Some(new.source.sha256),
            problems: Vec::new(),
            applied,
            needs_restart,
        }
    }

    /// Starts a directory actor per replaced directory, retires the ones replaced or
    /// removed, and hands the dispatcher the new set. Returns what changed, in words.
    fn apply_directories(
        &mut self,
        new: &Settings,
        tls: Vec<(DirectorySettings, std::sync::Arc<rustls::ClientConfig>)>,
    ) -> Vec<String> {
        let changes = diff::directories(&self.running, new);
        let mut applied = Vec::new();
        let p = &mut self.parts;
        for (d, config) in tls {
            let name = d.name.clone();
            p.board.forget_directory(&name);
            let memory = p.login_memories.of(&d);
            let (actor, report) = DirectoryActor::new(d, config, p.board.component(&format!("ldap_pool:{name}")));
            let actor = actor.with_login_memory(memory);
            let _ = p.board.clone().with_directory(report);
            let addr = Supervisor::start_in_arbiter(&p.arbiter, move |_| actor);
            let verb = match p.directories.insert(name.clone(), addr.clone()) {
                Some(old) => {
                    old.do_send(Retire);
                    "replaced"
                }
                None => "added",
            };
            p.knowledge.forget(&name);
            let knowledge = p.knowledge.clone();
            actix::spawn(async move { knowledge.warm(addr).await });
            applied.push(format!("directory {name} {verb}"));
        }
        for name in &changes.removed {
            if let Some(old) = p.directories.remove(name) {
                old.do_send(Retire);
            }
            p.board.forget_directory(name);
            p.knowledge.forget(name);
            applied.push(format!("directory {name} removed"));
        }
        if !applied.is_empty() {
            p.dispatcher.do_send(ReplaceDirectories { directories: p.directories.clone() });
        }
        applied
    }
}

#[cfg(test)]
mod tests;
