//! What the AD jobs of one directory learn from it and keep: its attribute schema (read
//! once, again when a job names an attribute it does not know), its protected principals
//! (resolved at the first AD job, again after `policy.protected_refresh`), and the
//! `invocationId` of each DC by `dsServiceName` (a create's proof that it met the same
//! DC database again), its password policies (for `POLICY_TTL`), and the domain's DN.
//!
//! Shared by the jobs of a directory behind async mutexes: the first job that needs a
//! figure reads it and the others wait for that read rather than starting their own.
//! [`KnowledgeCache::warm`] reads both at start, so a protected group that does not
//! resolve is logged then, not at the first AD job.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Instant;

use actix::Addr;

use super::protected::Protected;
use super::schema::Schema;
use crate::directory::{Checkout, DirectoryActor, DirectoryKind, Lease};
use crate::errors::JobError;

/// One directory's knowledge.
#[derive(Default)]
pub struct Knowledge {
    pub(super) schema: tokio::sync::Mutex<Option<Arc<Schema>>>,
    pub(super) protected: tokio::sync::Mutex<Option<(Instant, Arc<Protected>)>>,
    pub(super) invocation_ids: Mutex<HashMap<String, String>>,
    /// The root DSE's `defaultNamingContext` (the domain's DN): a domain never changes
    /// it, and a reload that points the directory elsewhere forgets it with the rest.
    pub(super) naming_context: Mutex<Option<String>>,
    /// The password rules read from the domain root and from PSOs (see `password_policy`).
    pub(super) password_policies: tokio::sync::Mutex<super::password_policy::rules::PolicyCache>,
}

impl Knowledge {
    /// The directory's attribute schema, read at the first need.
    pub async fn schema(&self, lease: &Lease) -> Result<Arc<Schema>, JobError> {
        let mut slot = self.schema.lock().await;
        if let Some(s) = slot.as_ref() {
            return Ok(s.clone());
        }
        let mut ldap = lease.ldap.clone();
        let timeout = lease.settings.operation_timeout;
        let schema = Schema::load(&mut ldap, timeout).await.map_err(|e| e.to_job_error("reading the schema"))?;
        let schema = Arc::new(schema);
        tracing::info!(directory = %lease.settings.name, attributes = schema.len(), "read the attribute schema");
        *slot = Some(schema.clone());
        Ok(schema)
    }

    /// The protected principals, resolved again once `protected_refresh` has passed.
    pub async fn protected(&self, lease: &Lease) -> Result<Arc<Protected>, JobError> {
        let policy = &lease.settings.policy;
        let mut slot = self.protected.lock().await;
        if let Some((at, p)) = slot.as_ref() {
            if at.elapsed() < policy.protected_refresh {
                return Ok(p.clone());
            }
        }
        let timeout = lease.settings.operation_timeout;
        let p = Arc::new(
            Protected::resolve(lease.ldap.clone(), timeout, &policy.protected_groups, &lease.settings.bind_dn).await?,
        );
        tracing::info!(directory = %lease.settings.name, principals = p.len(), "resolved the protected groups");
        *slot = Some((Instant::now(), p.clone()));
        Ok(p)
    }
}

/// Every directory's knowledge, by directory name (cheap to clone: one `Arc`).
#[derive(Clone, Default)]
pub struct KnowledgeCache(Arc<Mutex<HashMap<String, Arc<Knowledge>>>>);

impl KnowledgeCache {
    pub fn for_directory(&self, name: &str) -> Arc<Knowledge> {
        let mut map = self.0.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        map.entry(name.to_owned()).or_default().clone()
    }

    /// Forgets what was read of directory `name` (a reload changed it: it may be another
    /// domain now, or have other protected groups); the next job reads it again.
    pub fn forget(&self, name: &str) {
        let mut map = self.0.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        map.remove(name);
    }

    /// Reads an AD directory's schema and protected groups now (at start), logging what
    /// fails; the jobs read them again when this could not.
    pub async fn warm(&self, directory: Addr<DirectoryActor>) {
        let lease = match directory.send(Checkout).await {
            Ok(Ok(lease)) => lease,
            Ok(Err(e)) => {
                return tracing::warn!(error = %e.message, "directory not reachable at start: AD policy read later")
            }
            Err(e) => return tracing::warn!(error = %e, "directory actor unreachable"),
        };
        if lease.settings.kind != DirectoryKind::ActiveDirectory {
            return;
        }
        let knowledge = self.for_directory(&lease.settings.name);
        if let Err(e) = knowledge.protected(&lease).await {
            tracing::error!(directory = %lease.settings.name, error = %e.message, "protected groups: every AD write is refused until this is mended");
        }
        if let Err(e) = knowledge.schema(&lease).await {
            tracing::warn!(directory = %lease.settings.name, error = %e.message, "cannot read the schema yet");
        }
    }
}
