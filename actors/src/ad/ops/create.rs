//! `ad.create_user`: over TLS with a password, one add carrying it and the final
//! flags; otherwise add the entry disabled, then set `unicodePwd` and enable it; then
//! `pwdLastSet = 0` when asked, and the group memberships.
//!
//! A create never adopts an account it did not make. Its intent journals the DC's
//! `highestCommittedUSN`, `dsServiceName` and `invocationId` before the add, and the
//! new entry's `objectGUID` is journaled right after it; a re-run continues with that
//! GUID. An add answered "already exists" is this job's own only when the entry there
//! has this job's sAMAccountName, was created after the intent (`uSNCreated`), on the
//! same DC database (`invocationId`: USNs are per DC) — the window of a crash between
//! the add and its GUID's journal line. Anything else is `already_exists`, untouched.
//! Without a password the account stays disabled (no PASSWD_NOTREQD, ever) and gets a
//! random one nobody knows, so a later enable never yields an account without one.

use std::collections::HashSet;

use ldap3::{Mod, Scope};
use serde_json::{json, Value};

use super::one;
use super::passwords::must_change_possible;
use super::replace;
use crate::ad::attributes::{check_writable, AttributePolicy};
use crate::ad::context::{AdContext, Write};
use crate::ad::password::{unguessable, unicode_pwd};
use crate::ad::password_policy::{self, Account, Holder};
use crate::ad::policy::{parse_dn, within_scope};
use crate::ad::resolve::resolve;
use crate::ad::steps::{CreateAdded, CreateIntent};
use crate::ad::target::{Kind, Target};
use crate::ad::uac::{ACCOUNTDISABLE, NORMAL_ACCOUNT};
use crate::audit::Change;
use crate::errors::{ErrorCode, JobError};
use crate::ldap::codes::rc;
use crate::ldap::escape::filter_value;
use crate::protocol::payload::{CreateUser, ObjectRef};
use crate::queue::Step;

pub(super) type Attrs = Vec<(Vec<u8>, HashSet<Vec<u8>>)>;

/// What this job saw of the DC before its add (journaled as step `S`: `create.intent`,
/// `create_group.intent`), and whether an earlier run of the job journaled it (only then
/// can an entry already there be this job's own).
pub(super) async fn intent<S>(ctx: &AdContext, dn: &str) -> Result<(CreateIntent, Attempt), JobError>
where
    S: Step + From<CreateIntent> + Into<CreateIntent>,
{
    let journal = ctx.journal();
    if let Some(i) = journal.read::<S>().await? {
        return Ok((i.into(), Attempt::Resumed));
    }
    let (usn, dc) = dc_position(ctx).await?;
    let invocation_id = ctx.invocation_id(&dc).await?;
    let i = CreateIntent { dn: dn.to_owned(), usn, dc, invocation_id };
    journal.record(&S::from(i.clone())).await?;
    Ok((i, Attempt::First))
}

/// Whether this run is the job's first, or a re-run after a crash or a retry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Attempt {
    First,
    Resumed,
}

/// The DC's `highestCommittedUSN` and `dsServiceName`, from the root DSE.
pub(super) async fn dc_position(ctx: &AdContext) -> Result<(u64, String), JobError> {
    let root = ctx
        .search("", Scope::Base, "(objectClass=*)", &["highestCommittedUSN", "dsServiceName"])
        .await
        .map_err(|e| e.to_job_error("reading the root DSE"))?;
    let text = |a: &str| root.first().and_then(|e| e.first_text(a)).map(str::to_owned);
    let usn = text("highestCommittedUSN").and_then(|s| s.parse().ok());
    match (usn, text("dsServiceName")) {
        (Some(usn), Some(dc)) => Ok((usn, dc)),
        _ => Err(JobError::internal("the root DSE has no highestCommittedUSN or dsServiceName: not an AD DC?")),
    }
}

/// The job's own attributes, each resolved through the schema and allowed by the
/// attribute policy; one that repeats a fixed attribute or a named field is refused.
async fn requested(ctx: &AdContext, p: &CreateUser, fixed: &Attrs) -> Result<Attrs, JobError> {
    let Some(map) = p.attributes.as_ref().filter(|m| !m.is_empty()) else { return Ok(Vec::new()) };
    let schema = ctx.schema().await?;
    let policy = AttributePolicy { writable: ctx.lease.settings.policy.writable_attributes.clone() };
    let mut out = Vec::new();
    for (written, values) in map {
        let r = check_writable(&schema, &policy, written)?;
        if fixed.iter().any(|(n, _)| r.def.name.as_bytes().eq_ignore_ascii_case(n)) {
            return Err(JobError::invalid_job(format!(
                "attributes.{written}: {} is set by the job's own fields, not in `attributes`",
                r.def.name
            )));
        }
        if !values.is_empty() {
            out.push((r.description().into_bytes(), values.iter().map(|v| v.as_bytes().to_vec()).collect()));
        }
    }
    Ok(out)
}

fn fixed_attributes(p: &CreateUser, cn: &str) -> Attrs {
    let mut attrs: Attrs = vec![
        (
            b"objectClass".to_vec(),
            ["top", "person", "organizationalPerson", "user"].iter().map(|s| s.as_bytes().to_vec()).collect(),
        ),
        (b"cn".to_vec(), one(cn)),
        (b"sAMAccountName".to_vec(), one(p.sam_account_name.as_str())),
        (b"userAccountControl".to_vec(), one((NORMAL_ACCOUNT | ACCOUNTDISABLE).to_string())),
    ];
    let named = [
        ("userPrincipalName", &p.user_principal_name),
        ("givenName", &p.given_name),
        ("sn", &p.surname),
        ("displayName", &p.display_name),
        ("mail", &p.mail),
    ];
    for (name, value) in named {
        attrs.push((name.as_bytes().to_vec(), value.iter().map(|v| v.as_bytes().to_vec()).collect()));
    }
    attrs
}

pub async fn create(ctx: &AdContext, p: &CreateUser) -> Result<Value, JobError> {
    if p.password.is_none() && p.enabled == Some(true) {
        return Err(JobError::invalid_job(
            "enabled: true needs a `password`: an account without one is created disabled",
        ));
    }
    let policy = &ctx.lease.settings.policy;
    let parent = parse_dn(&p.parent_dn, "`parent_dn`")?;
    within_scope(policy, &p.parent_dn)?;
    let cn = p.cn.clone().or_else(|| p.display_name.clone()).unwrap_or_else(|| p.sam_account_name.clone());
    refuse_machine_like(ctx, &p.sam_account_name).await?;
    if let Some(pw) = &p.password {
        let holder = Holder { sam_account_name: &p.sam_account_name, display_name: p.display_name.as_deref() };
        password_policy::check(ctx, Account { dn: None, holder }, pw.expose()).await?;
    }
    if cn.chars().any(char::is_control) {
        return Err(JobError::invalid_job("the user's name (cn, display_name) holds a control character"));
    }
    let mut attrs = fixed_attributes(p, &cn);
    attrs.retain(|(_, v)| !v.is_empty());
    let extra = requested(ctx, p, &attrs).await?;
    attrs.extend(extra);
    let mut groups: Vec<Target> = Vec::new();
    for g in p.groups.iter().flatten() {
        let group = resolve(ctx, Kind::Group, g, &[]).await?;
        ctx.changeable_group(&group).await?;
        groups.push(group);
    }
    let dn = parent.child("CN", &cn).to_ad_string().map_err(|e| JobError::invalid_job(format!("`parent_dn`: {e}")))?;
    let (intent, attempt) = intent::<CreateIntent>(ctx, &dn).await?;
    let (user, password) = match ctx.journal().read::<CreateAdded>().await?.and_then(|a| a.guid) {
        // A re-run cannot tell what the add carried: the modify sets it all again.
        Some(guid) => (resolve(ctx, Kind::User, &ObjectRef::guid(&guid), &[]).await?, PasswordIn::Modify),
        None => {
            let password = password_in_add(ctx, p, &mut attrs);
            (add_entry(ctx, p, &dn, attrs, &intent, attempt).await?, password)
        }
    };
    finish(ctx, p, &user, password).await?;
    for group in &groups {
        add_member(ctx, group, &user.dn).await?;
    }
    Ok(json!({"dn": user.dn, "guid": user.guid}))
}

/// Adds the new user to a group already resolved and checked; already a member is fine.
async fn add_member(ctx: &AdContext, group: &Target, user_dn: &str) -> Result<(), JobError> {
    let c = Change { attribute: format!("member ({user_dn})"), before: json!("absent"), after: json!("present") };
    let write = Write::AddMember { member_dn: user_dn.to_owned() };
    match ctx.write(&group.dn, group.guid.as_deref(), vec![c], write).await? {
        Ok(()) => Ok(()),
        Err(e) if matches!(e.rc(), Some(rc::ENTRY_ALREADY_EXISTS) | Some(rc::ATTRIBUTE_OR_VALUE_EXISTS)) => Ok(()),
        Err(e) => Err(e.to_job_error("group membership")),
    }
}

/// Adds the entry, and journals its GUID at once.
async fn add_entry(
    ctx: &AdContext,
    p: &CreateUser,
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
        Err(e) if e.rc() == Some(rc::ENTRY_ALREADY_EXISTS) => own_entry(ctx, p, dn, intent).await?,
        Err(e) => return Err(e.to_job_error("add")),
    }
    let user = resolve(ctx, Kind::User, &ObjectRef::dn(dn), &[]).await?;
    ctx.journal().record(&CreateAdded { guid: user.guid.clone() }).await?;
    Ok(user)
}

/// The audit lines' changes of an add: each attribute and its values, a password as
/// `(secret)`.
pub(super) fn add_changes(attrs: &Attrs) -> Vec<Change> {
    attrs
        .iter()
        .map(|(n, v)| Change {
            attribute: String::from_utf8_lossy(n).into_owned(),
            before: Value::Null,
            after: if n.eq_ignore_ascii_case(b"unicodePwd") {
                json!("(secret)")
            } else {
                json!(v.iter().map(|x| String::from_utf8_lossy(x).into_owned()).collect::<Vec<_>>())
            },
        })
        .collect()
}

/// What the entry an add of a re-run found at its DN is.
pub(super) enum Found {
    /// Nothing there (any more): the name that clashed is elsewhere.
    Nothing,
    /// Provably this job's own add before a crash: this sAMAccountName, created after the
    /// intent's USN on the same DC database (USNs are per DC).
    Own,
    /// Another account's, or one this job cannot prove its own; why, in words.
    Other(&'static str),
}

/// Judges the entry at `dn` (of `filter`, e.g. `(objectClass=group)`) against the intent.
pub(super) async fn found_at(
    ctx: &AdContext,
    dn: &str,
    filter: &str,
    sam: &str,
    intent: &CreateIntent,
) -> Result<Found, JobError> {
    let found = ctx
        .search(dn, Scope::Base, filter, &["uSNCreated", "sAMAccountName"])
        .await
        .map_err(|e| e.to_job_error("reading the existing entry"))?;
    let Some(entry) = found.first() else { return Ok(Found::Nothing) };
    if !entry.first_text("sAMAccountName").is_some_and(|s| s.eq_ignore_ascii_case(sam)) {
        return Ok(Found::Other("another account has this name"));
    }
    let created: u64 = entry.first_text("uSNCreated").and_then(|s| s.parse().ok()).unwrap_or(0);
    let (_, dc) = dc_position(ctx).await?;
    let same_dc = intent.invocation_id == ctx.invocation_id(&dc).await?;
    Ok(if same_dc && created > intent.usn {
        Found::Own // added by this job before a crash, between the add and its GUID's journal line
    } else {
        Found::Other("it cannot be shown to be this job's own: created before this job, or on another DC")
    })
}

/// `Ok` only when the entry at `dn` is provably the one this job added before a crash.
async fn own_entry(ctx: &AdContext, p: &CreateUser, dn: &str, intent: &CreateIntent) -> Result<(), JobError> {
    match found_at(ctx, dn, "(objectClass=*)", &p.sam_account_name, intent).await? {
        Found::Own => Ok(()),
        Found::Nothing => Err(taken(ctx, p, dn).await),
        Found::Other(why) => Err(JobError::new(ErrorCode::AlreadyExists, format!("{dn} already exists ({why})"))),
    }
}

/// A user's sAMAccountName never ends in `$` (machine accounts do), nor names a
/// computer without its `$`: such a name is the first step of noPac (CVE-2021-42278,
/// CVE-2021-42287), where a DC confuses the user with a computer.
async fn refuse_machine_like(ctx: &AdContext, sam: &str) -> Result<(), JobError> {
    if sam.ends_with('$') {
        return Err(JobError::invalid_job(format!(
            "sam_account_name `{sam}` ends in `$`, which only machine accounts do"
        )));
    }
    let filter = format!("(&(sAMAccountName={}$)(objectClass=computer))", filter_value(sam));
    let domain = ctx.domain().await;
    let found = ctx
        .search(&domain, Scope::Subtree, &filter, &["1.1"])
        .await
        .map_err(|e| e.to_job_error("checking computer names"))?;
    match found.first() {
        Some(computer) => Err(JobError::new(
            ErrorCode::ConstraintViolation,
            format!("sam_account_name `{sam}` is the name of the computer {} without its `$`", computer.dn),
        )),
        None => Ok(()),
    }
}

/// The `already_exists` answer, naming what is taken: the DN, or the sAMAccountName (or
/// the userPrincipalName) by another entry.
async fn taken(ctx: &AdContext, p: &CreateUser, dn: &str) -> JobError {
    let exists = |why: String| JobError::new(ErrorCode::AlreadyExists, why);
    let at_dn = ctx.search(dn, Scope::Base, "(objectClass=*)", &["1.1"]).await;
    if at_dn.is_ok_and(|found| !found.is_empty()) {
        return exists(format!("{dn} already exists"));
    }
    let mut terms = format!("(sAMAccountName={})", filter_value(&p.sam_account_name));
    if let Some(upn) = &p.user_principal_name {
        terms.push_str(&format!("(userPrincipalName={})", filter_value(upn)));
    }
    let clash = ctx.search(&ctx.domain().await, Scope::Subtree, &format!("(|{terms})"), &["1.1"]).await;
    match clash.ok().and_then(|found| found.into_iter().next()) {
        Some(other) => exists(format!(
            "the sAMAccountName `{}` or the userPrincipalName is already used by {}",
            p.sam_account_name, other.dn
        )),
        None => exists(format!("the directory refused {dn} as already existing (a name it holds is taken)")),
    }
}

/// Where the job's password goes: into the add, with the account's final flags (one
/// write fewer per user: issue #17), or into the modify after it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum PasswordIn {
    Add,
    Modify,
}

/// On an encrypted connection, a job's password and the account's final
/// userAccountControl go into the add itself: AD checks the password policy on the add
/// as on a modify, and an entry never exists enabled without its password. Without a
/// password (or without TLS) the add stays disabled and [`finish`] does the rest.
fn password_in_add(ctx: &AdContext, p: &CreateUser, attrs: &mut Attrs) -> PasswordIn {
    let Some(pw) = p.password.as_ref().filter(|_| ctx.lease.settings.encrypted()) else {
        return PasswordIn::Modify;
    };
    let uac = if p.enabled.unwrap_or(true) { NORMAL_ACCOUNT } else { NORMAL_ACCOUNT | ACCOUNTDISABLE };
    for (name, values) in attrs.iter_mut() {
        if name.eq_ignore_ascii_case(b"userAccountControl") {
            *values = one(uac.to_string());
        }
    }
    attrs.push((b"unicodePwd".to_vec(), HashSet::from([unicode_pwd(pw.expose())])));
    PasswordIn::Add
}

/// Password, then enable, then must-change, in one modify (each written only when
/// needed; the whole modify is idempotent, so a re-run simply repeats it). Without a
/// password the account stays disabled.
async fn finish(ctx: &AdContext, p: &CreateUser, user: &Target, done: PasswordIn) -> Result<(), JobError> {
    let mut mods = Vec::new();
    let mut changes = Vec::new();
    // Without a password of the job's, one nobody knows (never none: see `unguessable`);
    // only over TLS, like every password.
    let password = match &p.password {
        Some(_) if done == PasswordIn::Add => None,
        Some(pw) => Some(pw.expose().to_owned()),
        None if ctx.lease.settings.encrypted() && user.number("pwdLastSet") == Some(0) => Some(unguessable()),
        None => None,
    };
    if let Some(pw) = password {
        mods.push(Mod::Replace(b"unicodePwd".to_vec(), HashSet::from([unicode_pwd(&pw)])));
        changes.push(Change { attribute: "unicodePwd".into(), before: Value::Null, after: json!("(secret)") });
    }
    let uac = user.uac();
    let enable = p.password.is_some() && p.enabled.unwrap_or(true);
    let wanted = if enable { uac & !ACCOUNTDISABLE } else { uac | ACCOUNTDISABLE };
    if wanted != uac {
        mods.push(replace("userAccountControl", wanted.to_string()));
        changes.push(Change {
            attribute: "userAccountControl".into(),
            before: json!(uac.to_string()),
            after: json!(wanted.to_string()),
        });
    }
    if p.must_change_password.unwrap_or(false) && user.number("pwdLastSet") != Some(0) {
        must_change_possible(&user.dn, wanted)?;
        mods.push(replace("pwdLastSet", "0"));
        changes.push(Change { attribute: "pwdLastSet".into(), before: Value::Null, after: json!("0") });
    }
    if !mods.is_empty() {
        ctx.write(&user.dn, user.guid.as_deref(), changes, Write::Modify(mods))
            .await?
            .map_err(|e| e.to_job_error("setting the password and enabling the account"))?;
    }
    Ok(())
}
