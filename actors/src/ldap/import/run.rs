//! What every phase of one run of an import shares ([`Run`]), and how each phase hands
//! it a record: an entry in scope ([`Run::push_entry`]) or one that left it
//! ([`Run::push_gone`]). The phases themselves are in `stream.rs` (main search, deleted
//! objects), `departures.rs` and `membership.rs`.

use super::class::ObjectClass;
use super::packer::{Packer, Seen, Told};
use super::plan::Plan;
use super::scope::{records_of, Memberships, ScopeFile};
use super::ImportJob;
use crate::directory::{DirectoryKind, Lease};
use crate::errors::{JobError, Reply};
use crate::ldap::auth::expiry::Expiry;
use crate::ldap::auth::ppolicy::PolicyAges;
use crate::ldap::dn::Dn;
use crate::ldap::entry::RawEntry;
use crate::ldap::record::{entry_guid, record_json, Extra};
use crate::ldap::withheld::Withholding;
use crate::queue::LoadSeen;

/// AD's LDAP_SERVER_DOMAIN_SCOPE_OID control ([MS-ADTS] 3.1.1.3.4.1): the DC sends no
/// continuation references to other domains.
pub const DOMAIN_SCOPE_OID: &str = "1.2.840.113556.1.4.1339";

/// What every phase of one run shares.
pub struct Run<'a> {
    pub job: &'a ImportJob,
    pub lease: &'a Lease,
    pub plan: &'a Plan,
    pub base: Dn,
    pub page: i32,
    /// Digests of the records stored by earlier runs of this import.
    pub resumed: Seen,
    pub packer: Packer,
    /// Who was in scope at the delta's token, when this host kept it.
    pub old_scope: Option<ScopeFile>,
    /// The DNs of the groups deleted since the token (their members' `memberOf` changed).
    pub deleted_groups: Vec<Dn>,
    /// Which secret attributes this import withholds, and which it has withheld so far.
    pub withholding: Withholding,
    /// The password policies' ages, for the records' `password_expires_at` (LDAP).
    pub policy_ages: PolicyAges,
}

impl Run<'_> {
    pub fn kind(&self) -> DirectoryKind {
        self.lease.settings.kind
    }

    /// A record of an entry in scope: skipped when an earlier run stored it, else packed
    /// with its scope records.
    pub async fn push_entry(&mut self, mut entry: RawEntry) -> Result<(), JobError> {
        let kind = self.kind();
        let key = entry_guid(kind, &entry).unwrap_or_else(|| entry.dn.clone());
        if self.resumed.contains(&key) {
            return Ok(());
        }
        if self.packer.tracks_scope() {
            let memberships = self.plan.scope.as_ref().map_or(Memberships::Untracked, |s| s.memberships);
            records_of(kind, &entry, memberships, &mut self.packer.scope_records);
        }
        // Read before the sources are stripped from the record.
        let expiry = match self.plan.class {
            ObjectClass::Users => Some(Expiry::of(kind, &entry, self.policy_ages.max_age(&entry))),
            ObjectClass::Groups => None,
        };
        if !self.plan.strip.is_empty() {
            entry.attributes.retain(|(n, _)| !self.plan.strip.iter().any(|s| s.eq_ignore_ascii_case(n)));
        }
        let extra = expiry.as_ref().map_or(Extra::Group, Extra::User);
        let text = record_json(kind, &entry, &mut self.withholding, extra);
        // A newly withheld name is journaled before the batch holding its record is stored.
        self.withholding.save_if_grown(&self.job.queue, &self.job.job_id).await?;
        self.packer.push(self.job, text, key, Told::Present).await
    }

    /// `{"dn", "guid", "deleted": true, "reason"}` of an entry that left the scope.
    pub async fn push_gone(
        &mut self,
        dn: &str,
        guid: Option<String>,
        member: Option<[u8; 16]>,
        reason: &str,
    ) -> Result<(), JobError> {
        let key = guid.clone().unwrap_or_else(|| dn.to_owned());
        if self.resumed.contains(&key) {
            return Ok(());
        }
        if let (Some(m), true) = (member, self.packer.tracks_scope()) {
            self.packer.scope_records.extend_from_slice(&super::scope::LEFT);
            self.packer.scope_records.extend_from_slice(&m);
        }
        let text = serde_json::json!({"dn": dn, "guid": guid, "deleted": true, "reason": reason}).to_string();
        self.packer.push(self.job, text, key, Told::Gone).await
    }

    /// Stores everything packed so far and reads back the digests of every record this
    /// import stored, for a phase that may meet an entry again.
    pub async fn stored(&mut self) -> Result<Seen, JobError> {
        self.packer.flush(self.job).await?;
        let id = self.job.job_id.clone();
        Ok(Seen(self.job.queue.send(LoadSeen { id }).await.or_internal("queue")?))
    }
}
