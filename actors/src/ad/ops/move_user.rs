//! `ad.move_user`: a new parent and/or a new CN, by one LDAP ModifyDN (RFC 4511 §4.9).
//! Both ends are judged: the user as every write to an account is (inside `allowed_ous`,
//! not protected), and the target parent must lie inside `allowed_ous` too. The new CN is
//! escaped per RFC 4514 by the `Dn` type. A user already at the target is `changed:
//! false` and nothing is written.
//!
//! Crash safety: the intent journals the user's GUID, old DN and new DN before the
//! ModifyDN; a re-run finds the user at the new DN (with that GUID) or by the GUID, and
//! answers with the journaled `old_dn`.

use serde_json::{json, Value};

use crate::ad::context::{AdContext, Write};
use crate::ad::names::check_cn;
use crate::ad::policy::{parse_dn, same_dn, within_scope};
use crate::ad::resolve::resolve;
use crate::ad::steps::MoveIntent;
use crate::ad::target::{Kind, Target};
use crate::audit::Change;
use crate::errors::{ErrorCode, JobError};
use crate::ldap::codes::rc;
use crate::ldap::dn::Dn;
use crate::protocol::payload::{MoveUser, ObjectRef};

pub async fn move_user(ctx: &AdContext, p: &MoveUser) -> Result<Value, JobError> {
    if let Some(cn) = &p.new_cn {
        check_cn("new_cn", cn)?;
    }
    let journal = ctx.journal();
    let intent = journal.read::<MoveIntent>().await?;
    let user = match &intent {
        Some(i) => find_again(ctx, i).await?,
        None => resolve(ctx, Kind::User, &p.user, &[]).await?,
    };
    ctx.writable_account(&user).await?;
    let current = parse_dn(&user.dn, "the user's DN")?;
    let parent = match &p.new_parent_dn {
        Some(dn) => parse_dn(dn, "`new_parent_dn`")?,
        None => current.parent().ok_or_else(|| JobError::internal(format!("{} has no parent", user.dn)))?,
    };
    let cn = match &p.new_cn {
        Some(cn) => cn.clone(),
        None => current.leaf_value().map(str::to_owned).ok_or_else(|| JobError::internal("an empty DN"))?,
    };
    let parent_text = ad_string(&parent, "`new_parent_dn`")?;
    within_scope(&ctx.lease.settings.policy, &parent_text)
        .map_err(|e| JobError::new(e.code, format!("the target parent is refused: {}", e.message)))?;
    let target = parent.child("CN", &cn);
    let old_dn = intent.as_ref().map_or_else(|| user.dn.clone(), |i| i.old_dn.clone());
    let result = |dn: &str| json!({"dn": dn, "old_dn": old_dn, "changed": !same_dn(dn, &old_dn)});
    if target == current {
        return Ok(result(&user.dn));
    }
    let target_text = ad_string(&target, "the new DN")?;
    let step = MoveIntent { old_dn: user.dn.clone(), guid: user.guid.clone(), new_dn: target_text.clone() };
    journal.record(&step).await?;
    let new_rdn = ad_string(&Dn::root().child("CN", &cn), "`new_cn`")?;
    let new_superior = (current.parent().as_ref() != Some(&parent)).then_some(parent_text);
    let change = Change { attribute: "dn".into(), before: json!(user.dn), after: json!(target_text) };
    match ctx.write(&user.dn, user.guid.as_deref(), vec![change], Write::Rename { new_rdn, new_superior }).await? {
        Ok(()) => {}
        Err(e) if e.rc() == Some(rc::ENTRY_ALREADY_EXISTS) => {
            return Err(JobError::new(
                ErrorCode::AlreadyExists,
                format!("cannot move {} to {target_text}: an entry with that DN already exists", user.dn),
            ))
        }
        Err(e) => return Err(e.to_job_error("move")),
    }
    // The DN as the DC spells it now (read at the DN: the target may lie outside base_dn).
    let moved = resolve(ctx, Kind::User, &ObjectRef::dn(&target_text), &[]).await?;
    Ok(result(&moved.dn))
}

/// The user of a re-run: at the DN its intent moved it to (when the GUID there is the
/// journaled one), else by that GUID (under `base_dn`: where it was before the move).
async fn find_again(ctx: &AdContext, intent: &MoveIntent) -> Result<Target, JobError> {
    let guid = intent.guid.as_deref().unwrap_or_default();
    let there = resolve(ctx, Kind::User, &ObjectRef::dn(&intent.new_dn), &[]).await.ok();
    if let Some(user) = there.filter(|u| u.guid.as_deref() == Some(guid)) {
        return Ok(user);
    }
    resolve(ctx, Kind::User, &ObjectRef::guid(guid), &[]).await
}

fn ad_string(dn: &Dn, what: &str) -> Result<String, JobError> {
    dn.to_ad_string().map_err(|e| JobError::invalid_job(format!("{what}: {e}")))
}
