//! The simulator's own little PKI for `--tls`: a fresh CA and a server certificate for
//! `127.0.0.1` and `localhost` signed by it, made with rcgen at every start. The CA goes
//! to `<data dir>/ca.pem` so clients can trust it; the key never touches disk.

use std::path::Path;

use rcgen::{BasicConstraints, CertificateParams, DnType, ExtendedKeyUsagePurpose, IsCa, KeyPair, KeyUsagePurpose};
use rustls::pki_types::{PrivateKeyDer, PrivatePkcs8KeyDer};
use rustls::ServerConfig;

/// What can go wrong making the TLS setup.
#[derive(Debug, thiserror::Error)]
pub enum TlsError {
    #[error("generating certificates: {0}")]
    Generate(#[from] rcgen::Error),
    #[error("building the TLS server config: {0}")]
    Rustls(#[from] rustls::Error),
    #[error("writing {path}: {source}")]
    Write { path: String, source: std::io::Error },
}

/// Make the CA and server certificate, write `ca.pem` into `data_dir`, and return the
/// rustls server config (HTTP/1.1 only; actix adds the ALPN id).
pub fn server_config(data_dir: &Path) -> Result<ServerConfig, TlsError> {
    let mut ca_params = CertificateParams::new(Vec::<String>::new())?;
    ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    ca_params.distinguished_name.push(DnType::CommonName, "portal-sim test CA");
    ca_params.key_usages =
        vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign, KeyUsagePurpose::DigitalSignature];
    let ca_key = KeyPair::generate()?;
    let ca = ca_params.self_signed(&ca_key)?;

    let mut params = CertificateParams::new(vec!["127.0.0.1".to_owned(), "localhost".to_owned()])?;
    params.distinguished_name.push(DnType::CommonName, "portal-sim");
    params.use_authority_key_identifier_extension = true;
    params.key_usages = vec![KeyUsagePurpose::DigitalSignature];
    params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
    let key = KeyPair::generate()?;
    let cert = params.signed_by(&key, &ca, &ca_key)?;

    let ca_path = data_dir.join("ca.pem");
    std::fs::write(&ca_path, ca.pem())
        .map_err(|source| TlsError::Write { path: ca_path.display().to_string(), source })?;

    let key_der = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(key.serialize_der()));
    let config = ServerConfig::builder().with_no_client_auth().with_single_cert(vec![cert.der().clone()], key_der)?;
    Ok(config)
}
