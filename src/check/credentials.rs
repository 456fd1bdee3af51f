//! The service account's credential (issue #20): the bind's line, worded for the way it
//! binds (password, or client certificate with the identity the directory mapped it to,
//! by "Who am I?", RFC 4532), and `directory.NAME.credentials`, when each credential the
//! connector holds expires (WARN within 14 days, FAIL once expired; no line when no
//! expiry is known: an OpenLDAP password bind).

use connector_actors::directory::bind::expiry::{Credential, Expiry};
use connector_actors::directory::bind::held::{self, PasswordExpiry};
use connector_actors::directory::bind::keytab;
use connector_actors::directory::{DirectorySettings, ServiceBind};
use connector_actors::ldap::codes::LdapFailure;
use connector_actors::ldap::dn::match_key;
use ldap3::exop::{WhoAmI, WhoAmIResp};
use ldap3::Ldap;

use super::{Check, Report};

/// The FAIL line of a refused or failed service bind.
pub fn bind_failed(d: &DirectorySettings, e: &LdapFailure) -> Check {
    let name = format!("directory.{}.bind", d.name);
    let refused = e.is_invalid_credentials();
    match &d.bind {
        ServiceBind::Password(_) => {
            let fix = if refused {
                format!("set directories.{0}.bind_password (or {1}) to the service account's current password, and check bind_dn", d.name, crate::config::bind_password_env(&d.name))
            } else {
                "check bind_dn and that the service account is allowed to bind".to_owned()
            };
            let cause = if refused {
                format!("the directory refused {} (invalid credentials, LDAP 49): {e}", d.bind_dn)
            } else {
                format!("binding as {} failed: {e}", d.bind_dn)
            };
            Check::fail(name, cause, fix)
        }
        ServiceBind::Certificate(c) => Check::fail(
            name,
            format!("the directory refused the SASL EXTERNAL bind of client certificate {}: {e}", c.subject),
            format!(
                "make the directory ask for client certificates (OpenLDAP: olcTLSVerifyClient allow or demand), trust \
                 the certificate's CA (olcTLSCACertificateFile) and map its subject to {} (olcAuthzRegexp); \
                 or correct directories.{}.client_cert_file",
                d.bind_dn, d.name
            ),
        ),
        ServiceBind::Keytab(k) => Check::fail(
            name,
            format!("the SASL GSSAPI bind as {} failed: {e}", k.principal),
            format!(
                "check that {} holds keys of {} at the account's current key version (samba-tool domain \
                 exportkeytab / ktpass), that krb5.conf (KRB5_CONFIG) names the realm's KDC, and that the \
                 directory's service principal is ldap/<host> of directories.{}.urls (or set bind_spn_host)",
                k.keytab, k.principal, d.name
            ),
        ),
    }
}

/// The OK (or WARN) line of a service bind that succeeded.
pub async fn bound(d: &DirectorySettings, ldap: &mut Ldap, r: &mut Report) {
    let name = format!("directory.{}.bind", d.name);
    let how = match &d.bind {
        ServiceBind::Password(_) => return r.add(Check::ok(name, format!("bound as {}", d.bind_dn))),
        ServiceBind::Certificate(c) => format!("client certificate {} (SASL EXTERNAL)", c.subject),
        ServiceBind::Keytab(k) => format!("Kerberos ticket of {} from {} (SASL GSSAPI)", k.principal, k.keytab),
    };
    let who = match ldap.with_timeout(d.operation_timeout).extended(WhoAmI).await {
        Ok(res) => res.success().map(|(exop, _)| exop.parse::<WhoAmIResp>().authzid).map_err(|e| e.to_string()),
        Err(e) => Err(e.to_string()),
    };
    match who {
        // AD answers `u:DOMAIN\name`: only a `dn:` answer can be compared with bind_dn,
        // as DNs (RFC 4514: case, spaces and escapes do not make another DN).
        Ok(id) if !id.starts_with("dn:") || match_key(&id[3..]) == match_key(&d.bind_dn) => {
            r.add(Check::ok(name, format!("bound by {how} as {id}")))
        }
        Ok(id) => r.add(Check::warn(
            name,
            format!(
                "bound by {how}, but the directory maps it to \"{id}\", not bind_dn {}: set \
                 directories.{}.bind_dn to the identity the directory grants rights to",
                d.bind_dn, d.name
            ),
        )),
        Err(e) => r.add(Check::ok(name, format!("bound by {how}; the identity is not readable (Who am I?: {e})"))),
    }
}

/// `directory.NAME.credentials`: when the certificate and (AD) the password expire.
pub async fn expiry(d: &DirectorySettings, ldap: &Ldap, r: &mut Report) {
    let name = format!("directory.{}.credentials", d.name);
    let now = connector_actors::time::now_ms() as i64 / 1000;
    let held = match held::read(ldap, d, d.operation_timeout).await {
        Ok(p) => p,
        Err(e) => return r.add(Check::warn(name, format!("cannot read the password's expiry: {e}"))),
    };
    let mut parts: Vec<String> = ticket(d).await.into_iter().collect();
    let found = held::all(d, &held, now);
    for e in &found {
        parts.push(e.sentence());
    }
    if held.password == PasswordExpiry::Never {
        parts.push("the service account's password never expires".to_owned());
    }
    if parts.is_empty() {
        // A password bind where no expiry is readable (OpenLDAP, or an AD account that
        // may not read its own attribute): nothing to say.
        return;
    }
    let fix = |e: &Expiry| match e.credential {
        Credential::ClientCertificate => {
            format!("renew the certificate and write it to directories.{}.client_cert_file", d.name)
        }
        Credential::ServicePassword => {
            format!("change the service account's password and set directories.{}.bind_password", d.name)
        }
        Credential::KeytabKeys => format!("export the keytab again into directories.{}.bind_keytab and reload", d.name),
    };
    let text = parts.join("; ");
    match found.iter().find(|e| e.days_left < 0) {
        Some(expired) => r.add(Check::fail(name, text, fix(expired))),
        None if found.iter().any(Expiry::warns) => r.add(Check::warn(name, format!("{text}: renew before then"))),
        None => r.add(Check::ok(name, text)),
    }
}

/// The ticket's remaining life, for a keytab bind: renewed from the keytab before it
/// ends, so this is information, not a warning.
async fn ticket(d: &DirectorySettings) -> Option<String> {
    let ServiceBind::Keytab(k) = &d.bind else { return None };
    let k = k.clone();
    let life = tokio::task::spawn_blocking(move || keytab::ticket_lifetime(&k)).await.ok()?;
    Some(match life {
        Ok(l) => format!(
            "the Kerberos ticket ends in {} (the connector gets a new one from the keytab before then)",
            humantime::format_duration(std::time::Duration::from_secs(l.as_secs() / 60 * 60))
        ),
        Err(e) => format!("no Kerberos ticket: {e}"),
    })
}
