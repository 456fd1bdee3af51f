//! `config get KEY`: one resolved value of the validated config (defaults included), for
//! the install and uninstall scripts, which must never read TOML themselves (a literal
//! string, an escape or a comment would fool a pattern). Secrets are never printed.

use std::time::Duration;

use super::Settings;
use crate::logging::LogFormat;

/// Why a key cannot be printed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum GetError {
    #[error("`{key}` holds a secret (or where one is kept): `config get` never prints secrets; read the config file as root if you must")]
    Secret { key: String },
    #[error("`{key}` is not a key `config get` knows; known keys: {known}")]
    Unknown { key: String, known: String },
    #[error("there is no directory `{name}` in the config (directories: {have})")]
    NoDirectory { name: String, have: String },
}

/// The last part of every key that names a secret or the file holding one.
/// A client certificate's key and a keytab are secrets kept in files (issue #20).
const SECRET_KEYS: [&str; 8] = [
    "token",
    "token_file",
    "bind_password",
    "bind_password_file",
    "admin_token",
    "admin_token_file",
    "client_key_file",
    "bind_keytab",
];

/// The top-level keys `get` answers (`directories.NAME.KEY` besides).
const KEYS: [&str; 16] = [
    "storage.path",
    "logging.dir",
    "logging.max_file_size_mb",
    "logging.retention",
    "logging.json",
    "ui.listen",
    "server.protocol",
    "server.host",
    "server.port",
    "server.proxy",
    "server.connect_timeout",
    "server.request_timeout",
    "connector.name",
    "connector.max_concurrency",
    "connector.drain_grace",
    "connector.max_attempts",
];

const DIRECTORY_KEYS: [&str; 8] =
    ["kind", "urls", "bind_dn", "base_dn", "pool_min", "pool_max", "connect_timeout", "operation_timeout"];

/// The value of `key` as one line (lists: one item per line), e.g. `storage.path` →
/// `/srv/ic data`, `directories` → each directory name.
pub fn get(s: &Settings, key: &str) -> Result<String, GetError> {
    refuse_secret(key)?;
    let url = url::Url::parse(&s.link.base_url).ok();
    let value = match key {
        "storage.path" => s.queue.path.display().to_string(),
        "logging.dir" => s.logging.dir.display().to_string(),
        "logging.max_file_size_mb" => (s.logging.max_file_bytes >> 20).to_string(),
        "logging.retention" => duration(s.logging.retention),
        "logging.json" => (s.logging.format == LogFormat::Json).to_string(),
        "ui.listen" => s.ui_listen.to_string(),
        "server.protocol" => url.as_ref().map(|u| u.scheme().to_owned()).unwrap_or_default(),
        "server.host" => url.as_ref().and_then(|u| u.host_str().map(str::to_owned)).unwrap_or_default(),
        "server.port" => {
            url.as_ref().and_then(url::Url::port_or_known_default).map(|p| p.to_string()).unwrap_or_default()
        }
        "server.proxy" => s.link.proxy.as_deref().map(without_credentials).unwrap_or_default(),
        "server.connect_timeout" => duration(s.link.connect_timeout),
        "server.request_timeout" => duration(s.link.request_timeout),
        "connector.name" => s.link.name.clone(),
        "connector.max_concurrency" => s.dispatcher.max_concurrency.to_string(),
        "connector.drain_grace" => duration(s.drain_grace),
        "connector.max_attempts" => s.queue.max_attempts.to_string(),
        "directories" => s.directories.iter().map(|d| d.name.as_str()).collect::<Vec<_>>().join("\n"),
        other => return directory_key(s, other),
    };
    Ok(value)
}

/// `Err` when `key` names a secret or the file holding one (checked before the config is
/// even read, so the answer does not depend on the config being valid).
pub fn refuse_secret(key: &str) -> Result<(), GetError> {
    let last = key.rsplit('.').next().unwrap_or(key);
    if SECRET_KEYS.contains(&last) {
        return Err(GetError::Secret { key: key.to_owned() });
    }
    Ok(())
}

fn directory_key(s: &Settings, key: &str) -> Result<String, GetError> {
    let unknown = || GetError::Unknown {
        key: key.to_owned(),
        known: format!("{}, directories, directories.NAME.{{{}}}", KEYS.join(", "), DIRECTORY_KEYS.join(", ")),
    };
    let rest = key.strip_prefix("directories.").ok_or_else(unknown)?;
    let (name, field) = rest.rsplit_once('.').ok_or_else(unknown)?;
    if !DIRECTORY_KEYS.contains(&field) {
        return Err(unknown());
    }
    let d = s.directories.iter().find(|d| d.name == name).ok_or_else(|| GetError::NoDirectory {
        name: name.to_owned(),
        have: s.directories.iter().map(|d| d.name.as_str()).collect::<Vec<_>>().join(", "),
    })?;
    Ok(match field {
        "kind" => d.kind.as_str().to_owned(),
        "urls" => d.urls.iter().map(url::Url::as_str).collect::<Vec<_>>().join("\n"),
        "bind_dn" => d.bind_dn.clone(),
        "base_dn" => d.base_dn.clone(),
        "pool_min" => d.pool_min.to_string(),
        "pool_max" => d.pool_max.to_string(),
        "connect_timeout" => duration(d.connect_timeout),
        _ => duration(d.operation_timeout),
    })
}

fn duration(d: Duration) -> String {
    humantime::format_duration(d).to_string()
}

/// A proxy URL fit to print: its user name and password (`http://user:pw@proxy:3128`)
/// become `***`. Used wherever the proxy is shown (`check`, `config get`, logs).
pub fn without_credentials(proxy: &str) -> String {
    match url::Url::parse(proxy) {
        Ok(mut u) if !u.username().is_empty() || u.password().is_some() => {
            let _ = u.set_username("***");
            let _ = u.set_password(None);
            u.to_string()
        }
        Ok(u) => u.to_string(),
        // Unparsable: print nothing of what might be a credential.
        Err(_) => proxy.rsplit_once('@').map_or_else(|| proxy.to_owned(), |(_, host)| format!("***@{host}")),
    }
}

#[cfg(test)]
mod tests;
