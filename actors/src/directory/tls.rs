//! The rustls client configuration for directory connections: system roots plus the
//! directory's `ca_file`. Always explicit: ldap3's default trust store is empty when
//! loading system certificates reports any error. The chain and the name are checked by
//! rustls's own WebPKI verifier; [`ip_literal`] only lets an IPv6 literal URL reach it.

use std::sync::Arc;

use rustls::pki_types::CertificateDer;
use rustls::{ClientConfig, RootCertStore};

pub mod ip_literal;

#[derive(Debug, thiserror::Error)]
pub enum TlsSetupError {
    #[error("ca_file holds no usable certificate: {0}")]
    Ca(String),
    #[error("no trusted roots: the system has none and no ca_file is set")]
    NoRoots,
    #[error("TLS setup: {0}")]
    Rustls(String),
}

/// The client configuration for one directory: the system's roots plus `extra_ca_pem`
/// (the PEM of `ca_file`), TLS 1.2 and 1.3, no client certificate.
///
/// Errors: a `ca_file` with no usable certificate, no root at all, or a rustls setup error.
pub fn client_config(extra_ca_pem: Option<&[u8]>) -> Result<Arc<ClientConfig>, TlsSetupError> {
    let mut roots = RootCertStore::empty();
    let native = rustls_native_certs::load_native_certs();
    for cert in native.certs {
        let _ = roots.add(cert);
    }
    if let Some(pem) = extra_ca_pem {
        let mut reader = pem;
        let certs: Vec<CertificateDer<'static>> = rustls_pemfile::certs(&mut reader)
            .collect::<Result<_, _>>()
            .map_err(|e| TlsSetupError::Ca(e.to_string()))?;
        if certs.is_empty() {
            return Err(TlsSetupError::Ca("no certificate in the file".into()));
        }
        for c in certs {
            roots.add(c).map_err(|e| TlsSetupError::Ca(e.to_string()))?;
        }
    }
    if roots.is_empty() {
        return Err(TlsSetupError::NoRoots);
    }
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let webpki = rustls::client::WebPkiServerVerifier::builder_with_provider(Arc::new(roots), provider.clone())
        .build()
        .map_err(|e| TlsSetupError::Rustls(e.to_string()))?;
    let config = ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| TlsSetupError::Rustls(e.to_string()))?
        .dangerous()
        .with_custom_certificate_verifier(Arc::new(ip_literal::Verifier::new(webpki)))
        .with_no_client_auth();
    Ok(Arc::new(config))
}
