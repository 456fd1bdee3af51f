//! Parsing a DN string (RFC 4514 §3, with the tolerance listed in `dn.rs`) into [`Dn`].

use super::{Ava, Dn, DnError, Rdn};

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

pub(super) struct Parser<'a> {
    input: &'a str,
    chars: Vec<char>,
    /// Index into `chars` of the next character to read.
    pub(super) pos: usize,
}

/// Whether a character pushed onto an [`Unescaped`] value stays if nothing but spaces
/// follows it: an unescaped trailing space is dropped (RFC 4514 §3), an escaped one kept.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Trailing {
    Kept,
    Dropped,
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

pub(super) const BAD_UTF8: &str = "escaped bytes `\\XX` that are not valid UTF-8";

impl<'a> Parser<'a> {
    pub(super) fn new(input: &'a str) -> Parser<'a> {
        Parser { input, chars: input.chars().collect(), pos: 0 }
    }

    pub(super) fn peek(&self) -> Option<char> {
        self.peek_at(0)
    }

    fn peek_at(&self, ahead: usize) -> Option<char> {
        self.chars.get(self.pos + ahead).copied()
    }

    pub(super) fn error(&self, position: usize, reason: &'static str) -> DnError {
        DnError { input: self.input.to_owned(), position, reason }
    }

    fn skip_spaces(&mut self) {
        while self.peek() == Some(' ') {
            self.pos += 1;
        }
    }

    /// distinguishedName = [ relativeDistinguishedName *( COMMA relativeDistinguishedName ) ]
    pub(super) fn dn(mut self) -> Result<Dn, DnError> {
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
    pub(super) fn attr_type(&mut self) -> Result<String, DnError> {
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
        self.push(out, c, if c == ' ' { Trailing::Dropped } else { Trailing::Kept })
    }

    fn push(&self, out: &mut Unescaped, c: char, trailing: Trailing) -> Result<(), DnError> {
        out.flush().map_err(|at| self.error(at, BAD_UTF8))?;
        out.text.push(c);
        if trailing == Trailing::Kept {
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
                self.push(out, c, Trailing::Kept)
            }
            (None, _, _) => Err(self.error(at, "a `\\` at the end escapes nothing")),
            _ => Err(self.error(at, "a `\\` must be followed by a special character or two hex digits")),
        }
    }
}
