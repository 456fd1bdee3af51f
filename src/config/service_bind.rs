//! The service account's credential of one directory: `bind_password` (or its file or
//! environment variable) for a simple bind, or `client_cert_file` + `client_key_file`
//! for SASL EXTERNAL, or `bind_keytab` + `bind_principal` for SASL GSSAPI (`keytab.rs`;
//! issue #20). Exactly one; the certificate and key are read, parsed
//! and matched here, once, so a bad file (or an expired certificate) is an error naming
//! its key at load time and at each reload.

use std::ops::Range;
use std::path::Path;

use connector_actors::directory::bind::ClientCertificate;
use connector_actors::directory::ServiceBind;
use connector_actors::time::{now_ms, rfc3339};
use toml::Spanned;

use super::secrets::{bind_password_env, Presence, SecretKeys};
use super::validate::Validator;

/// The credential keys of `[directories.NAME]`, as written.
pub struct RawServiceBind {
    pub bind_password: Option<Spanned<String>>,
    pub bind_password_file: Option<Spanned<String>>,
    pub client_cert_file: Option<Spanned<String>>,
    pub client_key_file: Option<Spanned<String>>,
    pub bind_keytab: Option<Spanned<String>>,
    pub bind_principal: Option<Spanned<String>>,
    pub bind_spn_host: Option<Spanned<String>>,
    /// Every URL is encrypted (`ldaps://`, or `ldap://` with StartTLS).
    pub encrypted: bool,
}

impl Validator<'_, '_> {
    /// The credential of directory `name`; `None` (with errors) when it is missing,
    /// ambiguous or unusable.
    pub fn service_bind(&mut self, name: &str, raw: RawServiceBind, table: Range<usize>) -> Option<ServiceBind> {
        let key = |k: &str| format!("directories.{name}.{k}");
        let env = bind_password_env(name);
        if raw.bind_keytab.is_some() || raw.bind_principal.is_some() || raw.bind_spn_host.is_some() {
            return self.keytab_bind(name, raw);
        }
        let (cert, key_file) = match (raw.client_cert_file, raw.client_key_file) {
            (None, None) => {
                let pw_key = key("bind_password");
                let keys =
                    SecretKeys { key: &pw_key, env: &env, inline: raw.bind_password, file: raw.bind_password_file };
                return self.secret(keys, Presence::Required, table).map(ServiceBind::Password);
            }
            (Some(c), Some(k)) => (c, k),
            (Some(c), None) => {
                let msg = "is set without client_key_file: set both (the certificate and its private key, PEM)";
                self.c.at(Some(c.span()), &key("client_cert_file"), msg);
                return None;
            }
            (None, Some(k)) => {
                let msg = "is set without client_cert_file: set both (the certificate and its private key, PEM)";
                self.c.at(Some(k.span()), &key("client_key_file"), msg);
                return None;
            }
        };
        let password = raw.bind_password.as_ref().or(raw.bind_password_file.as_ref());
        if password.is_some() || self.env.is_set(&env) {
            let msg = format!(
                "a client certificate and a bind password are both set (bind_password, bind_password_file or {env}): \
                 keep one; a certificate bind sends no password"
            );
            self.c.at(password.map(|p| p.span()), &key("client_cert_file"), msg);
            return None;
        }
        if !raw.encrypted {
            let msg = "a client certificate is sent only over TLS: use ldaps:// URLs or remove `starttls = false`";
            self.c.at(Some(cert.span()), &key("client_cert_file"), msg);
            return None;
        }
        let cert_pem = self.read_file(&cert, &key("client_cert_file"))?;
        let key_pem = self.read_file(&key_file, &key("client_key_file"))?;
        self.warn_if_readable(Path::new(key_file.get_ref()), &key("client_key_file"));
        match ClientCertificate::from_pem(&cert_pem, &key_pem) {
            // An expired certificate cannot bind: refused here, so a reload that brings
            // one in keeps the running (still valid) one instead of breaking every bind.
            Ok(c) if c.not_after_s.saturating_mul(1000) <= now_ms() as i64 => {
                let when = rfc3339(u64::try_from(c.not_after_s).unwrap_or_default().saturating_mul(1000));
                let msg = format!(
                    "{}: the certificate ({}) expired at {when}: put a renewed certificate and its key there",
                    cert.get_ref(),
                    c.subject
                );
                self.c.at(Some(cert.span()), &key("client_cert_file"), msg);
                None
            }
            Ok(c) => Some(ServiceBind::Certificate(c)),
            Err(e) => {
                let (at, k) = match e {
                    connector_actors::directory::bind::CertificateError::NoKey
                    | connector_actors::directory::bind::CertificateError::KeyRejected(_) => {
                        (key_file, "client_key_file")
                    }
                    _ => (cert, "client_cert_file"),
                };
                self.c.at(Some(at.span()), &key(k), format!("{} {e}", at.get_ref()));
                None
            }
        }
    }

    /// Two directories whose names differ only in case or `-`/`_` (`corp-a`, `corp_a`)
    /// would read their bind password from one environment variable: refused by name.
    pub(super) fn distinct_password_variables<'n>(&mut self, names: impl Iterator<Item = &'n String>) {
        let mut seen: std::collections::BTreeMap<String, &String> = std::collections::BTreeMap::new();
        for name in names {
            let env = bind_password_env(name);
            if let Some(other) = seen.insert(env.clone(), name) {
                self.c.at(
                    None,
                    &format!("directories.{name}"),
                    format!("directories `{other}` and `{name}` would both read their bind password from {env}: rename one of them"),
                );
            }
        }
    }

    fn read_file(&mut self, f: &Spanned<String>, key: &str) -> Option<Vec<u8>> {
        std::fs::read(f.get_ref())
            .map_err(|e| self.c.at(Some(f.span()), key, format!("cannot read {}: {e}", f.get_ref())))
            .ok()
    }
}

#[cfg(test)]
mod tests;
