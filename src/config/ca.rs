//! `ca_file` keys: a PEM file read at load time, refused without a certificate in it.

use toml::Spanned;

use super::validate::Validator;

impl Validator<'_, '_> {
    /// The PEM bytes of the `key` file; `None` (and an error) when unreadable or without a certificate.
    pub fn ca_file(&mut self, v: &Option<Spanned<String>>, key: &str) -> Option<Vec<u8>> {
        let f = v.as_ref()?;
        match std::fs::read(f.get_ref()) {
            Ok(pem) => {
                let certs = rustls_pemfile_count(&pem);
                if certs == 0 {
                    self.c.at(
                        Some(f.span()),
                        key,
                        format!("{} holds no PEM certificate (-----BEGIN CERTIFICATE-----)", f.get_ref()),
                    );
                    return None;
                }
                Some(pem)
            }
            Err(e) => {
                self.c.at(Some(f.span()), key, format!("cannot read {}: {e}", f.get_ref()));
                None
            }
        }
    }
}

fn rustls_pemfile_count(pem: &[u8]) -> usize {
    let text = String::from_utf8_lossy(pem);
    text.matches("-----BEGIN CERTIFICATE-----").count()
}
