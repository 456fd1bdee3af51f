//! `ad.update_user`: replace / add / delete attribute values; an empty replace list
//! clears the attribute. Only what differs from the directory is written; attributes
//! with a job type of their own, or that grant privilege, are refused.

use std::collections::{BTreeMap, HashSet};

use ldap3::Mod;
use serde_json::{json, Value};

use crate::ad::context::{texts, AdContext};
use crate::ad::policy::writable_account;
use crate::ad::target::{resolve, Kind};
use crate::audit::Change;
use crate::errors::{ErrorCode, JobError};
use crate::protocol::payload::UpdateUser;

/// Never through `ad.update_user`: passwords, account control, privilege and identity.
const REFUSED: [&str; 12] = [
    "unicodepwd",
    "userpassword",
    "useraccountcontrol",
    "admincount",
    "memberof",
    "member",
    "primarygroupid",
    "objectsid",
    "sidhistory",
    "serviceprincipalname",
    "msds-allowedtodelegateto",
    "objectclass",
];

pub async fn update(ctx: &AdContext, p: &UpdateUser) -> Result<Value, JobError> {
    ctx.allowed()?;
    let empty = BTreeMap::new();
    let (rep, add, del) =
        (p.replace.as_ref().unwrap_or(&empty), p.add.as_ref().unwrap_or(&empty), p.delete.as_ref().unwrap_or(&empty));
    let names: Vec<&str> = rep.keys().chain(add.keys()).chain(del.keys()).map(String::as_str).collect();
    if let Some(bad) = names.iter().find(|n| REFUSED.contains(&n.to_ascii_lowercase().as_str())) {
        return Err(JobError::new(
            ErrorCode::ForbiddenByPolicy,
            format!("`{bad}` cannot be changed with ad.update_user"),
        ));
    }
    let user = resolve(ctx, Kind::User, &p.user, &names).await?;
    writable_account(&ctx.lease.settings.policy, &user)?;
    let mut mods = Vec::new();
    let mut changes = Vec::new();
    let mut changed = Vec::new();
    for (attr, wanted) in rep {
        let now = texts(&user.entry, attr);
        let (a, b): (HashSet<&String>, HashSet<&String>) = (now.iter().collect(), wanted.iter().collect());
        if a != b {
            mods.push(Mod::Replace(attr.as_bytes().to_vec(), wanted.iter().map(|v| v.as_bytes().to_vec()).collect()));
            changes.push(Change { attribute: attr.clone(), before: json!(now), after: json!(wanted) });
            changed.push(attr.clone());
        }
    }
    for (attr, values) in add {
        let now = texts(&user.entry, attr);
        let new: HashSet<Vec<u8>> = values.iter().filter(|v| !now.contains(v)).map(|v| v.as_bytes().to_vec()).collect();
        if !new.is_empty() {
            mods.push(Mod::Add(attr.as_bytes().to_vec(), new));
            changes.push(Change { attribute: attr.clone(), before: json!(now), after: json!(values) });
            changed.push(attr.clone());
        }
    }
    for (attr, values) in del {
        let now = texts(&user.entry, attr);
        let gone: HashSet<Vec<u8>> = if values.is_empty() {
            HashSet::new()
        } else {
            values.iter().filter(|v| now.contains(v)).map(|v| v.as_bytes().to_vec()).collect()
        };
        if (values.is_empty() && !now.is_empty()) || !gone.is_empty() {
            mods.push(Mod::Delete(attr.as_bytes().to_vec(), gone));
            changes.push(Change { attribute: attr.clone(), before: json!(now), after: json!(values) });
            changed.push(attr.clone());
        }
    }
    if !mods.is_empty() {
        ctx.modify(&user.dn, user.guid.as_deref(), mods, changes).await.map_err(|e| e.to_job_error("update"))?;
    }
    changed.sort();
    changed.dedup();
    Ok(json!({"dn": user.dn, "changed": changed}))
}
