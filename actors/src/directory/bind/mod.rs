//! How the connector's service account authenticates: a simple bind with a password, SASL
//! EXTERNAL with a TLS client certificate ([`certificate`]), or SASL GSSAPI with a keytab
//! ([`keytab`]). [`open_service`] opens a connection and binds it the configured way;
//! [`expiry`] says when the credential stops working.

pub mod certificate;
pub mod expiry;
pub mod held;
pub mod keytab;

use std::sync::Arc;
use std::time::Duration;

use ldap3::Ldap;
use rustls::ClientConfig;

use super::connect::{bind as simple_bind, open, Endpoint};
use super::settings::DirectorySettings;
use crate::ldap::codes::LdapFailure;
use crate::secret::Secret;
pub use certificate::{CertificateError, ClientCertificate};
pub use keytab::KeytabBind;

/// The service account's credential (`bind_password`, `client_cert_file` +
/// `client_key_file`; exactly one, chosen by the config layer).
#[derive(Debug, Clone, PartialEq)]
pub enum ServiceBind {
    /// Simple bind as `bind_dn` (RFC 4513 §5.1.3).
    Password(Secret),
    /// SASL EXTERNAL over TLS (RFC 4513 §5.2.1.2): the server maps the certificate to an
    /// identity (OpenLDAP `olcAuthzRegexp`); `bind_dn` names that identity for messages.
    Certificate(ClientCertificate),
    /// SASL GSSAPI (RFC 4752) with a ticket from a keytab; `bind_dn` names the account
    /// (for messages and the password expiry read).
    Keytab(KeytabBind),
}

impl ServiceBind {
    /// The password of a password bind.
    pub fn password(&self) -> Option<&Secret> {
        match self {
            ServiceBind::Password(p) => Some(p),
            ServiceBind::Certificate(_) | ServiceBind::Keytab(_) => None,
        }
    }

    /// The config keys that hold this credential, for messages ("bind_dn / bind_password").
    pub fn keys(&self) -> &'static str {
        match self {
            ServiceBind::Password(_) => "bind_dn / bind_password",
            ServiceBind::Certificate(_) => "client_cert_file / client_key_file",
            ServiceBind::Keytab(_) => "bind_keytab / bind_principal",
        }
    }

    /// The TLS client configuration for the service account's connections: `base`, plus
    /// the client certificate of a certificate bind.
    pub fn tls(&self, base: &Arc<ClientConfig>) -> Arc<ClientConfig> {
        match self {
            ServiceBind::Certificate(c) => c.tls(base),
            ServiceBind::Password(_) | ServiceBind::Keytab(_) => base.clone(),
        }
    }
}

/// Connects to `ep` (whose `tls` is the directory's base configuration) and binds as
/// the service account of `s`, checked; a connection whose bind failed is closed.
///
/// Errors: the connect's, or the bind's result (`invalid_credentials` for a refused
/// password or an unmapped certificate: RFC 4513 §5.2.1.2 maps EXTERNAL's refusal to 49).
pub async fn open_service(ep: &Endpoint<'_>, s: &DirectorySettings) -> Result<Ldap, LdapFailure> {
    let service = Endpoint {
        url: ep.url,
        addrs: ep.addrs,
        tls: s.bind.tls(&ep.tls),
        plain: ep.plain,
        connect_timeout: ep.connect_timeout,
    };
    let mut ldap = open(&service).await?;
    let host = ep.url.host_str().unwrap_or_default().trim_matches(['[', ']']);
    match bind(&mut ldap, s, host, s.operation_timeout).await {
        Ok(()) => Ok(ldap),
        Err(e) => {
            let _ = ldap.unbind().await;
            Err(e)
        }
    }
}

/// Binds an open connection to `host` as the service account, checked: `Ok` only for
/// result code 0.
pub async fn bind(ldap: &mut Ldap, s: &DirectorySettings, host: &str, timeout: Duration) -> Result<(), LdapFailure> {
    match &s.bind {
        ServiceBind::Password(pw) => simple_bind(ldap, &s.bind_dn, pw.expose(), timeout).await,
        ServiceBind::Certificate(_) => LdapFailure::checked(ldap.with_timeout(timeout).sasl_external_bind().await),
        ServiceBind::Keytab(k) => keytab::bind(ldap, k, host, timeout).await,
    }
}
