//! Typed payloads of the job types of PROTOCOL.md §3. Parsing a payload is validation:
//! a missing or mistyped field becomes `invalid_job` naming it; unknown fields are ignored.

use super::job_type::JobType;
use serde::de::DeserializeOwned;
use serde::Deserialize;
use serde_json::{Map, Value};
use std::collections::BTreeMap;

use crate::errors::JobError;
use crate::secret::Secret;

mod lifecycle;
mod ordering;
pub use lifecycle::{CreateGroup, GroupKind, GroupScope, GroupTarget, MoveUser};

/// Payload fields that hold secrets: sealed at rest, erased after delivery.
pub const SECRET_FIELDS: [&str; 3] = ["password", "new_password", "old_password"];

pub type Attributes = BTreeMap<String, Vec<String>>;

/// A reference to a user or group: exactly one of its fields is set.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct ObjectRef {
    pub dn: Option<String>,
    pub sam_account_name: Option<String>,
    pub user_principal_name: Option<String>,
    pub guid: Option<String>,
    pub username: Option<String>,
    pub name: Option<String>,
}

impl ObjectRef {
    fn none() -> ObjectRef {
        ObjectRef {
            dn: None,
            sam_account_name: None,
            user_principal_name: None,
            guid: None,
            username: None,
            name: None,
        }
    }

    /// A reference by DN.
    pub fn dn(dn: &str) -> ObjectRef {
        ObjectRef { dn: Some(dn.to_owned()), ..ObjectRef::none() }
    }

    /// A reference by objectGUID (its string form).
    pub fn guid(guid: &str) -> ObjectRef {
        ObjectRef { guid: Some(guid.to_owned()), ..ObjectRef::none() }
    }

    /// The one field that is set, as (field name, value).
    pub fn key(&self) -> Option<(&'static str, &str)> {
        let all = [
            ("dn", &self.dn),
            ("sam_account_name", &self.sam_account_name),
            ("user_principal_name", &self.user_principal_name),
            ("guid", &self.guid),
            ("username", &self.username),
            ("name", &self.name),
        ];
        let mut set = all.iter().filter_map(|(k, v)| v.as_deref().map(|v| (*k, v)));
        match (set.next(), set.next()) {
            (Some(one), None) => Some(one),
            _ => None,
        }
    }
}

#[derive(Debug, Clone, Deserialize)]
pub struct Authenticate {
    pub directory: String,
    pub username: String,
    pub password: Secret,
    /// Which groups the result lists (PROTOCOL.md §3; default `none`).
    #[serde(default)]
    pub groups: GroupDepth,
}

/// `groups` of `ldap.authenticate`: which of the user's groups the login result lists.
#[derive(Debug, Clone, Copy, Default, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum GroupDepth {
    /// No `groups` key in the result (the default: a login costs no extra round trip).
    #[default]
    None,
    /// The groups that list the user as a member (AD: `memberOf` and the primary group).
    Direct,
    /// Every group the user is in, through any number of nested groups.
    Nested,
}

#[derive(Debug, Clone, Copy, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum ImportMode {
    Full,
    Delta,
}

#[derive(Debug, Clone, Deserialize)]
pub struct Import {
    pub directory: String,
    pub base_dn: Option<String>,
    pub filter: Option<String>,
    pub attributes: Option<Vec<String>>,
    pub page_size: Option<u32>,
    pub batch_size: Option<u32>,
    pub mode: ImportMode,
    pub delta_token: Option<String>,
    /// `users` (the default) or `groups` (PROTOCOL.md §3); anything else is `invalid_job`.
    #[serde(default)]
    pub object: ImportObject,
}

/// What an import reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ImportObject {
    #[default]
    Users,
    Groups,
}

#[derive(Debug, Clone, Deserialize)]
pub struct CreateUser {
    pub directory: String,
    pub parent_dn: String,
    pub sam_account_name: String,
    pub cn: Option<String>,
    pub user_principal_name: Option<String>,
    pub given_name: Option<String>,
    pub surname: Option<String>,
    pub display_name: Option<String>,
    pub mail: Option<String>,
    pub password: Option<Secret>,
    pub enabled: Option<bool>,
    pub must_change_password: Option<bool>,
    pub attributes: Option<Attributes>,
    pub groups: Option<Vec<ObjectRef>>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct UpdateUser {
    pub directory: String,
    pub user: ObjectRef,
    pub replace: Option<Attributes>,
    pub add: Option<Attributes>,
    pub delete: Option<Attributes>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct UserTarget {
    pub directory: String,
    pub user: ObjectRef,
}

#[derive(Debug, Clone, Deserialize)]
pub struct ResetPassword {
    pub directory: String,
    pub user: ObjectRef,
    pub new_password: Secret,
    pub must_change_password: Option<bool>,
    pub unlock: Option<bool>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct ChangePassword {
    pub directory: String,
    pub user: ObjectRef,
    pub old_password: Secret,
    pub new_password: Secret,
}

#[derive(Debug, Clone, Deserialize)]
pub struct Membership {
    pub directory: String,
    pub user: ObjectRef,
    pub group: ObjectRef,
}

/// Test and benchmark jobs; compiled only with the `test-jobs` feature.
#[derive(Debug, Clone, Deserialize)]
pub struct TestJob {
    /// Sleep this long before answering, to hold a running slot.
    #[serde(default)]
    pub sleep_ms: u64,
    /// `test.touch` appends the job id to this file, guarded by the step journal.
    pub path: Option<String>,
    /// Fail with this error code instead of succeeding (e.g. "timeout" to test retries).
    pub fail_with: Option<String>,
    /// Panic inside the executor (to test that a panic costs only this job).
    #[serde(default)]
    pub panic: bool,
}

#[derive(Debug, Clone)]
pub enum JobKind {
    Authenticate(Authenticate),
    Import(Import),
    CreateUser(CreateUser),
    UpdateUser(UpdateUser),
    EnableUser(UserTarget),
    DisableUser(UserTarget),
    ResetPassword(ResetPassword),
    ChangePassword(ChangePassword),
    UnlockUser(UserTarget),
    AddToGroup(Membership),
    RemoveFromGroup(Membership),
    DeleteUser(UserTarget),
    MoveUser(MoveUser),
    CreateGroup(CreateGroup),
    DeleteGroup(GroupTarget),
    TestNoop(TestJob),
    TestTouch(TestJob),
}

/// Every job type this build accepts, as announced in `capabilities` ([`JobType::available`]).
pub fn job_types() -> Vec<&'static str> {
    JobType::available().map(JobType::name).collect()
}

fn typed<T: DeserializeOwned>(job_type: &str, payload: &Map<String, Value>) -> Result<T, JobError> {
    serde_json::from_value(Value::Object(payload.clone()))
        .map_err(|e| JobError::invalid_job(format!("payload of {job_type}: {}", without_values(&e.to_string()))))
}

/// A serde message without the value it quotes: `invalid type: string "Zebra-42",
/// expected a sequence` becomes `invalid type: a string, expected a sequence`. The value
/// may be a password of the wrong JSON type, and the message goes into a result, the
/// queue and the log. Field names, enum variants and expectations stay.
pub fn without_values(message: &str) -> String {
    for head in ["invalid type: ", "invalid value: "] {
        let Some(rest) = message.strip_prefix(head) else { continue };
        let kind = rest.split([' ', ',']).next().unwrap_or("value");
        let expected = rest.rfind(", expected ").map(|i| &rest[i..]).unwrap_or("");
        return format!("{head}a {kind}{expected}");
    }
    message.to_owned()
}

fn check_ref(field: &str, r: &ObjectRef) -> Result<(), JobError> {
    r.key().map(|_| ()).ok_or_else(|| {
        JobError::invalid_job(format!(
            "field `{field}` must have exactly one of dn, sam_account_name, user_principal_name, guid, username, name"
        ))
    })
}

/// An AD password field that is empty or only whitespace is refused before any bind or
/// write: an empty `old_password` would make the change a guess, and a blank new one is
/// never what a portal meant. (`ldap.authenticate` is different: an empty password there
/// is a failed login, `invalid_credentials` without a bind, PROTOCOL.md §3.)
fn check_password(field: &str, password: &Secret) -> Result<(), JobError> {
    if password.expose().trim().is_empty() {
        return Err(JobError::invalid_job(format!(
            "field `{field}` is empty or only whitespace: the portal must send the password (no bind or write was tried)"
        )));
    }
    Ok(())
}

impl JobKind {
    pub fn parse(job_type: &str, payload: &Map<String, Value>) -> Result<JobKind, JobError> {
        let Some(t) = JobType::parse(job_type) else {
            return Err(JobError::invalid_job(format!("unknown job type `{job_type}`")));
        };
        let kind = match t {
            JobType::Authenticate => JobKind::Authenticate(typed(job_type, payload)?),
            JobType::Import => JobKind::Import(typed(job_type, payload)?),
            JobType::CreateUser => JobKind::CreateUser(typed(job_type, payload)?),
            JobType::UpdateUser => JobKind::UpdateUser(typed(job_type, payload)?),
            JobType::EnableUser => JobKind::EnableUser(typed(job_type, payload)?),
            JobType::DisableUser => JobKind::DisableUser(typed(job_type, payload)?),
            JobType::ResetPassword => JobKind::ResetPassword(typed(job_type, payload)?),
            JobType::ChangePassword => JobKind::ChangePassword(typed(job_type, payload)?),
            JobType::UnlockUser => JobKind::UnlockUser(typed(job_type, payload)?),
            JobType::AddToGroup => JobKind::AddToGroup(typed(job_type, payload)?),
            JobType::RemoveFromGroup => JobKind::RemoveFromGroup(typed(job_type, payload)?),
            JobType::DeleteUser => JobKind::DeleteUser(typed(job_type, payload)?),
            JobType::MoveUser => JobKind::MoveUser(typed(job_type, payload)?),
            JobType::CreateGroup => JobKind::CreateGroup(typed(job_type, payload)?),
            JobType::DeleteGroup => JobKind::DeleteGroup(typed(job_type, payload)?),
            JobType::TestNoop => JobKind::TestNoop(typed(job_type, payload)?),
            JobType::TestTouch => JobKind::TestTouch(typed(job_type, payload)?),
        };
        kind.check()?;
        Ok(kind)
    }

    /// Whether this job sends a password to the directory (a create only when it sets
    /// one), so it may only run over TLS.
    pub fn has_password(&self) -> bool {
        match self {
            JobKind::CreateUser(p) => p.password.is_some(),
            JobKind::Authenticate(_) | JobKind::ResetPassword(_) | JobKind::ChangePassword(_) => true,
            _ => false,
        }
    }

    fn check(&self) -> Result<(), JobError> {
        match self {
            JobKind::UpdateUser(p) => check_ref("user", &p.user),
            JobKind::EnableUser(p) | JobKind::DisableUser(p) | JobKind::UnlockUser(p) | JobKind::DeleteUser(p) => {
                check_ref("user", &p.user)
            }
            JobKind::ResetPassword(p) => {
                check_ref("user", &p.user)?;
                check_password("new_password", &p.new_password)
            }
            JobKind::ChangePassword(p) => {
                check_ref("user", &p.user)?;
                check_password("old_password", &p.old_password)?;
                check_password("new_password", &p.new_password)
            }
            JobKind::AddToGroup(p) | JobKind::RemoveFromGroup(p) => {
                check_ref("user", &p.user)?;
                check_ref("group", &p.group)
            }
            JobKind::CreateUser(p) => {
                if let Some(pw) = &p.password {
                    check_password("password", pw)?;
                }
                p.groups.iter().flatten().try_for_each(|g| check_ref("groups[]", g))
            }
            JobKind::MoveUser(p) => {
                check_ref("user", &p.user)?;
                if p.new_parent_dn.is_none() && p.new_cn.is_none() {
                    return Err(JobError::invalid_job(
                        "ad.move_user needs `new_parent_dn`, `new_cn` or both: neither was given",
                    ));
                }
                Ok(())
            }
            JobKind::CreateGroup(p) => {
                if p.name.trim().is_empty() {
                    return Err(JobError::invalid_job("field `name` (the group's CN) is empty"));
                }
                p.members.iter().flatten().try_for_each(|m| check_ref("members[]", m))
            }
            JobKind::DeleteGroup(p) => check_ref("group", &p.group),
            JobKind::Import(p) if p.mode == ImportMode::Delta && p.delta_token.is_none() => Ok(()),
            _ => Ok(()),
        }
    }

    /// The directory the payload names; `None` for test jobs.
    pub fn directory(&self) -> Option<&str> {
        match self {
            JobKind::Authenticate(p) => Some(&p.directory),
            JobKind::Import(p) => Some(&p.directory),
            JobKind::CreateUser(p) => Some(&p.directory),
            JobKind::UpdateUser(p) => Some(&p.directory),
            JobKind::EnableUser(p) | JobKind::DisableUser(p) | JobKind::UnlockUser(p) | JobKind::DeleteUser(p) => {
                Some(&p.directory)
            }
            JobKind::ResetPassword(p) => Some(&p.directory),
            JobKind::ChangePassword(p) => Some(&p.directory),
            JobKind::AddToGroup(p) | JobKind::RemoveFromGroup(p) => Some(&p.directory),
            JobKind::MoveUser(p) => Some(&p.directory),
            JobKind::CreateGroup(p) => Some(&p.directory),
            JobKind::DeleteGroup(p) => Some(&p.directory),
            JobKind::TestNoop(_) | JobKind::TestTouch(_) => None,
        }
    }
}

#[cfg(test)]
mod tests;
