//! The AD mutation executor: the `ad.*` job types of PROTOCOL.md §3, run through the
//! directory's write connection ([`CheckoutWrites`]), under the directory's scope
//! policy, each write journaled (intent before the write) and audited.
//!
//! Plain async logic, run in the dispatcher's job tasks with a [`Lease`]; the state it
//! needs is owned elsewhere: the step journal by the queue actor, the audit journal by the
//! audit actor, the connections by the directory actor; the group adds of creates go
//! through the [`MemberWriter`] actor, which writes those to one group together.
//!
//! Idempotency after a crash (every job may run again from the start):
//! - create: the DC's `highestCommittedUSN` is journaled with the intent; an existing
//!   entry whose `uSNCreated` is above it was created by this job (`already_exists`
//!   otherwise); the remaining steps (password, enable, must-change, groups) are
//!   idempotent writes.
//! - enable/disable/unlock/membership/update: read, compare, write only what differs
//!   (`changed: false` when nothing did).
//! - delete (user or group): a missing target after a journaled intent is this job's own
//!   delete; a re-run looks for the group by the GUID its intent journaled.
//! - create_group: as create, with the group's sAMAccountName.
//! - move_user: the intent journals the user's GUID and old DN; a re-run finds the user by
//!   GUID, and one already at the target is not moved again.
//! - change_password: after a journaled intent, a refused old password is checked
//!   against the new one (the change had happened).
//!
//! [`Lease`]: crate::directory::Lease
//! [`CheckoutWrites`]: crate::directory::CheckoutWrites

pub mod attributes;
mod context;
pub mod group_type;
mod knowledge;
pub mod members;
pub mod names;
mod ops;
pub mod password;
pub mod password_policy;
pub mod policy;
pub mod protected;
mod resolve;
mod run;
pub mod schema;
pub mod sid;
pub mod steps;
pub mod target;
pub mod uac;

pub use context::AdContext;
pub use knowledge::KnowledgeCache;
pub use members::{AddMember, MemberWriter};
pub use run::execute;
