//! `configure`: the install step the MSI runs (packaging/windows/), usable by hand too.
//!
//! Given the installer's answers (Protocol, Server URL, Port, Storage Path, Token or a
//! token file) it writes the config (the token inside: the file gets the private ACL or
//! 0600 first), protects the storage path, runs `check` and, on Windows, sets the
//! service's description, recovery actions and quoted command line (the MSI starts the
//! service afterwards, StartServices). Without a server URL it keeps an existing config
//! (an upgrade). `--remove-data` deletes config and storage (MSI `REMOVE_DATA=1`).
//! The token never appears in an output line: errors name the option, not the value.

use std::path::{Path, PathBuf};

use crate::exit;
use crate::platform::perms::{self, Kind};

/// The installer's answers; empty strings count as not given (an MSI passes "" for an
/// unset property).
#[derive(clap::Args, Debug, Default)]
pub struct Answers {
    /// http or https (default https, or the server URL's scheme).
    #[arg(long, default_value = "")]
    pub protocol: String,
    /// The portal's host, or a URL like https://servicedesk.example.com:8443.
    #[arg(long, default_value = "")]
    pub server_url: String,
    /// Default 443 for https, 80 for http.
    #[arg(long, default_value = "")]
    pub port: String,
    /// Where the queue, key, logs and audit journal live (default: platform::paths).
    #[arg(long, default_value = "")]
    pub storage_path: String,
    /// The Credential Profile's Basic Authorization token (prefer --token-file).
    #[arg(long, default_value = "", hide_default_value = true)]
    pub token: String,
    /// A file whose first line is the token.
    #[arg(long, default_value = "")]
    pub token_file: String,
}

/// What `configure` should do.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Action {
    Install,
    /// Delete the config and the storage path (uninstall with REMOVE_DATA=1).
    RemoveData,
}

/// A refused answer: which one, and what to give instead.
#[derive(Debug, thiserror::Error)]
#[error("{field}: {problem}")]
pub struct AnswerError {
    pub field: &'static str,
    pub problem: String,
}

fn refuse(field: &'static str, problem: impl Into<String>) -> AnswerError {
    AnswerError { field, problem: problem.into() }
}

/// The answers resolved: protocol, host, port, storage, token.
#[derive(Debug, PartialEq, Eq)]
pub struct Resolved {
    pub protocol: String,
    pub host: String,
    pub port: u16,
    pub storage: PathBuf,
    pub token: String,
}

impl Answers {
    /// Resolves defaults and the URL's parts, refusing contradictions (same rules as
    /// packaging/linux/install.sh).
    pub fn resolve(&self) -> Result<Resolved, AnswerError> {
        let mut protocol = self.protocol.trim().to_ascii_lowercase();
        let mut rest = self.server_url.trim();
        if let Some((scheme, after)) = rest.split_once("://") {
            let scheme = scheme.to_ascii_lowercase();
            if !protocol.is_empty() && protocol != scheme {
                return Err(refuse("PROTOCOL", format!("\"{protocol}\" contradicts the server URL's {scheme}://")));
            }
            protocol = scheme;
            rest = after;
        }
        if protocol.is_empty() {
            protocol = "https".to_owned();
        }
        if protocol != "http" && protocol != "https" {
            return Err(refuse("PROTOCOL", format!("must be http or https, not \"{protocol}\"")));
        }
        let rest = rest.split('/').next().unwrap_or_default();
        let (host, url_port) = match rest.rsplit_once(':') {
            Some((h, p)) if !h.contains(':') || h.ends_with(']') => (h, Some(p)),
            _ => (rest, None),
        };
        let valid_host = !host.is_empty()
            && (host.chars().all(|c| c.is_ascii_alphanumeric() || c == '.' || c == '-')
                || (host.starts_with('[') && host.ends_with(']')));
        if !valid_host {
            return Err(refuse("SERVER_URL", format!("\"{host}\" is not a host name (e.g. servicedesk.example.com)")));
        }
        let port_text = match (self.port.trim(), url_port) {
            ("", None) => if protocol == "https" { "443" } else { "80" }.to_owned(),
            ("", Some(p)) => p.to_owned(),
            (p, Some(u)) if p != u => {
                return Err(refuse("PORT", format!("{p} contradicts the server URL's port {u}")));
            }
            (p, _) => p.to_owned(),
        };
        let port = port_text.parse::<u16>().ok().filter(|&p| p > 0);
        let port = port.ok_or_else(|| refuse("PORT", format!("must be 1-65535, not \"{port_text}\"")))?;
        let storage = match self.storage_path.trim() {
            "" => crate::platform::paths::default_storage(),
            s => PathBuf::from(s),
        };
        let token = self.token()?;
        Ok(Resolved { protocol, host: host.to_owned(), port, storage, token })
    }

    fn token(&self) -> Result<String, AnswerError> {
        let token = match (self.token.trim(), self.token_file.trim()) {
            ("", "") => {
                return Err(refuse(
                    "TOKEN",
                    "give TOKEN or TOKEN_FILE (the Credential Profile's Basic Authorization token)",
                ))
            }
            (t, "") => t.to_owned(),
            ("", f) => std::fs::read_to_string(f)
                .map_err(|e| refuse("TOKEN_FILE", format!("{f} cannot be read: {e}")))?
                .lines()
                .next()
                .unwrap_or_default()
                .trim()
                .to_owned(),
            _ => return Err(refuse("TOKEN", "give TOKEN or TOKEN_FILE, not both")),
        };
        if token.is_empty() {
            return Err(refuse("TOKEN_FILE", "the token file is empty"));
        }
        if token.chars().any(|c| c.is_whitespace() || c.is_control() || c == '"' || c == '\\') {
            return Err(refuse(
                "TOKEN",
                "must not contain spaces, quotes or backslashes: copy it exactly as the portal shows it",
            ));
        }
        Ok(token)
    }
}

/// The config text for `r` (the token inside: write it only to a private file).
pub fn render(r: &Resolved) -> String {
    let q = |s: &str| toml::Value::String(s.to_owned()).to_string();
    format!(
        "# ServiceOps Integration Connector, written by `integration-connector configure`.\n\
         # An upgrade keeps this file. Every key is described in connector.example.toml beside\n\
         # the binary. It holds the token: only SYSTEM and Administrators (0600) may read it.\n\n\
         [connector]\ndrain_grace = \"30s\"\n\n\
         [server]\nprotocol = \"{}\"\nhost = {}\nport = {}\ntoken = {}\n\n\
         [storage]\npath = {}\n",
        r.protocol,
        q(&r.host),
        r.port,
        q(&r.token),
        q(&r.storage.to_string_lossy()),
    )
}

/// `configure`: returns the exit code; every problem is printed with the answer it concerns.
pub fn run(config: &Path, answers: &Answers, action: Action) -> u8 {
    let result = match action {
        Action::RemoveData => remove_data(config, answers),
        Action::Install => install(config, answers),
    };
    match result {
        Ok(code) => code,
        Err(e) => {
            eprintln!("configure: {e}");
            exit::FAILURE
        }
    }
}

fn install(config: &Path, answers: &Answers) -> anyhow::Result<u8> {
    let upgrade = answers.server_url.trim().is_empty() && config.exists();
    if upgrade {
        println!("configure: keeping {} (an upgrade; give SERVER_URL to write a new one)", config.display());
    } else if answers.server_url.trim().is_empty() {
        eprintln!("configure: SERVER_URL: required for a first install (no {} yet)", config.display());
        return Ok(exit::USAGE);
    } else {
        let resolved = match answers.resolve() {
            Ok(r) => r,
            Err(e) => {
                eprintln!("configure: {e}");
                return Ok(exit::USAGE);
            }
        };
        write_config(config, &resolved)?;
        println!("configure: wrote {} ({} {}:{})", config.display(), resolved.protocol, resolved.host, resolved.port);
    }
    let storage = storage_of(config)?;
    std::fs::create_dir_all(&storage)?;
    perms::protect(&storage, Kind::Folder)?;
    println!("configure: {} protected ({})", storage.display(), perms::describe(&storage));
    #[cfg(windows)]
    super::windows::set_recovery(config)?;
    // An upgrade keeps a config that ran: only what the service cannot start without
    // fails it; an unreachable directory or portal is the service's to retry.
    let strictness = if upgrade { crate::check::Strictness::Local } else { crate::check::Strictness::All };
    let code = crate::check::run(config, crate::check::Output::Text, strictness);
    if code != exit::OK {
        eprintln!("configure: `integration-connector check` failed (above): fix the answer it names and install again");
        return Ok(code);
    }
    Ok(code)
}

/// Writes the config through a private temporary file, then renames it into place.
fn write_config(config: &Path, r: &Resolved) -> anyhow::Result<()> {
    let dir = config.parent().filter(|d| !d.as_os_str().is_empty()).unwrap_or(Path::new("."));
    std::fs::create_dir_all(dir)?;
    let tmp = dir.join(".connector.toml.new");
    let _ = std::fs::remove_file(&tmp);
    std::fs::write(&tmp, b"")?;
    perms::protect(&tmp, Kind::Secret)?;
    std::fs::write(&tmp, render(r))?;
    std::fs::rename(&tmp, config)?;
    Ok(())
}

/// The storage path the config names (defaults included), as the service will use it.
fn storage_of(config: &Path) -> anyhow::Result<PathBuf> {
    match crate::config::load(config, &crate::config::ProcessEnv) {
        Ok(s) => Ok(s.queue.path.clone()),
        Err(errors) => anyhow::bail!("{} is not a valid config:\n{errors}", config.display()),
    }
}

fn remove_data(config: &Path, answers: &Answers) -> anyhow::Result<u8> {
    let storage = match storage_of(config) {
        Ok(s) => Some(s),
        Err(_) if !answers.storage_path.trim().is_empty() => Some(PathBuf::from(answers.storage_path.trim())),
        Err(_) => None,
    };
    for dir in storage.iter().filter(|d| d.exists()) {
        std::fs::remove_dir_all(dir)?;
        println!("configure: removed {}", dir.display());
    }
    if config.exists() {
        std::fs::remove_file(config)?;
        println!("configure: removed {}", config.display());
    }
    // The config's folder goes when nothing else is left in it.
    if let Some(dir) = config.parent() {
        let _ = std::fs::remove_dir(dir);
    }
    Ok(exit::OK)
}

#[cfg(test)]
mod tests;
