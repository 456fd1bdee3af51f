//! `ad.add_to_group`, `ad.remove_from_group`: already a member / not a member is
//! success with `changed: false`. Membership is judged by DN ([`same_dn`]), never by
//! the string spelling of `memberOf`.

use std::collections::HashSet;

use ldap3::Mod;
use serde_json::{json, Value};

use crate::ad::context::{AdContext, Write};
use crate::ad::policy::same_dn;
use crate::ad::resolve::resolve;
use crate::ad::target::Kind;
use crate::audit::Change;
use crate::errors::{ErrorCode, JobError};
use crate::ldap::codes::rc;
use crate::protocol::payload::Membership;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Direction {
    Add,
    Remove,
}

pub async fn change(ctx: &AdContext, p: &Membership, direction: Direction) -> Result<Value, JobError> {
    let user = resolve(ctx, Kind::User, &p.user, &[]).await?;
    let group = resolve(ctx, Kind::Group, &p.group, &[]).await?;
    ctx.changeable_group(&group).await?;
    ctx.writable_account(&user).await?;
    let is_member = user.member_of().iter().any(|g| same_dn(g, &group.dn));
    // memberOf never lists the primary group (that membership lives in primaryGroupID,
    // not in the group's `member`): a user is its member all the same, until
    // primaryGroupID names another group.
    let primary =
        group.sid().and_then(|s| s.rid()).is_some_and(|rid| user.number("primaryGroupID") == Some(i64::from(rid)));
    if primary && direction == Direction::Remove {
        return Err(JobError::new(
            ErrorCode::ConstraintViolation,
            format!("{} is the primary group of {}: the DC keeps it while primaryGroupID names it", group.dn, user.dn),
        ));
    }
    let is_member = is_member || primary;
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
    match ctx.write(&group.dn, group.guid.as_deref(), vec![change], Write::Modify(vec![m])).await? {
        Ok(()) => Ok(result(true)),
        // Already a member, or no longer one: a concurrent change won.
        Err(e)
            if matches!(e.rc(), Some(rc::ENTRY_ALREADY_EXISTS) | Some(rc::ATTRIBUTE_OR_VALUE_EXISTS))
                && direction == Direction::Add =>
        {
            Ok(result(false))
        }
        Err(e)
            if matches!(e.rc(), Some(rc::UNWILLING_TO_PERFORM) | Some(rc::NO_SUCH_ATTRIBUTE))
                && direction == Direction::Remove =>
        {
            Ok(result(false))
        }
        Err(e) => Err(e.to_job_error("group membership")),
    }
}
