//! The directory's attribute schema: the attributeSchema objects of its schema naming
//! context ([MS-ADTS] 3.1.1.2.3 "Attributes"), read once, then used to resolve the
//! attribute names a job writes and to compare values the way the directory compares them.
//!
//! Invariants: a name (any case) or an OID resolves to at most one attribute, and only to
//! an active one (defunct attributes are left out: [MS-ADTS] 3.1.1.2.3 makes
//! lDAPDisplayName and attributeID unique among active attributes only); options
//! (`;binary`, `;range=…`) are kept but never change which attribute is meant
//! (RFC 4512 §2.5 "Attribute Descriptions").

use std::collections::HashMap;
use std::time::Duration;

use ldap3::adapters::{Adapter, EntriesOnly, PagedResults};
use ldap3::{Ldap, Scope};

use crate::ldap::codes::LdapFailure;
use crate::ldap::dn::Dn;
use crate::ldap::entry::RawEntry;

/// Entries a page: below the MaxPageSize policy of a DC, 1000 by default
/// ([MS-ADTS] 3.1.1.3.4.6 "LDAP Policies").
const PAGE_SIZE: i32 = 500;

/// What is read of each attributeSchema object ([MS-ADTS] 3.1.1.2.3).
const SCHEMA_ATTRIBUTES: [&str; 8] = [
    "lDAPDisplayName",
    "attributeID",
    "attributeSyntax",
    "isSingleValued",
    "searchFlags",
    "systemOnly",
    "linkID",
    "isDefunct",
];

/// fCONFIDENTIAL of searchFlags ([MS-ADTS] 2.2.9 "Search Flags").
const FCONFIDENTIAL: i64 = 0x80;

/// How two values of an attribute are compared, decided by its attributeSyntax
/// ([MS-ADTS] 3.1.1.2.2 "Syntaxes"; the equality rule of each as Samba's `dsdb_syntaxes`
/// table, source4/dsdb/schema/schema_syntax.c, has it).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Matching {
    /// String(Teletex) 2.5.5.4, String(Unicode) 2.5.5.12, String(Object-Identifier) 2.5.5.2
    /// (names and OIDs, compared case-insensitively), Object(Presentation-Address) 2.5.5.13.
    CaseIgnore,
    /// String(Case) 2.5.5.3, String(IA5)/String(Printable) 2.5.5.5 (AD compares these
    /// case-sensitively: caseExactIA5Match), String(Numeric) 2.5.5.6.
    CaseExact,
    /// String(Octet) 2.5.5.10, String(Sid) 2.5.5.17, String(NT-Sec-Desc) 2.5.5.15: byte for byte.
    Octet,
    /// Object(DS-DN) 2.5.5.1; Object(DN-Binary)/Object(OR-Name) 2.5.5.7 and
    /// Object(DN-String)/Object(Access-Point) 2.5.5.14 too, compared case-insensitively for now.
    Dn,
    /// Integer/Enumeration 2.5.5.9, LargeInteger 2.5.5.16.
    Integer,
    /// Boolean 2.5.5.8: `TRUE` / `FALSE`, in any case.
    Boolean,
    /// String(UTC-Time)/String(Generalized-Time) 2.5.5.11.
    Time,
}

impl Matching {
    /// The matching of an attributeSyntax OID; an unknown syntax compares byte for byte
    /// (at worst an unchanged value is written again).
    pub fn of_syntax(syntax_oid: &str) -> Matching {
        match syntax_oid {
            "2.5.5.2" | "2.5.5.4" | "2.5.5.12" | "2.5.5.13" => Matching::CaseIgnore,
            "2.5.5.3" | "2.5.5.5" | "2.5.5.6" => Matching::CaseExact,
            "2.5.5.1" | "2.5.5.7" | "2.5.5.14" => Matching::Dn,
            "2.5.5.9" | "2.5.5.16" => Matching::Integer,
            "2.5.5.8" => Matching::Boolean,
            "2.5.5.11" => Matching::Time,
            _ => Matching::Octet,
        }
    }

    /// Whether `a` and `b` are the same value under this matching. Values that are not
    /// UTF-8, or do not parse as their syntax, are the same only when byte-equal.
    pub fn same(self, a: &[u8], b: &[u8]) -> bool {
        if a == b {
            return true;
        }
        let (Ok(x), Ok(y)) = (std::str::from_utf8(a), std::str::from_utf8(b)) else {
            return false;
        };
        match self {
            Matching::CaseExact | Matching::Octet => false,
            Matching::CaseIgnore => fold_eq(x, y),
            Matching::Boolean => x.eq_ignore_ascii_case(y),
            Matching::Integer => matches!((x.parse::<i64>(), y.parse::<i64>()), (Ok(p), Ok(q)) if p == q),
            Matching::Time => matches!((time_key(x), time_key(y)), (Some(p), Some(q)) if p == q),
            Matching::Dn => same_dn(x, y),
        }
    }
}

/// Case-insensitive comparison of Unicode text ("A case-insensitive Unicode string": the
/// "String(Unicode) syntax" page of Microsoft's Active Directory Schema documentation).
fn fold_eq(x: &str, y: &str) -> bool {
    x.chars().flat_map(char::to_lowercase).eq(y.chars().flat_map(char::to_lowercase))
}

/// DNs compare as [`Dn`]s (parsed per RFC 4514, compared the way AD compares); values that
/// do not parse as one (the `B:…:DN` and `S:…:DN` forms of DN-Binary and DN-String,
/// [MS-ADTS] 3.1.1.2.2.2) case-insensitively.
fn same_dn(x: &str, y: &str) -> bool {
    match (Dn::parse(x), Dn::parse(y)) {
        (Ok(p), Ok(q)) => p == q,
        _ => fold_eq(x, y),
    }
}

/// Seconds since 1970 of the two forms AD returns: String(Generalized-Time)
/// `YYYYMMDDHHMMSS[.f]Z` and String(UTC-Time) `YYMMDDHHMMSSZ` (RFC 4517 §3.3.13, §3.3.34),
/// with `Z` or `±HHMM`. The fraction is dropped: AD keeps times to the second
/// ([MS-ADTS] 3.1.1.2.2.2). A UTC-Time year below 50 is 20YY (RFC 5280 §4.1.2.5.1).
fn time_key(v: &str) -> Option<i64> {
    let two =
        |s: &str, i: usize| s.get(i..i + 2).filter(|d| d.bytes().all(|b| b.is_ascii_digit()))?.parse::<i64>().ok();
    let (year, rest) = match v.bytes().take_while(u8::is_ascii_digit).count() {
        14 => (two(v, 0)? * 100 + two(v, 2)?, v.get(4..)?),
        12 => (two(v, 0).map(|yy| if yy < 50 { 2000 + yy } else { 1900 + yy })?, v.get(2..)?),
        _ => return None,
    };
    let (mon, day, h, m, s) = (two(rest, 0)?, two(rest, 2)?, two(rest, 4)?, two(rest, 6)?, two(rest, 8)?);
    let mut zone = rest.get(10..)?;
    if let Some(fraction) = zone.strip_prefix(['.', ',']) {
        zone = fraction.trim_start_matches(|c: char| c.is_ascii_digit());
    }
    let offset = match zone.as_bytes().first() {
        Some(b'Z') if zone.len() == 1 => 0,
        Some(sign @ (b'+' | b'-')) if zone.len() == 5 => {
            let minutes = two(zone, 1)? * 60 + two(zone, 3)?;
            if *sign == b'+' {
                minutes * 60
            } else {
                -minutes * 60
            }
        }
        _ => return None,
    };
    let valid = (1..=12).contains(&mon) && (1..=31).contains(&day) && h < 24 && m < 60 && s <= 60;
    valid.then(|| days_from_civil(year, mon, day) * 86_400 + h * 3600 + m * 60 + s - offset)
}

/// Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant, "chrono-Compatible
/// Low-Level Date Algorithms", `days_from_civil`).
fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let doy = (153 * ((m + 9) % 12) + 2) / 5 + d - 1;
    era * 146_097 + yoe * 365 + yoe / 4 - yoe / 100 + doy - 719_468
}

/// One attribute of the schema, as its attributeSchema object says ([MS-ADTS] 3.1.1.2.3).
#[derive(Debug, Clone, PartialEq)]
pub struct AttributeDef {
    /// lDAPDisplayName.
    pub name: String,
    /// attributeID.
    pub oid: String,
    /// attributeSyntax.
    pub syntax_oid: String,
    pub matching: Matching,
    /// isSingleValued.
    pub single_valued: bool,
    /// fCONFIDENTIAL (0x80) of searchFlags: reading it needs an extra access check.
    pub confidential: bool,
    /// systemOnly: not modifiable by LDAP Modify on existing objects.
    pub system_only: bool,
    /// linkID: even for a forward link, odd for a back link.
    pub link_id: Option<i64>,
}

impl AttributeDef {
    /// From an attributeSchema entry; `None` without lDAPDisplayName, attributeID or
    /// attributeSyntax.
    pub fn from_entry(entry: &RawEntry) -> Option<AttributeDef> {
        let flag = |name: &str| entry.first_text(name).is_some_and(|v| v.eq_ignore_ascii_case("TRUE"));
        let number = |name: &str| entry.first_text(name).and_then(|v| v.trim().parse::<i64>().ok());
        let syntax_oid = entry.first_text("attributeSyntax")?.to_owned();
        Some(AttributeDef {
            name: entry.first_text("lDAPDisplayName")?.to_owned(),
            oid: entry.first_text("attributeID")?.to_owned(),
            matching: Matching::of_syntax(&syntax_oid),
            syntax_oid,
            single_valued: flag("isSingleValued"),
            confidential: number("searchFlags").is_some_and(|f| f & FCONFIDENTIAL != 0),
            system_only: flag("systemOnly"),
            link_id: number("linkID"),
        })
    }

    /// Whether two values are the same value under this attribute's matching rule.
    pub fn same_value(&self, a: &[u8], b: &[u8]) -> bool {
        self.matching.same(a, b)
    }
}

/// An attribute description resolved through the schema: the attribute, and the options
/// it was written with (`;binary`, `;range=0-*`, `;lang-en`), as written.
#[derive(Debug, Clone, PartialEq)]
pub struct Resolved<'a> {
    pub def: &'a AttributeDef,
    pub options: Vec<String>,
}

impl Resolved<'_> {
    /// The attribute description to send the DC: lDAPDisplayName plus the options as
    /// written (RFC 4512 §2.5: `name;option;…`).
    pub fn description(&self) -> String {
        std::iter::once(self.def.name.as_str())
            .chain(self.options.iter().map(String::as_str))
            .collect::<Vec<_>>()
            .join(";")
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("`{written}` is not an attribute of the directory's schema")]
pub struct UnknownAttribute {
    pub written: String,
}

/// The attributes of one directory, by lowercased lDAPDisplayName and by attributeID.
#[derive(Debug, Clone, Default)]
pub struct Schema {
    defs: Vec<AttributeDef>,
    by_name: HashMap<String, usize>,
    by_oid: HashMap<String, usize>,
}

impl Schema {
    /// From the entries of `objectClass=attributeSchema`; defunct ones, and ones without a
    /// name, OID or syntax, are left out; of two with the same name or OID the first stays.
    pub fn from_entries(entries: impl IntoIterator<Item = RawEntry>) -> Schema {
        let mut schema = Schema::default();
        for entry in entries {
            if entry.first_text("isDefunct").is_some_and(|v| v.eq_ignore_ascii_case("TRUE")) {
                continue;
            }
            let Some(def) = AttributeDef::from_entry(&entry) else {
                tracing::warn!(dn = %entry.dn, "attributeSchema entry without a name, OID or syntax: left out");
                continue;
            };
            let name = def.name.to_ascii_lowercase();
            if schema.by_name.contains_key(&name) || schema.by_oid.contains_key(&def.oid) {
                tracing::warn!(dn = %entry.dn, "attributeSchema entry repeats a name or OID: left out");
                continue;
            }
            schema.by_name.insert(name, schema.defs.len());
            schema.by_oid.insert(def.oid.clone(), schema.defs.len());
            schema.defs.push(def);
        }
        schema
    }

    /// Reads the root DSE's schemaNamingContext, then every attributeSchema object in it,
    /// paged (RFC 2696) since a DC answers at most MaxPageSize entries a search.
    pub async fn load(ldap: &mut Ldap, timeout: Duration) -> Result<Schema, LdapFailure> {
        let root = ldap
            .with_timeout(timeout)
            .search("", Scope::Base, "(objectClass=*)", vec!["schemaNamingContext"])
            .await
            .map_err(LdapFailure::from_ldap)?;
        LdapFailure::success(root.1)?;
        let mut nc = None;
        for raw in root.0.into_iter().filter(|e| !e.is_ref()) {
            nc = nc.or(RawEntry::parse(raw)?.first_text("schemaNamingContext").map(str::to_owned));
        }
        let nc = nc.ok_or_else(|| LdapFailure::Protocol("the root DSE has no schemaNamingContext".into()))?;
        let adapters: Vec<Box<dyn Adapter<_, _>>> =
            vec![Box::new(EntriesOnly::new()), Box::new(PagedResults::new(PAGE_SIZE))];
        let mut search = ldap
            .with_timeout(timeout)
            .streaming_search_with(
                adapters,
                &nc,
                Scope::OneLevel,
                "(objectClass=attributeSchema)",
                SCHEMA_ATTRIBUTES.to_vec(),
            )
            .await
            .map_err(LdapFailure::from_ldap)?;
        let mut entries = Vec::new();
        while let Some(raw) = search.next().await.map_err(LdapFailure::from_ldap)? {
            entries.push(RawEntry::parse(raw)?);
        }
        let done = search.finish().await;
        LdapFailure::success(done)?;
        Ok(Schema::from_entries(entries))
    }

    /// Resolves an attribute description as a job wrote it: a name in any case, a numeric
    /// OID or an `OID.`-prefixed one (the RFC 1779 §2.3 spelling), each optionally followed
    /// by `;options` (RFC 4512 §2.5), which are kept.
    pub fn resolve(&self, written: &str) -> Result<Resolved<'_>, UnknownAttribute> {
        let unknown = || UnknownAttribute { written: written.to_owned() };
        let mut parts = written.split(';');
        let base = parts.next().unwrap_or_default();
        let options: Vec<String> = parts.map(str::to_owned).collect();
        if options.iter().any(String::is_empty) {
            return Err(unknown());
        }
        let prefixed = base.get(..4).filter(|p| p.eq_ignore_ascii_case("OID.")).and(base.get(4..));
        let index = match prefixed {
            Some(oid) => self.by_oid.get(oid),
            None if base.starts_with(|c: char| c.is_ascii_digit()) => self.by_oid.get(base),
            None => self.by_name.get(&base.to_ascii_lowercase()),
        };
        let def = index.and_then(|&i| self.defs.get(i)).ok_or_else(unknown)?;
        Ok(Resolved { def, options })
    }

    /// The number of (active) attributes.
    pub fn len(&self) -> usize {
        self.defs.len()
    }

    pub fn is_empty(&self) -> bool {
        self.defs.is_empty()
    }
}

#[cfg(test)]
pub(crate) mod tests;
