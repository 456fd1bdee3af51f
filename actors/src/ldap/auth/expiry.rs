//! `password_expires_at` and `account_expires_at` of login results and user records
//! (PROTOCOL.md §3): RFC 3339 UTC, `None` (JSON null) for never.
//!
//! - Active Directory: `accountExpires` (FILETIME; 0 and 0x7FFFFFFFFFFFFFFF mean never,
//!   [MS-ADA1] 2.22 "Account-Expires") and the constructed
//!   `msDS-UserPasswordExpiryTimeComputed` ([MS-ADTS] 3.1.1.4.5.41: 0x7FFFFFFFFFFFFFFF
//!   never, 0 "must change at next logon", which is shown as the Unix epoch: a time
//!   already past).
//! - OpenLDAP ppolicy (draft-behera-ldap-password-policy-10 §5.3): `pwdChangedTime` plus
//!   the policy's `pwdMaxAge` (0 or absent: never); the account's `pwdEndTime`, else
//!   RFC 2307 `shadowExpire` (days since 1970; -1 never).

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use crate::ldap::entry::RawEntry;

/// 100-ns intervals between 1601-01-01 and 1970-01-01.
const FILETIME_UNIX_EPOCH: i64 = 116_444_736_000_000_000;
/// The last second RFC 3339 can write (9999-12-31T23:59:59Z).
const LAST_RFC3339_SECOND: u64 = 253_402_300_799;

/// Attributes the user search returns for the expiry fields.
pub fn attributes(kind: crate::directory::DirectoryKind) -> &'static [&'static str] {
    match kind {
        crate::directory::DirectoryKind::ActiveDirectory => &["accountExpires", "msDS-UserPasswordExpiryTimeComputed"],
        crate::directory::DirectoryKind::Ldap => &["pwdChangedTime", "pwdPolicySubentry", "pwdEndTime", "shadowExpire"],
    }
}

/// A FILETIME value as AD writes it in text; `None` for never or unreadable.
pub fn filetime(text: &str) -> Option<String> {
    let ft: i64 = text.trim().parse().ok()?;
    match ft {
        0 | i64::MAX => None,
        ft if ft < FILETIME_UNIX_EPOCH => Some(rfc3339(UNIX_EPOCH)),
        ft => rfc3339_seconds(((ft - FILETIME_UNIX_EPOCH) / 10_000_000) as u64),
    }
}

/// The two fields of a user, as a login result and a user record carry them.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct Expiry {
    pub password_expires_at: Option<String>,
    pub account_expires_at: Option<String>,
}

impl Expiry {
    /// A user's expiry on a directory of `kind`; `max_age` as for [`ldap`].
    pub fn of(kind: crate::directory::DirectoryKind, e: &RawEntry, max_age: Option<u64>) -> Expiry {
        let (password_expires_at, account_expires_at) = match kind {
            crate::directory::DirectoryKind::ActiveDirectory => active_directory(e),
            crate::directory::DirectoryKind::Ldap => ldap(e, max_age),
        };
        Expiry { password_expires_at, account_expires_at }
    }
}

/// AD's two fields: (password, account).
pub fn active_directory(e: &RawEntry) -> (Option<String>, Option<String>) {
    let password = match e.first_text("msDS-UserPasswordExpiryTimeComputed").map(str::trim) {
        Some("0") => Some(rfc3339(UNIX_EPOCH)),
        Some(t) => filetime(t),
        None => None,
    };
    (password, e.first_text("accountExpires").and_then(filetime))
}

/// A GeneralizedTime (`20261201021500Z`, fractions ignored) as seconds since 1970.
pub fn generalized(text: &str) -> Option<u64> {
    let t = text.trim();
    let d = |r: std::ops::Range<usize>| t.get(r);
    let iso = format!("{}-{}-{}T{}:{}:{}Z", d(0..4)?, d(4..6)?, d(6..8)?, d(8..10)?, d(10..12)?, d(12..14)?);
    let at = humantime::parse_rfc3339(&iso).ok()?;
    at.duration_since(UNIX_EPOCH).ok().map(|d| d.as_secs())
}

/// The LDAP fields, given the user's password policy's `pwdMaxAge` in seconds (`None`
/// when no policy applies).
pub fn ldap(e: &RawEntry, max_age: Option<u64>) -> (Option<String>, Option<String>) {
    let password = match (e.first_text("pwdChangedTime").and_then(generalized), max_age) {
        (Some(changed), Some(age)) if age > 0 => rfc3339_seconds(changed.saturating_add(age)),
        _ => None,
    };
    let account = match e.first_text("pwdEndTime").and_then(generalized) {
        Some(end) => rfc3339_seconds(end),
        None => e
            .first_text("shadowExpire")
            .and_then(|d| d.trim().parse::<i64>().ok())
            .filter(|d| *d >= 0)
            .and_then(|d| rfc3339_seconds((d as u64).saturating_mul(86_400))),
    };
    (password, account)
}

fn rfc3339_seconds(secs: u64) -> Option<String> {
    (secs <= LAST_RFC3339_SECOND).then(|| rfc3339(UNIX_EPOCH + Duration::from_secs(secs)))
}

fn rfc3339(t: SystemTime) -> String {
    humantime::format_rfc3339_seconds(t).to_string()
}

#[cfg(test)]
mod tests;
