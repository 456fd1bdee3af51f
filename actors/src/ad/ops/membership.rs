//! `ad.add_to_group`, `ad.remove_from_group`: already a member / not a member is
//! success with `changed: false`.

use std::collections::HashSet;

use ldap3::Mod;
use serde_json::{json, Value};

use crate::ad::context::AdContext;
use crate::ad::policy::{changeable_group, under, within_scope, writable_account};
use crate::ad::target::{resolve, Kind};
use crate::audit::Change;
use crate::errors::JobError;
use crate::protocol::payload::Membership;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Direction {
    Add,
    Remove,
}

pub async fn change(ctx: &AdContext, p: &Membership, direction: Direction) -> Result<Value, JobError> {
    ctx.allowed()?;
    let policy = &ctx.lease.settings.policy;
    let user = resolve(ctx, Kind::User, &p.user, &[]).await?;
    let group = resolve(ctx, Kind::Group, &p.group, &[]).await?;
    changeable_group(policy, &group)?;
    within_scope(policy, &group.dn)?;
    writable_account(policy, &user)?;
    let is_member = user.member_of().iter().any(|g| under(g, &group.dn) && under(&group.dn, g));
    let result = |changed: bool| json!({"dn": user.dn, "group_dn": group.dn, "changed": changed});
    let (m, before, after) = match (direction, is_member) {
        (Direction::Add, true) | (Direction::Remove, false) => return Ok(result(false)),
        (Direction::Add, false) => {
            (Mod::Add(b"member".to_vec(), HashSet::from([user.dn.clone().into_bytes()])), "absent", "present")
        }
        (Direction::Remove, true) => {
            (Mod::Delete(b"member".to_vec(), HashSet::from([user.dn.clone().into_bytes()])), "present", "absent")
        }
    };
    let change = Change { attribute: format!("member ({})", user.dn), before: json!(before), after: json!(after) };
    match ctx.modify(&group.dn, group.guid.as_deref(), vec![m], vec![change]).await {
        Ok(()) => Ok(result(true)),
        // 68/20: already a member; 53/16: not a member (a concurrent change won).
        Err(e) if matches!(e.rc(), Some(68) | Some(20)) && direction == Direction::Add => Ok(result(false)),
        Err(e) if matches!(e.rc(), Some(53) | Some(16)) && direction == Direction::Remove => Ok(result(false)),
        Err(e) => Err(e.to_job_error("group membership")),
    }
}
