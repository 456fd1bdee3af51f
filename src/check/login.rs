//! What the login path needs of a directory, as `check` lines: the lockout shield set
//! below the directory's own lockout threshold (AD: the domain's `lockoutThreshold`;
//! OpenLDAP: the default policy's `pwdMaxFailure` when `pwdLockout` is on), and on AD the
//! right to read `tokenGroups` that `groups = "nested"` logins use.

use connector_actors::directory::{DirectoryKind, DirectorySettings};
use connector_actors::ldap::entry::RawEntry;
use ldap3::{Ldap, Scope};

use super::{Check, Report};

pub async fn checks(d: &DirectorySettings, ldap: &Ldap, r: &mut Report) {
    lockout(d, ldap, r).await;
    if d.kind == DirectoryKind::ActiveDirectory {
        token_groups(d, ldap, r).await;
    }
}

/// The directory's lockout threshold: `Some(0)` when it never locks, `None` unknown.
async fn threshold(d: &DirectorySettings, ldap: &Ldap) -> Result<Option<u32>, String> {
    let read = |base: String, attrs: &'static [&'static str]| {
        let ldap = ldap.clone();
        async move {
            RawEntry::search(ldap, d.operation_timeout, &base, Scope::Base, "(objectClass=*)", attrs)
                .await
                .map_err(|e| format!("reading {base}: {e}"))
                .map(|found| found.into_iter().next())
        }
    };
    match d.kind {
        DirectoryKind::ActiveDirectory => {
            let root = read(String::new(), &["defaultNamingContext"]).await?;
            let domain = root.as_ref().and_then(|e| e.first_text("defaultNamingContext")).unwrap_or(&d.base_dn);
            let entry = read(domain.to_owned(), &["lockoutThreshold"]).await?;
            Ok(entry.and_then(|e| e.first_text("lockoutThreshold").and_then(|t| t.trim().parse().ok())))
        }
        DirectoryKind::Ldap => {
            let Some(policy) = &d.login.default_password_policy_dn else { return Ok(None) };
            let entry = read(policy.clone(), &["pwdLockout", "pwdMaxFailure"]).await?;
            let Some(e) = entry else { return Err(format!("{policy} cannot be read")) };
            if !e.first_text("pwdLockout").is_some_and(|l| l.eq_ignore_ascii_case("TRUE")) {
                return Ok(Some(0));
            }
            Ok(e.first_text("pwdMaxFailure").and_then(|t| t.trim().parse().ok()))
        }
    }
}

async fn lockout(d: &DirectorySettings, ldap: &Ldap, r: &mut Report) {
    let name = format!("directory.{}.login_failure_limit", d.name);
    let limit = d.login.failure_limit;
    let fix = |t: u32| {
        format!("set directories.{}.login_failure_limit below {t} so the connector refuses a spray before the directory locks the account", d.name)
    };
    match (threshold(d, ldap).await, limit) {
        (Err(e), _) => r.add(Check::warn(name, format!("cannot read the directory's lockout threshold: {e}"))),
        (Ok(Some(t)), 0) if t > 0 => r.add(Check {
            fix: Some(fix(t)),
            ..Check::warn(name, format!("the lockout shield is off (0) and the directory locks accounts after {t} wrong passwords"))
        }),
        (Ok(Some(t)), l) if t > 0 && l >= t => r.add(Check {
            fix: Some(fix(t)),
            ..Check::warn(name, format!("{l} is not below the directory's lockout threshold ({t}): a password spray through the portal can lock real accounts"))
        }),
        (Ok(Some(0)), l) => r.add(Check::ok(name, format!("{l}; the directory itself never locks accounts"))),
        (Ok(Some(t)), l) => r.add(Check::ok(name, format!("{l}, below the directory's lockout threshold ({t})"))),
        (Ok(None), l) => r.add(Check::ok(
            name,
            format!("{l}; the directory's threshold is unknown (LDAP: set default_password_policy_dn to compare)"),
        )),
    }
}

/// Reads the service account's own `tokenGroups`, as a nested-groups login reads a user's.
async fn token_groups(d: &DirectorySettings, ldap: &Ldap, r: &mut Report) {
    let name = format!("directory.{}.token_groups", d.name);
    let read = RawEntry::search(
        ldap.clone(),
        d.operation_timeout,
        &d.bind_dn,
        Scope::Base,
        "(objectClass=*)",
        &["tokenGroups"],
    )
    .await;
    let count = read
        .as_ref()
        .ok()
        .and_then(|f| f.first())
        .map(|e| {
            e.merged().iter().filter(|a| a.name.eq_ignore_ascii_case("tokenGroups")).map(|a| a.values().count()).sum()
        })
        .unwrap_or(0);
    if count > 0 {
        r.add(Check::ok(
            name,
            format!("readable ({count} groups in the service account's token): groups = \"nested\" works"),
        ));
    } else {
        r.add(Check {
            fix: Some(format!("grant {} read access to tokenGroups (membership of Pre-Windows 2000 Compatible Access gives it), or use groups = \"direct\"", d.bind_dn)),
            ..Check::warn(name, "tokenGroups cannot be read: logins with groups = \"nested\" fail with insufficient_access")
        });
    }
}
