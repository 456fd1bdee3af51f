//! The user's own bind: on a spare TLS connection of the directory actor when one is
//! stocked and alive, else on a fresh one; sent once only.

use actix::Addr;
use ldap3::controls::RawControl;

use super::forest::Home;
use crate::directory::connect::{open, Endpoint};
use crate::directory::{
    BindConnection, DirectoryActor, DirectoryKind, DirectorySettings, Lease, ReturnUserConnection, TakeUserConnection,
};
use crate::errors::{ErrorCode, JobError};
use crate::ldap::codes::{
    ad_data_code, ad_login_reason, ppolicy_error, ppolicy_login_reason, rc, LdapFailure, LoginReason, PPOLICY_OID,
};

/// Binds as the user on a bind connection, which goes back to the directory actor once
/// the server has answered. `None` = success.
pub(super) async fn user_bind(
    lease: &Lease,
    directory: &Addr<DirectoryActor>,
    home: &Home,
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
    if let Home::Other { target, .. } = home {
        // Another domain's DC: a connection for this bind alone, closed after it.
        let ep = Endpoint { url: &target.url, addrs: &target.addrs, ..lease.endpoint() };
        let mut ldap = open(&ep).await.map_err(|e| e.to_job_error("user connection"))?;
        let ppolicy = RawControl { ctype: PPOLICY_OID.into(), crit: false, val: None };
        let res = ldap.with_timeout(s.operation_timeout).with_controls(vec![ppolicy]).simple_bind(dn, password).await;
        let _ = ldap.unbind().await;
        return answer(s, res);
    }
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
    answer(s, res)
}

/// The login's reason from the bind's answer; `None` = success.
fn answer(
    s: &DirectorySettings,
    res: Result<ldap3::LdapResult, ldap3::LdapError>,
) -> Result<Option<LoginReason>, JobError> {
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
