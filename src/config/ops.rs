//! Validation of the operability keys: `[ui]` (admin token) and `[logging]`.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use connector_actors::secret::Secret;

use super::raw::{RawLogging, RawUi};
use super::secrets::{Presence, SecretKeys};
use super::validate::Validator;
use crate::logging::{LogFormat, LogSettings};

/// Environment variable that overrides `ui.admin_token`.
pub const UI_TOKEN_ENV: &str = "IC_UI_ADMIN_TOKEN";

/// The warning for a UI reachable beyond loopback: it serves plain HTTP only.
fn ui_without_tls_warning(listen: SocketAddr) -> String {
    format!(
        "ui.listen {listen} is not loopback and the web UI has no TLS: the admin token and every page cross the network in clear; \
         listen on 127.0.0.1 and reach it through a TLS reverse proxy or an SSH tunnel"
    )
}

impl Validator<'_, '_> {
    /// The admin token, required when the UI listens beyond loopback.
    pub(super) fn ui_token(&mut self, ui: &RawUi, listen: SocketAddr) -> Option<Secret> {
        let keys = SecretKeys {
            key: "ui.admin_token",
            env: UI_TOKEN_ENV,
            inline: ui.admin_token.clone(),
            file: ui.admin_token_file.clone(),
        };
        let table = 0..0; // only locates a missing secret, and this one is optional
        let token = self.secret(keys, Presence::Optional, table);
        if let Some(t) = &token {
            if t.expose().len() < 16 {
                let span = ui.admin_token.as_ref().or(ui.admin_token_file.as_ref()).map(|s| s.span());
                self.c.at(
                    span,
                    "ui.admin_token",
                    "is shorter than 16 characters: use a long random value (e.g. `openssl rand -hex 24`)",
                );
            }
        }
        if !listen.ip().is_loopback() {
            self.warnings.push(ui_without_tls_warning(listen));
        }
        if !listen.ip().is_loopback() && token.is_none() {
            let span = ui.listen.as_ref().map(|s| s.span());
            self.c.at(
                span,
                "ui.listen",
                format!("{listen} is not a loopback address: set ui.admin_token (or ui.admin_token_file, or {UI_TOKEN_ENV}) so that only administrators can open the page, or listen on 127.0.0.1"),
            );
        }
        token
    }

    pub(super) fn logging(&mut self, raw: &RawLogging, storage: &Path) -> LogSettings {
        let mut s = LogSettings::defaults(storage);
        if let Some(d) = &raw.dir {
            let p = PathBuf::from(d.get_ref());
            if p.is_absolute() {
                s.dir = p;
            } else {
                self.c.at(Some(d.span()), "logging.dir", "must be an absolute path");
            }
        }
        if let Some(mb) = &raw.max_file_size_mb {
            match *mb.get_ref() {
                n @ 1..=1024 => s.max_file_bytes = (n as u64) << 20,
                n => self.c.at(
                    Some(mb.span()),
                    "logging.max_file_size_mb",
                    format!("{n} is out of range: expected 1 to 1024"),
                ),
            }
        }
        if let Some(mb) = &raw.upload_max_size_mb {
            match *mb.get_ref() {
                n @ 1..=4096 => s.upload_max_bytes = (n as u64) << 20,
                n => self.c.at(
                    Some(mb.span()),
                    "logging.upload_max_size_mb",
                    format!("{n} is out of range: expected 1 to 4096 (MiB of log content in one upload)"),
                ),
            }
        }
        if let Some(r) = &raw.retention {
            match humantime::parse_duration(r.get_ref()) {
                Ok(d) if d >= Duration::from_secs(3600) => s.retention = d,
                Ok(_) => self.c.at(Some(r.span()), "logging.retention", "must be at least \"1h\""),
                Err(e) => {
                    self.c.at(Some(r.span()), "logging.retention", format!("expected a duration such as \"14d\" ({e})"))
                }
            }
        }
        if let Some(j) = &raw.json {
            s.format = LogFormat::from(*j.get_ref());
        }
        if let Some(l) = &raw.level {
            match tracing_subscriber::EnvFilter::try_new(l.get_ref()) {
                Ok(_) => s.level = Some(l.get_ref().clone()),
                Err(e) => self.c.at(
                    Some(l.span()),
                    "logging.level",
                    format!("not a log filter ({e}): expected a level such as \"info\" or \"debug\", or directives such as \"warn,connector_actors=debug\""),
                ),
            }
        }
        s
    }
}
