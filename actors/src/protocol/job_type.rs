//! The job types of PROTOCOL.md §3, decided once: each job's type string is read into a
//! [`JobType`], and routing, capabilities, the scope policy's operations and the default
//! lane and deadline (§2.3) all ask it. Whether a job sends a password (the TLS rule)
//! depends on its payload: [`super::JobKind::has_password`].

use super::lane::Lane;

const MINUTE_MS: u64 = 60_000;

/// Who runs a job type.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Family {
    /// LDAP work on any directory: logins and imports.
    Ldap,
    /// Writes to Active Directory, under the scope policy and the audit journal.
    Ad,
    /// The test job types (only with the `test-jobs` feature).
    Test,
}

/// Every job type this connector knows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum JobType {
    Authenticate,
    Import,
    CreateUser,
    UpdateUser,
    EnableUser,
    DisableUser,
    ResetPassword,
    ChangePassword,
    UnlockUser,
    AddToGroup,
    RemoveFromGroup,
    DeleteUser,
    MoveUser,
    CreateGroup,
    DeleteGroup,
    TestNoop,
    TestTouch,
}

impl JobType {
    pub const ALL: [JobType; 17] = [
        JobType::Authenticate,
        JobType::Import,
        JobType::CreateUser,
        JobType::UpdateUser,
        JobType::EnableUser,
        JobType::DisableUser,
        JobType::ResetPassword,
        JobType::ChangePassword,
        JobType::UnlockUser,
        JobType::AddToGroup,
        JobType::RemoveFromGroup,
        JobType::DeleteUser,
        JobType::MoveUser,
        JobType::CreateGroup,
        JobType::DeleteGroup,
        JobType::TestNoop,
        JobType::TestTouch,
    ];

    /// The name on the wire (PROTOCOL.md §3).
    pub fn name(self) -> &'static str {
        match self {
            JobType::Authenticate => "ldap.authenticate",
            JobType::Import => "ldap.import",
            JobType::CreateUser => "ad.create_user",
            JobType::UpdateUser => "ad.update_user",
            JobType::EnableUser => "ad.enable_user",
            JobType::DisableUser => "ad.disable_user",
            JobType::ResetPassword => "ad.reset_password",
            JobType::ChangePassword => "ad.change_password",
            JobType::UnlockUser => "ad.unlock_user",
            JobType::AddToGroup => "ad.add_to_group",
            JobType::RemoveFromGroup => "ad.remove_from_group",
            JobType::DeleteUser => "ad.delete_user",
            JobType::MoveUser => "ad.move_user",
            JobType::CreateGroup => "ad.create_group",
            JobType::DeleteGroup => "ad.delete_group",
            JobType::TestNoop => "test.noop",
            JobType::TestTouch => "test.touch",
        }
    }

    /// The type named `name`, if this build runs it (test types only with `test-jobs`).
    pub fn parse(name: &str) -> Option<JobType> {
        JobType::available().find(|t| t.name() == name)
    }

    /// The types this build runs, as announced in `capabilities` (§2.1).
    pub fn available() -> impl Iterator<Item = JobType> {
        JobType::ALL.into_iter().filter(|t| t.family() != Family::Test || cfg!(feature = "test-jobs"))
    }

    pub fn family(self) -> Family {
        match self {
            JobType::Authenticate | JobType::Import => Family::Ldap,
            JobType::TestNoop | JobType::TestTouch => Family::Test,
            _ => Family::Ad,
        }
    }

    /// The lane when the job names no `priority` (§2.3): logins interactive, imports bulk.
    pub fn default_lane(self) -> Lane {
        match self {
            JobType::Authenticate => Lane::Interactive,
            JobType::Import => Lane::Bulk,
            _ => Lane::Normal,
        }
    }

    /// The deadline after `created_at` when the job names none (§2.3), ms.
    pub fn default_deadline_ms(self) -> u64 {
        match self {
            JobType::Authenticate => 30_000,
            JobType::Import => 24 * 60 * MINUTE_MS,
            _ => 15 * MINUTE_MS,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_type_reads_back_from_its_name_and_only_test_types_hang_on_the_feature() {
        for t in JobType::ALL {
            assert_eq!(JobType::parse(t.name()).is_some(), t.family() != Family::Test || cfg!(feature = "test-jobs"));
            assert_eq!(
                t.name().split_once('.').map(|(family, _)| family) == Some("ad"),
                t.family() == Family::Ad,
                "{}",
                t.name()
            );
        }
        assert_eq!(JobType::parse("ad.no_such_thing"), None);
        // The 2026-11-30 additions are announced, run by the AD executor, in the normal lane.
        let announced: Vec<&str> = JobType::available().map(JobType::name).collect();
        for name in ["ad.move_user", "ad.create_group", "ad.delete_group"] {
            assert!(announced.contains(&name), "{name} is not announced");
            let t = JobType::parse(name).unwrap_or(JobType::Authenticate);
            assert_eq!((t.family(), t.default_lane()), (Family::Ad, Lane::Normal), "{name}");
        }
        assert_eq!(JobType::Authenticate.default_lane(), Lane::Interactive);
        assert_eq!(JobType::Import.default_deadline_ms(), 24 * 60 * MINUTE_MS);
    }
}
