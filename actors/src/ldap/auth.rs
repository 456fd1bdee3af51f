//! `ldap.authenticate`: find the user with the directory's filter, bind as the found DN
//! on a connection of its own, and name the reason when the login fails.

use std::collections::HashSet;

use ldap3::controls::RawControl;
use ldap3::Scope;
use serde_json::{json, Map, Value};

use actix::Addr;

use super::codes::{
    ad_data_code, ad_login_reason, ppolicy_error, ppolicy_login_reason, rc, LdapFailure, LoginReason, PPOLICY_OID,
};
use super::entry::RawEntry;
use super::escape::{user_filter, MAX_USERNAME_BYTES};
use super::record::entry_guid;
use crate::directory::connect::open;
use crate::directory::{
    BindConnection, DirectoryActor, DirectoryKind, Lease, ReturnUserConnection, TakeUserConnection,
};
use crate::errors::{ErrorCode, JobError};
use crate::protocol::payload::Authenticate;

/// Attributes returned about an authenticated user.
fn user_attributes(kind: DirectoryKind) -> Vec<&'static str> {
    match kind {
        DirectoryKind::ActiveDirectory => vec![
            "objectGUID",
            "sAMAccountName",
            "userPrincipalName",
            "displayName",
            "mail",
            "givenName",
            "sn",
            "userAccountControl",
            "memberOf",
        ],
        DirectoryKind::Ldap => vec!["entryUUID", "uid", "cn", "displayName", "mail", "givenName", "sn", "memberOf"],
    }
}

fn refused(reason: LoginReason) -> Value {
    json!({"authenticated": false, "reason": reason.as_str(), "user": null})
}

pub async fn authenticate(lease: Lease, directory: Addr<DirectoryActor>, p: Authenticate) -> Result<Value, JobError> {
    let s = lease.settings.clone();
    if p.password.is_empty() {
        // An empty password is an unauthenticated bind, which "succeeds": never send it.
        return Ok(refused(LoginReason::InvalidCredentials));
    }
    if p.username.is_empty() || p.username.len() > MAX_USERNAME_BYTES {
        return Ok(refused(LoginReason::UserNotFound));
    }
    let filter = user_filter(&s.user_filter, &p.username);
    let attrs = user_attributes(s.kind);
    let mut ldap = lease.ldap.clone();
    let search = ldap
        .with_timeout(s.operation_timeout)
        .with_search_options(ldap3::SearchOptions::new().sizelimit(2))
        .search(&s.base_dn, Scope::Subtree, &filter, attrs.clone())
        .await
        .map_err(|e| LdapFailure::from_ldap(e).to_job_error("user search"))?;
    // sizeLimitExceeded with 2 entries: the name is ambiguous.
    if !rc::is_complete_or_size_limited(search.1.rc) {
        return Err(LdapFailure::Result { rc: search.1.rc, text: search.1.text.clone() }.to_job_error("user search"));
    }
    let entries: Vec<RawEntry> = search
        .0
        .into_iter()
        .filter(|e| !e.is_ref())
        .map(RawEntry::parse)
        .collect::<Result<_, _>>()
        .map_err(|e| e.to_job_error("user search"))?;
    let matches = entries.len();
    let mut entries = entries.into_iter();
    let mut entry = match (entries.next(), entries.next()) {
        (None, _) => return Ok(refused(LoginReason::UserNotFound)),
        (Some(one), None) => one,
        (Some(_), Some(_)) => {
            tracing::warn!(matches, "login name matches more than one directory entry; refused");
            return Ok(refused(LoginReason::UserNotFound));
        }
    };
    if let Some(reason) = user_bind(&lease, &directory, &entry.dn, p.password.expose()).await? {
        return Ok(refused(reason));
    }
    // A user in more groups than MaxValRange gets `memberOf;range=0-1499` (and on a Windows
    // DC an empty `memberOf`): read the rest ([MS-ADTS] 3.1.1.3.1.3.3). Nothing to read
    // otherwise.
    entry
        .complete_ranges(&lease.ldap, s.operation_timeout)
        .await
        .map_err(|e| e.to_job_error("reading the user's ranged attributes"))?;
    Ok(json!({
        "authenticated": true,
        "reason": null,
        "user": {"dn": entry.dn, "guid": entry_guid(s.kind, &entry), "attributes": text_attributes(&entry, &attrs)},
    }))
}

/// Binds as the user on a bind connection, which goes back to the directory actor once
/// the server has answered. `None` = success.
async fn user_bind(
    lease: &Lease,
    directory: &Addr<DirectoryActor>,
    dn: &str,
    password: &str,
) -> Result<Option<LoginReason>, JobError> {
    let s = &lease.settings;
    let bind_on = |mut conn: BindConnection| async move {
        let ppolicy = RawControl { ctype: PPOLICY_OID.into(), crit: false, val: None };
        let res =
            conn.ldap().with_timeout(s.operation_timeout).with_controls(vec![ppolicy]).simple_bind(dn, password).await;
        if res.is_ok() {
            directory.do_send(ReturnUserConnection(conn));
        }
        res
    };
    // A stocked connection the server closed meanwhile fails before any bind, and one
    // left half-open does not answer its probe: either way a fresh one carries the bind,
    // which is sent once only (a second try could count twice against the lockout).
    let spare = match directory.send(TakeUserConnection).await.ok().flatten() {
        Some(mut conn) => {
            let alive = conn.alive().await;
            if !alive {
                tracing::warn!(directory = %s.name, "a spare bind connection did not answer its probe (half-open): a fresh one is used");
            }
            alive.then_some(conn)
        }
        None => None,
    };
    let res = match spare {
        Some(conn) => match bind_on(conn).await {
            // A bind that timed out may have reached the directory: sending it again
            // could count twice against the account's lockout, so the login fails
            // `timeout` instead. A connection that was closed never carried it.
            Err(e @ ldap3::LdapError::Timeout { .. }) => Some(Err(e)),
            Err(e) if !matches!(e, ldap3::LdapError::LdapResult { .. }) => None,
            other => Some(other),
        },
        None => None,
    };
    let res = match res {
        Some(r) => r,
        None => {
            let ldap = open(&lease.endpoint()).await.map_err(|e| e.to_job_error("user connection"))?;
            bind_on(BindConnection::new(ldap)).await
        }
    };
    let res = res.map_err(|e| LdapFailure::from_ldap(e).to_job_error("user bind"))?;
    let policy = res
        .ctrls
        .iter()
        .find(|c| c.1.ctype == PPOLICY_OID)
        .and_then(|c| c.1.val.as_deref())
        .and_then(ppolicy_error)
        .and_then(ppolicy_login_reason);
    match res.rc {
        // Bound, but OpenLDAP's ppolicy may still say the password must be changed first.
        rc::SUCCESS => Ok(policy.filter(|r| *r == LoginReason::PasswordMustChange)),
        rc::INVALID_CREDENTIALS => Ok(Some(match (s.kind, ad_data_code(&res.text)) {
            (DirectoryKind::ActiveDirectory, Some(data)) => ad_login_reason(&data),
            _ => policy.unwrap_or(LoginReason::InvalidCredentials),
        })),
        code => Err(JobError::new(
            if rc::is_unavailable(code) { ErrorCode::DirectoryUnavailable } else { ErrorCode::Internal },
            format!("user bind: result code {code}: {}", res.text),
        )
        .with_detail("ldap_result_code", code)),
    }
}

/// The wanted attributes' text values, one key per attribute under its plain name
/// (ranged parts merged, as in a record: PROTOCOL.md §2.6).
fn text_attributes(entry: &RawEntry, wanted: &[&str]) -> Value {
    let wanted: HashSet<String> = wanted.iter().map(|a| a.to_ascii_lowercase()).collect();
    let mut out = Map::new();
    for attr in entry.merged() {
        let lower = attr.name.to_ascii_lowercase();
        if !wanted.contains(&lower) || lower == "objectguid" || lower == "entryuuid" {
            continue;
        }
        let texts = attr.values().filter_map(|v| std::str::from_utf8(v).ok()).map(Value::from);
        out.insert(attr.name.to_owned(), Value::Array(texts.collect()));
    }
    Value::Object(out)
}

#[cfg(test)]
mod tests;
