//! groupType bits, named once ([MS-ADTS] 2.2.12 "Group Type Flags"; "Group-Type
//! attribute" in the AD schema reference). AD stores the value as a signed 32-bit
//! integer, so a security group's value is negative on the wire.

use crate::protocol::payload::{GroupKind, GroupScope};

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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_are_the_signed_integers_ad_stores() {
        assert_eq!(group_type(GroupScope::Global, GroupKind::Security), "-2147483646");
        assert_eq!(group_type(GroupScope::DomainLocal, GroupKind::Security), "-2147483644");
        assert_eq!(group_type(GroupScope::Universal, GroupKind::Security), "-2147483640");
        assert_eq!(group_type(GroupScope::Global, GroupKind::Distribution), "2");
        assert_eq!(group_type(GroupScope::Universal, GroupKind::Distribution), "8");
    }
}
