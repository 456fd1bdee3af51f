//! From a typed `ad.*` job to its operation.

use serde_json::Value;

use super::context::AdContext;
use super::ops::{create, create_group, delete, delete_group, flags, membership, move_user, passwords, update};
use crate::directory::DirectoryKind;
use crate::errors::{ErrorCode, JobError};
use crate::protocol::JobKind;

pub async fn execute(kind: JobKind, ctx: AdContext) -> Result<Value, JobError> {
    if ctx.lease.settings.kind != DirectoryKind::ActiveDirectory {
        return Err(JobError::new(
            ErrorCode::InvalidJob,
            format!(
                "directory `{}` is not Active Directory: ad.* jobs need kind = \"active_directory\"",
                ctx.lease.settings.name
            ),
        ));
    }
    // The scope policy's operations and the TLS rule for passwords, checked once for
    // every ad.* job before anything is read or written.
    ctx.allowed()?;
    if kind.has_password() {
        ctx.encrypted()?;
    }
    let began = std::time::Instant::now();
    let out = match kind {
        JobKind::CreateUser(p) => create::create(&ctx, &p).await,
        JobKind::UpdateUser(p) => update::update(&ctx, &p).await,
        JobKind::EnableUser(p) => flags::set_enabled(&ctx, &p, flags::Switch::Enable).await,
        JobKind::DisableUser(p) => flags::set_enabled(&ctx, &p, flags::Switch::Disable).await,
        JobKind::UnlockUser(p) => flags::unlock(&ctx, &p).await,
        JobKind::ResetPassword(p) => passwords::reset(&ctx, &p).await,
        JobKind::ChangePassword(p) => passwords::change(&ctx, &p).await,
        JobKind::AddToGroup(p) => membership::change(&ctx, &p, membership::Direction::Add).await,
        JobKind::RemoveFromGroup(p) => membership::change(&ctx, &p, membership::Direction::Remove).await,
        JobKind::DeleteUser(p) => delete::delete(&ctx, &p).await,
        JobKind::MoveUser(p) => move_user::move_user(&ctx, &p).await,
        JobKind::CreateGroup(p) => create_group::create(&ctx, &p).await,
        JobKind::DeleteGroup(p) => delete_group::delete(&ctx, &p).await,
        _ => Err(JobError::internal("not an ad.* job")),
    };
    ctx.timed("whole operation", began);
    out
}
