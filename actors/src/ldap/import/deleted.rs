//! Deletions in an AD delta: the tombstones of the import's object class, deleted since
//! the token's USN, that were under the import's base.
//!
//! - **Where**: AD moves a deleted object into its naming context's Deleted Objects
//!   container, named by the well-known GUID `18e2ea80684f11d2b9aa00c04f79f805`
//!   ([MS-ADTS] 6.1.1.4 "Well-Known Objects", 3.1.1.5.5 "Delete Operation"), whatever
//!   the base; it is read with the show-deleted control (LDAP_SERVER_SHOW_DELETED_OID,
//!   [MS-ADTS] 3.1.1.3.4.1.14), paged like every import search (a DC answers
//!   sizeLimitExceeded past MaxPageSize).
//! - **Under the base**: a tombstone keeps its `lastKnownParent` ([MS-ADTS]
//!   3.1.1.5.5.1.1); when that parent was deleted too (an OU deleted with its users), it
//!   names the parent's tombstone, whose own `lastKnownParent` and `msDS-LastKnownRDN`
//!   give its old DN, and so on up. Also in scope: a tombstone whose GUID the token's
//!   scope file lists (a user moved out of the base, then deleted).
//! - **Which class**: [`ObjectClass::class_filter`] (no computers among users).
//! - **Who may see them**: only accounts with List Contents and Read Property on the
//!   container (by default administrators). An ordinary account's search there answers
//!   success and nothing, so a delta would silently report no deletion and move its token
//!   past them for good. So [`container`] probes first, and the delta fails with
//!   `insufficient_access` naming the right to grant, before any batch: the portal keeps
//!   its old token, and the first delta after the grant reports every deletion since.
//!   (A full import needs no such right.)

use std::collections::HashMap;

use ldap3::controls::RawControl;
use ldap3::{Ldap, Scope};

use super::class::ObjectClass;
use crate::directory::DirectoryKind;
use crate::errors::{ErrorCode, JobError};
use crate::ldap::codes::LdapFailure;
use crate::ldap::dn::Dn;
use crate::ldap::entry::RawEntry;
use crate::ldap::paged::{MissingBase, Paged, Query};

pub const SHOW_DELETED_OID: &str = "1.2.840.113556.1.4.417";
const DELETED_OBJECTS_WKGUID: &str = "18e2ea80684f11d2b9aa00c04f79f805";

/// The Deleted Objects container of `domain`, and whether this account can read it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Container {
    pub dn: String,
    pub visible: bool,
}

/// Finds the container through its well-known GUID (`<WKGUID=…,domain>`), else by its
/// usual name, and reads its `isDeleted` with the show-deleted control: an account that
/// cannot see tombstones gets nothing, or (Samba) the DN without the attribute.
pub async fn container(ldap: &Ldap, timeout: std::time::Duration, domain: &str) -> Result<Container, LdapFailure> {
    let show = vec![RawControl { ctype: SHOW_DELETED_OID.into(), crit: true, val: None }];
    let mut found: Option<RawEntry> = None;
    for base in [format!("<WKGUID={DELETED_OBJECTS_WKGUID},{domain}>"), format!("CN=Deleted Objects,{domain}")] {
        let mut l = ldap.clone();
        let res = l
            .with_controls(show.clone())
            .with_timeout(timeout)
            .search(&base, Scope::Base, "(objectClass=*)", vec!["isDeleted"])
            .await
            .map_err(LdapFailure::from_ldap)?;
        if let Some(e) = res.0.into_iter().find(|e| !e.is_ref()) {
            found = Some(RawEntry::parse(e)?);
            break;
        }
    }
    Ok(match found {
        Some(e) => Container { visible: e.first_text("isDeleted").is_some(), dn: e.dn },
        None => Container { dn: format!("CN=Deleted Objects,{domain}"), visible: false },
    })
}

/// The error of a delta whose account cannot see deletions.
pub fn cannot_see(bind_dn: &str, container: &str) -> JobError {
    JobError::new(
        ErrorCode::InsufficientAccess,
        format!(
            "a delta import must report deletions, but the service account {bind_dn} cannot see deleted objects: \
             {container} answered nothing to a search with the show-deleted control. Grant the account List \
             Contents and Read Property on that container (as a Domain Admin: dsacls \"{container}\" /takeOwnership, \
             then dsacls \"{container}\" /G DOMAIN\\account:LCRP), or run full imports only"
        ),
    )
    .with_detail("container", container)
    .with_detail("right", "List Contents and Read Property (LCRP) on the Deleted Objects container")
}

/// A tombstone of the import's class, judged once every tombstone has been read.
pub struct Tombstone {
    pub dn: String,
    pub guid: Option<String>,
    pub key: Option<[u8; 16]>,
    last_parent: Option<Dn>,
}

/// The tombstones deleted since `usn`: those of `class` (in search order), the deleted
/// groups (for the membership phase) and, to follow `lastKnownParent` through deleted
/// parents, every other deleted container.
pub struct Deletions {
    pub of_class: Vec<Tombstone>,
    /// Tombstone DN → (its `lastKnownParent`, its RDN type and old value).
    others: HashMap<Dn, (Dn, String, String)>,
    /// Tombstone DNs of deleted groups.
    groups: Vec<Dn>,
}

/// Reads the tombstones deleted since `usn` in `container`, paged.
pub async fn read(
    ldap: &mut Ldap,
    timeout: std::time::Duration,
    container: &str,
    usn: u64,
    class: ObjectClass,
    page: i32,
) -> Result<Deletions, LdapFailure> {
    let kind = DirectoryKind::ActiveDirectory;
    let filter = format!(
        "(&(isDeleted=TRUE)(uSNChanged>={})(|{}(objectClass=group)(objectClass=organizationalUnit)(objectClass=container)))",
        usn + 1,
        class.class_filter(kind)
    );
    let attributes = ["objectGUID", "objectClass", "lastKnownParent", "msDS-LastKnownRDN"].map(String::from).to_vec();
    let controls = vec![RawControl { ctype: SHOW_DELETED_OID.into(), crit: true, val: None }];
    let q = Query { base: container, scope: Scope::OneLevel, filter: &filter, attributes, controls, page, timeout };
    let mut out = Deletions { of_class: Vec::new(), others: HashMap::new(), groups: Vec::new() };
    let mut search = Paged::start(ldap, q).await?;
    while let Some(e) = search.next().await? {
        let last_parent = e.first_text("lastKnownParent").and_then(|p| Dn::parse(p).ok());
        if is_of(class, &e) {
            let guid = crate::ldap::record::entry_guid(kind, &e);
            let key = super::scope::member_key(kind, &e);
            out.of_class.push(Tombstone { dn: e.dn, guid, key, last_parent });
        } else if let (Ok(dn), Some(parent)) = (Dn::parse(&e.dn), last_parent) {
            // Samba has no msDS-LastKnownRDN; the tombstone's own RDN holds the old name.
            let rdn = e.first_text("msDS-LastKnownRDN").map(str::to_owned).or_else(|| original_rdn(&dn));
            let ty = dn.leaf_type().unwrap_or("CN").to_owned();
            if let Some(rdn) = rdn {
                if has_class(&e, "group") {
                    out.groups.push(dn.clone());
                }
                out.others.insert(dn, (parent, ty, rdn));
            }
        }
    }
    search.finish(MissingBase::Empty).await?;
    Ok(out)
}

/// Whether a tombstone is of `class` (its `objectClass` values, as the filter reads them).
fn is_of(class: ObjectClass, e: &RawEntry) -> bool {
    match class {
        ObjectClass::Users => has_class(e, "user") && !has_class(e, "computer"),
        ObjectClass::Groups => has_class(e, "group"),
    }
}

fn has_class(e: &RawEntry, class: &str) -> bool {
    e.attributes
        .iter()
        .filter(|(n, _)| n.eq_ignore_ascii_case("objectClass"))
        .any(|(_, v)| v.iter().any(|c| c.eq_ignore_ascii_case(class.as_bytes())))
}

/// A tombstone's RDN value is `name\nDEL:guid` ([MS-ADTS] 3.1.1.5.5.1.2): the old name.
fn original_rdn(tombstone: &Dn) -> Option<String> {
    tombstone.leaf_value().map(|v| v.split('\n').next().unwrap_or(v).to_owned())
}

impl Deletions {
    /// The DN `dn` had before it and its deleted ancestors were deleted (a DN that is no
    /// tombstone read here is itself).
    fn original(&self, dn: &Dn) -> Dn {
        self.original_within(dn, 64)
    }

    fn original_within(&self, dn: &Dn, depth: u32) -> Dn {
        match self.others.get(dn) {
            Some((parent, ty, rdn)) if depth > 0 => self.original_within(parent, depth - 1).child(ty, rdn),
            _ => dn.clone(),
        }
    }

    /// The DNs the deleted groups had (whose members' `memberOf` changed).
    pub fn groups(&self) -> Vec<Dn> {
        self.groups.iter().map(|g| self.original(g)).collect()
    }

    /// Whether the tombstone was under `base` when it was deleted.
    pub fn was_within(&self, t: &Tombstone, base: &Dn) -> bool {
        t.last_parent.as_ref().is_some_and(|p| self.original(p).is_within(base))
    }
}
