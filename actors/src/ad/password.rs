//! `unicodePwd`: the password in double quotes, UTF-16LE.

pub fn unicode_pwd(password: &str) -> Vec<u8> {
    format!("\"{password}\"").encode_utf16().flat_map(u16::to_le_bytes).collect()
}

#[cfg(test)]
mod tests {
    #[test]
    fn quotes_and_utf16le() {
        assert_eq!(super::unicode_pwd("ab"), vec![b'"', 0, b'a', 0, b'b', 0, b'"', 0]);
    }
}
