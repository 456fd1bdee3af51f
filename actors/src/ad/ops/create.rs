//! `ad.create_user`: add the entry disabled, set `unicodePwd` (TLS only), enable it,
//! `pwdLastSet = 0` when asked, add the group memberships. Crash-safe: the DC's
//! `highestCommittedUSN` is journaled with the intent before the add, so an existing
//! entry created after it (`uSNCreated` above it) is this job's own.

use std::collections::HashSet;

use ldap3::{Mod, Scope};
use serde_json::{json, Value};

use super::{one, replace};
use crate::ad::context::AdContext;
use crate::ad::password::unicode_pwd;
use crate::ad::policy::{changeable_group, within_scope};
use crate::ad::target::{resolve, Kind, Target};
use crate::audit::Change;
use crate::directory::codes::LdapFailure;
use crate::directory::entry::RawEntry;
use crate::directory::escape::dn_value;
use crate::errors::{ErrorCode, JobError};
use crate::protocol::payload::{CreateUser, ObjectRef};

const NORMAL_ACCOUNT: u32 = 0x200;
const ACCOUNTDISABLE: u32 = 0x2;
const PASSWD_NOTREQD: u32 = 0x20;

async fn highest_usn(ctx: &AdContext) -> Result<u64, JobError> {
    let root = ctx
        .search("", Scope::Base, "(objectClass=*)", &["highestCommittedUSN"])
        .await
        .map_err(|e| e.to_job_error("reading highestCommittedUSN"))?;
    Ok(root.first().and_then(|e| e.first_text("highestCommittedUSN")).and_then(|s| s.parse().ok()).unwrap_or(0))
}

fn attributes(p: &CreateUser, cn: &str) -> Vec<(Vec<u8>, HashSet<Vec<u8>>)> {
    let mut attrs: Vec<(Vec<u8>, HashSet<Vec<u8>>)> = vec![
        (
            b"objectClass".to_vec(),
            ["top", "person", "organizationalPerson", "user"].iter().map(|s| s.as_bytes().to_vec()).collect(),
        ),
        (b"cn".to_vec(), one(cn)),
        (b"sAMAccountName".to_vec(), one(p.sam_account_name.as_str())),
        (b"userAccountControl".to_vec(), one((NORMAL_ACCOUNT | ACCOUNTDISABLE).to_string())),
    ];
    let optional = [
        ("userPrincipalName", &p.user_principal_name),
        ("givenName", &p.given_name),
        ("sn", &p.surname),
        ("displayName", &p.display_name),
        ("mail", &p.mail),
    ];
    for (name, value) in optional {
        if let Some(v) = value {
            attrs.push((name.as_bytes().to_vec(), one(v.as_str())));
        }
    }
    for (name, values) in p.attributes.iter().flatten() {
        if !values.is_empty() && !attrs.iter().any(|(n, _)| n.eq_ignore_ascii_case(name.as_bytes())) {
            attrs.push((name.as_bytes().to_vec(), values.iter().map(|v| v.as_bytes().to_vec()).collect()));
        }
    }
    attrs
}

pub async fn create(ctx: &AdContext, p: &CreateUser) -> Result<Value, JobError> {
    ctx.allowed()?;
    if p.password.is_some() {
        ctx.encrypted()?;
    }
    let policy = &ctx.lease.settings.policy;
    within_scope(policy, &p.parent_dn)?;
    let mut groups: Vec<Target> = Vec::new();
    for g in p.groups.iter().flatten() {
        let group = resolve(ctx, Kind::Group, g, &[]).await?;
        changeable_group(policy, &group)?;
        within_scope(policy, &group.dn)?;
        groups.push(group);
    }
    let cn = p.cn.clone().or_else(|| p.display_name.clone()).unwrap_or_else(|| p.sam_account_name.clone());
    let dn = format!("CN={},{}", dn_value(&cn), p.parent_dn);
    let intent = match ctx.step("create.intent").await? {
        Some(i) => i,
        None => {
            let i = json!({"dn": dn, "usn": highest_usn(ctx).await?});
            ctx.record("create.intent", i.clone()).await?;
            i
        }
    };
    let usn_before = intent["usn"].as_u64().unwrap_or(u64::MAX);
    add_entry(ctx, p, &cn, &dn, usn_before).await?;
    let user = resolve(ctx, Kind::User, &ObjectRef::dn(&dn), &[]).await?;
    finish(ctx, p, &user).await?;
    for group in &groups {
        add_member(ctx, group, &user.dn).await?;
    }
    Ok(json!({"dn": user.dn, "guid": user.guid}))
}

/// Adds the new user to a group already resolved and checked; already a member is fine.
async fn add_member(ctx: &AdContext, group: &Target, user_dn: &str) -> Result<(), JobError> {
    let c = Change { attribute: format!("member ({user_dn})"), before: json!("absent"), after: json!("present") };
    let res = ctx.add_member(&group.dn, user_dn).await;
    ctx.audit(&group.dn, group.guid.as_deref(), vec![c], &res).await;
    match res {
        Ok(()) => Ok(()),
        Err(e) if matches!(e.rc(), Some(68) | Some(20)) => Ok(()),
        Err(e) => Err(e.to_job_error("group membership")),
    }
}

/// Adds the entry; an entry already there is ours only if created after the intent.
async fn add_entry(ctx: &AdContext, p: &CreateUser, cn: &str, dn: &str, usn_before: u64) -> Result<(), JobError> {
    let attrs = attributes(p, cn);
    let changes: Vec<Change> = attrs
        .iter()
        .map(|(n, v)| Change {
            attribute: String::from_utf8_lossy(n).into_owned(),
            before: Value::Null,
            after: json!(v.iter().map(|x| String::from_utf8_lossy(x).into_owned()).collect::<Vec<_>>()),
        })
        .collect();
    let mut ldap = ctx.ldap();
    let res = LdapFailure::checked(ldap.with_timeout(ctx.timeout()).add(dn, attrs).await);
    match res {
        Ok(()) => {
            ctx.audit(dn, None, changes, &Ok(())).await;
            Ok(())
        }
        Err(e) if e.rc() == Some(68) => {
            let existing: Vec<RawEntry> = ctx
                .search(dn, Scope::Base, "(objectClass=*)", &["uSNCreated", "sAMAccountName"])
                .await
                .map_err(|e| e.to_job_error("reading the existing entry"))?;
            let created: u64 =
                existing.first().and_then(|e| e.first_text("uSNCreated")).and_then(|s| s.parse().ok()).unwrap_or(0);
            if created > usn_before {
                Ok(()) // created by this job before a crash
            } else {
                Err(JobError::new(ErrorCode::AlreadyExists, format!("{dn} existed before this job")))
            }
        }
        Err(e) => {
            ctx.audit(dn, None, changes, &Err(e.clone())).await;
            Err(e.to_job_error("add"))
        }
    }
}

/// Password, then enable, then must-change, in that order in one modify (each written
/// only when needed; the whole modify is idempotent, so a re-run simply repeats it).
async fn finish(ctx: &AdContext, p: &CreateUser, user: &Target) -> Result<(), JobError> {
    let mut mods = Vec::new();
    let mut changes = Vec::new();
    if let Some(pw) = &p.password {
        mods.push(Mod::Replace(b"unicodePwd".to_vec(), HashSet::from([unicode_pwd(pw.expose())])));
        changes.push(Change { attribute: "unicodePwd".into(), before: Value::Null, after: json!("(secret)") });
    }
    let uac = user.uac();
    let mut wanted = if p.enabled.unwrap_or(true) { uac & !ACCOUNTDISABLE } else { uac | ACCOUNTDISABLE };
    if p.password.is_none() && wanted & ACCOUNTDISABLE == 0 {
        wanted |= PASSWD_NOTREQD; // an enabled account without a password must say so
    }
    if wanted != uac {
        mods.push(replace("userAccountControl", wanted.to_string()));
        changes.push(Change {
            attribute: "userAccountControl".into(),
            before: json!(uac.to_string()),
            after: json!(wanted.to_string()),
        });
    }
    if p.must_change_password.unwrap_or(false) && user.number("pwdLastSet") != Some(0) {
        mods.push(replace("pwdLastSet", "0"));
        changes.push(Change { attribute: "pwdLastSet".into(), before: Value::Null, after: json!("0") });
    }
    if !mods.is_empty() {
        ctx.modify(&user.dn, user.guid.as_deref(), mods, changes)
            .await
            .map_err(|e| e.to_job_error("setting the password and enabling the account"))?;
    }
    Ok(())
}
