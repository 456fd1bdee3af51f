//! `bind_keytab`, `bind_principal` and `bind_spn_host`: a SASL GSSAPI service bind with
//! keys from a keytab (issue #20). The keytab must be readable now and look like one
//! (MIT's format starts 0x05 0x02); it is read again by the GSS library at each ticket
//! renewal, so it is named, not loaded. Refused in builds without Kerberos.

use std::path::Path;

use connector_actors::directory::bind::keytab::versions::{key_versions, principals};
use connector_actors::directory::bind::keytab::{KeytabBind, AVAILABLE};
use connector_actors::directory::ServiceBind;
use toml::Spanned;

use super::secrets::bind_password_env;
use super::service_bind::RawServiceBind;
use super::validate::Validator;

impl Validator<'_, '_> {
    /// The keytab bind of directory `name`, or `None` with errors naming the key.
    pub(super) fn keytab_bind(&mut self, name: &str, raw: RawServiceBind) -> Option<ServiceBind> {
        let key = |k: &str| format!("directories.{name}.{k}");
        let Some(keytab) = raw.bind_keytab else {
            let (k, v) = match (&raw.bind_principal, &raw.bind_spn_host) {
                (Some(p), _) => ("bind_principal", p),
                (None, Some(h)) => ("bind_spn_host", h),
                (None, None) => return None,
            };
            self.c.at(
                Some(v.span()),
                &key(k),
                "is set without bind_keytab: set bind_keytab to the service account's keytab",
            );
            return None;
        };
        let other = [&raw.bind_password, &raw.bind_password_file, &raw.client_cert_file, &raw.client_key_file]
            .into_iter()
            .flatten()
            .next();
        let env = bind_password_env(name);
        if other.is_some() || self.env.is_set(&env) {
            let msg = format!(
                "a keytab and another credential (bind_password, bind_password_file, {env} or client_cert_file) \
                 are both set: keep one"
            );
            self.c.at(Some(keytab.span()), &key("bind_keytab"), msg);
            return None;
        }
        if !AVAILABLE {
            let msg = "this build has no Kerberos support: install the integration-connector-kerberos package \
                       (the Linux build with the `kerberos` feature, `cargo build --features kerberos`), or bind with \
                       bind_password or a client certificate";
            self.c.at(Some(keytab.span()), &key("bind_keytab"), msg);
            return None;
        }
        let principal = self.principal(raw.bind_principal, keytab.span(), &key("bind_principal"))?;
        let key_versions = self.readable_keytab(&keytab, &key("bind_keytab"), &principal)?;
        // One cache per principal: a reload naming another account must not be handed
        // the old one's ticket ("Principal in credential cache does not match").
        let ccache = format!("MEMORY:integration-connector-{name}-{principal}");
        Some(ServiceBind::Keytab(KeytabBind {
            keytab: format!("FILE:{}", keytab.get_ref()),
            principal,
            spn_host: raw.bind_spn_host.map(Spanned::into_inner).filter(|h| !h.trim().is_empty()),
            ccache,
            key_versions,
        }))
    }

    fn principal(&mut self, p: Option<Spanned<String>>, at: std::ops::Range<usize>, key: &str) -> Option<String> {
        match p {
            None => {
                let msg = "missing: set it to the keytab's principal of the service account, e.g. \"svc-connector@EXAMPLE.TEST\"";
                self.c.at(Some(at), key, msg);
                None
            }
            Some(p) if !p.get_ref().contains('@') || p.get_ref().trim() != p.get_ref() => {
                let msg = format!(
                    "\"{}\" is no principal: write it as name@REALM, e.g. \"svc-connector@EXAMPLE.TEST\"",
                    p.get_ref()
                );
                self.c.at(Some(p.span()), key, msg);
                None
            }
            Some(p) => Some(p.into_inner()),
        }
    }

    /// The keytab exists, is readable and starts as one (its key versions of
    /// `principal` returned); warns when others may read it.
    fn readable_keytab(&mut self, f: &Spanned<String>, key: &str, principal: &str) -> Option<Vec<u32>> {
        let path = Path::new(f.get_ref());
        let bytes = std::fs::read(path);
        match bytes.as_deref().map(|b| b.get(..2)) {
            Err(e) => self.c.at(Some(f.span()), key, format!("cannot read {}: {e}", f.get_ref())),
            Ok(Some([5, 1 | 2])) => {
                self.warn_if_readable(path, key);
                let bytes = bytes.unwrap_or_default();
                let held = key_versions(&bytes, principal).unwrap_or_default();
                if held.is_empty() {
                    self.warn_absent_principal(f.get_ref(), key, principal, &bytes);
                }
                return Some(held);
            }
            Ok(_) => self.c.at(
                Some(f.span()),
                key,
                format!("{} is not a keytab (MIT's format starts 0x0502): export one with `samba-tool domain exportkeytab` or `ktpass`", f.get_ref()),
            ),
        }
        None
    }

    /// The keytab holds no key of `principal`: every bind would fail with MIT's "No
    /// credentials cache found"; the warning names the principals it holds.
    fn warn_absent_principal(&mut self, path: &str, key: &str, principal: &str, bytes: &[u8]) {
        let held = principals(bytes).unwrap_or_default();
        let held = if held.is_empty() { "no key at all".to_owned() } else { format!("keys of {}", held.join(", ")) };
        self.warnings.push(format!(
            "{key}: {path} holds {held}, none of bind_principal {principal}: binds will fail; export the account's \
             keys (samba-tool domain exportkeytab --principal={principal} / ktpass) or correct bind_principal"
        ));
    }
}

#[cfg(test)]
mod tests;
