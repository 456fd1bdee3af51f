//! The journal steps of AD writes (see [`crate::queue::Journal`]): each is journaled
//! before its write, so a re-run after a crash knows what this job already did. Field
//! names are the stored JSON's: keep them.

use serde::{Deserialize, Serialize};

use crate::queue::Step;

/// `create.intent`: where the DC stood before the add. An entry found at the DN later
/// is this job's own only when created on the same DC (`invocation_id`) after `usn`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CreateIntent {
    pub dn: String,
    /// The DC's `highestCommittedUSN` before the add.
    pub usn: u64,
    /// The DC's `dsServiceName`.
    pub dc: String,
    /// The DC's `invocationId`.
    pub invocation_id: String,
}

impl Step for CreateIntent {
    const NAME: &'static str = "create.intent";
}

/// `create.added`: the add succeeded; the new entry's `objectGUID` (a re-run continues
/// with it).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CreateAdded {
    pub guid: Option<String>,
}

impl Step for CreateAdded {
    const NAME: &'static str = "create.added";
}

/// `delete.intent`: the user about to be deleted; a re-run that finds it gone reports it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeleteIntent {
    pub dn: String,
}

impl Step for DeleteIntent {
    const NAME: &'static str = "delete.intent";
}

/// `change.intent`: a password change is about to be sent; after a crash a refused old
/// password may be this job's own change.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChangeIntent {
    pub dn: String,
}

impl Step for ChangeIntent {
    const NAME: &'static str = "change.intent";
}

/// `create_group.intent`: as `create.intent`, for `ad.create_group`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct CreateGroupIntent(pub CreateIntent);

impl Step for CreateGroupIntent {
    const NAME: &'static str = "create_group.intent";
}

impl From<CreateIntent> for CreateGroupIntent {
    fn from(i: CreateIntent) -> Self {
        CreateGroupIntent(i)
    }
}

impl From<CreateGroupIntent> for CreateIntent {
    fn from(i: CreateGroupIntent) -> Self {
        i.0
    }
}

/// `create_group.added`: the group's add succeeded; its `objectGUID`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CreateGroupAdded {
    pub guid: Option<String>,
}

impl Step for CreateGroupAdded {
    const NAME: &'static str = "create_group.added";
}

/// `delete_group.intent`: the group about to be deleted; a re-run finds it by GUID, or
/// reports it gone.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeleteGroupIntent {
    pub dn: String,
    pub guid: Option<String>,
}

impl Step for DeleteGroupIntent {
    const NAME: &'static str = "delete_group.intent";
}

/// `move.intent`: a ModifyDN about to be sent; a re-run finds the user by GUID and
/// reports the original `old_dn`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MoveIntent {
    pub old_dn: String,
    pub guid: Option<String>,
    pub new_dn: String,
}

impl Step for MoveIntent {
    const NAME: &'static str = "move.intent";
}
