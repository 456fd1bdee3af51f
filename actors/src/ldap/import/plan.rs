//! What an import does, decided once by its first run and journaled (`import.plan`), so
//! a resumed run continues the same import: the base, the filter, the attributes asked
//! for, where a delta starts and where its deletions are, and which scope file it reads
//! and writes ([`super::scope`]).

use ldap3::{Ldap, Scope};
use serde::{Deserialize, Serialize};

use super::class::ObjectClass;
use super::deleted::{self, SHOW_DELETED_OID};
use super::position::{ad_position, delta_time, delta_usn};
use super::scope::{scope_id, Memberships, ScopeStore};
use super::ImportJob;
use crate::directory::{DirectoryKind, Lease};
use crate::errors::{ErrorCode, JobError};
use crate::ldap::dn::Dn;
use crate::ldap::entry::RawEntry;
use crate::ldap::withheld::{filter_attributes, Withholding};
use crate::protocol::payload::Import;
use crate::queue::Step;

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Plan {
    pub base: String,
    /// The main search's filter (with the delta's condition, if any).
    pub filter: String,
    /// The job's filter alone (the entries of the import), without a delta's condition.
    #[serde(default)]
    pub selection: String,
    pub attributes: Vec<String>,
    /// Attributes asked for the import's own use only, removed from the records.
    #[serde(default)]
    pub strip: Vec<String>,
    #[serde(default)]
    pub class: ObjectClass,
    /// The token this import hands back; on LDAP servers other than AD the one of the
    /// delta it continues (the journaled `import.token`, from the data, comes first).
    pub next_token: String,
    #[serde(default)]
    pub delta: Option<Delta>,
    #[serde(default)]
    pub scope: Option<ScopePlan>,
    /// When the first run started (this host's clock, only ever subtracted from itself).
    #[serde(default)]
    pub started_ms: u64,
}

impl Step for Plan {
    const NAME: &'static str = "import.plan";
}

/// `import.token`: the delta token for the next import, journaled once the entries are
/// read (before the last batch); stored as a JSON string.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ImportToken(pub String);

impl Step for ImportToken {
    const NAME: &'static str = "import.token";
}

/// What a delta reads besides the changed entries under the base.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Delta {
    /// `(uSNChanged>=n)` or `(modifyTimestamp>=t)`: changed since the token.
    pub changed: String,
    /// AD: the token's USN, for tombstones and groups.
    pub usn: Option<u64>,
    /// The naming context holding the base (AD: the domain): where departures are.
    pub naming_context: String,
    /// AD: the Deleted Objects container this account was seen to read.
    pub deleted_objects: Option<String>,
    /// The token's scope file is on this host.
    pub known_scope: bool,
    /// The main search reads every entry in scope (see [`plan`]).
    pub resend_all: bool,
}

/// The scope file this import reads (the token's) and writes (its own).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ScopePlan {
    pub id: String,
    /// The records' `memberOf` is tracked (AD, and the job asks for it).
    pub memberships: Memberships,
    /// The delta token whose file is read and updated; `None` for a full import.
    pub old_token: Option<String>,
    /// Whether this import writes a scope file at all (a delta without the token's file
    /// cannot: it does not know who else is in scope).
    pub write: bool,
}

impl Plan {
    pub fn entry_filter(&self) -> &str {
        if self.selection.is_empty() {
            &self.filter
        } else {
            &self.selection
        }
    }

    /// Writes this import's scope file once it is done (idempotent: a finished one stays).
    pub async fn keep_scope(&self, job: &ImportJob, store: &ScopeStore, token: &str) {
        let Some(s) = self.scope.clone().filter(|s| s.write) else {
            store.discard(&job.job_id);
            return;
        };
        if store.exists(&s.id, token) {
            store.discard(&job.job_id);
            return;
        }
        let (store, id, token) = (store.clone(), job.job_id.clone(), token.to_owned());
        let built = tokio::task::spawn_blocking(move || store.build(&id, &s.id, s.old_token.as_deref(), &token)).await;
        match built {
            Ok(Ok(())) => {}
            // The next delta is conservative without it: sends more, never less.
            Ok(Err(e)) => tracing::warn!(error = %e, "cannot keep the import's scope; the next delta will send more"),
            Err(e) => tracing::warn!(error = %e, "cannot keep the import's scope; the next delta will send more"),
        }
    }
}

pub async fn read(job: &ImportJob) -> Result<Option<Plan>, JobError> {
    job.journal().read_if_readable::<Plan>().await
}

/// The attributes the search asks for: the job's (all user attributes by default), the
/// GUID and what the record builder needs, and (other LDAP) `modifyTimestamp` for the
/// next token, which is stripped from the records unless the job asked for it.
pub fn attributes(p: &Import, kind: DirectoryKind, class: ObjectClass) -> (Vec<String>, Vec<String>) {
    let mut attributes = p.attributes.clone().unwrap_or_else(|| vec!["*".into()]);
    let mut strip = Vec::new();
    let has = |list: &[String], a: &str| list.iter().any(|x| x.eq_ignore_ascii_case(a));
    let extra: &[&str] = match (kind, class) {
        (DirectoryKind::ActiveDirectory, ObjectClass::Users) => &["objectGUID", "userAccountControl"],
        (DirectoryKind::ActiveDirectory, ObjectClass::Groups) => &["objectGUID", "groupType"],
        (DirectoryKind::Ldap, _) => &["entryUUID"],
    };
    for a in extra {
        if !has(&attributes, a) {
            attributes.push((*a).to_owned());
        }
    }
    if kind == DirectoryKind::Ldap && !has(&attributes, "modifyTimestamp") && !has(&attributes, "+") {
        attributes.push("modifyTimestamp".into());
        strip.push("modifyTimestamp".into());
    }
    // What the records' expiry fields are computed from (`ldap::auth::expiry`), asked for
    // when the job's list does not already bring them and stripped from the records then.
    let expiry: &[_] = if class == ObjectClass::Users { expiry_sources(kind) } else { &[] };
    for (a, by) in expiry {
        if !has(&attributes, a) && !by.is_some_and(|all| has(&attributes, all)) {
            attributes.push((*a).to_owned());
            strip.push((*a).to_owned());
        }
    }
    (attributes, strip)
}

/// The expiry sources, each with the wildcard that brings it (`*` user attributes, `+`
/// operational ones, RFC 3673); AD's constructed `msDS-UserPasswordExpiryTimeComputed`
/// comes only by name.
fn expiry_sources(kind: DirectoryKind) -> &'static [(&'static str, Option<&'static str>)] {
    match kind {
        DirectoryKind::ActiveDirectory => {
            &[("accountExpires", Some("*")), ("msDS-UserPasswordExpiryTimeComputed", None)]
        }
        DirectoryKind::Ldap => &[
            ("pwdChangedTime", Some("+")),
            ("pwdPolicySubentry", Some("+")),
            ("pwdEndTime", Some("+")),
            ("shadowExpire", Some("*")),
        ],
    }
}

pub async fn plan(job: &ImportJob, lease: &Lease, store: &ScopeStore) -> Result<Plan, JobError> {
    if let Some(p) = read(job).await? {
        return Ok(p);
    }
    let s = &lease.settings;
    let p = &job.payload;
    let kind = s.kind;
    let class = ObjectClass::from(p.object);
    let base = p.base_dn.clone().unwrap_or_else(|| s.base_dn.clone());
    let base_dn = Dn::parse(&base).map_err(|e| JobError::invalid_job(format!("base_dn: {e}")))?;
    // A groups import's own filter selects among groups, never beyond (a user is never
    // sent as a group record, and its deltas find the deletions of groups only). A users
    // import's filter stays the job's whole selection, as it always was (a job may import
    // users and groups together). The job's terms come first: Samba evaluates an AND in
    // order, and a class term first costs its DC 20× more.
    let filter = match (&p.filter, class) {
        (Some(f), ObjectClass::Groups) => format!("(&{f}{})", class.class_filter(kind)),
        (Some(f), ObjectClass::Users) => f.clone(),
        (None, _) => class.default_filter(kind).to_owned(),
    };
    if ldap3::parse_filter(&filter).is_err() {
        return Err(JobError::invalid_job(format!("field `filter` is not a valid LDAP filter: {filter}")));
    }
    let (mut attributes, strip) = attributes(p, kind, class);
    // Secret-bearing attributes are never asked for (and those that come with `*` are
    // dropped by the record builder): journaled with the plan, reported in the result.
    let mut withholding = Withholding::plan_import(&job.queue, &job.job_id, lease, &mut attributes).await?;
    // A filter on a withheld attribute would reveal its value one guess at a time
    // (`(unixUserPassword=a*)` matching or not): refused, whatever the spelling.
    if let Some(attr) = filter_attributes(&filter).into_iter().find(|a| withholding.withholds(a)) {
        return Err(JobError::new(
            ErrorCode::ForbiddenByPolicy,
            format!(
                "the filter tests `{attr}`, an attribute imports never export: a filter on it would reveal its value"
            ),
        ));
    }
    // A user's groups change without the user changing; a group's members are its own
    // attribute, sent whole with the changed group.
    let memberships = Memberships::from(
        kind == DirectoryKind::ActiveDirectory
            && class == ObjectClass::Users
            && attributes.iter().any(|a| a == "*" || a.eq_ignore_ascii_case("memberOf")),
    );
    let id = scope_id(&p.directory, kind, &base_dn, class.class_filter(kind), &filter, memberships);
    let old_token = p.delta_token.clone();
    let mut ldap = lease.ldap.clone();
    let timeout = s.operation_timeout;
    let (mut delta, next_token) = match kind {
        DirectoryKind::ActiveDirectory => {
            let pos = ad_position(&mut ldap, timeout).await?;
            let domain = pos.domain.clone().unwrap_or_else(|| s.base_dn.clone());
            let delta = match delta_usn(p, &pos.invocation)? {
                Some(n) => {
                    let c = deleted::container(&ldap, timeout, &domain)
                        .await
                        .map_err(|e| e.to_job_error("finding the Deleted Objects container"))?;
                    if !c.visible {
                        return Err(deleted::cannot_see(&s.bind_dn, &c.dn));
                    }
                    Some(Delta {
                        changed: format!("(uSNChanged>={})", n + 1),
                        usn: Some(n),
                        naming_context: domain,
                        deleted_objects: Some(c.dn),
                        known_scope: false,
                        resend_all: false,
                    })
                }
                None => None,
            };
            (delta, format!("ad-usn:{}:{}", pos.invocation, pos.usn))
        }
        DirectoryKind::Ldap => {
            let delta = match delta_time(p)? {
                Some(ts) => Some(Delta {
                    changed: format!("(modifyTimestamp>={ts})"),
                    usn: None,
                    naming_context: naming_context(&ldap, timeout, &base_dn).await.unwrap_or_else(|| base.clone()),
                    deleted_objects: None,
                    known_scope: false,
                    resend_all: false,
                }),
                None => None,
            };
            let token = p.delta_token.clone().filter(|_| delta.is_some());
            (delta, token.unwrap_or_else(|| "ldap-ts:19700101000000Z".into()))
        }
    };
    let mut scope = ScopePlan { id: id.clone(), memberships, old_token: None, write: delta.is_none() };
    if let Some(d) = delta.as_mut() {
        d.known_scope = old_token.as_deref().is_some_and(|t| store.exists(&id, t));
        if d.known_scope {
            scope.old_token = old_token;
            scope.write = true;
        } else if memberships == Memberships::Tracked && groups_changed(&ldap, timeout, d).await? {
            // Without the token's scope nobody can tell who left a changed group (Samba
            // keeps no per-value history): send every entry in scope again, once; this
            // import then writes the scope file the next delta compares with.
            tracing::warn!("no record of the delta token's scope on this host and groups changed: sending every entry in scope again");
            d.resend_all = true;
            scope.write = true;
        }
    }
    let selection = filter.clone();
    let filter = match &delta {
        Some(d) if !d.resend_all => format!("(&{filter}{})", d.changed),
        _ => filter,
    };
    let started_ms =
        std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_millis() as u64);
    let plan =
        Plan { base, filter, selection, attributes, strip, class, next_token, delta, scope: Some(scope), started_ms };
    job.journal().record(&plan).await?;
    Ok(plan)
}

/// Whether any group (live or deleted) changed since the token's USN.
async fn groups_changed(ldap: &Ldap, timeout: std::time::Duration, d: &Delta) -> Result<bool, JobError> {
    let filter = format!("(&(objectClass=group){})", d.changed);
    let mut l = ldap.clone();
    let show = vec![ldap3::controls::RawControl { ctype: SHOW_DELETED_OID.into(), crit: true, val: None }];
    let res = l
        .with_controls(show)
        .with_search_options(ldap3::SearchOptions::new().sizelimit(1))
        .with_timeout(timeout)
        .search(&d.naming_context, Scope::Subtree, &filter, vec!["1.1"])
        .await
        .map_err(|e| crate::ldap::codes::LdapFailure::from_ldap(e).to_job_error("searching changed groups"))?;
    Ok(res.0.iter().any(|e| !e.is_ref()))
}

/// The naming context (rootDSE `namingContexts`, RFC 4512 §5.1) that holds `base`.
async fn naming_context(ldap: &Ldap, timeout: std::time::Duration, base: &Dn) -> Option<String> {
    let root = RawEntry::search(ldap.clone(), timeout, "", Scope::Base, "(objectClass=*)", &["namingContexts"]).await;
    let root = root.ok()?.into_iter().next()?;
    let (_, values) = root.attributes.iter().find(|(n, _)| n.eq_ignore_ascii_case("namingContexts"))?;
    values
        .iter()
        .filter_map(|v| std::str::from_utf8(v).ok())
        .filter(|v| Dn::parse(v).is_ok_and(|nc| base.is_within(&nc)))
        .max_by_key(|v| v.len())
        .map(str::to_owned)
}
