//! `ad.update_user`: replace / add / delete attribute values; an empty replace list
//! clears the attribute. Every name (or OID, or `name;option`) is resolved through the
//! schema to one attribute before the attribute policy decides
//! ([`check_writable`]); values are compared by the attribute's matching rule (a
//! case-variant of a case-insensitive value is the same value, as the DC sees it), and
//! only what differs from the directory is written.

use std::collections::{BTreeMap, HashSet};

use ldap3::Mod;
use serde_json::{json, Value};

use crate::ad::attributes::{check_writable, AttributePolicy};
use crate::ad::context::{AdContext, Write};
use crate::ad::resolve::resolve;
use crate::ad::schema::AttributeDef;
use crate::ad::target::{texts, Kind};
use crate::audit::Change;
use crate::errors::JobError;
use crate::ldap::entry::RawEntry;
use crate::protocol::payload::UpdateUser;

#[derive(Clone, Copy, PartialEq, Eq)]
enum Op {
    Replace,
    Add,
    Delete,
}

struct Planned<'a> {
    op: Op,
    written: &'a str,
    /// The description the DC is sent and answers with: lDAPDisplayName plus options.
    name: String,
    def: &'a AttributeDef,
    values: &'a [String],
}

/// The stored values of one attribute description.
fn stored<'e>(entry: &'e RawEntry, name: &str) -> Vec<&'e [u8]> {
    entry
        .attributes
        .iter()
        .filter(|(n, _)| n.eq_ignore_ascii_case(name))
        .flat_map(|(_, v)| v.iter().map(Vec::as_slice))
        .collect()
}

/// `values` without repeats under the attribute's matching rule (first spelling kept).
fn distinct<'v>(def: &AttributeDef, values: impl IntoIterator<Item = &'v [u8]>) -> Vec<&'v [u8]> {
    let mut out: Vec<&[u8]> = Vec::new();
    for v in values {
        if !out.iter().any(|o| def.same_value(o, v)) {
            out.push(v);
        }
    }
    out
}

/// The modify this entry needs for one planned change; `None` when it already holds.
fn modification(p: &Planned<'_>, now: &[&[u8]]) -> Option<Mod<Vec<u8>>> {
    let def = p.def;
    let holds = |v: &[u8]| now.iter().any(|n| def.same_value(n, v));
    let wanted = distinct(def, p.values.iter().map(|v| v.as_bytes()));
    let name = p.name.as_bytes().to_vec();
    let set = |vs: Vec<&[u8]>| vs.into_iter().map(<[u8]>::to_vec).collect::<HashSet<_>>();
    match p.op {
        Op::Replace => {
            let same = wanted.len() == distinct(def, now.iter().copied()).len() && wanted.iter().all(|v| holds(v));
            (!same).then(|| Mod::Replace(name, set(wanted)))
        }
        Op::Add => {
            let new: Vec<&[u8]> = wanted.into_iter().filter(|v| !holds(v)).collect();
            (!new.is_empty()).then(|| Mod::Add(name, set(new)))
        }
        Op::Delete if p.values.is_empty() => (!now.is_empty()).then(|| Mod::Delete(name, HashSet::new())),
        Op::Delete => {
            // The stored spelling is what the DC deletes: a case-variant would not match.
            let gone: Vec<&[u8]> =
                now.iter().copied().filter(|n| wanted.iter().any(|w| def.same_value(n, w))).collect();
            (!gone.is_empty()).then(|| Mod::Delete(name, set(gone)))
        }
    }
}

pub async fn update(ctx: &AdContext, p: &UpdateUser) -> Result<Value, JobError> {
    let schema = ctx.schema().await?;
    let policy = AttributePolicy { writable: ctx.lease.settings.policy.writable_attributes.clone() };
    let empty = BTreeMap::new();
    let lists = [(Op::Replace, &p.replace), (Op::Add, &p.add), (Op::Delete, &p.delete)];
    let mut plan = Vec::new();
    for (op, list) in lists {
        for (written, values) in list.as_ref().unwrap_or(&empty) {
            let r = check_writable(&schema, &policy, written)?;
            plan.push(Planned { op, written, name: r.description(), def: r.def, values });
        }
    }
    let names: Vec<&str> = plan.iter().map(|p| p.name.as_str()).collect();
    let user = resolve(ctx, Kind::User, &p.user, &names).await?;
    ctx.writable_account(&user).await?;
    let (mut mods, mut changes, mut changed) = (Vec::new(), Vec::new(), Vec::new());
    for planned in &plan {
        if let Some(m) = modification(planned, &stored(&user.entry, &planned.name)) {
            mods.push(m);
            let before = texts(&user.entry, &planned.name);
            changes.push(Change {
                attribute: planned.name.clone(),
                before: json!(before),
                after: json!(planned.values),
            });
            changed.push(planned.written.to_owned());
        }
    }
    if !mods.is_empty() {
        ctx.write(&user.dn, user.guid.as_deref(), changes, Write::Modify(mods))
            .await?
            .map_err(|e| e.to_job_error("update"))?;
    }
    changed.sort();
    changed.dedup();
    Ok(json!({"dn": user.dn, "changed": changed}))
}
