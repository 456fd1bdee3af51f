//! `ad.reset_password` (by the service account) and `ad.change_password` (self-service:
//! bound as the user, delete the old and add the new `unicodePwd` in one modify).
//! Passwords travel only over TLS and reach the audit journal by name only.

use std::collections::HashSet;

use ldap3::Mod;
use serde_json::{json, Value};

use super::replace;
use crate::ad::context::AdContext;
use crate::ad::password::unicode_pwd;
use crate::ad::policy::writable_account;
use crate::ad::target::{resolve, Kind};
use crate::audit::Change;
use crate::directory::codes::LdapFailure;
use crate::directory::connect::{bind, open};
use crate::errors::{ErrorCode, JobError};
use crate::protocol::payload::{ChangePassword, ResetPassword};

fn secret_change(attr: &str) -> Change {
    Change { attribute: attr.into(), before: Value::Null, after: json!("(secret)") }
}

pub async fn reset(ctx: &AdContext, p: &ResetPassword) -> Result<Value, JobError> {
    ctx.allowed()?;
    ctx.encrypted()?;
    let user = resolve(ctx, Kind::User, &p.user, &[]).await?;
    writable_account(&ctx.lease.settings.policy, &user)?;
    let mut mods = vec![Mod::Replace(b"unicodePwd".to_vec(), HashSet::from([unicode_pwd(p.new_password.expose())]))];
    let mut changes = vec![secret_change("unicodePwd")];
    let locked = user.number("lockoutTime").unwrap_or(0);
    if p.unlock.unwrap_or(true) && locked != 0 {
        mods.push(replace("lockoutTime", "0"));
        changes.push(Change { attribute: "lockoutTime".into(), before: json!(locked.to_string()), after: json!("0") });
    }
    let last_set = user.number("pwdLastSet").unwrap_or(-1);
    let wanted = if p.must_change_password.unwrap_or(false) {
        Some("0")
    } else if last_set == 0 {
        Some("-1")
    } else {
        None
    };
    if let Some(v) = wanted {
        mods.push(replace("pwdLastSet", v));
        changes.push(Change { attribute: "pwdLastSet".into(), before: json!(last_set.to_string()), after: json!(v) });
    }
    ctx.modify(&user.dn, user.guid.as_deref(), mods, changes).await.map_err(|e| e.to_job_error("password reset"))?;
    Ok(json!({"dn": user.dn}))
}

pub async fn change(ctx: &AdContext, p: &ChangePassword) -> Result<Value, JobError> {
    ctx.allowed()?;
    ctx.encrypted()?;
    let user = resolve(ctx, Kind::User, &p.user, &[]).await?;
    writable_account(&ctx.lease.settings.policy, &user)?;
    let earlier = ctx.step("change.intent").await?.is_some();
    ctx.record("change.intent", json!({"dn": user.dn})).await?;
    let ep = ctx.lease.endpoint();
    let mut conn = open(&ep).await.map_err(|e| e.to_job_error("user connection"))?;
    let timeout = ctx.timeout();
    if let Err(e) = bind(&mut conn, &user.dn, p.old_password.expose(), timeout).await {
        let _ = conn.unbind().await;
        if e.rc() == Some(49) && earlier && new_password_works(ctx, &user.dn, p.new_password.expose()).await {
            return Ok(json!({"dn": user.dn})); // this job changed it before a crash
        }
        return Err(match e.rc() {
            Some(49) => JobError::new(ErrorCode::InvalidCredentials, "the old password is not the user's password"),
            _ => e.to_job_error("binding as the user"),
        });
    }
    let mods = vec![
        Mod::Delete(b"unicodePwd".to_vec(), HashSet::from([unicode_pwd(p.old_password.expose())])),
        Mod::Add(b"unicodePwd".to_vec(), HashSet::from([unicode_pwd(p.new_password.expose())])),
    ];
    let res = LdapFailure::checked(conn.with_timeout(timeout).modify(&user.dn, mods).await);
    let _ = conn.unbind().await;
    ctx.audit(&user.dn, user.guid.as_deref(), vec![secret_change("unicodePwd")], &res).await;
    res.map_err(|e| e.to_job_error("password change"))?;
    Ok(json!({"dn": user.dn}))
}

async fn new_password_works(ctx: &AdContext, dn: &str, password: &str) -> bool {
    let ep = ctx.lease.endpoint();
    let Ok(mut conn) = open(&ep).await else { return false };
    let ok = bind(&mut conn, dn, password, ctx.timeout()).await.is_ok();
    let _ = conn.unbind().await;
    ok
}
