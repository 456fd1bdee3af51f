//! The config file: parsed and validated once into typed [`Settings`]; nothing reads
//! raw config after start-up. Every error names the file, line and key.

mod errors;
mod ops;
mod raw;
mod settings;
#[cfg(test)]
mod tests;
mod validate;

use std::os::unix::fs::PermissionsExt;
use std::path::Path;

pub use errors::{ConfigError, ConfigErrors};
pub use settings::{DirectoryKind, DirectorySettings, PlainUrlSecurity, Settings};
pub use validate::{bind_password_env, ProcessEnv, SecretSource, TOKEN_ENV};

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
    let raw: raw::RawConfig = match toml::from_str(text) {
        Ok(raw) => raw,
        Err(e) => {
            let key = e.message().split('`').nth(1).unwrap_or("(syntax)").to_owned();
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
pub fn mode_of(path: &Path) -> Option<u32> {
    std::fs::metadata(path).ok().map(|m| m.permissions().mode() & 0o777)
}
