//! `ad.reset_password` (by the service account) and `ad.change_password` (self-service:
//! the delete-old/add-new `unicodePwd` modify, in which the DC itself checks the old
//! password — [MS-ADTS] 3.1.1.3.1.5.1 "unicodePwd": a Delete of the old value and an
//! Add of the new one in one request is a password *change*, allowed to any caller
//! holding the old password, also for a user who must change it or whose password
//! expired, whose own bind the DC refuses with data 773 / 532).
//! Passwords travel only over TLS and reach the audit journal by name only; a new one
//! that breaks the length or complexity rule is refused before it is sent
//! (`password_policy.rs`).

use std::collections::HashSet;

use ldap3::Mod;
use serde_json::{json, Value};

use super::replace;
use crate::ad::context::{AdContext, Write};
use crate::ad::password::unicode_pwd;
use crate::ad::password_policy::{self, Account};
use crate::ad::resolve::resolve;
use crate::ad::steps::ChangeIntent;
use crate::ad::target::Kind;
use crate::ad::uac::{DONT_EXPIRE_PASSWORD, PASSWD_NOTREQD};
use crate::audit::Change;
use crate::directory::connect::{bind, open};
use crate::errors::{ErrorCode, JobError};
use crate::protocol::payload::{ChangePassword, ResetPassword};

fn secret_change(attr: &str) -> Change {
    Change { attribute: attr.into(), before: Value::Null, after: json!("(secret)") }
}

/// `pwdLastSet = 0` would be accepted and then ignored by the DC for an account whose
/// password never expires (the user logs on without changing it): refused before any
/// write, as AD's own tools refuse "must change" with "password never expires".
pub fn must_change_possible(dn: &str, uac: u32) -> Result<(), JobError> {
    if uac & DONT_EXPIRE_PASSWORD != 0 {
        return Err(JobError::new(
            ErrorCode::ConstraintViolation,
            format!(
                "{dn} has DONT_EXPIRE_PASSWORD (userAccountControl {uac}): the DC ignores \"must change password\" for it; \
                 clear that flag first or reset without must_change_password"
            ),
        ));
    }
    Ok(())
}

pub async fn reset(ctx: &AdContext, p: &ResetPassword) -> Result<Value, JobError> {
    let user = resolve(ctx, Kind::User, &p.user, &["displayName"]).await?;
    ctx.writable_account(&user).await?;
    password_policy::check(ctx, Account::existing(&user), p.new_password.expose()).await?;
    let must_change = p.must_change_password.unwrap_or(false);
    if must_change {
        must_change_possible(&user.dn, user.uac())?;
    }
    let mut mods = vec![Mod::Replace(b"unicodePwd".to_vec(), HashSet::from([unicode_pwd(p.new_password.expose())]))];
    let mut changes = vec![secret_change("unicodePwd")];
    let locked = user.number("lockoutTime").unwrap_or(0);
    if p.unlock.unwrap_or(true) && locked != 0 {
        mods.push(replace("lockoutTime", "0"));
        changes.push(Change { attribute: "lockoutTime".into(), before: json!(locked.to_string()), after: json!("0") });
    }
    let uac = user.uac();
    if uac & PASSWD_NOTREQD != 0 {
        // It has a password now: the DC's policy applies to it again.
        let cleared = (uac & !PASSWD_NOTREQD).to_string();
        mods.push(replace("userAccountControl", cleared.clone()));
        changes.push(Change {
            attribute: "userAccountControl".into(),
            before: json!(uac.to_string()),
            after: json!(cleared),
        });
    }
    let last_set = user.number("pwdLastSet").unwrap_or(-1);
    let wanted = if must_change {
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
    ctx.write(&user.dn, user.guid.as_deref(), changes, Write::Modify(mods))
        .await?
        .map_err(|e| e.to_job_error("password reset"))?;
    Ok(json!({"dn": user.dn}))
}

pub async fn change(ctx: &AdContext, p: &ChangePassword) -> Result<Value, JobError> {
    let user = resolve(ctx, Kind::User, &p.user, &["displayName"]).await?;
    ctx.writable_account(&user).await?;
    password_policy::check(ctx, Account::existing(&user), p.new_password.expose()).await?;
    let journal = ctx.journal();
    let earlier = journal.read::<ChangeIntent>().await?.is_some();
    journal.record(&ChangeIntent { dn: user.dn.clone() }).await?;
    let mods = vec![
        Mod::Delete(b"unicodePwd".to_vec(), HashSet::from([unicode_pwd(p.old_password.expose())])),
        Mod::Add(b"unicodePwd".to_vec(), HashSet::from([unicode_pwd(p.new_password.expose())])),
    ];
    let res = ctx.write(&user.dn, user.guid.as_deref(), vec![secret_change("unicodePwd")], Write::Modify(mods)).await?;
    match res {
        Ok(()) => Ok(json!({"dn": user.dn})),
        Err(e) => {
            let err = e.to_job_error("password change");
            // After a crash the old password is refused because this job changed it.
            if err.code == ErrorCode::InvalidCredentials
                && earlier
                && new_password_works(ctx, &user.dn, p.new_password.expose()).await
            {
                return Ok(json!({"dn": user.dn}));
            }
            Err(err)
        }
    }
}

async fn new_password_works(ctx: &AdContext, dn: &str, password: &str) -> bool {
    let ep = ctx.lease.endpoint();
    let Ok(mut conn) = open(&ep).await else { return false };
    let ok = bind(&mut conn, dn, password, ctx.timeout()).await.is_ok();
    let _ = conn.unbind().await;
    ok
}
