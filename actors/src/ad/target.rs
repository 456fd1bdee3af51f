//! The entry a `UserRef` / `GroupRef` names ([`Target`], found by `resolve.rs`), and
//! what the AD operations read from it.

use crate::ldap::entry::RawEntry;

/// Attributes read about every target: enough for policy checks and idempotent writes.
/// (Never a group's `member`: thousands of values the DC assembles on every read, and
/// membership is judged from the user's `memberOf`.)
pub const TARGET_ATTRS: [&str; 10] = [
    "objectGUID",
    "objectSid",
    "primaryGroupID",
    "sAMAccountName",
    "userAccountControl",
    "lockoutTime",
    "adminCount",
    "memberOf",
    "pwdLastSet",
    "uSNCreated",
];

#[derive(Debug, Clone)]
pub struct Target {
    pub dn: String,
    pub guid: Option<String>,
    pub entry: RawEntry,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    User,
    Group,
}

impl Target {
    pub fn number(&self, attr: &str) -> Option<i64> {
        self.entry.first_text(attr).and_then(|s| s.trim().parse().ok())
    }

    pub fn uac(&self) -> u32 {
        self.number("userAccountControl").unwrap_or(0) as u32
    }

    pub fn member_of(&self) -> Vec<String> {
        texts(&self.entry, "memberOf")
    }

    pub fn sid(&self) -> Option<super::sid::Sid> {
        self.entry.first("objectSid").and_then(super::sid::Sid::from_bytes)
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
