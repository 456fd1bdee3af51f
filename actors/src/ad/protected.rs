//! Protected principals by identity, not by name: the groups whose members (effective,
//! nested or through the primary group) and whose membership the portal may never
//! change, resolved to their `objectSid`.
//!
//! The built-in set is AD's privileged groups by well-known SID ([MS-DTYP] 2.4.2.4
//! "Well-Known SID Structures"; the AdminSDHolder set of [MS-ADTS] 3.1.1.6.1.2
//! "Protected Objects"), so a DC whose groups have localized names is covered too;
//! DnsAdmins has no fixed RID and is found by its sAMAccountName. Configured groups (a
//! DN, a CN, a sAMAccountName or a SID) are added to it. A configured group that cannot
//! be resolved fails closed: every AD write is refused, naming it, until it resolves.

use std::collections::HashMap;

use std::time::Duration;

use ldap3::{Ldap, Scope};

use super::sid::Sid;
use super::target::Target;
use crate::errors::{ErrorCode, JobError};
use crate::ldap::dn::Dn;
use crate::ldap::entry::RawEntry;
use crate::ldap::escape::{filter_bytes, filter_value};

/// Principals of the account domain protected by RID; `false`: guarded only (the portal
/// may not change it or its membership, but its members are not protected for being in
/// it — the Guest account, the RODC password-replication allow list).
const DOMAIN_RIDS: [(u32, &str, bool); 12] = [
    (500, "Administrator", true),
    (501, "Guest", false),
    (502, "krbtgt", true),
    (525, "Protected Users", true),
    (571, "Allowed RODC Password Replication Group", false),
    (572, "Denied RODC Password Replication Group", true),
    (512, "Domain Admins", true),
    (516, "Domain Controllers", true),
    (517, "Cert Publishers", true),
    (520, "Group Policy Creator Owners", true),
    (521, "Read-only Domain Controllers", true),
    (526, "Key Admins", true),
];
/// Groups of the forest root domain protected by RID.
const FOREST_RIDS: [(u32, &str); 4] = [
    (498, "Enterprise Read-only Domain Controllers"),
    (518, "Schema Admins"),
    (519, "Enterprise Admins"),
    (527, "Enterprise Key Admins"),
];
/// The BUILTIN domain's privileged aliases (S-1-5-32-…), by name for the messages; every
/// alias found in `CN=Builtin` is protected (Remote Desktop Users, Pre-Windows 2000
/// Compatible Access, Windows Authorization Access Group, … all grant or guard access).
const BUILTIN: [(&str, &str); 6] = [
    ("S-1-5-32-544", "Administrators"),
    ("S-1-5-32-548", "Account Operators"),
    ("S-1-5-32-549", "Server Operators"),
    ("S-1-5-32-550", "Print Operators"),
    ("S-1-5-32-551", "Backup Operators"),
    ("S-1-5-32-552", "Replicator"),
];
/// The extensible-match rule that follows `member` links transitively
/// ([MS-ADTS] 3.1.1.3.4.4.1 "LDAP_MATCHING_RULE_TRANSITIVE_EVAL").
const IN_CHAIN: &str = "1.2.840.113556.1.4.1941";

#[path = "protected/ancestry.rs"]
mod ancestry;
use ancestry::{ancestry, Ancestry};

/// Why a principal is protected, for the refusal message.
#[derive(Debug, Clone)]
pub struct Reason {
    pub name: String,
    pub rule: &'static str,
    /// Its members are protected too. Not so for guarded groups such as BUILTIN\Users
    /// or Pre-Windows 2000 Compatible Access, which hold every account of the domain.
    pub privileged: bool,
}

/// The resolved set.
#[derive(Debug, Clone, Default)]
pub struct Protected {
    by_sid: HashMap<Sid, Reason>,
    /// The DNs of the privileged groups found in this domain, for the nesting test.
    group_dns: Vec<(String, Sid)>,
}

fn refuse(message: String) -> JobError {
    JobError::new(ErrorCode::ForbiddenByPolicy, message)
}

/// A connection and its operation timeout: what the searches of this module run on.
#[derive(Clone)]
pub struct Reader {
    pub ldap: Ldap,
    pub timeout: Duration,
}

impl Reader {
    async fn search(&self, base: &str, scope: Scope, filter: &str, attrs: &[&str]) -> Result<Vec<RawEntry>, JobError> {
        RawEntry::search(self.ldap.clone(), self.timeout, base, scope, filter, attrs)
            .await
            .map_err(|e| e.to_job_error("resolving the protected groups"))
    }
}

async fn one_sid(ctx: &Reader, base: &str, scope: Scope, filter: &str) -> Result<Vec<(String, Sid)>, JobError> {
    let found = ctx.search(base, scope, filter, &["objectSid"]).await?;
    Ok(found.into_iter().filter_map(|e| Some((e.dn.clone(), Sid::from_bytes(e.first("objectSid")?)?))).collect())
}

impl Protected {
    /// Resolves the built-in set and `configured` through the directory, as it is now.
    /// Errors: `forbidden_by_policy` naming a configured group that does not resolve (or
    /// several that match it), the directory's own errors otherwise.
    /// `service_dn` is the connector's own bind DN: its account is protected too.
    pub async fn resolve(
        ldap: Ldap,
        timeout: Duration,
        configured: &[String],
        service_dn: &str,
    ) -> Result<Protected, JobError> {
        let reader = Reader { ldap, timeout };
        let ctx = &reader;
        let attrs = ["defaultNamingContext", "rootDomainNamingContext"];
        let root = ctx.search("", Scope::Base, "(objectClass=*)", &attrs).await?;
        let text = |a: &str| root.first().and_then(|e| e.first_text(a)).map(str::to_owned);
        let domain =
            text("defaultNamingContext").ok_or_else(|| JobError::internal("rootDSE has no defaultNamingContext"))?;
        let forest = text("rootDomainNamingContext").unwrap_or_else(|| domain.clone());
        let sid_of = |dn: String| async move {
            let found = one_sid(ctx, &dn, Scope::Base, "(objectClass=*)").await?;
            found.into_iter().next().map(|(_, s)| s).ok_or_else(|| refuse(format!("cannot read the objectSid of {dn}")))
        };
        let domain_sid = sid_of(domain.clone()).await?;
        // A child domain's DC may not hold the forest root: its groups are then judged by
        // this domain's SID (exact for a single-domain forest), and the gap is logged.
        let forest_sid = match sid_of(forest.clone()).await {
            Ok(s) => s,
            Err(e) => {
                tracing::warn!(forest = %forest, error = %e, "forest root SID unreadable; using the domain's");
                domain_sid.clone()
            }
        };
        let mut out = Protected::default();
        let builtin =
            |name: &str| Reason { name: name.to_owned(), rule: "a built-in privileged group", privileged: true };
        for (rid, name, privileged) in DOMAIN_RIDS {
            let rule = if privileged { "a built-in privileged principal" } else { "a built-in guarded principal" };
            out.by_sid.insert(domain_sid.with_rid(rid), Reason { name: name.to_owned(), rule, privileged });
        }
        for (rid, name) in FOREST_RIDS {
            out.by_sid.insert(forest_sid.with_rid(rid), builtin(name));
        }
        for (sid, name) in BUILTIN {
            if let Some(s) = Sid::parse(sid) {
                out.by_sid.insert(s, builtin(name));
            }
        }
        let builtin_container = format!("CN=Builtin,{domain}");
        for (dn, sid) in one_sid(ctx, &builtin_container, Scope::OneLevel, "(objectClass=group)").await? {
            out.by_sid.entry(sid).or_insert(Reason { name: dn, rule: "a built-in guarded group", privileged: false });
        }
        for (name, privileged) in [("DnsAdmins", true), ("DnsUpdateProxy", false)] {
            let filter = format!("(&(sAMAccountName={name})(objectClass=group))");
            for (dn, sid) in one_sid(ctx, &domain, Scope::Subtree, &filter).await? {
                let rule = if privileged { "a built-in privileged group" } else { "a built-in guarded group" };
                out.by_sid.insert(sid, Reason { name: dn, rule, privileged });
            }
        }
        for (dn, sid) in one_sid(ctx, service_dn, Scope::Base, "(objectClass=*)").await? {
            out.by_sid.insert(sid, Reason { name: dn, rule: "the connector's own service account", privileged: true });
        }
        for written in configured {
            let (name, sid) = resolve_configured(ctx, &domain, written).await?;
            out.by_sid.insert(sid, Reason { name, rule: "a configured protected principal", privileged: true });
        }
        let privileged = out.by_sid.iter().filter(|(_, r)| r.privileged).map(|(sid, _)| sid);
        out.group_dns = locate(ctx, &domain, privileged).await?;
        Ok(out)
    }

    pub fn len(&self) -> usize {
        self.by_sid.len()
    }

    pub fn is_empty(&self) -> bool {
        self.by_sid.is_empty()
    }

    fn reason(&self, sid: &Sid) -> Option<&Reason> {
        self.by_sid.get(sid)
    }

    /// Any write to this account: refused when it is privileged (`adminCount=1`, a
    /// protected principal itself) or an effective member of a protected group, read
    /// from its `tokenGroups` ([MS-ADTS] 3.1.1.4.5.19: every group in the user's token,
    /// transitive, with the primary group).
    pub async fn check_account(&self, ctx: &Reader, user: &Target) -> Result<(), JobError> {
        if user.number("adminCount") == Some(1) {
            return Err(refuse(format!("{} is a privileged account (adminCount=1)", user.dn)));
        }
        if let Some(r) = user.sid().as_ref().and_then(|s| self.reason(s)) {
            return Err(refuse(format!("{} is the protected principal {} ({})", user.dn, r.name, r.rule)));
        }
        let token = ctx.search(&user.dn, Scope::Base, "(objectClass=*)", &["tokenGroups"]).await?;
        let sids: Vec<Sid> = token
            .iter()
            .flat_map(|e| e.attributes.iter())
            .filter(|(n, _)| n.eq_ignore_ascii_case("tokenGroups"))
            .flat_map(|(_, v)| v.iter().filter_map(|b| Sid::from_bytes(b)))
            .collect();
        if sids.is_empty() {
            // Every account's token holds at least its primary group: nothing read means
            // the service account may not read it, and an unknown membership is refused.
            return Err(refuse(format!(
                "cannot read the tokenGroups of {}: the service account needs read access to it to judge its group memberships",
                user.dn
            )));
        }
        if let Some(r) = sids.iter().find_map(|s| self.reason(s).filter(|r| r.privileged)) {
            return Err(refuse(format!(
                "{} is an effective member (direct, nested or primary group) of the protected group {} ({})",
                user.dn, r.name, r.rule
            )));
        }
        match self.nested_into(ctx, user).await? {
            Some((dn, r)) => Err(refuse(format!(
                "{} is a member (direct or nested) of the protected group {dn} ({}: {})",
                user.dn, r.name, r.rule
            ))),
            None => Ok(()),
        }
    }

    /// A change of this group's membership (or to the group): refused when it is
    /// protected or nested, transitively, into a protected group.
    pub async fn check_group(&self, ctx: &Reader, group: &Target) -> Result<(), JobError> {
        if let Some(r) = group.sid().as_ref().and_then(|s| self.reason(s)) {
            return Err(refuse(format!(
                "{} is a protected group ({}: {}): its membership cannot be changed by the portal",
                group.dn, r.name, r.rule
            )));
        }
        // AdminSDHolder's mark ([MS-ADTS] 3.1.1.6.1.2): a group that is, or was, protected.
        if group.number("adminCount") == Some(1) {
            return Err(refuse(format!(
                "{} is a protected group (adminCount=1: AdminSDHolder protects it, or did): it cannot be changed by the portal",
                group.dn
            )));
        }
        match self.nested_into(ctx, group).await? {
            Some((dn, r)) => Err(refuse(format!(
                "{} is nested into the protected group {dn} ({}: {}): its membership cannot be changed by the portal",
                group.dn, r.name, r.rule
            ))),
            None => Ok(()),
        }
    }

    /// The protected group (of this domain) that the target is a member of, directly or
    /// transitively, by one base-scoped in-chain search (the same rule over the whole
    /// domain, `member:…:=dn`, cost Samba 0.4 s); the name only on the refusal path.
    /// It sees distribution groups too, which `tokenGroups` (security groups) does not.
    ///
    /// The walk up `memberOf` ([`ancestry`]) answers first; the in-chain search only
    /// when the walk cannot.
    async fn nested_into(&self, ctx: &Reader, group: &Target) -> Result<Option<(String, Reason)>, JobError> {
        let is_protected = |sid: &Sid| self.group_dns.iter().any(|(_, s)| s == sid);
        match ancestry(ctx, group, is_protected).await? {
            Ancestry::Clear => return Ok(None),
            Ancestry::Protected(dn, sid) => {
                let r = self.reason(&sid).cloned().unwrap_or(Reason {
                    name: dn.clone(),
                    rule: "a protected group",
                    privileged: true,
                });
                return Ok(Some((dn, r)));
            }
            Ancestry::Undecided => {}
        }
        let dn = group.dn.as_str();
        let nested = |dns: &mut dyn Iterator<Item = &String>| {
            let terms: String = dns.map(|dn| format!("(memberOf:{IN_CHAIN}:={})", filter_value(dn))).collect();
            format!("(|{terms})")
        };
        let all = nested(&mut self.group_dns.iter().map(|(d, _)| d));
        if self.group_dns.is_empty() || one_sid(ctx, dn, Scope::Base, &all).await?.is_empty() {
            return Ok(None);
        }
        for (group, sid) in &self.group_dns {
            if !one_sid(ctx, dn, Scope::Base, &nested(&mut std::iter::once(group))).await?.is_empty() {
                let r = self.reason(sid).cloned().unwrap_or(Reason {
                    name: group.clone(),
                    rule: "a protected group",
                    privileged: true,
                });
                return Ok(Some((group.clone(), r)));
            }
        }
        // A membership that ended between the two searches.
        Ok(None)
    }
}

/// The DNs of the protected SIDs that name entries of this domain (one search).
async fn locate<'a>(
    ctx: &Reader,
    domain: &str,
    sids: impl Iterator<Item = &'a Sid>,
) -> Result<Vec<(String, Sid)>, JobError> {
    let terms: String = sids.map(|s| format!("(objectSid={})", filter_bytes(s.as_bytes()))).collect();
    one_sid(ctx, domain, Scope::Subtree, &format!("(&(|{terms})(objectClass=group))")).await
}

/// One configured entry: `S-1-…`, a DN, or a CN / sAMAccountName searched in the domain.
async fn resolve_configured(ctx: &Reader, domain: &str, written: &str) -> Result<(String, Sid), JobError> {
    let unresolved = |why: String| {
        refuse(format!(
            "the protected principal `{written}` (policy.protected_groups) cannot be resolved: {why}; AD writes are refused until it can"
        ))
    };
    let found = match (Sid::parse(written.trim()), Dn::parse(written)) {
        (Some(sid), _) => {
            // A SID that names nothing here protects nothing: it fails closed like a name.
            // Only a group or an account: a SID of the domain itself or of a well-known
            // identity (Authenticated Users) would resolve and protect nothing.
            let filter =
                format!("(&(objectSid={})(|(objectClass=group)(objectClass=user)))", filter_bytes(sid.as_bytes()));
            one_sid(ctx, domain, Scope::Subtree, &filter).await?
        }
        (_, Ok(dn)) if !dn.is_root() && written.contains('=') => {
            let base = dn.to_ad_string().map_err(|e| unresolved(e.to_string()))?;
            one_sid(ctx, &base, Scope::Base, "(objectClass=group)").await?
        }
        _ => {
            let v = filter_value(written.trim());
            one_sid(ctx, domain, Scope::Subtree, &format!("(&(|(cn={v})(sAMAccountName={v}))(objectClass=group))"))
                .await?
        }
    };
    match found.len() {
        1 => found.into_iter().next().ok_or_else(|| unresolved("no group".into())),
        0 => Err(unresolved("no group has that DN, CN or sAMAccountName, and no principal that SID".into())),
        n => Err(unresolved(format!("{n} groups match it"))),
    }
}
