use super::*;

/// One version 2 record: `principal`'s key at `vno8`, with a 32-bit `vno32` if given.
pub(crate) fn record(parts: &[&str], realm: &str, vno8: u8, vno32: Option<u32>) -> Vec<u8> {
    let mut e = Vec::new();
    e.extend((parts.len() as u16).to_be_bytes());
    for s in std::iter::once(&realm).chain(parts) {
        e.extend((s.len() as u16).to_be_bytes());
        e.extend(s.as_bytes());
    }
    e.extend(1u32.to_be_bytes()); // KRB5_NT_PRINCIPAL
    e.extend(1_700_000_000u32.to_be_bytes());
    e.push(vno8);
    e.extend(18u16.to_be_bytes()); // aes256
    e.extend(32u16.to_be_bytes());
    e.extend([7u8; 32]);
    if let Some(v) = vno32 {
        e.extend(v.to_be_bytes());
    }
    let mut out = (e.len() as i32).to_be_bytes().to_vec();
    out.extend(e);
    out
}

#[test]
fn versions_of_the_principal_only_with_the_32_bit_one_winning() {
    let mut kt = vec![5, 2];
    kt.extend(record(&["svc-connector"], "EXAMPLE.TEST", 3, None));
    kt.extend(record(&["svc-connector"], "EXAMPLE.TEST", 4, Some(260)));
    kt.extend((-12i32).to_be_bytes()); // a hole left by a deleted record
    kt.extend([0u8; 12]);
    kt.extend(record(&["HTTP", "web.example.test"], "EXAMPLE.TEST", 9, None));
    kt.extend(record(&["svc-connector"], "EXAMPLE.TEST", 3, Some(0)));
    assert_eq!(key_versions(&kt, "svc-connector@EXAMPLE.TEST"), Some(vec![3, 260]));
    assert_eq!(key_versions(&kt, "HTTP/web.example.test@EXAMPLE.TEST"), Some(vec![9]));
    assert_eq!(key_versions(&kt, "nobody@EXAMPLE.TEST"), Some(vec![]));
    let held = principals(&kt).unwrap();
    assert_eq!(held, vec!["svc-connector@EXAMPLE.TEST", "HTTP/web.example.test@EXAMPLE.TEST"]);
    assert_eq!(principals(b"not a keytab"), None);
}

#[test]
fn no_keytab_and_a_torn_one_read_as_none_or_what_is_whole() {
    assert_eq!(key_versions(b"not a keytab", "a@B"), None);
    assert_eq!(key_versions(&[5, 9, 0, 0], "a@B"), None);
    let mut kt = vec![5, 2];
    kt.extend(record(&["a"], "B", 1, None));
    let whole = kt.len();
    kt.extend(record(&["a"], "B", 2, None));
    kt.truncate(whole + 10);
    assert_eq!(key_versions(&kt, "a@B"), None, "a record cut short is no keytab to trust");
}
