//! `ad.delete_user`: an intent is journaled first, so a re-run that finds the user gone
//! knows it was this job's own delete.

use serde_json::{json, Value};

use crate::ad::context::{AdContext, Write};
use crate::ad::resolve::resolve;
use crate::ad::steps::DeleteIntent;
use crate::ad::target::Kind;
use crate::errors::{ErrorCode, JobError};
use crate::ldap::codes::rc;
use crate::protocol::payload::UserTarget;

pub async fn delete(ctx: &AdContext, p: &UserTarget) -> Result<Value, JobError> {
    let intent = ctx.journal().read::<DeleteIntent>().await?;
    let user = match resolve(ctx, Kind::User, &p.user, &[]).await {
        Ok(u) => u,
        Err(e) if e.code == ErrorCode::UserNotFound => {
            return match intent {
                Some(DeleteIntent { dn }) => Ok(json!({"dn": dn})),
                None => Err(e),
            };
        }
        Err(e) => return Err(e),
    };
    ctx.writable_account(&user).await?;
    ctx.journal().record(&DeleteIntent { dn: user.dn.clone() }).await?;
    match ctx.write(&user.dn, user.guid.as_deref(), Vec::new(), Write::Delete).await? {
        Ok(()) => {}
        Err(e) if e.rc() == Some(rc::NO_SUCH_OBJECT) => {} // gone meanwhile: deleted all the same
        Err(e) => return Err(e.to_job_error("delete")),
    }
    Ok(json!({"dn": user.dn}))
}
