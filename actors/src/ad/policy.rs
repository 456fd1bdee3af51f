//! The scope policy's local checks: plain functions over typed values. Every DN is
//! compared as a [`Dn`] (RFC 4514, as AD compares names), never as a string: Samba
//! answers `OU=Team \#2,…` for the `OU=Team #2,…` an administrator writes.

use crate::directory::ScopePolicy;
use crate::errors::{ErrorCode, JobError};
use crate::ldap::dn::Dn;

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

/// A DN from the directory or a job; a malformed one is the job's error.
pub fn parse_dn(dn: &str, what: &str) -> Result<Dn, JobError> {
    Dn::parse(dn).map_err(|e| JobError::invalid_job(format!("{what}: {e}")))
}

/// A DN from a job, as it is sent to the DC ([`Dn::to_ad_string`]); a malformed one, or
/// one AD cannot hold, is the job's error.
pub fn ad_dn(dn: &str, what: &str) -> Result<String, JobError> {
    parse_dn(dn, what)?.to_ad_string().map_err(|e| JobError::invalid_job(format!("{what}: {e}")))
}

/// `dn` must be one of `allowed_ous` or lie under one.
pub fn within_scope(policy: &ScopePolicy, dn: &str) -> Result<(), JobError> {
    let parsed = parse_dn(dn, "target DN")?;
    if policy.allowed_ous.iter().any(|ou| parsed.is_within(ou)) {
        Ok(())
    } else {
        Err(refuse(format!("{dn} is outside this directory's allowed_ous")))
    }
}

/// Whether two DNs name the same entry.
pub fn same_dn(a: &str, b: &str) -> bool {
    matches!((Dn::parse(a), Dn::parse(b)), (Ok(x), Ok(y)) if x == y)
}

#[cfg(test)]
mod tests;
