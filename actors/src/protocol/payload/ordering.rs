//! The default ordering key of each job (PROTOCOL.md §2.3: when the server sends none,
//! the directory plus the target user or group, so two jobs on one object never run at
//! once).

use super::{CreateUser, JobKind, ObjectRef};

impl JobKind {
    /// The ordering key when the server sends none: directory plus target object, so
    /// two jobs on one object never run at once (values compared case-insensitively,
    /// as AD compares names).
    pub fn default_ordering_key(&self, job_id: &str) -> String {
        let object = |dir: &str, class: &str, r: &ObjectRef| match r.key() {
            Some((k, v)) => format!("obj:{dir}:{class}:{k}={}", v.to_lowercase()),
            None => format!("job:{job_id}"),
        };
        let user = |dir: &str, r: &ObjectRef| object(dir, "user", r);
        match self {
            JobKind::Authenticate(p) => format!("obj:{}:user:username={}", p.directory, p.username.to_lowercase()),
            // Its sAMAccountName (the jobs that follow it name the user by it) and its
            // target DN (two creates of one CN must not race for one entry).
            JobKind::CreateUser(p) => {
                let sam = format!("obj:{}:user:sam_account_name={}", p.directory, p.sam_account_name.to_lowercase());
                match create_target(p) {
                    Some(dn) => format!("{sam}{}obj:{}:dn={dn}", crate::queue::KEY_SEPARATOR, p.directory),
                    None => sam,
                }
            }
            JobKind::UpdateUser(p) => user(&p.directory, &p.user),
            JobKind::EnableUser(p) | JobKind::DisableUser(p) | JobKind::UnlockUser(p) | JobKind::DeleteUser(p) => {
                user(&p.directory, &p.user)
            }
            JobKind::ResetPassword(p) => user(&p.directory, &p.user),
            JobKind::ChangePassword(p) => user(&p.directory, &p.user),
            JobKind::AddToGroup(p) | JobKind::RemoveFromGroup(p) => user(&p.directory, &p.user),
            JobKind::MoveUser(p) => user(&p.directory, &p.user),
            // As a create_user: its sAMAccountName and its target DN.
            JobKind::CreateGroup(p) => {
                let sam = format!("obj:{}:group:sam_account_name={}", p.directory, p.sam().to_lowercase());
                match child_dn(&p.parent_dn, &p.name) {
                    Some(dn) => format!("{sam}{}obj:{}:dn={dn}", crate::queue::KEY_SEPARATOR, p.directory),
                    None => sam,
                }
            }
            JobKind::DeleteGroup(p) => object(&p.directory, "group", &p.group),
            JobKind::Import(_) | JobKind::TestNoop(_) | JobKind::TestTouch(_) => {
                format!("job:{job_id}")
            }
        }
    }
}

/// The DN a create will add, normalised (as its `Dn` prints it lower-cased), for its
/// ordering key; `None` when the parent does not parse (the job then fails on its own).
fn create_target(p: &CreateUser) -> Option<String> {
    let cn = p.cn.as_deref().or(p.display_name.as_deref()).unwrap_or(&p.sam_account_name);
    child_dn(&p.parent_dn, cn)
}

/// `CN=<cn>,<parent>` normalised for an ordering key; `None` when the parent does not parse.
fn child_dn(parent: &str, cn: &str) -> Option<String> {
    let parent = crate::ldap::dn::Dn::parse(parent).ok()?;
    Some(parent.child("CN", cn).to_string().to_lowercase())
}
