//! What an AD job works with: its lease on a service connection, its step journal, the
//! audit journal, what is known of the directory, and the one path of every write.

use std::collections::HashSet;
use std::sync::Arc;
use std::time::Instant;

use actix::{Addr, Recipient};
use ldap3::{Ldap, Mod, Scope};
use serde_json::Value;

use super::attributes::is_secret_attribute;
use super::knowledge::Knowledge;
use super::members::AddMember;
use super::policy;
use super::protected::{Protected, Reader};
use super::schema::Schema;
use super::target::Target;
use crate::audit::{AppendAudit, AuditEntry, Change};
use crate::directory::Lease;
use crate::dispatcher::PointOfNoReturn;
use crate::errors::{ErrorCode, JobError};
use crate::ldap::codes::LdapFailure;
use crate::ldap::entry::RawEntry;
use crate::queue::{Journal, QueueActor};
use crate::time::{now_ms, rfc3339};

pub struct AdContext {
    pub lease: Lease,
    pub queue: Addr<QueueActor>,
    pub audit: Option<Recipient<AppendAudit>>,
    /// Coalesces creates' group adds.
    pub members: Recipient<AddMember>,
    pub job_id: String,
    pub operation: String,
    /// Passed before the first write (see [`AdContext::write`]).
    pub no_return: PointOfNoReturn,
    /// The directory's schema, protected principals and DC identities.
    pub knowledge: Arc<Knowledge>,
}

impl AdContext {
    pub fn ldap(&self) -> Ldap {
        self.lease.ldap.clone()
    }

    pub fn timeout(&self) -> std::time::Duration {
        self.lease.settings.operation_timeout
    }

    /// The lease's connection and timeout, for the protected-group checks.
    fn reader(&self) -> Reader {
        Reader { ldap: self.ldap(), timeout: self.timeout() }
    }

    /// This job's step journal (intents before writes).
    pub fn journal(&self) -> Journal {
        Journal::new(self.queue.clone(), self.job_id.clone())
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
        let began = Instant::now();
        let found = RawEntry::search(self.ldap(), self.timeout(), base, scope, filter, attrs).await;
        let step = if scope == Scope::Base { "search base" } else { "search subtree" };
        self.timed(step, began);
        found
    }

    /// One step's time, for the benchmark's per-step table (issue #17): a debug event
    /// `step`, `us` (microseconds) on target `ic::ad::step`.
    pub(crate) fn timed(&self, step: &'static str, began: Instant) {
        tracing::debug!(target: "ic::ad::step", job_id = %self.job_id, step, us = began.elapsed().as_micros() as u64, "ad step");
    }

    /// The domain's DN (the root DSE's `defaultNamingContext`), where names must be
    /// unique; the directory's `base_dn` when the root DSE does not say.
    /// Read once per directory (one search fewer per create: issue #17).
    pub async fn domain(&self) -> String {
        let known = self.knowledge.naming_context.lock().ok().and_then(|n| n.clone());
        if let Some(dn) = known {
            return dn;
        }
        let root = self.search("", Scope::Base, "(objectClass=*)", &["defaultNamingContext"]).await;
        let named =
            root.ok().and_then(|r| r.first().and_then(|e| e.first_text("defaultNamingContext")).map(str::to_owned));
        match named {
            Some(dn) => {
                if let Ok(mut slot) = self.knowledge.naming_context.lock() {
                    *slot = Some(dn.clone());
                }
                dn
            }
            None => self.lease.settings.base_dn.clone(),
        }
    }

    /// The directory's attribute schema, read at the first need.
    pub async fn schema(&self) -> Result<Arc<Schema>, JobError> {
        self.knowledge.schema(&self.lease).await
    }

    /// The protected principals, resolved again once `protected_refresh` has passed.
    pub async fn protected(&self) -> Result<Arc<Protected>, JobError> {
        self.knowledge.protected(&self.lease).await
    }

    /// Any write to this account: refused when it lies outside `allowed_ous`, is
    /// privileged or an effective member of a protected group (see [`Protected`]).
    pub async fn writable_account(&self, user: &Target) -> Result<(), JobError> {
        // Protection first: it is the refusal that tells the most.
        self.protected().await?.check_account(&self.reader(), user).await?;
        policy::within_scope(&self.lease.settings.policy, &user.dn)
    }

    /// A change of this group's membership: refused outside `allowed_ous`, and when it is
    /// protected or nested into a protected group.
    pub async fn changeable_group(&self, group: &Target) -> Result<(), JobError> {
        self.protected().await?.check_group(&self.reader(), group).await?;
        policy::within_scope(&self.lease.settings.policy, &group.dn)
    }

    /// Refused when the group is protected or nested into a protected group, wherever it
    /// lies (a create that would take a protected group's name).
    pub async fn protected_group(&self, group: &Target) -> Result<(), JobError> {
        self.protected().await?.check_group(&self.reader(), group).await
    }

    /// The `invocationId` of the DC that `ds_service_name` names (cached: it changes only
    /// when the DC's database is restored, and then so does the name's meaning for USNs).
    pub async fn invocation_id(&self, ds_service_name: &str) -> Result<String, JobError> {
        let known = self.knowledge.invocation_ids.lock().ok().and_then(|m| m.get(ds_service_name).cloned());
        if let Some(id) = known {
            return Ok(id);
        }
        let found = self
            .search(ds_service_name, Scope::Base, "(objectClass=*)", &["invocationId"])
            .await
            .map_err(|e| e.to_job_error("reading the DC's invocationId"))?;
        let id = found
            .first()
            .and_then(|e| e.first("invocationId"))
            .and_then(crate::ldap::record::guid_string)
            .ok_or_else(|| JobError::internal(format!("{ds_service_name} has no readable invocationId")))?;
        if let Ok(mut m) = self.knowledge.invocation_ids.lock() {
            m.insert(ds_service_name.to_owned(), id.clone());
        }
        Ok(id)
    }

    /// Sends one write, with its audit lines: the intent before (no line, no write), the
    /// outcome after. The job passes its point of no return here: a cancel or deadline
    /// that arrives later no longer stops it. The outer error is the job's (the journal
    /// could not be written, or the job was stopped before it wrote); the inner result
    /// is the directory's answer, for the operation to judge (68 on an add, say).
    pub async fn write(
        &self,
        dn: &str,
        guid: Option<&str>,
        changes: Vec<Change>,
        write: Write,
    ) -> Result<Result<(), LdapFailure>, JobError> {
        let changes = redacted(changes);
        let began = Instant::now();
        self.append_audit(dn, guid, changes.clone(), "intent".into()).await.map_err(|e| {
            JobError::internal(format!("the audit journal cannot be written ({e}): nothing was written to {dn}"))
        })?;
        self.timed("audit intent", began);
        if !self.no_return.commit() {
            return Err(JobError::new(ErrorCode::Cancelled, "stopped before its write was sent"));
        }
        let mut ldap = self.ldap();
        let timeout = self.timeout();
        let began = Instant::now();
        let step = write.step();
        let res = match write {
            Write::Add(attrs) => LdapFailure::checked(ldap.with_timeout(timeout).add(dn, attrs).await),
            Write::Modify(mods) => LdapFailure::checked(ldap.with_timeout(timeout).modify(dn, mods).await),
            Write::Delete => LdapFailure::checked(ldap.with_timeout(timeout).delete(dn).await),
            Write::Rename { new_rdn, new_superior } => LdapFailure::checked(
                ldap.with_timeout(timeout).modifydn(dn, &new_rdn, true, new_superior.as_deref()).await,
            ),
            Write::AddMember { member_dn } => self.add_member(dn, &member_dn).await,
        };
        self.timed(step, began);
        let began = Instant::now();
        let outcome = match &res {
            Ok(()) => "succeeded".to_owned(),
            Err(e) => format!("failed: {}", e.to_job_error("").code.as_str()),
        };
        if let Err(e) = self.append_audit(dn, guid, changes, outcome.clone()).await {
            return Err(JobError::internal(format!(
                "the write to {dn} was sent and {outcome}, but its outcome could not be added to the audit journal: {e}"
            ))
            .with_detail("write_outcome", outcome));
        }
        self.timed("audit outcome", began);
        Ok(res)
    }

    /// Adds `member_dn` to the group, in one write with other jobs' adds to it when they
    /// come together.
    async fn add_member(&self, group_dn: &str, member_dn: &str) -> Result<(), LdapFailure> {
        let add = AddMember {
            ldap: self.ldap(),
            timeout: self.timeout(),
            directory: self.lease.settings.name.clone(),
            group_dn: group_dn.to_owned(),
            member_dn: member_dn.to_owned(),
        };
        self.members.send(add).await.map_err(|e| LdapFailure::Lost(format!("member writer: {e}")))?
    }

    async fn append_audit(
        &self,
        dn: &str,
        guid: Option<&str>,
        changes: Vec<Change>,
        outcome: String,
    ) -> Result<(), String> {
        let Some(audit) = &self.audit else { return Ok(()) };
        let entry = AuditEntry {
            ts: rfc3339(now_ms()),
            job_id: self.job_id.clone(),
            operation: self.operation.clone(),
            target_dn: dn.to_owned(),
            target_guid: guid.map(str::to_owned),
            changes,
            outcome,
        };
        match audit.send(AppendAudit { entry }).await {
            Ok(Ok(())) => Ok(()),
            Ok(Err(e)) => Err(e.to_string()),
            Err(e) => Err(format!("audit actor unreachable: {e}")),
        }
    }
}

/// One directory write ([`AdContext::write`]).
pub enum Write {
    Add(Vec<(Vec<u8>, HashSet<Vec<u8>>)>),
    Modify(Vec<Mod<Vec<u8>>>),
    Delete,
    /// LDAP ModifyDN (RFC 4511 §4.9): the new RDN as sent (`CN=…`, escaped), the old RDN
    /// value removed, and the new parent when the entry moves.
    Rename {
        new_rdn: String,
        new_superior: Option<String>,
    },
    /// Through the [`MemberWriter`], which joins concurrent adds to one group.
    AddMember {
        member_dn: String,
    },
}

impl Write {
    /// The step's name in the per-step timings.
    fn step(&self) -> &'static str {
        match self {
            Write::Add(_) => "ldap add",
            Write::Modify(_) => "ldap modify",
            Write::Delete => "ldap delete",
            Write::Rename { .. } => "ldap modifydn",
            Write::AddMember { .. } => "ldap member add (member writer)",
        }
    }
}

/// Secret attributes keep their name and lose their values.
fn redacted(changes: Vec<Change>) -> Vec<Change> {
    changes
        .into_iter()
        .map(|c| {
            let name = c.attribute.split(' ').next().unwrap_or_default();
            if is_secret_attribute(name) {
                Change { attribute: c.attribute, before: Value::Null, after: Value::String("(secret)".into()) }
            } else {
                c
            }
        })
        .collect()
}
