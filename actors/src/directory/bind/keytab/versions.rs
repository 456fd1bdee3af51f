//! The key versions a keytab holds for one principal, read from MIT's keytab format
//! (versions 0x0501 and 0x0502: big-endian records of principal, timestamp, 8-bit key
//! version, key, and an optional 32-bit key version that overrides the 8-bit one). Used
//! to tell a stale keytab (the account's `msDS-KeyVersionNumber` moved on after a
//! password change) before the next ticket renewal fails.

/// The distinct key versions of `principal` (`name/inst@REALM`, compared exactly) in the
/// keytab `bytes`, ascending; `None` when the bytes are no keytab this reader knows.
pub fn key_versions(bytes: &[u8], principal: &str) -> Option<Vec<u32>> {
    let mut found: Vec<u32> =
        records(bytes)?.into_iter().filter(|(name, _)| name == principal).map(|(_, kvno)| kvno).collect();
    found.sort_unstable();
    found.dedup();
    Some(found)
}

/// The distinct principals the keytab `bytes` holds keys of, in file order; `None` when
/// the bytes are no keytab this reader knows. Told when `bind_principal` is not among them.
pub fn principals(bytes: &[u8]) -> Option<Vec<String>> {
    let mut found: Vec<String> = Vec::new();
    for (name, _) in records(bytes)? {
        if !found.contains(&name) {
            found.push(name);
        }
    }
    Some(found)
}

/// Every live record's (principal, key version); holes left by deleted records skipped.
fn records(bytes: &[u8]) -> Option<Vec<(String, u32)>> {
    let mut r = Reader(bytes);
    let version = match r.take(2)? {
        [5, v @ (1 | 2)] => *v,
        _ => return None,
    };
    let mut found = Vec::new();
    while !r.0.is_empty() {
        let len = i32::from_be_bytes(r.take(4)?.try_into().ok()?);
        let entry = r.take(len.unsigned_abs() as usize)?;
        if len > 0 {
            found.push(entry_of(Reader(entry), version)?);
        }
    }
    Some(found)
}

/// Big-endian fields read off the front of a byte string.
struct Reader<'a>(&'a [u8]);

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize) -> Option<&'a [u8]> {
        let (head, tail) = (self.0.get(..n)?, self.0.get(n..)?);
        self.0 = tail;
        Some(head)
    }

    fn u16(&mut self) -> Option<usize> {
        Some(u16::from_be_bytes(self.take(2)?.try_into().ok()?) as usize)
    }

    fn text(&mut self) -> Option<String> {
        let n = self.u16()?;
        Some(String::from_utf8_lossy(self.take(n)?).into_owned())
    }
}

/// One record's principal and key version.
fn entry_of(mut r: Reader<'_>, version: u8) -> Option<(String, u32)> {
    let mut count = r.u16()?;
    if version == 1 {
        count = count.checked_sub(1)?; // version 1 counts the realm too
    }
    let realm = r.text()?;
    let parts = (0..count).map(|_| r.text()).collect::<Option<Vec<_>>>()?;
    if version == 2 {
        r.take(4)?; // name type
    }
    r.take(4)?; // timestamp
    let vno8 = r.take(1)?[0] as u32;
    r.take(2)?; // key type
    let key_len = r.u16()?;
    r.take(key_len)?;
    let kvno = match r.take(4).map(|v| v.try_into().map(u32::from_be_bytes)) {
        Some(Ok(v)) if v != 0 => v,
        _ => vno8,
    };
    Some((format!("{}@{realm}", parts.join("/")), kvno))
}

#[cfg(test)]
pub(crate) mod tests;
