//! Just enough BER (X.690) to split an LDAP byte stream into LDAPMessages (RFC 4511 §4.1.1),
//! for the tests' TCP proxies that hold or cut a DC's answers.

/// The first whole LDAPMessage in `b`: (its length, its messageID bytes, its protocolOp
/// tag), or `None` until it is all there.
pub fn message(b: &[u8]) -> Option<(usize, Vec<u8>, u8)> {
    let (content_len, header) = length(b.get(1..)?)?;
    let total = 1 + header + content_len;
    if b.len() < total {
        return None;
    }
    // content: messageID INTEGER (0x02, short length), then the protocolOp
    let content = &b[1 + header..total];
    let id_len = *content.get(1)? as usize;
    let id = content.get(2..2 + id_len)?.to_vec();
    Some((total, id, *content.get(2 + id_len)?))
}

/// A BER length at the start of `b`: (the length, how many bytes it took).
fn length(b: &[u8]) -> Option<(usize, usize)> {
    let first = *b.first()?;
    if first < 0x80 {
        return Some((first as usize, 1));
    }
    let n = (first & 0x7f) as usize;
    Some((b.get(1..1 + n)?.iter().fold(0usize, |acc, x| (acc << 8) | *x as usize), 1 + n))
}
