//! `ad.create_group`: one add with the group's type, sAMAccountName, description and
//! members (users, each resolved and checked as an `ad.add_to_group` checks them).
//!
//! Crash safety as `ad.create_user` (see `create.rs`): the intent journals the DC's
//! `highestCommittedUSN` and `invocationId` before the add and the new group's GUID is
//! journaled right after it; a re-run continues with that GUID, and an add answered
//! "already exists" is this job's own only when the group there has this job's
//! sAMAccountName and was created after the intent on the same DC database. A group that
//! existed before the job is `already_exists`, untouched.
//!
//! A protected group cannot be created over: a create whose CN or sAMAccountName is that
//! of a protected group (anywhere in the domain) is refused, since protected groups may be
//! configured by name and a look-alike would make that name ambiguous.

use ldap3::Scope;
use serde_json::{json, Value};

use super::create::{add_changes, found_at, intent, Attempt, Attrs, Found};
use super::one;
use crate::ad::context::{AdContext, Write};
use crate::ad::group_type::group_type;
use crate::ad::names::{check_cn, check_group_sam};
use crate::ad::policy::{parse_dn, within_scope};
use crate::ad::resolve::resolve;
use crate::ad::steps::{CreateGroupAdded, CreateGroupIntent, CreateIntent};
use crate::ad::target::{Kind, Target, TARGET_ATTRS};
use crate::errors::{ErrorCode, JobError};
use crate::ldap::codes::rc;
use crate::ldap::escape::filter_value;
use crate::protocol::payload::{CreateGroup, ObjectRef};

pub async fn create(ctx: &AdContext, p: &CreateGroup) -> Result<Value, JobError> {
    check_cn("name", &p.name)?;
    let sam_field = if p.sam_account_name.is_some() { "sam_account_name" } else { "name (the default sAMAccountName)" };
    check_group_sam(sam_field, p.sam())?;
    let parent = parse_dn(&p.parent_dn, "`parent_dn`")?;
    within_scope(&ctx.lease.settings.policy, &p.parent_dn)?;
    let dn =
        parent.child("CN", &p.name).to_ad_string().map_err(|e| JobError::invalid_job(format!("`parent_dn`: {e}")))?;
    not_over_protected(ctx, p).await?;
    let mut members = Vec::new();
    for m in p.members.iter().flatten() {
        let user = resolve(ctx, Kind::User, m, &[]).await?;
        ctx.writable_account(&user).await?;
        members.push(user.dn);
    }
    let (intent, attempt) = intent::<CreateGroupIntent>(ctx, &dn).await?;
    let group = match ctx.journal().read::<CreateGroupAdded>().await?.and_then(|a| a.guid) {
        Some(guid) => made_before(ctx, &dn, &guid).await?,
        None => add(ctx, p, &dn, attributes(p, members), &intent, attempt).await?,
    };
    Ok(json!({"dn": group.dn, "guid": group.guid}))
}

/// The group an earlier run added: at its DN (which may lie outside `base_dn`) when the
/// GUID there is the journaled one, else by that GUID.
async fn made_before(ctx: &AdContext, dn: &str, guid: &str) -> Result<Target, JobError> {
    let there = resolve(ctx, Kind::Group, &ObjectRef::dn(dn), &[]).await.ok();
    match there.filter(|g| g.guid.as_deref() == Some(guid)) {
        Some(group) => Ok(group),
        None => resolve(ctx, Kind::Group, &ObjectRef::guid(guid), &[]).await,
    }
}

fn attributes(p: &CreateGroup, members: Vec<String>) -> Attrs {
    let mut attrs: Attrs = vec![
        (b"objectClass".to_vec(), ["top", "group"].iter().map(|s| s.as_bytes().to_vec()).collect()),
        (b"cn".to_vec(), one(p.name.as_str())),
        (b"sAMAccountName".to_vec(), one(p.sam())),
        (b"groupType".to_vec(), one(group_type(p.scope, p.kind))),
    ];
    if let Some(d) = p.description.as_ref().filter(|d| !d.is_empty()) {
        attrs.push((b"description".to_vec(), one(d.as_str())));
    }
    if !members.is_empty() {
        attrs.push((b"member".to_vec(), members.into_iter().map(String::into_bytes).collect()));
    }
    attrs
}

/// Refuses a create whose CN or sAMAccountName a protected group already has.
async fn not_over_protected(ctx: &AdContext, p: &CreateGroup) -> Result<(), JobError> {
    let (name, sam) = (filter_value(&p.name), filter_value(p.sam()));
    let filter = format!("(&(|(cn={name})(sAMAccountName={sam})(sAMAccountName={name}))(objectClass=group))");
    let found = ctx
        .search(&ctx.domain().await, Scope::Subtree, &filter, &TARGET_ATTRS)
        .await
        .map_err(|e| e.to_job_error("looking for groups of the same name"))?;
    for entry in found {
        let guid = entry.first("objectGUID").and_then(crate::ldap::record::guid_string);
        let group = Target { dn: entry.dn.clone(), guid, entry };
        ctx.protected_group(&group).await.map_err(|e| {
            JobError::new(
                ErrorCode::ForbiddenByPolicy,
                format!(
                    "a protected group cannot be created over: the name is taken by a protected group ({})",
                    e.message
                ),
            )
        })?;
    }
    Ok(())
}

/// Adds the group, and journals its GUID at once.
async fn add(
    ctx: &AdContext,
    p: &CreateGroup,
    dn: &str,
    attrs: Attrs,
    intent: &CreateIntent,
    attempt: Attempt,
) -> Result<Target, JobError> {
    let changes = add_changes(&attrs);
    match ctx.write(dn, None, changes, Write::Add(attrs)).await? {
        Ok(()) => {}
        // On a first run the add was never sent before: whoever made the entry, not us.
        Err(e) if e.rc() == Some(rc::ENTRY_ALREADY_EXISTS) && attempt == Attempt::First => {
            return Err(taken(ctx, p, dn).await)
        }
        Err(e) if e.rc() == Some(rc::ENTRY_ALREADY_EXISTS) => own_group(ctx, p, dn, intent).await?,
        Err(e) => return Err(e.to_job_error("add")),
    }
    let group = resolve(ctx, Kind::Group, &ObjectRef::dn(dn), &[]).await?;
    ctx.journal().record(&CreateGroupAdded { guid: group.guid.clone() }).await?;
    Ok(group)
}

/// `Ok` only when the group at `dn` is provably the one this job added before a crash.
async fn own_group(ctx: &AdContext, p: &CreateGroup, dn: &str, intent: &CreateIntent) -> Result<(), JobError> {
    match found_at(ctx, dn, "(objectClass=group)", p.sam(), intent).await? {
        Found::Own => Ok(()),
        Found::Nothing => Err(taken(ctx, p, dn).await),
        Found::Other(why) => Err(JobError::new(ErrorCode::AlreadyExists, format!("{dn} already exists ({why})"))),
    }
}

/// The `already_exists` answer, naming what is taken: the DN, or the sAMAccountName.
async fn taken(ctx: &AdContext, p: &CreateGroup, dn: &str) -> JobError {
    let exists = |why: String| JobError::new(ErrorCode::AlreadyExists, why);
    let at_dn = ctx.search(dn, Scope::Base, "(objectClass=*)", &["1.1"]).await;
    if at_dn.is_ok_and(|found| !found.is_empty()) {
        return exists(format!("{dn} already exists"));
    }
    let filter = format!("(sAMAccountName={})", filter_value(p.sam()));
    let clash = ctx.search(&ctx.domain().await, Scope::Subtree, &filter, &["1.1"]).await;
    match clash.ok().and_then(|found| found.into_iter().next()) {
        Some(other) => exists(format!("the sAMAccountName `{}` is already used by {}", p.sam(), other.dn)),
        None => exists(format!("the directory refused {dn} as already existing (a name it holds is taken)")),
    }
}
