//! The config file: parsed and validated once into typed [`Settings`]; nothing reads
//! raw config after start-up. Every error names the file, line and key.

mod ca;
mod discovery;
mod errors;
mod forest;
mod get;
mod keytab;
mod login;
mod ops;
mod raw;
mod secret_read;
mod secrets;
mod service_bind;
mod settings;
mod shedding;
#[cfg(test)]
mod tests;
mod validate;

use std::path::Path;

pub use errors::{ConfigError, ConfigErrors};
pub use get::{get, refuse_secret, without_credentials, GetError};
pub use secrets::{bind_password_env, ProcessEnv, SecretSource, TOKEN_ENV};
pub use settings::{ConfigSource, DirectoryKind, DirectorySettings, PlainUrlSecurity, Settings};

use errors::Collector;
use validate::Validator;

/// Reads and validates `path`; secrets may come from `env`.
pub fn load(path: &Path, env: &dyn SecretSource) -> Result<Settings, ConfigErrors> {
    let text = std::fs::read_to_string(path).map_err(|e| {
        ConfigErrors(vec![ConfigError {
            file: path.to_path_buf(),
            line: None,
            key: "(file)".into(),
            message: format!("cannot read the config file: {e}"),
        }])
    })?;
    parse(path, &text, env)
}

pub fn parse(path: &Path, text: &str, env: &dyn SecretSource) -> Result<Settings, ConfigErrors> {
    let mut c = Collector::new(path, text);
    let raw: raw::RawConfig = match serde_path_to_error::deserialize(toml::Deserializer::new(text)) {
        Ok(raw) => raw,
        Err(e) => {
            let key = error_key(e.path(), e.inner().message());
            let e = e.into_inner();
            let message = e.message().trim().to_owned();
            c.at(e.span(), &key, explain(&message));
            return Err(ConfigErrors(c.errors));
        }
    };
    let mut v = Validator { c, env, warnings: Vec::new(), holds_secret: false };
    let settings = v.settings(raw);
    if v.holds_secret {
        v.warn_if_readable(path, "config file");
    }
    match settings {
        Some(mut s) if v.c.errors.is_empty() => {
            s.warnings.extend(v.warnings);
            Ok(s)
        }
        _ => Err(ConfigErrors(v.c.errors)),
    }
}

/// The dotted key a parse error is about (`server.port`), from the path serde walked.
/// `toml::Spanned` adds private segments (`$__serde_spanned_private_value`), skipped;
/// a missing field is named only in backticks by the message, so it is added to its table.
fn error_key(path: &serde_path_to_error::Path, message: &str) -> String {
    let mut parts: Vec<String> =
        path.iter().map(ToString::to_string).filter(|p| !p.starts_with("$__") && p != "?" && !p.is_empty()).collect();
    let named = message
        .split('`')
        .nth(1)
        .filter(|_| message.starts_with("unknown field") || message.starts_with("missing field"));
    if let Some(field) = named.filter(|f| parts.last().map(String::as_str) != Some(*f)) {
        parts.push(field.to_owned());
    }
    if parts.is_empty() {
        "(syntax)".to_owned()
    } else {
        parts.join(".")
    }
}

/// Adds what to do to the TOML parser's terse messages.
fn explain(message: &str) -> String {
    if message.starts_with("unknown field") {
        format!("{message} (check the spelling against config/connector.example.toml)")
    } else if message.contains("duplicate key") {
        format!("{message}: each directory and key may appear only once")
    } else {
        message.to_owned()
    }
}

/// Mode bits of a path, for the checks that warn about readable secrets.
#[cfg(unix)]
pub fn mode_of(path: &Path) -> Option<u32> {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(path).ok().map(|m| m.permissions().mode() & 0o777)
}
