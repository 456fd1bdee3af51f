//! Password policy before the write: the rules the DC will apply to a new password, read
//! from the directory and cached, so that a password that is too short or not complex
//! enough is refused with `password_policy` (naming the rule) before it reaches the DC.
//! What only the DC can judge (history, minimum age) still comes back from it, with its
//! data code.
//!
//! Which rules apply ([MS-ADTS] 3.1.1.3.1.5.2 "Password Policy"; "Fine-grained password
//! policies"): the user's resultant PSO when it has one (`msDS-ResultantPSO`, then that
//! PSO's `msDS-MinimumPasswordLength` and `msDS-PasswordComplexityEnabled`), else the
//! domain's (`minPwdLength` and the DOMAIN_PASSWORD_COMPLEX bit of `pwdProperties` on the
//! domain root). A user being created has no PSO yet (its password is set before it is
//! added to any group): the domain's rules apply.
//!
//! The account-name rules of complexity are applied only where the DC applies them
//! (Windows; not Samba, see `rules.rs`).
//!
//! A PSO the service account may not read (by default only Domain Admins read the
//! Password Settings Container) is not replaced by the domain's rules, which it
//! overrides (a PSO may well be laxer): that user's passwords are judged by the DC only,
//! and a warning says so once per [`POLICY_TTL`]. The same when the domain root's values
//! cannot be read.

mod read;
pub(super) mod rules;

use std::time::{Duration, Instant};

use ldap3::Scope;

use super::context::AdContext;
use super::target::Target;
use crate::errors::{ErrorCode, JobError};
pub use read::{PolicyReader, Source, Survey};
pub use rules::{judge, Broken, Complexity, Holder, Names, PolicyCache, Rules};

/// How long rules read from the directory are trusted.
pub const POLICY_TTL: Duration = Duration::from_secs(5 * 60);
/// DOMAIN_PASSWORD_COMPLEX in `pwdProperties` ([MS-SAMR] 2.2.1.7).
pub const DOMAIN_PASSWORD_COMPLEX: i64 = 0x1;

/// Whose password it is: an existing user (by DN) or one being created.
pub struct Account<'a> {
    pub dn: Option<&'a str>,
    pub holder: Holder<'a>,
}

impl<'a> Account<'a> {
    /// An existing user, with the names complexity compares the password with (resolved
    /// with `displayName`).
    pub fn existing(user: &'a Target) -> Account<'a> {
        let holder = Holder {
            sam_account_name: user.entry.first_text("sAMAccountName").unwrap_or_default(),
            display_name: user.entry.first_text("displayName"),
        };
        Account { dn: Some(&user.dn), holder }
    }
}

/// Refuses `password` with `password_policy` when it breaks a rule the DC would apply.
pub async fn check(ctx: &AdContext, account: Account<'_>, password: &str) -> Result<(), JobError> {
    let Some(rules) = rules_for(ctx, account.dn).await? else { return Ok(()) };
    judge(&rules, account.holder, password).map_err(|broken| {
        JobError::new(ErrorCode::PasswordPolicy, broken.message(&rules))
            .with_detail("source", "connector")
            .with_detail("rule", broken.rule())
    })
}

/// The rules for the user at `dn` (the domain's for a user being created); `None` when
/// they cannot be read (the DC judges alone).
async fn rules_for(ctx: &AdContext, dn: Option<&str>) -> Result<Option<Rules>, JobError> {
    if let Some(dn) = dn {
        let found = ctx
            .search(dn, Scope::Base, "(objectClass=*)", &["msDS-ResultantPSO"])
            .await
            .map_err(|e| e.to_job_error("reading the user's resultant password policy"))?;
        if let Some(pso) = found.first().and_then(|e| e.first_text("msDS-ResultantPSO")).map(str::to_owned) {
            return cached(ctx, &pso, Source::Pso).await;
        }
    }
    cached(ctx, &ctx.domain().await, Source::Domain).await
}

async fn cached(ctx: &AdContext, dn: &str, source: Source) -> Result<Option<Rules>, JobError> {
    let key = dn.to_lowercase();
    let mut cache = ctx.knowledge.password_policies.lock().await;
    if let Some((at, rules)) = cache.0.get(&key) {
        if at.elapsed() < POLICY_TTL {
            return Ok(rules.clone());
        }
    }
    let reader = PolicyReader { ldap: ctx.ldap(), timeout: ctx.timeout() };
    let rules = reader.rules(dn, source).await.map_err(|e| e.to_job_error("reading the password policy"))?;
    if rules.is_none() {
        tracing::warn!(
            directory = %ctx.lease.settings.name, policy = %dn,
            "cannot read this password policy with the service account (grant it Read on the policy): \
             passwords it governs are judged by the DC only"
        );
    }
    cache.0.insert(key, (Instant::now(), rules.clone()));
    Ok(rules)
}
