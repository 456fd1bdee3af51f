//! What an AD job works with: its lease on a service connection, its step journal, the
//! audit journal, and the small LDAP helpers every operation shares.

use actix::{Addr, Recipient};
use ldap3::{Ldap, Mod, Scope};
use serde_json::Value;

use super::members::{AddMember, MemberWriter};
use super::policy;
use crate::audit::{AppendAudit, AuditEntry, Change};
use crate::directory::codes::LdapFailure;
use crate::directory::entry::RawEntry;
use crate::directory::Lease;
use crate::errors::{ErrorCode, JobError};
use crate::queue::{QueueActor, ReadStep, RecordStep};
use crate::time::{now_ms, rfc3339};

/// Attributes whose values never reach the audit journal.
const SECRET_ATTRIBUTES: [&str; 2] = ["unicodepwd", "userpassword"];

pub struct AdContext {
    pub lease: Lease,
    pub queue: Addr<QueueActor>,
    pub audit: Option<Recipient<AppendAudit>>,
    /// Coalesces creates' group adds.
    pub members: Addr<MemberWriter>,
    pub job_id: String,
    pub operation: String,
}

fn qerr(e: impl std::fmt::Display) -> JobError {
    JobError::internal(format!("journal: {e}"))
}

impl AdContext {
    pub fn ldap(&self) -> Ldap {
        self.lease.ldap.clone()
    }

    pub fn timeout(&self) -> std::time::Duration {
        self.lease.settings.operation_timeout
    }

    pub async fn step(&self, name: &str) -> Result<Option<Value>, JobError> {
        let msg = ReadStep { id: self.job_id.clone(), step: name.into() };
        self.queue.send(msg).await.map_err(qerr)?.map_err(qerr)
    }

    /// Journals a step; flushed before it returns (an intent precedes its write).
    pub async fn record(&self, name: &str, value: Value) -> Result<(), JobError> {
        let msg = RecordStep { id: self.job_id.clone(), step: name.into(), value };
        self.queue.send(msg).await.map_err(qerr)?.map_err(qerr)
    }

    /// Refuses the job unless the policy allows its operation.
    pub fn allowed(&self) -> Result<(), JobError> {
        policy::operation_allowed(&self.lease.settings.policy, &self.operation)
    }

    /// Refuses password jobs on a directory without TLS.
    pub fn encrypted(&self) -> Result<(), JobError> {
        if self.lease.settings.encrypted() {
            Ok(())
        } else {
            Err(JobError::new(
                ErrorCode::ForbiddenByPolicy,
                format!(
                    "directory `{}` is configured without TLS: passwords are never sent over it",
                    self.lease.settings.name
                ),
            ))
        }
    }

    /// Entries matching `filter` under `base` (referrals dropped).
    pub async fn search(
        &self,
        base: &str,
        scope: Scope,
        filter: &str,
        attrs: &[&str],
    ) -> Result<Vec<RawEntry>, LdapFailure> {
        let mut ldap = self.ldap();
        let res = ldap
            .with_timeout(self.timeout())
            .search(base, scope, filter, attrs.to_vec())
            .await
            .map_err(LdapFailure::from_ldap)?;
        if res.1.rc == 32 {
            return Ok(Vec::new());
        }
        if res.1.rc != 0 {
            return Err(LdapFailure::Result { rc: res.1.rc, text: res.1.text });
        }
        res.0.into_iter().filter(|e| !e.is_ref()).map(RawEntry::parse).collect()
    }

    /// One modify, audited with the before/after values given.
    pub async fn modify(
        &self,
        dn: &str,
        guid: Option<&str>,
        mods: Vec<Mod<Vec<u8>>>,
        changes: Vec<Change>,
    ) -> Result<(), LdapFailure> {
        let mut ldap = self.ldap();
        let res = LdapFailure::checked(ldap.with_timeout(self.timeout()).modify(dn, mods).await);
        self.audit(dn, guid, changes, &res).await;
        res
    }

    /// Adds `member_dn` to the group, in one write with other jobs' adds to it when they
    /// come together (not audited here: the caller audits its own change).
    pub async fn add_member(&self, group_dn: &str, member_dn: &str) -> Result<(), LdapFailure> {
        let add = AddMember {
            ldap: self.ldap(),
            timeout: self.timeout(),
            directory: self.lease.settings.name.clone(),
            group_dn: group_dn.to_owned(),
            member_dn: member_dn.to_owned(),
        };
        self.members.send(add).await.map_err(|e| LdapFailure::Lost(format!("member writer: {e}")))?
    }

    pub async fn audit(&self, dn: &str, guid: Option<&str>, changes: Vec<Change>, outcome: &Result<(), LdapFailure>) {
        let Some(audit) = &self.audit else { return };
        let changes = changes
            .into_iter()
            .map(|c| {
                if SECRET_ATTRIBUTES.contains(&c.attribute.to_ascii_lowercase().as_str()) {
                    Change { attribute: c.attribute, before: Value::Null, after: Value::String("(secret)".into()) }
                } else {
                    c
                }
            })
            .collect();
        let entry = AuditEntry {
            ts: rfc3339(now_ms()),
            job_id: self.job_id.clone(),
            operation: self.operation.clone(),
            target_dn: dn.to_owned(),
            target_guid: guid.map(str::to_owned),
            changes,
            outcome: match outcome {
                Ok(()) => "succeeded".into(),
                Err(e) => format!("failed: {}", e.to_job_error("").code.as_str()),
            },
        };
        match audit.send(AppendAudit { entry }).await {
            Ok(Ok(())) => {}
            Ok(Err(e)) => tracing::error!(error = %e, "cannot write the audit journal"),
            Err(e) => tracing::error!(error = %e, "audit actor unreachable"),
        }
    }
}

/// Text values of an attribute, for before/after records.
pub fn texts(entry: &RawEntry, name: &str) -> Vec<String> {
    entry
        .attributes
        .iter()
        .filter(|(n, _)| n.eq_ignore_ascii_case(name))
        .flat_map(|(_, v)| v.iter().map(|b| String::from_utf8_lossy(b).into_owned()))
        .collect()
}
