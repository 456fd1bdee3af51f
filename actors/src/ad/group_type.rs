//! `groupType` ([MS-ADTS] 2.2.12 "Group Type Flags"): a signed 32-bit value whose low bits
//! give the scope and whose top bit says a security group (else distribution).

/// Builtin local groups (BUILTIN\Administrators …): domain-local in a DC's own domain.
pub const BUILTIN_LOCAL_GROUP: u32 = 0x0000_0001;
pub const ACCOUNT_GROUP: u32 = 0x0000_0002;
pub const RESOURCE_GROUP: u32 = 0x0000_0004;
pub const UNIVERSAL_GROUP: u32 = 0x0000_0008;
pub const SECURITY_ENABLED: u32 = 0x8000_0000;

/// A decoded `groupType`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct GroupType(pub u32);

impl GroupType {
    /// The attribute's text (AD writes it signed: `-2147483646` is a global security group).
    pub fn parse(text: &str) -> Option<GroupType> {
        text.trim().parse::<i64>().ok().map(|v| GroupType(v as u32))
    }

    /// `global`, `domain_local`, `universal` or `builtin_local` (as PROTOCOL.md §3 names
    /// the first three in `ad.create_group`); `None` for none of them.
    pub fn scope(self) -> Option<&'static str> {
        match self.0 & 0xF {
            ACCOUNT_GROUP => Some("global"),
            RESOURCE_GROUP => Some("domain_local"),
            UNIVERSAL_GROUP => Some("universal"),
            x if x == RESOURCE_GROUP | BUILTIN_LOCAL_GROUP || x == BUILTIN_LOCAL_GROUP => Some("builtin_local"),
            _ => None,
        }
    }

    /// `security` or `distribution`.
    pub fn kind(self) -> &'static str {
        if self.0 & SECURITY_ENABLED != 0 {
            "security"
        } else {
            "distribution"
        }
    }
}

#[cfg(test)]
mod tests;
