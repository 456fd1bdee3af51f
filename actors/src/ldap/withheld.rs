//! Secret-bearing attributes are never exported, whatever a job asks (PROTOCOL.md §2.6):
//! an explicit list loses them before the search ([`plan_attributes`]), and the record
//! builder drops any that arrive anyway ([`is_withheld`]: with `*`, `+`, or from a server
//! that ignores the list); the import's result names every one withheld ([`Withholding`]).
//!
//! Withheld, by attribute type (options such as `;binary` or `;range=…` stripped, RFC 4512
//! §2.5; a name in any case or its OID):
//! - AD's password, hash, trust, LAPS, BitLocker and credential-roaming attributes
//!   ([`is_secret_attribute`]: [MS-ADTS] 3.1.1.1.4 "Secret Attributes" and the rest);
//! - every attribute of the `msLAPS-` family (Windows LAPS, whatever a newer schema adds);
//! - the secrets of other schemas (`OTHER_SECRETS`: RFC 3112, RFC 2798, Samba, OpenLDAP
//!   ppolicy and cn=config, Kerberos back ends);
//! - on AD, whatever the schema marks confidential (fCONFIDENTIAL, searchFlags 0x80,
//!   [MS-ADTS] 2.2.9 and 3.1.1.4.3 "Confidential attributes"), passed in as
//!   `is_confidential`.
//!
//! The names are reported as the job spelled them (requested) or as the server did
//! (returned), without options, each once ignoring case.

use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};

use crate::ad::attributes::is_secret_attribute;

mod journal;

/// Decisions remembered per import: beyond this many distinct names, decide each time.
const MAX_DECIDED: usize = 1024;

/// Secret-bearing attributes outside AD's schema: (name, OID when it is certain).
const OTHER_SECRETS: &[(&str, Option<&str>)] = &[
    // RFC 3112 §2.3: password hashes (OpenLDAP's SLAPD_AUTHPASSWD).
    ("authPassword", Some("1.3.6.1.4.1.4203.1.3.4")),
    // RFC 2798 §2.8 (inetOrgPerson): a PKCS #12 PFX, the user's private keys.
    ("userPKCS12", Some("2.16.840.1.113730.3.1.216")),
    // Samba's schema for OpenLDAP (examples/LDAP/samba.schema): LM and NT hashes, their
    // history, trust passwords in clear; `lmPassword` and `ntPassword` of Samba 2.x.
    ("sambaLMPassword", Some("1.3.6.1.4.1.7165.2.1.24")),
    ("sambaNTPassword", Some("1.3.6.1.4.1.7165.2.1.25")),
    ("sambaPasswordHistory", Some("1.3.6.1.4.1.7165.2.1.54")),
    ("sambaClearTextPassword", Some("1.3.6.1.4.1.7165.2.1.68")),
    ("sambaPreviousClearTextPassword", Some("1.3.6.1.4.1.7165.2.1.69")),
    ("lmPassword", Some("1.3.6.1.4.1.7165.2.1.1")),
    ("ntPassword", Some("1.3.6.1.4.1.7165.2.1.2")),
    // OpenLDAP ppolicy (draft-behera-ldap-password-policy §5.3.6): the old password hashes.
    ("pwdHistory", Some("1.3.6.1.4.1.42.2.27.8.1.20")),
    // OpenLDAP cn=config: the rootdn's password.
    ("olcRootPW", Some("1.3.6.1.4.1.4203.1.12.2.3.2.0.9")),
    // MIT Kerberos' LDAP back end (kerberos.schema) and Heimdal's (hdb.schema): keys.
    ("krbPrincipalKey", Some("2.16.840.1.113719.1.301.4.39.1")),
    ("krb5Key", None),
    // 389 Directory Server: the old password hashes.
    ("passwordHistory", None),
];

/// Attribute families withheld by prefix (names compared ignoring case).
const SECRET_PREFIXES: &[&str] = &["msLAPS-"];

/// What to ask the directory for, and which requested attributes were left out.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AttributePlan {
    pub request: Vec<String>,
    pub withheld: Vec<String>,
}

/// The attribute type of a description: `userPassword;binary` → `userPassword`.
fn base(name: &str) -> &str {
    name.split(';').next().unwrap_or_default().trim()
}

/// An OID as the directory writes it: without the `OID.` prefix (RFC 1779 §2.3) and
/// leading zeros of its arcs; `None` for a name.
pub(crate) fn canonical_oid(written: &str) -> Option<String> {
    let oid = written.get(..4).filter(|p| p.eq_ignore_ascii_case("OID.")).and(written.get(4..)).unwrap_or(written);
    if !oid.starts_with(|c: char| c.is_ascii_digit()) {
        return None;
    }
    let arcs = oid.split('.').map(|arc| match arc.trim_start_matches('0') {
        "" if !arc.is_empty() => "0",
        trimmed => trimmed,
    });
    Some(arcs.collect::<Vec<_>>().join("."))
}

/// Whether `name` (a description as requested or returned) must never be exported;
/// `is_confidential` gets the attribute type without options.
pub fn is_withheld(name: &str, is_confidential: impl Fn(&str) -> bool) -> bool {
    let base = base(name);
    if is_secret_attribute(base) || is_confidential(base) {
        return true;
    }
    match canonical_oid(base) {
        Some(oid) => OTHER_SECRETS.iter().any(|(_, o)| *o == Some(oid.as_str())),
        None => {
            OTHER_SECRETS.iter().any(|(n, _)| n.eq_ignore_ascii_case(base))
                || SECRET_PREFIXES.iter().any(|p| base.get(..p.len()).is_some_and(|b| b.eq_ignore_ascii_case(p)))
        }
    }
}

/// Adds `name` to `names` unless it is there in another case.
fn note(names: &mut Vec<String>, name: &str) -> bool {
    let new = !names.iter().any(|n| n.eq_ignore_ascii_case(name));
    if new {
        names.push(name.to_owned());
    }
    new
}

/// The requested list without its secret attributes, so they are never even asked for.
/// `*`, `+` and `1.1` stay. A list left empty becomes `1.1` (no attributes, RFC 4511
/// §4.5.1.8), never `[]`, which asks for every user attribute.
pub fn plan_attributes(requested: &[String], is_confidential: impl Fn(&str) -> bool) -> AttributePlan {
    let mut plan = AttributePlan::default();
    for name in requested {
        let special = matches!(name.trim(), "*" | "+" | "1.1");
        if !special && is_withheld(name, &is_confidential) {
            note(&mut plan.withheld, base(name));
        } else {
            plan.request.push(name.clone());
        }
    }
    if plan.request.is_empty() && !requested.is_empty() {
        plan.request.push("1.1".into());
    }
    plan
}

/// What one import withholds, kept in its journal (see `journal.rs`) so that a resumed
/// run withholds the same and the result reports every name, also those dropped before
/// a crash.
#[derive(Debug, Clone, Default, serde::Serialize, serde::Deserialize)]
pub struct Withholding {
    /// lDAPDisplayName and attributeID of each attribute the AD schema marks
    /// confidential, lowercased (empty on other directories).
    #[serde(default)]
    confidential: Vec<String>,
    /// Every attribute withheld so far, requested or returned (reported in the result).
    #[serde(default)]
    withheld: Vec<String>,
    /// How many of `withheld` the journal holds.
    #[serde(skip)]
    saved: usize,
    /// [`Withholding::withholds`] by description as the server spelled it: an import
    /// meets the same few tens of names in every entry, and deciding one anew costs
    /// tens of comparisons (the record builder's hot path).
    #[serde(skip)]
    decided: HashMap<Box<str>, bool, BuildHasherDefault<Fnv1a>>,
}

/// FNV-1a (Fowler, Noll, Vo), for short keys that never come from an adversary who
/// could choose collisions: attribute names the directory returns.
struct Fnv1a(u64);

impl Default for Fnv1a {
    fn default() -> Fnv1a {
        Fnv1a(0xcbf2_9ce4_8422_2325) // the 64-bit offset basis
    }
}

impl Hasher for Fnv1a {
    fn write(&mut self, bytes: &[u8]) {
        for b in bytes {
            self.0 = (self.0 ^ u64::from(*b)).wrapping_mul(0x0100_0000_01b3);
        }
    }

    fn finish(&self) -> u64 {
        self.0
    }
}

impl Withholding {
    /// Withholds the confidential attributes named here (names or OIDs) too.
    pub fn with_confidential<S: AsRef<str>>(names: impl IntoIterator<Item = S>) -> Withholding {
        let confidential = names.into_iter().map(|n| n.as_ref().to_ascii_lowercase()).collect();
        Withholding { confidential, ..Withholding::default() }
    }

    /// Whether the schema marks `base` (a name or OID, no options) confidential.
    pub fn is_confidential(&self, base: &str) -> bool {
        let oid = canonical_oid(base);
        let key = oid.as_deref().unwrap_or(base);
        self.confidential.iter().any(|c| c.eq_ignore_ascii_case(key))
    }

    /// Whether `name` must never be exported ([`is_withheld`] with this schema's
    /// confidential attributes); remembered per spelling.
    pub fn withholds(&mut self, name: &str) -> bool {
        if let Some(known) = self.decided.get(name) {
            return *known;
        }
        let verdict = is_withheld(name, |b| self.is_confidential(b));
        if self.decided.len() < MAX_DECIDED {
            self.decided.insert(name.into(), verdict);
        }
        verdict
    }

    /// Plans the requested list ([`plan_attributes`]), noting what it leaves out.
    pub fn plan(&mut self, requested: &[String]) -> Vec<String> {
        let plan = plan_attributes(requested, |b| self.is_confidential(b));
        for name in &plan.withheld {
            note(&mut self.withheld, name);
        }
        plan.request
    }

    /// Notes a returned attribute that was dropped (by its type, without options).
    pub fn dropped(&mut self, name: &str) {
        note(&mut self.withheld, base(name));
    }

    /// The attributes withheld so far, for the job's result.
    pub fn withheld(&self) -> &[String] {
        &self.withheld
    }

    /// Whether names were noted since the journal last held them.
    pub fn grown(&self) -> bool {
        self.withheld.len() > self.saved
    }
}

/// The attribute descriptions a search filter tests (RFC 4515 §3: the `attr` of each
/// `(attr=…)`, `(attr>=…)`, `(attr~=…)`, `(attr:rule:=…)` item). Parentheses inside
/// values are always escaped (`\28`, `\29`), so a scan for `(` finds every item.
pub fn filter_attributes(filter: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut rest = filter;
    while let Some(i) = rest.find('(') {
        rest = &rest[i + 1..];
        if rest.starts_with(['&', '|', '!', '(']) {
            continue;
        }
        let end = rest.find(['=', '~', '<', '>', ':', ')']).unwrap_or(rest.len());
        let attr = rest[..end].trim();
        if !attr.is_empty() {
            out.push(attr.to_owned());
        }
    }
    out
}

#[cfg(test)]
mod tests;
