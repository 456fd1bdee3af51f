//! Which attributes a portal job may write: never a security-relevant one, never a
//! system-only one, and, when the directory's `writable_attributes` is set, only those.
//!
//! Attributes are compared by identity, resolved through the directory's [`Schema`]: an
//! OID, `OID.`-prefixed or `name;option` spelling of a refused attribute is refused too.
//! [`is_secret_attribute`] works without a schema, for sealing secret values before a
//! job is stored.

use super::schema::{Resolved, Schema};
use crate::errors::{ErrorCode, JobError};

/// Attributes a portal job may never write: a portal that could write them could take over
/// accounts or the domain (the secret attributes of [MS-ADTS] 3.1.1.1.4, the attack paths
/// of AD hardening guides), or they have a job type of their own.
pub const SECURITY_ATTRIBUTES: &[&str] = &[
    // Passwords and the hashes and keys derived from them ([MS-ADTS] 3.1.1.1.4 "Secret
    // Attributes", RFC 2307/SFU Unix passwords); set only by the password job types.
    "unicodePwd",
    "userPassword",
    "unixUserPassword",
    "msSFU30Password",
    "dBCSPwd",
    "ntPwdHistory",
    "lmPwdHistory",
    "supplementalCredentials",
    // Trust secrets ([MS-ADTS] 3.1.1.1.4 "Secret Attributes", 6.1.6.9.1 trustAuthInfo).
    "currentValue",
    "priorValue",
    "trustAuthIncoming",
    "trustAuthOutgoing",
    "initialAuthIncoming",
    "initialAuthOutgoing",
    // Managed (and who may read them) and local-administrator passwords, BitLocker and
    // credential-roaming secrets.
    "msDS-ManagedPassword",
    "msDS-GroupMSAMembership",
    "msDS-ExecuteScriptPassword",
    "msLAPS-Password",
    "msLAPS-EncryptedPassword",
    "msLAPS-EncryptedPasswordHistory",
    "msLAPS-EncryptedDSRMPassword",
    "msLAPS-EncryptedDSRMPasswordHistory",
    "ms-Mcs-AdmPwd",
    "msFVE-RecoveryPassword",
    "msFVE-KeyPackage",
    "msTPM-OwnerInformation",
    "msPKIAccountCredentials",
    "msPKIDPAPIMasterKeys",
    // Account state with job types of their own (enable/disable, must-change, unlock).
    "userAccountControl",
    "pwdLastSet",
    "lockoutTime",
    // How the account authenticates: Kerberos service names and encryption types,
    // delegation (constrained and resource-based), shadow credentials, certificate mapping
    // (KB5014754), the DNS name certificates are issued for (CVE-2022-26923).
    "servicePrincipalName",
    "msDS-SupportedEncryptionTypes",
    "msDS-AllowedToDelegateTo",
    "msDS-AllowedToActOnBehalfOfOtherIdentity",
    "msDS-KeyCredentialLink",
    "altSecurityIdentities",
    "dNSHostName",
    "msDS-AssignedAuthNPolicy",
    "msDS-AssignedAuthNPolicySilo",
    "msDS-NeverRevealGroup",
    "msDS-RevealOnDemandGroup",
    // Privilege and group membership (membership has its own job type), identity.
    "member",
    "memberOf",
    "primaryGroupID",
    "sIDHistory",
    "adminCount",
    "msDS-ShadowPrincipalSid",
    "msDS-OIDToGroupLink",
    "uidNumber",
    "gidNumber",
    "objectSid",
    "objectGUID",
    "objectClass",
    // What the account is: a user moved to another category drops out of every search the
    // connector (and many tools) make, so it could no longer be disabled or deleted.
    "objectCategory",
    "nTSecurityDescriptor",
    // The names an account logs on and gets certificates with (ESC9/ESC10, noPac): set
    // at creation by the job's own fields, never changed by a job.
    "sAMAccountName",
    "userPrincipalName",
    // Code or paths run, loaded or mapped at logon (a profile or home on a server the
    // attacker owns leaks credentials), or by every computer of an OU.
    "scriptPath",
    "profilePath",
    "homeDirectory",
    "homeDrive",
    "msTSInitialProgram",
    "msTSWorkDirectory",
    "msTSProfilePath",
    "msTSHomeDirectory",
    "msTSHomeDrive",
    // Legacy Terminal Services blob: initial program and profile path in one value.
    "userParameters",
    // Identity anchors elsewhere: the Entra Connect source anchor (writing it takes over
    // the cloud account), Unix logon names and homes of RFC 2307 clients, certificates
    // (weak certificate mapping), the primary-computer and hidden-object flags.
    "mS-DS-ConsistencyGuid",
    "uid",
    "msSFU30Name",
    "unixHomeDirectory",
    "gecos",
    "userCertificate",
    "msDS-PrimaryComputer",
    "showInAdvancedViewOnly",
    "loginShell",
    "gPLink",
    "gPCFileSysPath",
];

/// Password-like attributes, by lDAPDisplayName and attributeID, known without a schema.
/// OIDs from Samba's copy of the Windows Server v1903 schema
/// (source4/setup/ad-schema/AD_DS_Attributes_Windows_Server_v1903.ldf) unless noted.
const SECRET_ATTRIBUTES: &[(&str, Option<&str>)] = &[
    ("unicodePwd", Some("1.2.840.113556.1.4.90")),
    ("userPassword", Some("2.5.4.35")),
    ("unixUserPassword", Some("1.2.840.113556.1.4.1910")),
    // Services for UNIX 3.0 schema extension, not in the AD schema as shipped: name only.
    ("msSFU30Password", None),
    ("dBCSPwd", Some("1.2.840.113556.1.4.55")),
    ("ntPwdHistory", Some("1.2.840.113556.1.4.94")),
    ("lmPwdHistory", Some("1.2.840.113556.1.4.160")),
    ("supplementalCredentials", Some("1.2.840.113556.1.4.125")),
    // Samba's pseudo-attribute for a UTF-16 clear-text password (password_hash.c): no OID.
    ("clearTextPassword", None),
    ("currentValue", Some("1.2.840.113556.1.4.27")),
    ("priorValue", Some("1.2.840.113556.1.4.100")),
    ("trustAuthIncoming", Some("1.2.840.113556.1.4.129")),
    ("trustAuthOutgoing", Some("1.2.840.113556.1.4.135")),
    ("initialAuthIncoming", Some("1.2.840.113556.1.4.539")),
    ("initialAuthOutgoing", Some("1.2.840.113556.1.4.540")),
    ("msDS-ManagedPassword", Some("1.2.840.113556.1.4.2196")),
    ("msDS-ExecuteScriptPassword", Some("1.2.840.113556.1.4.1783")),
    // Windows LAPS ("Windows LAPS schema extensions reference", Microsoft Learn).
    ("msLAPS-Password", Some("1.2.840.113556.1.6.44.1.2")),
    ("msLAPS-EncryptedPassword", Some("1.2.840.113556.1.6.44.1.3")),
    ("msLAPS-EncryptedPasswordHistory", Some("1.2.840.113556.1.6.44.1.4")),
    ("msLAPS-EncryptedDSRMPassword", Some("1.2.840.113556.1.6.44.1.5")),
    ("msLAPS-EncryptedDSRMPasswordHistory", Some("1.2.840.113556.1.6.44.1.6")),
    // Legacy Microsoft LAPS: the OID its schema update installs (not in Microsoft's
    // published schema documents; as the tools that recreate that update spell it).
    ("ms-Mcs-AdmPwd", Some("1.2.840.113556.1.8000.2554.50051.45980.28112.18903.35903.6685103.1224907.2.1")),
    ("msFVE-RecoveryPassword", Some("1.2.840.113556.1.4.1964")),
    ("msFVE-KeyPackage", Some("1.2.840.113556.1.4.1999")),
    ("msTPM-OwnerInformation", Some("1.2.840.113556.1.4.1966")),
    ("msPKIAccountCredentials", Some("1.2.840.113556.1.4.1894")),
    ("msPKIDPAPIMasterKeys", Some("1.2.840.113556.1.4.1893")),
];

/// Whether `written` names a password-like attribute: by name in any case or by OID,
/// with or without an `OID.` prefix and `;options`. Errs towards yes: leading zeros of OID
/// arcs are ignored.
pub fn is_secret_attribute(written: &str) -> bool {
    let base = written.split(';').next().unwrap_or_default().trim();
    let base = base.get(..4).filter(|p| p.eq_ignore_ascii_case("OID.")).and(base.get(4..)).unwrap_or(base);
    if base.starts_with(|c: char| c.is_ascii_digit()) {
        let arcs = base.split('.').map(|arc| match arc.trim_start_matches('0') {
            "" if !arc.is_empty() => "0",
            trimmed => trimmed,
        });
        let canonical = arcs.collect::<Vec<_>>().join(".");
        SECRET_ATTRIBUTES.iter().any(|(_, oid)| *oid == Some(canonical.as_str()))
    } else {
        SECRET_ATTRIBUTES.iter().any(|(name, _)| name.eq_ignore_ascii_case(base))
    }
}

/// The attribute policy of one directory.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct AttributePolicy {
    /// `writable_attributes` from config: when `Some`, only these (resolved through the
    /// schema) may be written, never more than the default allows.
    pub writable: Option<Vec<String>>,
}

/// Resolves `written` through the schema and decides whether a job may write it:
/// unknown → `invalid_job`; security-relevant, system-only ([MS-ADTS] 3.1.1.2.3: not
/// modifiable by LDAP Modify) or not in `writable` → `forbidden_by_policy`.
pub fn check_writable<'a>(
    schema: &'a Schema,
    policy: &AttributePolicy,
    written: &str,
) -> Result<Resolved<'a>, JobError> {
    let resolved = schema.resolve(written).map_err(|e| {
        // A security attribute of a newer schema than this DC's (msDS-KeyCredentialLink
        // on a 2008 R2 schema) is refused for what it is, not as a typo.
        let base = written.split(';').next().unwrap_or(written).trim();
        if SECURITY_ATTRIBUTES.iter().any(|s| s.eq_ignore_ascii_case(base)) || is_secret_attribute(written) {
            JobError::new(
                ErrorCode::ForbiddenByPolicy,
                format!("attribute `{written}` is security-relevant: jobs never write it"),
            )
            .with_detail("attribute", written)
        } else {
            JobError::invalid_job(e.to_string()).with_detail("attribute", written)
        }
    })?;
    let def = resolved.def;
    let refuse = |rule: &str| {
        JobError::new(ErrorCode::ForbiddenByPolicy, format!("attribute `{written}` ({}) {rule}", def.name))
            .with_detail("attribute", written)
            .with_detail("resolved", def.name.as_str())
    };
    if SECURITY_ATTRIBUTES.iter().any(|s| s.eq_ignore_ascii_case(&def.name)) {
        return Err(refuse("is security-relevant: jobs never write it"));
    }
    if def.system_only {
        return Err(refuse("is system-only: only the directory itself changes it"));
    }
    if let Some(writable) = &policy.writable {
        if !writable.iter().any(|w| schema.resolve(w).is_ok_and(|r| r.def.oid == def.oid)) {
            return Err(refuse("is not in this directory's writable_attributes"));
        }
    }
    Ok(resolved)
}

#[cfg(test)]
mod tests;
