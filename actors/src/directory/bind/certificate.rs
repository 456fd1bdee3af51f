//! The client certificate of a SASL EXTERNAL service bind (RFC 4422 Appendix A, RFC 4513
//! §5.2.1.2): loaded once from PEM at config time, presented only on the service
//! account's connections (user-bind connections stay without it), and its `notAfter`
//! kept for the expiry warning.

use std::fmt;
use std::sync::Arc;

use rustls::client::{ResolvesClientCert, Resumption};
use rustls::pki_types::CertificateDer;
use rustls::sign::CertifiedKey;
use rustls::{ClientConfig, SignatureScheme};

/// Why a client certificate or key cannot be used (the config layer names the key).
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum CertificateError {
    #[error("holds no PEM certificate (-----BEGIN CERTIFICATE-----)")]
    NoCertificate,
    #[error("is not a readable X.509 certificate: {0}")]
    Unreadable(String),
    #[error("holds no PEM private key (PKCS#8, PKCS#1 or SEC1)")]
    NoKey,
    #[error("does not fit the certificate, or is of a kind this build cannot sign with: {0}")]
    KeyRejected(String),
}

/// A certificate chain (end entity first) with its private key, ready for TLS.
/// `Debug` shows the subject and expiry only; the key never leaves the signer.
#[derive(Clone)]
pub struct ClientCertificate {
    key: Arc<CertifiedKey>,
    /// The end entity's subject as RFC 4514 text (what `olcAuthzRegexp` matches).
    pub subject: String,
    /// The end entity's `notAfter`, unix seconds.
    pub not_after_s: i64,
    /// SHA-256 of the chain and the key's DER: two loads of the same files compare equal
    /// (a reload that changed neither keeps the directory's connections).
    fingerprint: Vec<u8>,
}

impl ClientCertificate {
    /// The chain of `cert_pem` (end entity first) and the first private key of `key_pem`.
    ///
    /// Errors: no certificate, an unparsable one, no key, or a key that does not match
    /// the certificate's public key.
    pub fn from_pem(cert_pem: &[u8], key_pem: &[u8]) -> Result<ClientCertificate, CertificateError> {
        let chain: Vec<CertificateDer<'static>> = rustls_pemfile::certs(&mut &cert_pem[..])
            .collect::<Result<_, _>>()
            .map_err(|e| CertificateError::Unreadable(e.to_string()))?;
        let first = chain.first().ok_or(CertificateError::NoCertificate)?;
        let (_, parsed) =
            x509_parser::parse_x509_certificate(first).map_err(|e| CertificateError::Unreadable(e.to_string()))?;
        let subject = parsed.subject().to_string();
        let not_after_s = parsed.validity().not_after.timestamp();
        let key = rustls_pemfile::private_key(&mut &key_pem[..])
            .map_err(|_| CertificateError::NoKey)?
            .ok_or(CertificateError::NoKey)?;
        let mut digest = ring::digest::Context::new(&ring::digest::SHA256);
        chain.iter().for_each(|c| digest.update(c));
        digest.update(key.secret_der());
        let spki = parsed.public_key().raw.to_vec();
        let provider = rustls::crypto::ring::default_provider();
        let signer =
            provider.key_provider.load_private_key(key).map_err(|e| CertificateError::KeyRejected(e.to_string()))?;
        // Compared here rather than by rustls's `keys_match`, which parses with WebPKI and
        // so refuses X.509 v1 certificates (what `openssl x509 -req` makes without
        // extensions), which servers accept as client certificates.
        if signer.public_key().is_some_and(|k| k.as_ref() != spki.as_slice()) {
            return Err(CertificateError::KeyRejected("its public key is not the certificate's".into()));
        }
        Ok(ClientCertificate {
            key: Arc::new(CertifiedKey::new(chain, signer)),
            subject,
            not_after_s,
            fingerprint: digest.finish().as_ref().to_vec(),
        })
    }

    /// `base` (the directory's trust settings) presenting this certificate, without
    /// session resumption: a user-bind connection never resumes a session that carries
    /// the service account's certificate.
    pub fn tls(&self, base: &ClientConfig) -> Arc<ClientConfig> {
        let mut config = base.clone();
        config.client_auth_cert_resolver = Arc::new(Present(self.key.clone()));
        config.resumption = Resumption::disabled();
        Arc::new(config)
    }
}

impl PartialEq for ClientCertificate {
    fn eq(&self, other: &ClientCertificate) -> bool {
        self.fingerprint == other.fingerprint
    }
}

impl fmt::Debug for ClientCertificate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ClientCertificate")
            .field("subject", &self.subject)
            .field("not_after_s", &self.not_after_s)
            .finish_non_exhaustive()
    }
}

/// Always offers the one certificate, whatever CAs the server hints.
struct Present(Arc<CertifiedKey>);

impl fmt::Debug for Present {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Present(client certificate)")
    }
}

impl ResolvesClientCert for Present {
    fn resolve(&self, _hints: &[&[u8]], _schemes: &[SignatureScheme]) -> Option<Arc<CertifiedKey>> {
        Some(self.0.clone())
    }

    fn has_certs(&self) -> bool {
        true
    }
}
