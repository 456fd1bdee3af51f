//! An import's [`Withholding`] in its job's journal (step `import.withheld`): planned once
//! with the import (on AD after reading which attributes the schema marks confidential),
//! read again by a resumed run and for the result, and saved again whenever a returned
//! attribute is withheld for the first time, before the batch holding that record is
//! stored (durable first: a record is never sent while its withheld name could be lost).

use std::time::Duration;

use actix::Addr;
use ldap3::{Ldap, Scope};

use super::Withholding;
use crate::ad::schema::AttributeDef;
use crate::directory::{DirectoryKind, Lease};
use crate::errors::JobError;
use crate::ldap::codes::LdapFailure;
use crate::ldap::entry::RawEntry;
use crate::queue::{Journal, QueueActor, Step};

/// LDAP_MATCHING_RULE_BIT_AND ([MS-ADTS] 3.1.1.3.4.4.1).
const BIT_AND: &str = "1.2.840.113556.1.4.803";
/// fCONFIDENTIAL of searchFlags ([MS-ADTS] 2.2.9 "Search Flags").
const FCONFIDENTIAL: u32 = 0x80;

impl Step for Withholding {
    const NAME: &'static str = "import.withheld";
}

impl Withholding {
    /// For a new import: reads the AD schema's confidential attributes, takes the
    /// withheld ones out of `attributes` (so they are never asked for) and journals it.
    pub async fn plan_import(
        queue: &Addr<QueueActor>,
        job_id: &str,
        lease: &Lease,
        attributes: &mut Vec<String>,
    ) -> Result<Withholding, JobError> {
        let s = &lease.settings;
        let mut names = match s.kind {
            // Unknown confidential attributes could go out with `*`: no schema, no import.
            DirectoryKind::ActiveDirectory => confidential_attributes(&lease.ldap, s.operation_timeout)
                .await
                .map_err(|e| e.to_job_error("reading the schema's confidential attributes"))?,
            DirectoryKind::Ldap => Vec::new(),
        };
        // The directory's own deny list (`withhold_attributes`) counts as confidential.
        names.extend(s.withhold_attributes.iter().cloned());
        let mut withholding = Withholding::with_confidential(names);
        *attributes = withholding.plan(attributes);
        withholding.save(queue, job_id).await?;
        Ok(withholding)
    }

    /// What the import planned; the default (the fixed lists only) for an import
    /// planned before this step existed.
    pub async fn load(queue: &Addr<QueueActor>, job_id: &str) -> Result<Withholding, JobError> {
        let journal = Journal::new(queue.clone(), job_id);
        let Some(mut withholding) = journal.read::<Withholding>().await? else {
            return Ok(Withholding::default());
        };
        withholding.saved = withholding.withheld.len();
        Ok(withholding)
    }

    /// Journals the names withheld since the last save; nothing when none were.
    pub async fn save_if_grown(&mut self, queue: &Addr<QueueActor>, job_id: &str) -> Result<(), JobError> {
        if self.grown() {
            self.save(queue, job_id).await?;
        }
        Ok(())
    }

    async fn save(&mut self, queue: &Addr<QueueActor>, job_id: &str) -> Result<(), JobError> {
        Journal::new(queue.clone(), job_id).record(&*self).await?;
        self.saved = self.withheld.len();
        Ok(())
    }
}

/// lDAPDisplayName and attributeID of every attributeSchema object whose searchFlags
/// has fCONFIDENTIAL ([MS-ADTS] 3.1.1.2.3, 2.2.9): tens of entries, one unpaged search of
/// the schema naming context, which every authenticated user may read.
pub async fn confidential_attributes(ldap: &Ldap, timeout: Duration) -> Result<Vec<String>, LdapFailure> {
    let root =
        RawEntry::search(ldap.clone(), timeout, "", Scope::Base, "(objectClass=*)", &["schemaNamingContext"]).await?;
    let nc = root.iter().find_map(|e| e.first_text("schemaNamingContext")).map(str::to_owned);
    let nc = nc.ok_or_else(|| LdapFailure::Protocol("the root DSE has no schemaNamingContext".into()))?;
    let filter = format!("(&(objectClass=attributeSchema)(searchFlags:{BIT_AND}:={FCONFIDENTIAL}))");
    let attrs = ["lDAPDisplayName", "attributeID", "attributeSyntax", "searchFlags"];
    let found = RawEntry::search(ldap.clone(), timeout, &nc, Scope::OneLevel, &filter, &attrs).await?;
    // Read as the schema module reads it, so both agree on what is confidential.
    let defs = found.iter().filter_map(AttributeDef::from_entry).filter(|d| d.confidential);
    Ok(defs.flat_map(|d| [d.name, d.oid]).collect())
}
