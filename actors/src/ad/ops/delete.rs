//! `ad.delete_user`: an intent is journaled first, so a re-run that finds the user gone
//! knows it was this job's own delete.

use serde_json::{json, Value};

use crate::ad::context::{AdContext, Write};
use crate::ad::resolve::resolve;
use crate::ad::target::Kind;
use crate::errors::{ErrorCode, JobError};
use crate::ldap::codes::rc;
use crate::protocol::payload::UserTarget;

pub async fn delete(ctx: &AdContext, p: &UserTarget) -> Result<Value, JobError> {
    let intent = ctx.step("delete.intent").await?;
    let user = match resolve(ctx, Kind::User, &p.user, &[]).await {
        Ok(u) => u,
        Err(e) if e.code == ErrorCode::UserNotFound => {
            return match intent.as_ref().and_then(|i| i["dn"].as_str()) {
                Some(dn) => Ok(json!({"dn": dn})),
                None => Err(e),
            };
        }
        Err(e) => return Err(e),
    };
    ctx.writable_account(&user).await?;
    ctx.record("delete.intent", json!({"dn": user.dn})).await?;
    match ctx.write(&user.dn, user.guid.as_deref(), Vec::new(), Write::Delete).await? {
        Ok(()) => {}
        Err(e) if e.rc() == Some(rc::NO_SUCH_OBJECT) => {} // gone meanwhile: deleted all the same
        Err(e) => return Err(e.to_job_error("delete")),
    }
    Ok(json!({"dn": user.dn}))
}
