//! Resolving a `UserRef` / `GroupRef` to the one entry it names, as the directory says
//! now. Ambiguity is an error, never a guess; user input is escaped into the filter.

use ldap3::Scope;

use super::context::AdContext;
use super::target::{Kind, Target, TARGET_ATTRS};
use crate::errors::{ErrorCode, JobError};
use crate::ldap::escape::{filter_bytes, filter_value, user_filter};
use crate::ldap::record::{guid_bytes, guid_string};
use crate::protocol::payload::ObjectRef;

fn filter_for(ctx: &AdContext, kind: Kind, r: &ObjectRef) -> Result<(String, Option<String>), JobError> {
    let class = match kind {
        Kind::User => "(&(objectCategory=person)(objectClass=user))",
        Kind::Group => "(objectClass=group)",
    };
    let (field, value) = r.key().ok_or_else(|| JobError::invalid_job("a reference must have exactly one field"))?;
    // The key first, the class after: Samba evaluates an AND's indexes in order, and
    // the class first made a resolve cost the DC 5 ms of CPU instead of 0.2.
    let one = |attr: &str| Ok((format!("(&({attr}={}){class})", filter_value(value)), None));
    match (field, kind) {
        ("dn", _) => Ok((class.to_owned(), Some(super::policy::ad_dn(value, "the reference's `dn`")?))),
        ("sam_account_name", _) => one("sAMAccountName"),
        ("user_principal_name", Kind::User) => one("userPrincipalName"),
        ("name", _) => one("cn"),
        ("username", Kind::User) => {
            Ok((format!("(&{}{class})", user_filter(&ctx.lease.settings.user_filter, value)), None))
        }
        ("guid", _) => {
            let bytes = guid_bytes(value).ok_or_else(|| JobError::invalid_job(format!("`{value}` is not a GUID")))?;
            Ok((format!("(&(objectGUID={}){class})", filter_bytes(&bytes)), None))
        }
        (f, _) => Err(JobError::invalid_job(format!("a group reference cannot use `{f}`"))),
    }
}

/// The single entry a reference names, with [`TARGET_ATTRS`] and `extra` attributes.
pub async fn resolve(ctx: &AdContext, kind: Kind, r: &ObjectRef, extra: &[&str]) -> Result<Target, JobError> {
    let (filter, base_dn) = filter_for(ctx, kind, r)?;
    let mut attrs: Vec<&str> = TARGET_ATTRS.to_vec();
    attrs.extend_from_slice(extra);
    let found = match &base_dn {
        Some(dn) => ctx.search(dn, Scope::Base, &filter, &attrs).await,
        None => ctx.search(&ctx.lease.settings.base_dn, Scope::Subtree, &filter, &attrs).await,
    }
    .map_err(|e| e.to_job_error("resolving the target"))?;
    let (missing, what) = match kind {
        Kind::User => (ErrorCode::UserNotFound, "user"),
        Kind::Group => (ErrorCode::GroupNotFound, "group"),
    };
    let described = r.key().map(|(k, v)| format!("{k} `{v}`")).unwrap_or_default();
    match found.len() {
        0 => Err(JobError::new(missing, format!("no {what} with {described}"))),
        1 => {
            let mut entry = found.into_iter().next().ok_or_else(|| JobError::internal("empty result"))?;
            // `memberOf` of an account in more groups than MaxValRange comes in ranged parts
            // (and on a Windows DC beside an empty `memberOf`): read them all, so that
            // membership is judged on every group ([MS-ADTS] 3.1.1.3.1.3.3).
            entry
                .complete_ranges(&ctx.ldap(), ctx.timeout())
                .await
                .map_err(|e| e.to_job_error("reading the target's ranged values"))?;
            Ok(Target { dn: entry.dn.clone(), guid: entry.first("objectGUID").and_then(guid_string), entry })
        }
        n => Err(JobError::new(
            ErrorCode::ConstraintViolation,
            format!("{n} {what}s match {described}: refusing to guess"),
        )),
    }
}
