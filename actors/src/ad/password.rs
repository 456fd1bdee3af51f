//! `unicodePwd`: the password in double quotes, UTF-16LE ([MS-ADTS] 3.1.1.3.1.5.1); and
//! the password nobody knows, for accounts created without one.

use rand::Rng;

pub fn unicode_pwd(password: &str) -> Vec<u8> {
    format!("\"{password}\"").encode_utf16().flat_map(u16::to_le_bytes).collect()
}

/// A random password of 32 characters with upper and lower case letters, digits and
/// symbols (so it meets any complexity policy), shown to nobody: an account created
/// without a password gets it, so enabling it later never makes an account that has
/// none (Samba 4.17 enables an account whose password was never set; Windows refuses).
pub fn unguessable() -> String {
    const CLASSES: [&[u8]; 4] =
        [b"ABCDEFGHJKLMNPQRSTUVWXYZ", b"abcdefghijkmnopqrstuvwxyz", b"23456789", b"!#%+-.:=?@_~"];
    let mut rng = rand::rngs::OsRng;
    (0..32)
        .map(|i| {
            let class = CLASSES[if i < 4 { i } else { rng.gen_range(0..4) }];
            char::from(class[rng.gen_range(0..class.len())])
        })
        .collect()
}

#[cfg(test)]
mod tests {
    #[test]
    fn quotes_and_utf16le() {
        assert_eq!(super::unicode_pwd("ab"), vec![b'"', 0, b'a', 0, b'b', 0, b'"', 0]);
    }

    #[test]
    fn unguessable_passwords_have_every_class_and_differ() {
        let (a, b) = (super::unguessable(), super::unguessable());
        assert_ne!(a, b);
        assert_eq!(a.len(), 32);
        assert!(a.chars().any(|c| c.is_ascii_uppercase()) && a.chars().any(|c| c.is_ascii_lowercase()));
        assert!(a.chars().any(|c| c.is_ascii_digit()) && a.chars().any(|c| !c.is_ascii_alphanumeric()));
    }
}
