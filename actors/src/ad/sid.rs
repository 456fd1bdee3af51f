//! Security identifiers ([MS-DTYP] 2.4.2 "SID", 2.4.2.2 "SID--Packet Representation"):
//! the binary form AD stores in `objectSid` and `tokenGroups`, and the `S-1-…` string.

use std::fmt;

/// A SID in its binary form (revision, sub-authority count, 48-bit big-endian
/// authority, then each sub-authority as 32-bit little-endian).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Sid(Vec<u8>);

impl Sid {
    /// Reads the binary form; `None` unless it is exactly 8 + 4 × count bytes, revision 1.
    pub fn from_bytes(b: &[u8]) -> Option<Sid> {
        let count = *b.get(1)? as usize;
        (b.first() == Some(&1) && b.len() == 8 + 4 * count).then(|| Sid(b.to_vec()))
    }

    /// Parses `S-1-<authority>-<sub>-…` ([MS-DTYP] 2.4.2.1 "SID String Format Syntax").
    pub fn parse(s: &str) -> Option<Sid> {
        let mut parts = s.strip_prefix("S-").or_else(|| s.strip_prefix("s-"))?.split('-');
        let revision: u8 = parts.next()?.parse().ok()?;
        let authority: u64 = parts.next()?.parse().ok()?;
        let subs: Vec<u32> = parts.map(|p| p.parse().ok()).collect::<Option<_>>()?;
        if revision != 1 || authority >= 1 << 48 || subs.len() > 15 {
            return None;
        }
        let mut out = vec![1, subs.len() as u8];
        out.extend_from_slice(&authority.to_be_bytes()[2..]);
        for sub in subs {
            out.extend_from_slice(&sub.to_le_bytes());
        }
        Some(Sid(out))
    }

    pub fn as_bytes(&self) -> &[u8] {
        &self.0
    }

    fn subs(&self) -> impl Iterator<Item = u32> + '_ {
        self.0[8..].chunks_exact(4).map(|c| u32::from_le_bytes([c[0], c[1], c[2], c[3]]))
    }

    /// The SID of a principal of this domain: the domain SID with `rid` appended.
    pub fn with_rid(&self, rid: u32) -> Sid {
        let mut out = self.0.clone();
        out[1] += 1;
        out.extend_from_slice(&rid.to_le_bytes());
        Sid(out)
    }

    /// The domain of a domain principal: this SID without its RID; `None` without one.
    pub fn domain(&self) -> Option<Sid> {
        let count = *self.0.get(1)?;
        (count > 0).then(|| {
            let mut out = self.0[..self.0.len() - 4].to_vec();
            out[1] = count - 1;
            Sid(out)
        })
    }

    /// The last sub-authority (the RID of a domain principal).
    pub fn rid(&self) -> Option<u32> {
        self.subs().last()
    }
}

impl fmt::Display for Sid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut authority = [0u8; 8];
        authority[2..].copy_from_slice(&self.0[2..8]);
        write!(f, "S-{}-{}", self.0[0], u64::from_be_bytes(authority))?;
        for sub in self.subs() {
            write!(f, "-{sub}")?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests;
