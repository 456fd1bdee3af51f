//! `ad.enable_user`, `ad.disable_user` (only the ACCOUNTDISABLE bit changes) and
//! `ad.unlock_user` (lockoutTime = 0). An account flagged PASSWD_NOTREQD is never
//! enabled: it may have no password (an enabled account without one is what the
//! connector never makes).

use serde_json::{json, Value};

use super::replace;
use crate::ad::context::{AdContext, Write};
use crate::ad::resolve::resolve;
use crate::ad::target::Kind;
use crate::ad::uac::{ACCOUNTDISABLE, PASSWD_NOTREQD};
use crate::audit::Change;
use crate::errors::{ErrorCode, JobError};
use crate::protocol::payload::UserTarget;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Switch {
    Enable,
    Disable,
}

pub async fn set_enabled(ctx: &AdContext, p: &UserTarget, switch: Switch) -> Result<Value, JobError> {
    let user = resolve(ctx, Kind::User, &p.user, &[]).await?;
    ctx.writable_account(&user).await?;
    let uac = user.uac();
    if switch == Switch::Enable && uac & ACCOUNTDISABLE != 0 && uac & PASSWD_NOTREQD != 0 {
        return Err(JobError::new(
            ErrorCode::ConstraintViolation,
            format!(
                "{} has PASSWD_NOTREQD (userAccountControl {uac}): it may have no password; \
                 set one with ad.reset_password (which clears the flag) before enabling it",
                user.dn
            ),
        ));
    }
    let wanted = match switch {
        Switch::Enable => uac & !ACCOUNTDISABLE,
        Switch::Disable => uac | ACCOUNTDISABLE,
    };
    let enabled = switch == Switch::Enable;
    if wanted == uac {
        return Ok(json!({"dn": user.dn, "enabled": enabled, "changed": false}));
    }
    let change = Change {
        attribute: "userAccountControl".into(),
        before: json!(uac.to_string()),
        after: json!(wanted.to_string()),
    };
    let write = Write::Modify(vec![replace("userAccountControl", wanted.to_string())]);
    ctx.write(&user.dn, user.guid.as_deref(), vec![change], write)
        .await?
        .map_err(|e| e.to_job_error("userAccountControl"))?;
    Ok(json!({"dn": user.dn, "enabled": enabled, "changed": true}))
}

pub async fn unlock(ctx: &AdContext, p: &UserTarget) -> Result<Value, JobError> {
    let user = resolve(ctx, Kind::User, &p.user, &[]).await?;
    ctx.writable_account(&user).await?;
    let locked_at = user.number("lockoutTime").unwrap_or(0);
    if locked_at == 0 {
        return Ok(json!({"dn": user.dn, "was_locked": false}));
    }
    let change = Change { attribute: "lockoutTime".into(), before: json!(locked_at.to_string()), after: json!("0") };
    ctx.write(&user.dn, user.guid.as_deref(), vec![change], Write::Modify(vec![replace("lockoutTime", "0")]))
        .await?
        .map_err(|e| e.to_job_error("lockoutTime"))?;
    Ok(json!({"dn": user.dn, "was_locked": true}))
}
