//! What kind of entry an import reads (PROTOCOL.md §3 `object`): the one place that says
//! how an entry of that kind is recognised, in a live search and on a tombstone, users and
//! groups.

use serde::{Deserialize, Serialize};

use crate::directory::DirectoryKind;
use crate::protocol::payload::ImportObject;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ObjectClass {
    #[default]
    Users,
    Groups,
}

impl From<ImportObject> for ObjectClass {
    fn from(o: ImportObject) -> ObjectClass {
        match o {
            ImportObject::Users => ObjectClass::Users,
            ImportObject::Groups => ObjectClass::Groups,
        }
    }
}

/// OpenLDAP's group classes: RFC 4519 groupOfNames and groupOfUniqueNames, RFC 2307
/// posixGroup.
const LDAP_GROUPS: &str = "(|(objectClass=groupOfNames)(objectClass=groupOfUniqueNames)(objectClass=posixGroup))";

impl ObjectClass {
    /// The filter of an import that names none.
    pub fn default_filter(self, kind: DirectoryKind) -> &'static str {
        match (self, kind) {
            (ObjectClass::Users, DirectoryKind::ActiveDirectory) => "(&(objectCategory=person)(objectClass=user))",
            (ObjectClass::Users, DirectoryKind::Ldap) => "(objectClass=inetOrgPerson)",
            (ObjectClass::Groups, DirectoryKind::ActiveDirectory) => "(objectClass=group)",
            (ObjectClass::Groups, DirectoryKind::Ldap) => LDAP_GROUPS,
        }
    }

    /// The class alone, true of live entries and tombstones alike: AD strips
    /// `objectCategory` from a tombstone but keeps `objectClass` ([MS-ADTS] 3.1.1.5.5.1.1
    /// "Tombstone Requirements"); computers (and managed service accounts, a subclass of
    /// computer) are of class `user` too and are not users.
    pub fn class_filter(self, kind: DirectoryKind) -> &'static str {
        match (self, kind) {
            (ObjectClass::Users, DirectoryKind::ActiveDirectory) => "(&(objectClass=user)(!(objectClass=computer)))",
            (ObjectClass::Users, DirectoryKind::Ldap) => "(objectClass=inetOrgPerson)",
            (ObjectClass::Groups, DirectoryKind::ActiveDirectory) => "(objectClass=group)",
            (ObjectClass::Groups, DirectoryKind::Ldap) => LDAP_GROUPS,
        }
    }
}
