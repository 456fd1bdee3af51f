//! The project's distinguished name: parsed per RFC 4514 §3 (with the tolerance real
//! servers show), rendered per RFC 4514 §2, compared the way Active Directory compares.
//!
//! Invariants: RDNs are held leaf first (RFC 4514 §2.1), every value already unescaped;
//! `Dn::parse(&dn.to_string())` gives back the same types and values for every `Dn`
//! whose attribute types are valid (all of them, except a bad type handed to
//! [`Dn::child`]); `Eq` and `Hash` read one normalised key per RDN, so they always agree.
//!
//! Choices beyond RFC 4514 §3, each the way common servers behave:
//! - `;` separates RDNs like `,` (RFC 2253 §4); it is rendered as `,`, and a `;` inside a
//!   value must be escaped (`\;` or `\3B`).
//! - spaces around `=`, `,`, `+` and the whole string are ignored (RFC 2253 §4).
//! - `OID.`/`oid.` before a numeric OID and quoted values `"…"` are accepted (RFC 1779
//!   §2.3); the prefix is dropped from the type as written.
//! - `\` may escape any ASCII punctuation (ADSI writes `\/`), not only RFC 4514's specials.
//! - `"`, `<`, `>` and `=` inside an unquoted value are taken literally; an unescaped NUL
//!   is refused.

use std::fmt;
use std::hash::{Hash, Hasher};
use std::str::FromStr;

/// A distinguished name (RFC 4514), leaf RDN first.
#[derive(Debug, Clone, Default)]
pub struct Dn {
    rdns: Vec<Rdn>,
}

/// A relative distinguished name (RFC 4512 §2.3.1): a set of one or more attribute
/// values, joined by `+` when multi-valued (RFC 4514 §2.2).
#[derive(Debug, Clone)]
pub struct Rdn {
    /// The pairs in written order: rendering and `Dn::leaf_*` follow it.
    avas: Vec<Ava>,
    /// The pairs normalised and sorted: all that `Eq` and `Hash` look at, since an RDN is
    /// a set (RFC 4512 §2.3.1) and AD compares types and values case-insensitively.
    key: Vec<AvaKey>,
}

/// An AttributeTypeAndValue (RFC 4514 §2.3).
#[derive(Debug, Clone)]
struct Ava {
    /// As written, without an `OID.` prefix.
    ty: String,
    /// Unescaped; for a `#` value that is not a BER string, `#` and its lowercase hex.
    value: String,
    /// Whether `value` is such a kept BER hex spelling (rendered without escaping).
    ber: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
struct AvaKey {
    ty: String,
    ber: bool,
    value: String,
}

/// Why a string is not a DN; `position` counts characters (not bytes) from 0, and equals
/// the number of characters when the input ended too early.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("not a distinguished name (RFC 4514): {reason} at character {position} of `{input}`")]
pub struct DnError {
    pub input: String,
    pub position: usize,
    pub reason: &'static str,
}

// === impl Dn ===

impl Dn {
    /// Parses an RFC 4514 §3 string; `""` (or only spaces) is the root DN.
    pub fn parse(s: &str) -> Result<Dn, DnError> {
        parse::Parser::new(s).dn()
    }

    /// The empty DN (RFC 4514 §2.1: zero RDNs), the root DSE's name.
    pub fn root() -> Dn {
        Dn { rdns: Vec::new() }
    }

    pub fn is_root(&self) -> bool {
        self.rdns.is_empty()
    }

    /// The RDNs, leaf first (RFC 4514 §2.1).
    pub fn rdns(&self) -> &[Rdn] {
        &self.rdns
    }

    /// The DN without its leaf RDN; `None` for the root.
    pub fn parent(&self) -> Option<Dn> {
        self.rdns.get(1..).map(|rest| Dn { rdns: rest.to_vec() })
    }

    /// self == ancestor, or self lies under it (RDN by RDN from the right).
    ///
    /// Compares parsed RDNs, never strings, so `CN=x\,OU=Staff,DC=a` is not under
    /// `OU=Staff,DC=a` (RFC 4514 §2.4: the escaped comma belongs to the value).
    pub fn is_within(&self, ancestor: &Dn) -> bool {
        self.rdns
            .len()
            .checked_sub(ancestor.rdns.len())
            .and_then(|skip| self.rdns.get(skip..))
            .is_some_and(|tail| tail == ancestor.rdns.as_slice())
    }

    /// A child `attr=value` of self; `value` is the unescaped value (escaped when rendered,
    /// RFC 4514 §2.4). `attr` should be a valid type (`CN`, `OU`, `2.5.4.3`): a bad one is
    /// kept as given and the rendered DN will not parse; see [`Dn::try_child`].
    pub fn child(&self, attr: &str, value: &str) -> Dn {
        let ava = Ava { ty: without_oid_prefix(attr).to_owned(), value: value.to_owned(), ber: false };
        let mut rdns = Vec::with_capacity(self.rdns.len() + 1);
        rdns.push(Rdn::new(vec![ava]));
        rdns.extend(self.rdns.iter().cloned());
        Dn { rdns }
    }

    /// [`Dn::child`], refusing an attribute type that is neither a descriptor nor a numeric
    /// OID (RFC 4512 §1.4).
    pub fn try_child(&self, attr: &str, value: &str) -> Result<Dn, DnError> {
        let mut parser = parse::Parser::new(attr);
        parser.attr_type()?;
        if parser.peek().is_some() {
            return Err(parser.error(parser.pos, "an attribute type has only letters, digits and `-` (or is an OID)"));
        }
        Ok(self.child(attr, value))
    }

    /// The string to send to an Active Directory DC: one attribute per RDN, the common
    /// naming attributes by their short names (`2.5.4.11`, `OID.2.5.4.11` and
    /// `organizationalUnitName` as `ou`), values escaped as [`Display`](fmt::Display)
    /// does. Samba refuses numeric types and multi-valued RDNs (`34 invalid dn`,
    /// measured), and AD names have neither; an unknown numeric type is an error too.
    pub fn to_ad_string(&self) -> Result<String, DnError> {
        let fail = |reason| DnError { input: self.to_string(), position: 0, reason };
        let mut out = Dn::root();
        for rdn in self.rdns.iter().rev() {
            let mut values = rdn.values();
            let (ty, value) = values.next().ok_or_else(|| fail("an empty RDN"))?;
            if values.next().is_some() {
                return Err(fail("Active Directory names have one attribute per RDN (no `+`)"));
            }
            let key = type_key(ty);
            let short = if NAMING_ATTRIBUTES.iter().any(|(_, _, short)| *short == key) {
                key.to_ascii_uppercase()
            } else if starts_with_digit(&key) {
                return Err(fail("a numeric attribute type that is not a naming attribute (cn, ou, dc, …)"));
            } else {
                ty.to_owned()
            };
            out = out.child(&short, value);
        }
        Ok(out.to_string())
    }

    /// The leaf RDN's first value, unescaped (`CN=R&D\, Lab \#1,OU=x` → `R&D, Lab #1`).
    pub fn leaf_value(&self) -> Option<&str> {
        self.rdns.first().and_then(|rdn| rdn.avas.first()).map(|ava| ava.value.as_str())
    }

    /// The leaf RDN's first attribute type as written (`CN`).
    pub fn leaf_type(&self) -> Option<&str> {
        self.rdns.first().and_then(|rdn| rdn.avas.first()).map(|ava| ava.ty.as_str())
    }
}

/// RFC 4514 §2.1: RDNs joined by `,`, leaf first.
impl fmt::Display for Dn {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, rdn) in self.rdns.iter().enumerate() {
            if i > 0 {
                f.write_str(",")?;
            }
            write!(f, "{rdn}")?;
        }
        Ok(())
    }
}

impl FromStr for Dn {
    type Err = DnError;

    fn from_str(s: &str) -> Result<Dn, DnError> {
        Dn::parse(s)
    }
}

impl Dn {
    /// A string two DNs share exactly when they are equal as [`PartialEq`] judges them
    /// (types and values case-folded, each RDN a set, escapes undone): the key of a map
    /// or set of DNs held as text. Each part is length-prefixed, so no value can forge
    /// a separator.
    pub fn match_key(&self) -> String {
        let mut out = String::new();
        for rdn in &self.rdns {
            for k in &rdn.key {
                out.push_str(&format!("{}:{}{}:{}+", k.ty.len(), k.ty, if k.ber { "#" } else { "" }, k.value.len()));
                out.push_str(&k.value);
            }
            out.push(',');
        }
        out
    }
}

/// [`Dn::match_key`] of a DN as written; text that is not a DN keys as itself,
/// lower-cased (a directory's own answers always parse).
pub fn match_key(dn: &str) -> String {
    Dn::parse(dn).map_or_else(|_| dn.to_lowercase(), |d| d.match_key())
}

/// Same number of RDNs, each equal as a set (see [`Rdn`]'s `PartialEq`).
impl PartialEq for Dn {
    fn eq(&self, other: &Dn) -> bool {
        self.rdns == other.rdns
    }
}

impl Eq for Dn {}

impl Hash for Dn {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.rdns.hash(state);
    }
}

// === impl Rdn ===

impl Rdn {
    fn new(avas: Vec<Ava>) -> Rdn {
        let mut key: Vec<AvaKey> = avas
            .iter()
            .map(|ava| AvaKey {
                ty: type_key(&ava.ty),
                ber: ava.ber,
                value: if ava.ber { ava.value.to_ascii_lowercase() } else { fold_case(&ava.value) },
            })
            .collect();
        key.sort();
        Rdn { avas, key }
    }

    /// `(type as written, unescaped value)` in written order. A `#` value that is not a
    /// BER string (RFC 4514 §2.4) is given as `#` and its lowercase hex.
    pub fn values(&self) -> impl Iterator<Item = (&str, &str)> {
        self.avas.iter().map(|ava| (ava.ty.as_str(), ava.value.as_str()))
    }
}

/// RFC 4514 §2.2/§2.3: `type=value` joined by `+`, values escaped per §2.4.
impl fmt::Display for Rdn {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, ava) in self.avas.iter().enumerate() {
            if i > 0 {
                f.write_str("+")?;
            }
            write!(f, "{}=", ava.ty)?;
            if ava.ber {
                f.write_str(&ava.value)?;
            } else {
                write_escaped(f, &ava.value)?;
            }
        }
        Ok(())
    }
}

/// As AD compares: the same set of (type, value) pairs, whatever their written order
/// (RFC 4512 §2.3.1), types case-insensitively with OIDs as names (RFC 4512 §2.5), values
/// unescaped and case-insensitively (caseIgnoreMatch, RFC 4517 §4.2.11).
impl PartialEq for Rdn {
    fn eq(&self, other: &Rdn) -> bool {
        self.key == other.key
    }
}

impl Eq for Rdn {}

impl Hash for Rdn {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.key.hash(state);
    }
}

// === normalisation and escaping ===

/// The naming attributes of RFC 4519 §2 (OID, long name, short name): spelled any of the
/// three ways, a type compares as its short name.
const NAMING_ATTRIBUTES: &[(&str, &str, &str)] = &[
    ("2.5.4.3", "commonname", "cn"),
    ("2.5.4.11", "organizationalunitname", "ou"),
    ("2.5.4.10", "organizationname", "o"),
    ("0.9.2342.19200300.100.1.25", "domaincomponent", "dc"),
    ("2.5.4.6", "countryname", "c"),
    ("2.5.4.7", "localityname", "l"),
    ("2.5.4.8", "stateorprovincename", "st"),
    ("2.5.4.9", "streetaddress", "street"),
    ("0.9.2342.19200300.100.1.1", "userid", "uid"),
];

/// An attribute type's comparison key: descriptors are case-insensitive (RFC 4512 §2.5),
/// OID components lose leading zeros, and naming attributes become their short names.
fn type_key(ty: &str) -> String {
    let lower = without_oid_prefix(ty).to_ascii_lowercase();
    let canonical = if starts_with_digit(&lower) {
        lower.split('.').map(without_leading_zeros).collect::<Vec<_>>().join(".")
    } else {
        lower
    };
    NAMING_ATTRIBUTES
        .iter()
        .find(|(oid, long, _)| *oid == canonical || *long == canonical)
        .map_or(canonical, |(_, _, short)| (*short).to_owned())
}

/// A value's comparison key: Unicode lowercase (`char::to_lowercase`, as
/// `str::to_lowercase` but without its final-sigma rule), with `ς` folded to `σ` so that
/// `ΑΣ`, `ασ` and `ας` compare equal, as under AD's uppercasing comparison.
fn fold_case(value: &str) -> String {
    value.chars().flat_map(char::to_lowercase).map(|c| if c == 'ς' { 'σ' } else { c }).collect()
}

fn without_leading_zeros(number: &str) -> &str {
    match number.trim_start_matches('0') {
        "" => "0",
        trimmed => trimmed,
    }
}

fn starts_with_digit(s: &str) -> bool {
    s.starts_with(|c: char| c.is_ascii_digit())
}

/// Drops an RFC 1779 §2.3 `OID.` prefix (any case) when a numeric OID follows.
fn without_oid_prefix(ty: &str) -> &str {
    match (ty.get(..4), ty.get(4..)) {
        (Some(prefix), Some(rest)) if prefix.eq_ignore_ascii_case("oid.") && starts_with_digit(rest) => rest,
        _ => ty,
    }
}

/// RFC 4514 §2.4, minimally and canonically: `"` `+` `,` `;` `<` `>` `\` as `\c`, a
/// leading `#` or space and a trailing space as `\c`, NUL as `\00`; and `=` as `\=`
/// (a valid pair, §3): Samba 4.17 refuses an add whose DN has a bare `=` in a value
/// (`34 invalid dn`, measured).
fn write_escaped(f: &mut fmt::Formatter<'_>, value: &str) -> fmt::Result {
    for (i, c) in value.char_indices() {
        let edge = (i == 0 && (c == '#' || c == ' ')) || (c == ' ' && i + 1 == value.len());
        if c == '\0' {
            f.write_str("\\00")?;
        } else if edge || matches!(c, '"' | '+' | ',' | ';' | '<' | '>' | '\\' | '=') {
            write!(f, "\\{c}")?;
        } else {
            write!(f, "{c}")?;
        }
    }
    Ok(())
}

mod parse;

#[cfg(test)]
mod tests;
