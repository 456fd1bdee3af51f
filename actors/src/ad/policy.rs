//! The scope policy checks: plain functions over what the directory says now.

use super::target::Target;
use crate::directory::ScopePolicy;
use crate::errors::{ErrorCode, JobError};

fn refuse(message: String) -> JobError {
    JobError::new(ErrorCode::ForbiddenByPolicy, message)
}

pub fn operation_allowed(policy: &ScopePolicy, op: &str) -> Result<(), JobError> {
    if policy.allowed_operations.iter().any(|o| o == op) {
        Ok(())
    } else {
        Err(refuse(format!("{op} is not in this directory's allowed_operations")))
    }
}

/// RDNs of a DN, lower-cased with spaces around `=` and `,` removed (for suffix tests).
fn rdns(dn: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut escaped = false;
    for c in dn.chars() {
        if escaped {
            cur.push(c);
            escaped = false;
        } else if c == '\\' {
            cur.push(c);
            escaped = true;
        } else if c == ',' {
            out.push(std::mem::take(&mut cur));
        } else {
            cur.push(c);
        }
    }
    out.push(cur);
    out.into_iter()
        .map(|r| match r.split_once('=') {
            Some((t, v)) => format!("{}={}", t.trim().to_lowercase(), v.trim().to_lowercase()),
            None => r.trim().to_lowercase(),
        })
        .collect()
}

/// Whether `dn` is `ou` or lies under it.
pub fn under(dn: &str, ou: &str) -> bool {
    let (d, o) = (rdns(dn), rdns(ou));
    d.len() >= o.len() && d[d.len() - o.len()..] == o[..]
}

pub fn within_scope(policy: &ScopePolicy, dn: &str) -> Result<(), JobError> {
    if policy.allowed_ous.iter().any(|ou| under(dn, ou)) {
        Ok(())
    } else {
        Err(refuse(format!("{dn} is outside this directory's allowed_ous")))
    }
}

/// The group's name in a DN (`CN=Domain Admins,CN=Users,…` → `domain admins`).
fn cn_of(dn: &str) -> String {
    rdns(dn).first().and_then(|r| r.split_once('=').map(|(_, v)| v.to_owned())).unwrap_or_default()
}

pub fn is_protected_group(policy: &ScopePolicy, group: &Target) -> bool {
    let cn = cn_of(&group.dn);
    let sam = group.entry.first_text("sAMAccountName").unwrap_or_default().to_lowercase();
    policy.protected_groups.iter().any(|p| p.to_lowercase() == cn || p.to_lowercase() == sam)
}

/// Any write to this account: refused when it is privileged or in a protected group.
pub fn writable_account(policy: &ScopePolicy, user: &Target) -> Result<(), JobError> {
    if user.number("adminCount") == Some(1) {
        return Err(refuse(format!("{} is a privileged account (adminCount=1)", user.dn)));
    }
    for g in user.member_of() {
        let cn = cn_of(&g);
        if policy.protected_groups.iter().any(|p| p.to_lowercase() == cn) {
            return Err(refuse(format!("{} is a member of the protected group {g}", user.dn)));
        }
    }
    within_scope(policy, &user.dn)
}

pub fn changeable_group(policy: &ScopePolicy, group: &Target) -> Result<(), JobError> {
    if is_protected_group(policy, group) {
        return Err(refuse(format!("membership of the protected group {} cannot be changed by the portal", group.dn)));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dn_suffixes_compare_rdn_by_rdn() {
        assert!(under("CN=Alice,OU=Staff,DC=example,DC=test", "ou=staff, dc=Example,dc=test"));
        assert!(under("OU=Staff,DC=example,DC=test", "OU=Staff,DC=example,DC=test"));
        assert!(!under("CN=Alice,OU=NotStaff,DC=example,DC=test", "OU=Staff,DC=example,DC=test"));
        assert!(!under("CN=x\\,OU=Staff,DC=example,DC=test", "OU=Staff,OU=y,DC=example,DC=test"));
        assert_eq!(cn_of("CN=Domain Admins,CN=Users,DC=x"), "domain admins");
    }
}
