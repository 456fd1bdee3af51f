//! `integration-connector config`: what the install and uninstall scripts ask of the
//! config, so that no shell ever pattern-matches TOML.
//! - `get KEY`: one resolved value (defaults included) of the validated config; secrets
//!   are refused (exit 64 with the reason; an invalid config prints its errors, exit 64).
//! - `rebase --root DIR --output FILE`: a copy (0600) whose absolute paths lie under DIR,
//!   for `install.sh --root DIR` to check an installation made into a scratch root.

use clap::Subcommand;
use connector_actors::platform::OpenOptionsExt;
use std::io::Write;
use std::path::Path;

use crate::config::{self, SecretSource};
use crate::exit;

/// `config get` prints no secret, so it checks none: the service may take its secrets
/// from an environment (a unit drop-in) that the shell running the script lacks. Every
/// secret reads as this placeholder (16 characters or more, as the UI token must be),
/// and no variable counts as set for the one-credential rules: the placeholder would
/// make every keytab- or certificate-bound directory "also" password-bound, the config
/// invalid, and `dpkg -r` unable to find the storage path it must remove.
struct NoSecrets;

impl SecretSource for NoSecrets {
    fn var(&self, _: &str) -> Option<String> {
        Some("config-get-reads-no-secret".to_owned())
    }

    fn is_set(&self, _: &str) -> bool {
        false
    }
}

/// Prints the value of `key`; exit 0, or 64 (invalid config, secret or unknown key).
#[derive(Subcommand)]
pub enum ConfigAction {
    /// Print the value of KEY (e.g. storage.path), defaults included; never a secret.
    Get { key: String },
    /// Write a copy of the config whose absolute paths lie under --root (install.sh --root).
    #[command(hide = true)]
    Rebase {
        #[arg(long)]
        root: std::path::PathBuf,
        #[arg(long, short)]
        output: std::path::PathBuf,
    },
}

pub fn get(path: &Path, key: &str) -> u8 {
    if let Err(e) = config::refuse_secret(key) {
        eprintln!("{}: {e}", path.display());
        return exit::CONFIG;
    }
    let settings = match config::load(path, &NoSecrets) {
        Ok(s) => s,
        Err(errors) => {
            eprint!("{errors}");
            return exit::CONFIG;
        }
    };
    match config::get(&settings, key) {
        Ok(value) => {
            println!("{value}");
            exit::OK
        }
        Err(e) => {
            eprintln!("{}: {e}", path.display());
            exit::CONFIG
        }
    }
}

/// The config keys that hold an absolute path, by table (`directories.*` for each directory).
const PATH_KEYS: [(&str, &str); 7] = [
    ("storage", "path"),
    ("logging", "dir"),
    ("server", "ca_file"),
    ("server", "token_file"),
    ("ui", "admin_token_file"),
    ("directories.*", "ca_file"),
    ("directories.*", "bind_password_file"),
];

/// Writes `output` (mode 0600: it may hold the token) as `path` with every absolute path
/// key moved under `root`.
pub fn rebase(path: &Path, root: &Path, output: &Path) -> u8 {
    let text = match std::fs::read_to_string(path) {
        Ok(t) => t,
        Err(e) => {
            eprintln!("{}: cannot read the config file: {e}", path.display());
            return exit::CONFIG;
        }
    };
    let mut doc: toml::Table = match text.parse() {
        Ok(d) => d,
        Err(e) => {
            eprintln!("{}: {e}", path.display());
            return exit::CONFIG;
        }
    };
    for (table, key) in PATH_KEYS {
        for t in tables(&mut doc, table) {
            if let Some(toml::Value::String(p)) = t.get_mut(key) {
                if p.starts_with('/') {
                    *p = format!("{}{p}", root.display());
                }
            }
        }
    }
    let written = toml::to_string(&doc).map_err(|e| e.to_string()).and_then(|out| {
        let mut f = std::fs::OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(true)
            .mode(0o600)
            .open(output)
            .map_err(|e| e.to_string())?;
        f.write_all(out.as_bytes()).map_err(|e| e.to_string())
    });
    match written {
        Ok(()) => exit::OK,
        Err(e) => {
            eprintln!("cannot write {}: {e}", output.display());
            exit::FAILURE
        }
    }
}

/// The tables named `name` (`directories.*`: each directory's).
fn tables<'a>(doc: &'a mut toml::Table, name: &str) -> Vec<&'a mut toml::Table> {
    match name.split_once('.') {
        Some((outer, "*")) => match doc.get_mut(outer) {
            Some(toml::Value::Table(t)) => t.iter_mut().filter_map(|(_, v)| v.as_table_mut()).collect(),
            _ => Vec::new(),
        },
        _ => doc.get_mut(name).and_then(toml::Value::as_table_mut).into_iter().collect(),
    }
}
