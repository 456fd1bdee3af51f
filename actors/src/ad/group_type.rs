//! groupType bits, named once ([MS-ADTS] 2.2.12 "Group Type Flags"; "Group-Type
//! attribute" in the AD schema reference). AD stores the value as a signed 32-bit
//! integer, so a security group's value is negative on the wire: written by
//! `ad.create_group` ([`group_type`]), read into group records ([`GroupType`]).

use crate::protocol::payload::{GroupKind, GroupScope};

/// GROUP_TYPE_BUILT_IN_LOCAL_GROUP: BUILTIN\Administrators and its kin.
pub const BUILTIN_LOCAL: u32 = 0x0000_0001;
/// GROUP_TYPE_ACCOUNT_GROUP: a global group.
pub const GLOBAL: u32 = 0x0000_0002;
/// GROUP_TYPE_RESOURCE_GROUP: a domain-local group.
pub const DOMAIN_LOCAL: u32 = 0x0000_0004;
/// GROUP_TYPE_UNIVERSAL_GROUP: a universal group.
pub const UNIVERSAL: u32 = 0x0000_0008;
/// GROUP_TYPE_SECURITY_ENABLED: a security group (without it, a distribution group).
pub const SECURITY: u32 = 0x8000_0000;

/// The `groupType` value of a scope and kind, as the decimal text AD stores
/// (global security: `-2147483646`).
pub fn group_type(scope: GroupScope, kind: GroupKind) -> String {
    let scope_bit = match scope {
        GroupScope::Global => GLOBAL,
        GroupScope::DomainLocal => DOMAIN_LOCAL,
        GroupScope::Universal => UNIVERSAL,
    };
    let kind_bit = match kind {
        GroupKind::Security => SECURITY,
        GroupKind::Distribution => 0,
    };
    // Reinterpreted, not converted: AD's syntax is a signed 32-bit integer.
    i32::from_ne_bytes((scope_bit | kind_bit).to_ne_bytes()).to_string()
}

/// A `groupType` read back.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct GroupType(pub u32);

impl GroupType {
    /// The attribute's signed decimal text.
    pub fn parse(text: &str) -> Option<GroupType> {
        text.trim().parse::<i64>().ok().map(|v| GroupType(v as u32))
    }

    /// `global`, `domain_local`, `universal` (the words of `ad.create_group`) or
    /// `builtin_local`; `None` for none of them.
    pub fn scope(self) -> Option<&'static str> {
        match self.0 & 0xF {
            GLOBAL => Some("global"),
            DOMAIN_LOCAL => Some("domain_local"),
            UNIVERSAL => Some("universal"),
            x if x & BUILTIN_LOCAL != 0 => Some("builtin_local"),
            _ => None,
        }
    }

    /// `security` or `distribution`.
    pub fn kind(self) -> &'static str {
        if self.0 & SECURITY != 0 {
            "security"
        } else {
            "distribution"
        }
    }
}

#[cfg(test)]
mod tests;
