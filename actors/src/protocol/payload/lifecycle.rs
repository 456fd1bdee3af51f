//! Payloads of the group and move jobs of PROTOCOL.md §3 (the 2026-11-30 additions):
//! `ad.create_group`, `ad.delete_group`, `ad.move_user`.

use serde::Deserialize;

use super::ObjectRef;

/// A group's scope (PROTOCOL.md §3 `scope`; [MS-ADTS] 2.2.12 "Group Type Flags").
#[derive(Debug, Clone, Copy, Default, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum GroupScope {
    #[default]
    Global,
    DomainLocal,
    Universal,
}

/// A security group (it can grant access) or a distribution group (mail only).
#[derive(Debug, Clone, Copy, Default, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum GroupKind {
    #[default]
    Security,
    Distribution,
}

/// `ad.create_group`: `name` is the new group's CN (unescaped; the connector escapes it
/// per RFC 4514); `sam_account_name` defaults to `name`; `members` are users.
#[derive(Debug, Clone, Deserialize)]
pub struct CreateGroup {
    pub directory: String,
    pub parent_dn: String,
    pub name: String,
    pub sam_account_name: Option<String>,
    #[serde(default)]
    pub scope: GroupScope,
    #[serde(default)]
    pub kind: GroupKind,
    pub description: Option<String>,
    pub members: Option<Vec<ObjectRef>>,
}

impl CreateGroup {
    /// The sAMAccountName the group gets: the job's, else its name.
    pub fn sam(&self) -> &str {
        self.sam_account_name.as_deref().unwrap_or(&self.name)
    }
}

/// `ad.delete_group`.
#[derive(Debug, Clone, Deserialize)]
pub struct GroupTarget {
    pub directory: String,
    pub group: ObjectRef,
}

/// `ad.move_user`: a new parent, a new CN (unescaped), or both; at least one.
#[derive(Debug, Clone, Deserialize)]
pub struct MoveUser {
    pub directory: String,
    pub user: ObjectRef,
    pub new_parent_dn: Option<String>,
    pub new_cn: Option<String>,
}
