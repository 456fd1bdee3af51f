//! `ad.delete_user`: an intent is journaled first, so a re-run that finds the user gone
//! knows it was this job's own delete.

use serde_json::{json, Value};

use crate::ad::context::AdContext;
use crate::ad::policy::writable_account;
use crate::ad::target::{resolve, Kind};
use crate::errors::{ErrorCode, JobError};
use crate::protocol::payload::UserTarget;

pub async fn delete(ctx: &AdContext, p: &UserTarget) -> Result<Value, JobError> {
    ctx.allowed()?;
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
    writable_account(&ctx.lease.settings.policy, &user)?;
    ctx.record("delete.intent", json!({"dn": user.dn})).await?;
    let mut ldap = ctx.ldap();
    let res = ldap
        .with_timeout(ctx.timeout())
        .delete(&user.dn)
        .await
        .map_err(crate::directory::codes::LdapFailure::from_ldap);
    let res = res.and_then(|r| match r.rc {
        0 | 32 => Ok(()),
        rc => Err(crate::directory::codes::LdapFailure::Result { rc, text: r.text }),
    });
    ctx.audit(&user.dn, user.guid.as_deref(), Vec::new(), &res).await;
    res.map_err(|e| e.to_job_error("delete"))?;
    Ok(json!({"dn": user.dn}))
}
