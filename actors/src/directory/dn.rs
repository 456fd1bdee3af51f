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
        Parser::new(s).dn()
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
        let mut parser = Parser::new(attr);
        parser.attr_type()?;
        if parser.peek().is_some() {
            return Err(parser.error(parser.pos, "an attribute type has only letters, digits and `-` (or is an OID)"));
        }
        Ok(self.child(attr, value))
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

/// A `#` value (RFC 4514 §2.4, §3) is the BER encoding of the value: decodes a primitive
/// OCTET STRING or UTF8String holding UTF-8, or a PrintableString, TeletexString or
/// IA5String holding ASCII (X.690 §8.1, definite length up to 65535); `None` otherwise.
fn ber_string(bytes: &[u8]) -> Option<String> {
    let (&tag, rest) = bytes.split_first()?;
    if !matches!(tag, 0x04 | 0x0C | 0x13 | 0x14 | 0x16) {
        return None;
    }
    let (&first, rest) = rest.split_first()?;
    let (len, content) = match (first, rest) {
        (0..=0x7F, _) => (usize::from(first), rest),
        (0x81, [n, content @ ..]) => (usize::from(*n), content),
        (0x82, [hi, lo, content @ ..]) => (usize::from(*hi) << 8 | usize::from(*lo), content),
        _ => return None,
    };
    let text_tag = matches!(tag, 0x04 | 0x0C);
    if content.len() != len || !(text_tag || content.is_ascii()) {
        return None;
    }
    String::from_utf8(content.to_vec()).ok()
}

// === parsing (RFC 4514 §3) ===

struct Parser<'a> {
    input: &'a str,
    chars: Vec<char>,
    /// Index into `chars` of the next character to read.
    pos: usize,
}

/// A value being unescaped: the text so far, a run of `\XX` bytes not yet decoded as
/// UTF-8, and how much of the text to keep when unescaped trailing spaces are trimmed.
#[derive(Default)]
struct Unescaped {
    text: String,
    pending: Vec<u8>,
    pending_at: usize,
    keep: usize,
}

impl Unescaped {
    /// Decodes the pending `\XX` run; on invalid UTF-8, the position of the first bad `\XX`.
    fn flush(&mut self) -> Result<(), usize> {
        if self.pending.is_empty() {
            return Ok(());
        }
        let text = std::str::from_utf8(&self.pending).map_err(|e| self.pending_at + 3 * e.valid_up_to())?;
        self.text.push_str(text);
        self.keep = self.text.len();
        self.pending.clear();
        Ok(())
    }
}

const BAD_UTF8: &str = "escaped bytes `\\XX` that are not valid UTF-8";

impl<'a> Parser<'a> {
    fn new(input: &'a str) -> Parser<'a> {
        Parser { input, chars: input.chars().collect(), pos: 0 }
    }

    fn peek(&self) -> Option<char> {
        self.peek_at(0)
    }

    fn peek_at(&self, ahead: usize) -> Option<char> {
        self.chars.get(self.pos + ahead).copied()
    }

    fn error(&self, position: usize, reason: &'static str) -> DnError {
        DnError { input: self.input.to_owned(), position, reason }
    }

    fn skip_spaces(&mut self) {
        while self.peek() == Some(' ') {
            self.pos += 1;
        }
    }

    /// distinguishedName = [ relativeDistinguishedName *( COMMA relativeDistinguishedName ) ]
    fn dn(mut self) -> Result<Dn, DnError> {
        self.skip_spaces();
        let mut rdns = Vec::new();
        if self.peek().is_none() {
            return Ok(Dn { rdns });
        }
        loop {
            rdns.push(self.rdn()?);
            match self.peek() {
                None => return Ok(Dn { rdns }),
                Some(',' | ';') => self.pos += 1,
                Some(_) => return Err(self.error(self.pos, "expected `,` between RDNs")),
            }
        }
    }

    /// relativeDistinguishedName = attributeTypeAndValue *( PLUS attributeTypeAndValue )
    fn rdn(&mut self) -> Result<Rdn, DnError> {
        let mut avas = vec![self.ava()?];
        while self.peek() == Some('+') {
            self.pos += 1;
            avas.push(self.ava()?);
        }
        Ok(Rdn::new(avas))
    }

    /// attributeTypeAndValue = attributeType EQUALS attributeValue; stops before the
    /// separator that follows, trailing spaces consumed.
    fn ava(&mut self) -> Result<Ava, DnError> {
        self.skip_spaces();
        let ty = self.attr_type()?;
        self.skip_spaces();
        if self.peek() != Some('=') {
            return Err(self.error(self.pos, "an attribute type must be followed by `=`"));
        }
        self.pos += 1;
        self.skip_spaces();
        let (value, ber) = match self.peek() {
            Some('#') => self.hex_value()?,
            Some('"') => (self.quoted_value()?, false),
            _ => (self.string_value()?, false),
        };
        Ok(Ava { ty, value, ber })
    }

    /// attributeType = descr / numericoid (RFC 4512 §1.4), after an optional `OID.`.
    fn attr_type(&mut self) -> Result<String, DnError> {
        let prefix: String = self.chars.iter().skip(self.pos).take(4).collect();
        if prefix.eq_ignore_ascii_case("oid.") && self.peek_at(4).is_some_and(|c| c.is_ascii_digit()) {
            self.pos += 4;
        }
        let start = self.pos;
        match self.peek() {
            Some(c) if c.is_ascii_digit() => loop {
                let number = self.pos;
                while self.peek().is_some_and(|c| c.is_ascii_digit()) {
                    self.pos += 1;
                }
                if self.pos == number {
                    return Err(self.error(self.pos, "each part of an OID must be a number"));
                }
                if self.peek() != Some('.') {
                    break;
                }
                self.pos += 1;
            },
            Some(c) if c.is_ascii_alphabetic() => {
                while self.peek().is_some_and(|c| c.is_ascii_alphanumeric() || c == '-') {
                    self.pos += 1;
                }
            }
            _ => return Err(self.error(start, "expected an attribute type (like `CN` or `2.5.4.3`)")),
        }
        Ok(self.chars.get(start..self.pos).unwrap_or_default().iter().collect())
    }

    /// After a hex or quoted value only spaces may come before the separator.
    fn end_of_value(&mut self, reason: &'static str) -> Result<(), DnError> {
        self.skip_spaces();
        match self.peek() {
            None | Some(',' | ';' | '+') => Ok(()),
            Some(_) => Err(self.error(self.pos, reason)),
        }
    }

    /// SHARP 1*hexpair (RFC 4514 §3): a BER string, else kept as hex.
    fn hex_value(&mut self) -> Result<(String, bool), DnError> {
        let sharp = self.pos;
        self.pos += 1;
        let mut bytes = Vec::new();
        while let Some(hi) = self.peek().and_then(|c| c.to_digit(16)) {
            let Some(lo) = self.peek_at(1).and_then(|c| c.to_digit(16)) else {
                return Err(self.error(self.pos + 1, "hex digits after `#` must come in pairs"));
            };
            bytes.push((hi * 16 + lo) as u8);
            self.pos += 2;
        }
        if bytes.is_empty() {
            return Err(self.error(sharp, "a value starting with `#` must be hex (write a literal `#` as `\\#`)"));
        }
        self.end_of_value("a `#` value has only hex digits (write a literal `#` as `\\#`)")?;
        Ok(match ber_string(&bytes) {
            Some(text) => (text, false),
            None => (bytes.iter().fold(String::from("#"), |hex, b| hex + &format!("{b:02x}")), true),
        })
    }

    /// DQUOTE *( QUOTECHAR / pair ) DQUOTE (RFC 1779 §2.3): kept as is, spaces included.
    fn quoted_value(&mut self) -> Result<String, DnError> {
        let open = self.pos;
        self.pos += 1;
        let mut out = Unescaped::default();
        loop {
            match self.peek() {
                None => return Err(self.error(open, "a quoted value has no closing `\"`")),
                Some('"') => break,
                Some('\\') => self.escape(&mut out)?,
                Some(c) => self.literal(&mut out, c)?,
            }
        }
        self.pos += 1;
        out.flush().map_err(|at| self.error(at, BAD_UTF8))?;
        self.end_of_value("a quoted value must be followed by `,`, `+` or the end")?;
        Ok(out.text)
    }

    /// string (RFC 4514 §3), unescaped spaces at either end dropped.
    fn string_value(&mut self) -> Result<String, DnError> {
        let mut out = Unescaped::default();
        while let Some(c) = self.peek() {
            match c {
                ',' | ';' | '+' => break,
                '\\' => self.escape(&mut out)?,
                _ => self.literal(&mut out, c)?,
            }
        }
        out.flush().map_err(|at| self.error(at, BAD_UTF8))?;
        out.text.truncate(out.keep);
        Ok(out.text)
    }

    fn literal(&mut self, out: &mut Unescaped, c: char) -> Result<(), DnError> {
        if c == '\0' {
            return Err(self.error(self.pos, "a NUL character must be written `\\00`"));
        }
        self.pos += 1;
        self.push(out, c, c != ' ')
    }

    fn push(&self, out: &mut Unescaped, c: char, kept: bool) -> Result<(), DnError> {
        out.flush().map_err(|at| self.error(at, BAD_UTF8))?;
        out.text.push(c);
        if kept {
            out.keep = out.text.len();
        }
        Ok(())
    }

    /// pair = ESC ( ESC / special / hexpair ) (RFC 4514 §3), any ASCII punctuation allowed.
    fn escape(&mut self, out: &mut Unescaped) -> Result<(), DnError> {
        let at = self.pos;
        let hex = |c: Option<char>| c.and_then(|c| c.to_digit(16));
        match (self.peek_at(1), hex(self.peek_at(1)), hex(self.peek_at(2))) {
            (_, Some(hi), Some(lo)) => {
                if out.pending.is_empty() {
                    out.pending_at = at;
                }
                out.pending.push((hi * 16 + lo) as u8);
                self.pos += 3;
                Ok(())
            }
            (Some(c), _, _) if c == ' ' || c.is_ascii_punctuation() => {
                self.pos += 2;
                self.push(out, c, true)
            }
            (None, _, _) => Err(self.error(at, "a `\\` at the end escapes nothing")),
            _ => Err(self.error(at, "a `\\` must be followed by a special character or two hex digits")),
        }
    }
}

#[cfg(test)]
mod tests;
