//! OpenLDAP's password-policy response control (draft-behera-ldap-password-policy §6.2,
//! OID [`PPOLICY_OID`]): the one field the connector reads, its `error`.

/// The control's OID (draft-behera-ldap-password-policy §6.2).
pub const PPOLICY_OID: &str = "1.3.6.1.4.1.42.2.27.8.5.1";

/// Reads the `error` field of a ppolicy response control value:
/// `SEQUENCE { warning [0] … OPTIONAL, error [1] ENUMERATED OPTIONAL }`.
pub fn ppolicy_error(value: &[u8]) -> Option<u8> {
    let (tag, body) = tlv(value)?;
    if tag != 0x30 {
        return None;
    }
    let mut rest = body;
    while !rest.is_empty() {
        let (tag, inner) = tlv(rest)?;
        let consumed = header_len(rest)? + inner.len();
        if tag == 0x81 {
            return inner.last().copied();
        }
        rest = rest.get(consumed..)?;
    }
    None
}

fn header_len(b: &[u8]) -> Option<usize> {
    let first = *b.get(1)?;
    Some(if first < 0x80 { 2 } else { 2 + (first & 0x7f) as usize })
}

fn tlv(b: &[u8]) -> Option<(u8, &[u8])> {
    let tag = *b.first()?;
    let first = *b.get(1)?;
    let (len, start) = if first < 0x80 {
        (first as usize, 2)
    } else {
        let n = (first & 0x7f) as usize;
        let mut len = 0usize;
        for i in 0..n {
            len = (len << 8) | *b.get(2 + i)? as usize;
        }
        (len, 2 + n)
    };
    Some((tag, b.get(start..start + len)?))
}
