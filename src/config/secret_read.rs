//! Reading one secret during validation: from the environment, else from exactly one of
//! `{key}` and `{key}_file`, refusing an empty one with its source named (the rules are
//! in `secrets.rs`).

use std::ops::Range;
use std::path::Path;

use connector_actors::secret::Secret;

use super::secrets::{Presence, SecretKeys};
use super::validate::Validator;

/// Where one secret was read from, for the messages that name it.
enum Origin<'a> {
    Env(&'a str),
    Inline,
    File(String),
}

impl Origin<'_> {
    fn describe(&self) -> String {
        match self {
            Origin::Env(name) => format!("from env {name}"),
            Origin::Inline => "inline in the config file".to_owned(),
            Origin::File(path) => format!("from file {path}"),
        }
    }

    fn fix(&self, key: &str) -> String {
        match self {
            Origin::Env(name) => format!("set {name} to the secret, or unset it to use `{key}` or `{key}_file`"),
            Origin::Inline => format!("write the secret between the quotes, or remove `{key}` and use `{key}_file`"),
            Origin::File(path) => format!("write the secret into {path} (one line)"),
        }
    }
}

impl Validator<'_, '_> {
    /// The secret from the environment, else from exactly one of `{key}` and `{key}_file`;
    /// `table` locates a missing required one (an optional one is never reported missing). `None` when absent (optional) or in error.
    pub fn secret(&mut self, keys: SecretKeys<'_>, presence: Presence, table: Range<usize>) -> Option<Secret> {
        let SecretKeys { key, env, inline, file } = keys;
        let (raw, origin, at) = if let Some(v) = self.env.var(env) {
            (v, Origin::Env(env), None)
        } else {
            match (inline, file) {
                (Some(i), Some(f)) => {
                    let msg = format!("both `{key}` and `{key}_file` are set: keep one");
                    self.c.at(Some(f.span()).or(Some(i.span())), &format!("{key}_file"), msg);
                    return None;
                }
                (None, None) => {
                    if presence == Presence::Required {
                        let msg = format!("missing: set `{key}` or `{key}_file` (or the environment variable {env})");
                        self.c.at(Some(table), key, msg);
                    }
                    return None;
                }
                (Some(i), None) => {
                    self.holds_secret = true;
                    let span = i.span();
                    (i.into_inner(), Origin::Inline, Some(span))
                }
                (None, Some(f)) => match std::fs::read_to_string(f.get_ref()) {
                    Ok(text) => {
                        self.warn_if_readable(Path::new(f.get_ref()), &format!("{key}_file"));
                        let span = f.span();
                        (text, Origin::File(f.into_inner()), Some(span))
                    }
                    Err(e) => {
                        self.c.at(Some(f.span()), &format!("{key}_file"), format!("cannot read {}: {e}", f.get_ref()));
                        return None;
                    }
                },
            }
        };
        // A secret is exact: Active Directory accepts passwords that begin or end with a
        // space. Only the line ending a file or variable gets from an editor or `echo` goes.
        let value = match origin {
            Origin::Inline => raw.as_str(),
            _ => raw.strip_suffix('\n').map(|r| r.strip_suffix('\r').unwrap_or(r)).unwrap_or(&raw),
        };
        if value.trim().is_empty() {
            let what = if raw.is_empty() { "empty" } else { "only whitespace" };
            let msg = format!(
                "({}) is {what}: an empty secret is never sent (for a bind password it would be an unauthenticated bind that proves nothing); {}",
                origin.describe(),
                origin.fix(key)
            );
            self.c.at(at, key, msg);
            return None;
        }
        Some(Secret::new(value.to_owned()))
    }

    pub fn warn_if_readable(&mut self, path: &Path, what: &str) {
        if let Ok(Some(exposed)) = crate::platform::perms::exposure(path, crate::platform::perms::Kind::Secret) {
            self.warnings.push(format!(
                "{} ({what}) holds a secret and is {}: run {}",
                path.display(),
                exposed.what,
                exposed.fix
            ));
        }
    }
}
