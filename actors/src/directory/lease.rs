//! The lease: a pooled connection lent to a job, and what the job needs to open
//! connections of its own on the same directory.

use std::sync::Arc;

use ldap3::Ldap;
use rustls::ClientConfig;

use super::connect::Endpoint;
use super::discovery::Target;
use super::pool::InUse;
use super::settings::DirectorySettings;
use crate::ldap::auth::LoginMemory;
use crate::ldap::codes::LdapFailure;

/// A connection lent to a job, and what the job needs to open user connections.
pub struct Lease {
    pub ldap: Ldap,
    pub settings: Arc<DirectorySettings>,
    pub tls: Arc<ClientConfig>,
    /// The server the connection goes to; the job's own connections go there too.
    pub target: Arc<Target>,
    /// What the directory's logins share (lockout shield, group cache).
    pub memory: Arc<LoginMemory>,
    pub _in_use: InUse,
}

impl Lease {
    pub fn endpoint(&self) -> Endpoint<'_> {
        Endpoint {
            url: &self.target.url,
            addrs: &self.target.addrs,
            tls: self.tls.clone(),
            plain: self.settings.plain_urls,
            connect_timeout: self.settings.connect_timeout,
        }
    }

    /// A connection of the job's own, bound as the service account: a long stream (an
    /// import) on it never delays the pooled connections' logins and writes.
    pub async fn dedicated(&self) -> Result<Ldap, LdapFailure> {
        super::bind::open_service(&self.endpoint(), &self.settings).await
    }
}
