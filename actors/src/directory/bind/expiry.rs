//! When a credential the connector holds stops working, and the warning 14 days before
//! (issue #20): a rotated password, a certificate past `notAfter` or a stale keytab fails
//! every login and import at once, so the portal and the UI say it ahead of time.

use serde::Serialize;

/// How long before an expiry the heartbeat and the UI warn.
pub const WARN_BEFORE_S: i64 = 14 * 24 * 3600;

/// Which credential expires.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Credential {
    /// The TLS client certificate of a SASL EXTERNAL bind (`notAfter`).
    ClientCertificate,
    /// The service account's password as the DC computes it
    /// (`msDS-UserPasswordExpiryTimeComputed`, MS-ADTS 3.1.1.4.5.20).
    ServicePassword,
    /// The keys of a keytab bind, once the account's key version moved past them.
    KeytabKeys,
}

impl Credential {
    /// The words a warning uses for it.
    pub fn describe(self) -> &'static str {
        match self {
            Credential::ClientCertificate => "the service account's client certificate",
            Credential::ServicePassword => "the service account's password",
            Credential::KeytabKeys => "the keytab's keys",
        }
    }
}

/// One credential's expiry, as the heartbeat's `directories[].credential_expiry` sends it
/// (an extra field: servers ignore unknown ones, PROTOCOL.md §1).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Expiry {
    pub credential: Credential,
    /// When it stops working, RFC 3339 UTC.
    pub expires: String,
    /// Whole days from now to then (negative: already expired).
    pub days_left: i64,
    /// What happened, when a date alone does not say it (a stale keytab).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
}

impl Expiry {
    /// `credential` expiring at `at_s` (unix seconds), seen at `now_s`.
    pub fn at(credential: Credential, at_s: i64, now_s: i64) -> Expiry {
        let when = std::time::UNIX_EPOCH + std::time::Duration::from_secs(at_s.max(0) as u64);
        Expiry {
            credential,
            expires: humantime::format_rfc3339_seconds(when).to_string(),
            days_left: (at_s - now_s).div_euclid(24 * 3600),
            detail: None,
        }
    }

    /// Whether it is within [`WARN_BEFORE_S`] of now (or past).
    pub fn warns(&self) -> bool {
        self.days_left < WARN_BEFORE_S / (24 * 3600)
    }

    /// "the service account's client certificate expires in 9 days (2026-12-10T…Z)".
    pub fn sentence(&self) -> String {
        if let Some(detail) = &self.detail {
            return detail.clone();
        }
        let when = if self.days_left < 0 {
            format!("expired {} days ago", -self.days_left)
        } else {
            format!("expires in {} days", self.days_left)
        };
        format!("{} {when} ({})", self.credential.describe(), self.expires)
    }
}

/// AD's `msDS-UserPasswordExpiryTimeComputed` (a FILETIME: 100 ns since 1601) as unix
/// seconds; `None` for a password that never expires (`0x7FFFFFFFFFFFFFFF`) or a value
/// that is no number. 0 (a password that must be changed) is the epoch of 1601: expired.
pub fn filetime_to_unix_s(value: &str) -> Option<i64> {
    let ft: i64 = value.trim().parse().ok()?;
    if ft == i64::MAX {
        return None;
    }
    Some(ft / 10_000_000 - 11_644_473_600)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_certificate_ten_days_from_expiry_warns_and_one_in_twenty_does_not() {
        let now = 1_800_000_000;
        let ten = Expiry::at(Credential::ClientCertificate, now + 10 * 86400 + 60, now);
        assert_eq!(ten.days_left, 10);
        assert!(ten.warns());
        assert!(ten.sentence().contains("expires in 10 days"), "{}", ten.sentence());
        let twenty = Expiry::at(Credential::ClientCertificate, now + 20 * 86400, now);
        assert!(!twenty.warns());
        let past = Expiry::at(Credential::ServicePassword, now - 86400 - 1, now);
        assert!(past.warns() && past.sentence().contains("expired 2 days ago"), "{}", past.sentence());
    }

    #[test]
    fn filetimes_read_as_ad_writes_them() {
        // 2026-12-01T00:00:00Z = 1796083200 unix.
        assert_eq!(filetime_to_unix_s("134405568000000000"), Some(1_796_083_200));
        assert_eq!(filetime_to_unix_s("9223372036854775807"), None);
        assert_eq!(filetime_to_unix_s("0"), Some(-11_644_473_600));
        assert_eq!(filetime_to_unix_s("soon"), None);
    }
}
