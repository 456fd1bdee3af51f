//! Redaction: every log line passes through here before it reaches stderr, a file, the
//! UI's tail or a stream, so a secret cannot be logged even by mistake:
//! - the known secrets of this process (server token, bind passwords, UI admin token)
//!   are replaced wherever they appear, in messages as well as fields;
//! - the value after a secret-sounding key (`password=`, `"token":`, `Authorization: Basic …`)
//!   is replaced, whatever it is (job payload passwords are not known in advance).

use std::sync::RwLock;

pub const MASK: &str = "[REDACTED]";

/// Key names whose value is always masked (matched case-insensitively, as a suffix of
/// the key: `new_password`, `bind_password`, `unicodePwd`).
const KEYS: [&str; 8] = ["password", "passwd", "pwd", "secret", "token", "authorization", "api_key", "cookie"];

/// Whether a field or key name sounds secret (`password`, `new_password`, `token`, …):
/// its whole value is masked, whatever it holds.
pub fn is_secret_key(name: &str) -> bool {
    let lower = name.to_ascii_lowercase();
    KEYS.iter().any(|k| lower.contains(k))
}

/// The known secret values of this process.
#[derive(Debug, Default)]
pub struct Secrets {
    values: RwLock<Vec<String>>,
}

impl Secrets {
    /// Registers a secret in every form a line may carry it: raw, JSON-escaped (the JSON
    /// log file, a payload quoted in a message), JSON-escaped twice (JSON quoted inside a
    /// JSON line), `Debug`-escaped (`{:?}`) and percent-encoded (a URL). Redaction runs
    /// on the formatted line, so a `"`, `\`, `%`, newline or non-ASCII character in the
    /// secret would otherwise change its text there and let it through. Values shorter
    /// than 4 characters are not registered (they would mask ordinary words).
    pub fn add(&self, value: &str) {
        let v = value.trim();
        if v.len() < 4 {
            return;
        }
        if let Ok(mut list) = self.values.write() {
            for form in forms(v) {
                if !list.contains(&form) {
                    list.push(form);
                }
            }
            // Longest first, so a secret containing another is masked whole.
            list.sort_by_key(|s| std::cmp::Reverse(s.len()));
        }
    }

    pub fn redact(&self, line: &str) -> String {
        let mut out = line.to_owned();
        if let Ok(list) = self.values.read() {
            for s in list.iter() {
                if out.contains(s.as_str()) {
                    out = out.replace(s.as_str(), MASK);
                }
            }
        }
        redact_keys(&out)
    }
}

/// The forms of one secret that formatting can produce (see [`Secrets::add`]).
fn forms(v: &str) -> Vec<String> {
    let json = |s: &str| serde_json::to_string(s).map(|q| q[1..q.len() - 1].to_owned()).unwrap_or_default();
    let debug = |s: &str| {
        let q = format!("{s:?}");
        q[1..q.len() - 1].to_owned()
    };
    let percent: String = v
        .bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect();
    let mut out = vec![v.to_owned(), json(v), json(&json(v)), debug(v), debug(&debug(v)), percent];
    out.retain(|f| !f.is_empty());
    out.dedup();
    out
}

fn is_value_end(b: u8) -> bool {
    b.is_ascii_whitespace() || matches!(b, b',' | b'}' | b';' | b'&' | b')' | b']')
}

/// Masks the value following each secret-sounding key, and `Basic`/`Bearer` credentials.
pub fn redact_keys(line: &str) -> String {
    let lower = line.to_ascii_lowercase();
    let bytes = line.as_bytes();
    let mut spans: Vec<(usize, usize)> = Vec::new();
    for key in KEYS {
        let mut from = 0;
        while let Some(pos) = lower[from..].find(key) {
            let end_key = from + pos + key.len();
            from = end_key;
            let mut i = end_key;
            // The key must end here (`password=`, `password":`, `password\":`, `password: `).
            while matches!(bytes.get(i), Some(b'"') | Some(b'\\') | Some(b'\'')) {
                i += 1;
            }
            while bytes.get(i) == Some(&b' ') {
                i += 1;
            }
            if !matches!(bytes.get(i), Some(b'=') | Some(b':')) {
                continue;
            }
            i += 1;
            while bytes.get(i) == Some(&b' ') {
                i += 1;
            }
            if let Some(span) = value_span(bytes, i, key == "authorization") {
                spans.push(span);
            }
        }
    }
    for scheme in ["basic ", "bearer "] {
        let mut from = 0;
        while let Some(pos) = lower[from..].find(scheme) {
            let start = from + pos + scheme.len();
            from = start;
            let end = (start..bytes.len()).find(|&j| is_value_end(bytes[j]) || bytes[j] == b'"').unwrap_or(bytes.len());
            let word = &line[start..end];
            // A credential, not an English word ("Basic Authorization"): words are
            // letters, at most the first one upper case.
            let wordlike =
                word.chars().all(|c| c.is_ascii_alphabetic()) && !word.chars().skip(1).any(|c| c.is_ascii_uppercase());
            if word.len() >= 8 && !wordlike {
                spans.push((start, end));
            }
        }
    }
    if spans.is_empty() {
        return line.to_owned();
    }
    spans.sort();
    let mut out = String::with_capacity(line.len());
    let mut at = 0;
    for (s, e) in spans {
        if s < at {
            continue;
        }
        out.push_str(&line[at..s]);
        out.push_str(MASK);
        at = e;
    }
    out.push_str(&line[at..]);
    out
}

/// The value starting at `i`: a quoted string (escapes honoured) or a bare word. An
/// `Authorization` value keeps its scheme word and masks the rest.
fn value_span(bytes: &[u8], mut i: usize, scheme: bool) -> Option<(usize, usize)> {
    if i >= bytes.len() {
        return None;
    }
    // A quoted value inside an escaped JSON string: `\"value\"`.
    if bytes[i] == b'\\' && bytes.get(i + 1) == Some(&b'"') {
        let start = i + 2;
        let end =
            (start..bytes.len()).find(|&j| bytes[j] == b'\\' && bytes.get(j + 1) == Some(&b'"')).unwrap_or(bytes.len());
        return Some((start, end));
    }
    if bytes[i] == b'"' || bytes[i] == b'\'' {
        let quote = bytes[i];
        let start = i + 1;
        let mut j = start;
        while j < bytes.len() && bytes[j] != quote {
            j += if bytes[j] == b'\\' { 2 } else { 1 };
        }
        return Some((start, j.min(bytes.len())));
    }
    // A value inside a wrapper (`Some("…")`, `["…"]`, `("…")`, `{…}`): the whole group,
    // or the mask would stop at its first quote and leave the secret after it.
    if let Some(end) = bracketed(bytes, i) {
        return Some((i, end));
    }
    if scheme {
        // "Authorization: Basic xyz": the Basic/Bearer rule masks the credential.
        let word_end = (i..bytes.len()).find(|&j| is_value_end(bytes[j])).unwrap_or(bytes.len());
        let word = std::str::from_utf8(&bytes[i..word_end]).ok()?.to_ascii_lowercase();
        if word == "basic" || word == "bearer" {
            return None;
        }
        i = i.min(word_end);
    }
    let end = (i..bytes.len()).find(|&j| is_value_end(bytes[j]) || bytes[j] == b'"').unwrap_or(bytes.len());
    (end > i).then_some((i, end))
}

/// The end (exclusive) of a bracket group starting at `i`, optionally after a name
/// (`Some(`): brackets counted, quoted text skipped with its escapes.
fn bracketed(bytes: &[u8], i: usize) -> Option<usize> {
    let mut j = i;
    while j < bytes.len() && (bytes[j].is_ascii_alphanumeric() || bytes[j] == b'_') {
        j += 1;
    }
    let open = *bytes.get(j)?;
    if !matches!(open, b'(' | b'[' | b'{') || (j > i && open != b'(') {
        return None;
    }
    let mut depth = 0usize;
    let mut k = j;
    while k < bytes.len() {
        match bytes[k] {
            b'"' | b'\'' => {
                let quote = bytes[k];
                k += 1;
                while k < bytes.len() && bytes[k] != quote {
                    k += if bytes[k] == b'\\' { 2 } else { 1 };
                }
            }
            b'(' | b'[' | b'{' => depth += 1,
            b')' | b']' | b'}' => {
                depth = depth.saturating_sub(1);
                if depth == 0 {
                    return Some(k + 1);
                }
            }
            _ => {}
        }
        k += 1;
    }
    Some(bytes.len())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_secrets_and_secret_keys_are_masked_everywhere() {
        let s = Secrets::default();
        s.add("dGVzdDp0b2tlbg==");
        s.add("bindPw-9");
        let cases = [
            "sending token dGVzdDp0b2tlbg== to the server",
            "bind failed for cn=svc with bindPw-9",
            "job payload password=hunter2 user=alice",
            r#"job payload password="hunter 2" user=alice"#,
            r#"{"new_password":"S3cret!","old_password": "0ld-pw","user":"alice"}"#,
            "header Authorization: Basic QWxhZGRpbjpvcGVu",
            "Bearer eyJhbGciOi.J9.x and more",
            "unicodePwd=\"IgBQAGEAcwBzACIA\"",
            r#"{"message":"payload was {\"new_password\":\"S3cret!\"}"}"#,
        ];
        for line in cases {
            let out = s.redact(line);
            for secret in [
                "dGVzdDp0b2tlbg==",
                "bindPw-9",
                "hunter",
                "S3cret!",
                "0ld-pw",
                "QWxhZGRpbjpvcGVu",
                "eyJhbGciOi",
                "IgBQAGEAcwBzACIA",
            ] {
                assert!(!out.contains(secret), "{line} → {out}");
            }
            assert!(out.contains(MASK), "{out}");
        }
        assert!(s.redact("job payload password=hunter2 user=alice").contains("user=alice"));
    }

    /// A secret holding a quote, a backslash, `%`, a newline or non-ASCII text is masked
    /// in every escaping a line can give it (JSON, JSON twice, Debug, percent-encoding).
    #[test]
    fn a_secret_is_masked_in_every_escaping() {
        for secret in ["Pa\"ss\\w0rd", "100%-sure-pw", "two\nlines-pw", "pässwörd-ü", "12345678"] {
            let s = Secrets::default();
            s.add(secret);
            let json = serde_json::to_string(secret).unwrap();
            let twice = serde_json::to_string(&json).unwrap();
            let url = url::form_urlencoded::byte_serialize(secret.as_bytes()).collect::<String>().replace('+', "%20");
            for line in [
                format!("bind failed with {secret} here"),
                format!("{{\"message\":\"bind failed with {}\"}}", &json[1..json.len() - 1]),
                format!("{{\"message\":{twice}}}"),
                format!("error: {secret:?} refused"),
                format!("proxy http://u:{url}@proxy:3128"),
            ] {
                let out = s.redact(&line);
                assert!(out.contains(MASK), "{line} → {out}");
                for form in forms(secret) {
                    assert!(!out.contains(&form), "{form:?} left in {out}");
                }
            }
        }
    }

    /// Review of issue #14: the value after a secret-sounding key is masked only up to the
    /// first quote when it does not start with one. A `Debug`-formatted `Option`
    /// (`password: Some("…")`) or an attribute list as payloads carry them
    /// (`"userPassword": ["…"]`, PROTOCOL.md §3 `replace`/`attributes`) keeps the secret:
    /// `password: [REDACTED]"S3cret-pw")`.
    #[test]
    fn a_secret_inside_some_or_a_list_is_masked() {
        let s = Secrets::default();
        for line in [
            r#"payload AuthPayload { username: "alice", password: Some("S3cret-pw") }"#,
            r#"{"replace":{"userPassword":["S3cret-pw"]},"user":{"dn":"cn=alice"}}"#,
            r#"attributes {"unicodePwd": ["S3cret-pw"], "mail": ["a@example.test"]}"#,
            r#"new_password=("S3cret-pw")"#,
        ] {
            let out = s.redact(line);
            assert!(!out.contains("S3cret-pw"), "{line} → {out}");
        }
    }

    #[test]
    fn ordinary_lines_are_left_alone() {
        let s = Secrets::default();
        for line in [
            "Invalid Basic Authorization token (401): copy it again from the Integration Connector Credential Profile",
            "job succeeded job_id=j-1",
            "password jobs are refused on plain connections",
        ] {
            assert_eq!(s.redact(line), line);
        }
    }
}
