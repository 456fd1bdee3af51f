//! TLS handshake failures, classified once for the portal link and the directories
//! (and `check`, which names the fix for each): the certificate does not name the host,
//! or its chain is not trusted.
//!
//! rustls reports both as an `invalid peer certificate: …` error whose text names the
//! cause (`NotValidForName`, `UnknownIssuer`, `Expired`, …; rustls `CertificateError`);
//! by the time it reaches us through reqwest or ldap3 it is only text, so the text is
//! what is read.

/// What an administrator fixes after a failed TLS handshake.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TlsProblem {
    /// The certificate was not issued for the host name the connector dialled: the
    /// configured host must be one of the certificate's names.
    HostName,
    /// The certificate's chain is not trusted (unknown issuer, expired, revoked, …): the
    /// configured CA file must hold the CA that signed it.
    Untrusted,
}

impl TlsProblem {
    /// The problem a transport error's text (its whole source chain) names, if any. The
    /// host-name case is tested first: its text also says "certificate".
    pub fn classify(text: &str) -> Option<TlsProblem> {
        let lower = text.to_lowercase();
        if lower.contains("notvalidforname")
            || lower.contains("not valid for name")
            || lower.contains("certificate is not valid for")
        {
            Some(TlsProblem::HostName)
        } else if lower.contains("certificate") || lower.contains("unknownissuer") || lower.contains("invalid peer") {
            Some(TlsProblem::Untrusted)
        } else {
            None
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rustls_texts_are_classified() {
        let wrong_name = "invalid peer certificate: NotValidForName: certificate is not valid for name \"x\"";
        assert_eq!(TlsProblem::classify(wrong_name), Some(TlsProblem::HostName));
        let untrusted = "error sending request: invalid peer certificate: UnknownIssuer";
        assert_eq!(TlsProblem::classify(untrusted), Some(TlsProblem::Untrusted));
        assert_eq!(TlsProblem::classify("invalid peer certificate: Expired"), Some(TlsProblem::Untrusted));
        assert_eq!(TlsProblem::classify("connection refused"), None);
        assert_eq!(TlsProblem::classify("received corrupt message of type InvalidContentType"), None);
    }
}
