//! The rustls client configuration for directory connections: system roots plus the
//! directory's `ca_file`. Always explicit: ldap3's default trust store is empty when
//! loading system certificates reports any error.

use std::sync::Arc;

use rustls::pki_types::CertificateDer;
use rustls::{ClientConfig, RootCertStore};

#[derive(Debug, thiserror::Error)]
pub enum TlsSetupError {
    #[error("ca_file holds no usable certificate: {0}")]
    Ca(String),
    #[error("no trusted roots: the system has none and no ca_file is set")]
    NoRoots,
    #[error("TLS setup: {0}")]
    Rustls(String),
}

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
    let config = ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| TlsSetupError::Rustls(e.to_string()))?
        .with_root_certificates(roots)
        .with_no_client_auth();
    Ok(Arc::new(config))
}
