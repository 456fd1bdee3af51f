//! Secrets (server token, bind passwords, UI admin token): where each may come from, in
//! which order, and the rule every source shares: an empty or whitespace-only value is
//! refused, naming the key and the source. An empty bind password is an unauthenticated
//! bind (RFC 4513 §5.1.2) that "succeeds" and proves nothing; an empty token fails only
//! later, at the portal.

use toml::Spanned;

/// Where secrets may come from besides the file (environment variables).
pub trait SecretSource {
    /// The variable's value when it is set, even to an empty string (which is refused).
    fn var(&self, name: &str) -> Option<String>;

    /// Whether the variable is set, for the rules that refuse two credentials at once
    /// (a keytab or a client certificate beside a bind password). A source that cannot
    /// know the service's environment answers `false`, leaving those rules to the
    /// service's own load.
    fn is_set(&self, name: &str) -> bool {
        self.var(name).is_some()
    }
}

/// Reads the process environment.
pub struct ProcessEnv;

impl SecretSource for ProcessEnv {
    fn var(&self, name: &str) -> Option<String> {
        // Set but empty is kept: `IC_SERVER_TOKEN=$(cat missing-file)` must be an error,
        // not a silent fall back to the file's value.
        std::env::var_os(name).map(|v| v.to_string_lossy().into_owned())
    }
}

/// Environment variable that overrides `server.token`.
pub const TOKEN_ENV: &str = "IC_SERVER_TOKEN";

/// `IC_DIRECTORY_<NAME>_BIND_PASSWORD`, the name upper-cased with `-` as `_`.
pub fn bind_password_env(directory: &str) -> String {
    format!("IC_DIRECTORY_{}_BIND_PASSWORD", directory.to_uppercase().replace('-', "_"))
}

/// A secret's three sources for one key: `{key}`, `{key}_file` and an environment variable.
pub struct SecretKeys<'k> {
    pub key: &'k str,
    pub env: &'k str,
    pub inline: Option<Spanned<String>>,
    pub file: Option<Spanned<String>>,
}

/// Whether a secret must be set.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Presence {
    Required,
    Optional,
}
