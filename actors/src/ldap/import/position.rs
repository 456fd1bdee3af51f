//! Where a delta starts and where the next one will: always read from the directory's
//! own data, never from this host's clock (a directory whose clock is behind ours would
//! lose changes).
//!
//! - AD: `ad-usn:{invocationId}:{highestCommittedUSN}` from the rootDSE and the DC's NTDS
//!   settings, read before the search ([MS-ADTS] 3.1.1.3.2 rootDSE attributes; a USN
//!   is only meaningful on the DC that issued it, hence the invocationId).
//! - Other LDAP servers: `ldap-ts:{GeneralizedTime}`, the largest `modifyTimestamp`
//!   (RFC 4512 §3.4) seen in the import, less the time the import took (measured as a
//!   difference of two readings of this host's clock, so its offset cancels) and one
//!   second: every entry changed while the import ran carries a timestamp at or after
//!   the directory's time at the start, which is at least that. The next delta asks for
//!   `modifyTimestamp>=` it, so an entry changed in that very second is sent twice,
//!   never missed.

use std::time::{Duration, SystemTime};

use ldap3::{Ldap, Scope};

use crate::errors::JobError;
use crate::ldap::codes::LdapFailure;
use crate::ldap::entry::RawEntry;
use crate::ldap::record::guid_string;
use crate::protocol::payload::{Import, ImportMode};

/// What the rootDSE and the DC's NTDS settings say about an AD DC.
pub struct AdPosition {
    pub invocation: String,
    pub usn: u64,
    /// `defaultNamingContext`: the domain, where tombstones, departures and groups are.
    pub domain: Option<String>,
}

/// A delta's token that is not one this connector hands out (or not for this kind of
/// directory): the job's error, never a silent full import.
fn unusable(token: &str) -> JobError {
    JobError::invalid_job(format!(
        "delta_token `{token}` is not a token this connector gave for this directory: run a full import and use its token"
    ))
}

/// The USN a delta import starts after: `None` for a full import, a delta without a
/// token, or a token from another DC (a USN means nothing elsewhere: the import then runs
/// full, and its result says `"mode": "full"`). A token that does not parse is an error.
pub fn delta_usn(p: &Import, invocation: &str) -> Result<Option<u64>, JobError> {
    let Some(token) = p.delta_token.as_deref().filter(|_| p.mode == ImportMode::Delta) else { return Ok(None) };
    let parsed = token.strip_prefix("ad-usn:").and_then(|rest| rest.rsplit_once(':'));
    let Some((inv, usn)) = parsed else { return Err(unusable(token)) };
    let usn: u64 = usn.parse().map_err(|_| unusable(token))?;
    if inv != invocation {
        tracing::warn!("delta token is from another domain controller; running a full import");
        return Ok(None);
    }
    Ok(Some(usn))
}

/// The time a delta on another LDAP server starts at (`YYYYMMDDHHMMSSZ`); `None` for a
/// full import or a delta without a token; a token that does not parse is an error.
pub fn delta_time(p: &Import) -> Result<Option<String>, JobError> {
    let Some(token) = p.delta_token.as_deref().filter(|_| p.mode == ImportMode::Delta) else { return Ok(None) };
    match token.strip_prefix("ldap-ts:") {
        Some(ts) if ts.len() == 15 && ts.ends_with('Z') && ts[..14].bytes().all(|b| b.is_ascii_digit()) => {
            Ok(Some(ts.to_owned()))
        }
        _ => Err(unusable(token)),
    }
}

pub async fn ad_position(ldap: &mut Ldap, timeout: Duration) -> Result<AdPosition, JobError> {
    let read = |e: LdapFailure| e.to_job_error("reading the directory's position");
    let attrs = ["highestCommittedUSN", "dsServiceName", "defaultNamingContext"];
    let root =
        RawEntry::search(ldap.clone(), timeout, "", Scope::Base, "(objectClass=*)", &attrs).await.map_err(read)?;
    let entry = root.into_iter().next().ok_or_else(|| JobError::internal("the rootDSE returned nothing"))?;
    let usn = entry.first_text("highestCommittedUSN").and_then(|s| s.parse().ok()).unwrap_or(0);
    let service = entry.first_text("dsServiceName").unwrap_or_default().to_owned();
    let domain = entry.first_text("defaultNamingContext").map(str::to_owned);
    let ntds = RawEntry::search(ldap.clone(), timeout, &service, Scope::Base, "(objectClass=*)", &["invocationId"])
        .await
        .map_err(read)?;
    let invocation = ntds.first().and_then(|e| e.first("invocationId")).and_then(guid_string).unwrap_or_default();
    Ok(AdPosition { invocation, usn, domain })
}

/// `modifyTimestamp` as `YYYYMMDDHHMMSSZ` (a fraction, if the server writes one, dropped:
/// rounding down only makes the next delta ask for more).
pub fn timestamp(value: &str) -> Option<String> {
    let digits = value.get(..14)?;
    (digits.bytes().all(|b| b.is_ascii_digit()) && value.ends_with('Z')).then(|| format!("{digits}Z"))
}

/// The largest timestamp seen, less `took` and one second, as the next token's time.
pub fn watermark(largest: &str, took: Duration) -> Option<String> {
    let d = largest.as_bytes();
    let rfc3339 = format!(
        "{}-{}-{}T{}:{}:{}Z",
        largest.get(..4)?,
        largest.get(4..6)?,
        largest.get(6..8)?,
        largest.get(8..10)?,
        largest.get(10..12)?,
        largest.get(12..14)?
    );
    if d.len() != 15 {
        return None;
    }
    let t = humantime::parse_rfc3339(&rfc3339).ok()?;
    let back = took.checked_add(Duration::from_secs(1))?.as_secs() + u64::from(took.subsec_nanos() > 0);
    Some(generalized_time(t.checked_sub(Duration::from_secs(back))?))
}

pub fn generalized_time(t: SystemTime) -> String {
    let s = humantime::format_rfc3339_seconds(t).to_string(); // 2026-11-27T10:00:00Z
    s.chars().filter(|c| c.is_ascii_digit()).collect::<String>() + "Z"
}
