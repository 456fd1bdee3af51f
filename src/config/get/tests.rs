//! `config get`: resolved values, defaults, refused secrets, and proxy credentials.

use std::path::Path;

use super::super::{parse, SecretSource};
use super::*;

struct NoEnv;

impl SecretSource for NoEnv {
    fn var(&self, _: &str) -> Option<String> {
        None
    }
}

/// A literal string holding a space, a comment after `[storage]`, and a `#` in a value:
/// everything a pattern over the TOML text would misread.
const TRICKY: &str = r##"
[server]
protocol = "https"
host = "servicedesk.example.com"
token = "dG9rZW4="
proxy = "http://proxy-user:Pr0xy%23pw@proxy.example.com:3128"

[storage] # where the queue lives
# path = "/not/this/one"
path = '/srv/ic data' # a literal string

[directories.corp]
kind = "ldap"
urls = ["ldaps://ldap.example.test:636"]
bind_dn = "cn=svc #1,dc=example,dc=test"
bind_password = "pw-secret"
base_dn = "dc=example,dc=test"
"##;

fn settings(text: &str) -> Settings {
    parse(Path::new("/etc/ic.toml"), text, &NoEnv).unwrap()
}

#[test]
fn get_prints_resolved_values_and_defaults() {
    let s = settings(TRICKY);
    let v = |k: &str| get(&s, k).unwrap();
    assert_eq!(v("storage.path"), "/srv/ic data");
    assert_eq!(v("logging.dir"), "/srv/ic data/logs");
    assert_eq!(v("ui.listen"), "127.0.0.1:8086");
    assert_eq!(v("server.protocol"), "https");
    assert_eq!(v("server.host"), "servicedesk.example.com");
    assert_eq!(v("server.port"), "443");
    assert_eq!(v("connector.max_concurrency"), "16");
    assert_eq!(v("connector.drain_grace"), "30s");
    assert_eq!(v("directories"), "corp");
    assert_eq!(v("directories.corp.bind_dn"), "cn=svc #1,dc=example,dc=test");
    assert_eq!(v("directories.corp.pool_max"), "4");
}

#[test]
fn get_refuses_secrets_and_unknown_keys() {
    let s = settings(TRICKY);
    for key in [
        "server.token",
        "server.token_file",
        "directories.corp.bind_password",
        "directories.corp.bind_password_file",
        "directories.corp.client_key_file",
        "directories.corp.bind_keytab",
        "ui.admin_token",
    ] {
        let e = get(&s, key).unwrap_err();
        assert!(matches!(e, GetError::Secret { .. }), "{key}: {e}");
        assert!(e.to_string().contains("never prints secrets"), "{e}");
    }
    let e = get(&s, "storage.pth").unwrap_err();
    assert!(e.to_string().contains("storage.path"), "the known keys are listed: {e}");
    let e = get(&s, "directories.hr.kind").unwrap_err();
    assert!(e.to_string().contains("corp"), "{e}");
}

#[test]
fn the_proxy_is_printed_without_its_credentials() {
    let s = settings(TRICKY);
    let proxy = get(&s, "server.proxy").unwrap();
    assert!(!proxy.contains("proxy-user") && !proxy.contains("Pr0xy"), "{proxy}");
    assert!(proxy.contains("proxy.example.com:3128"), "{proxy}");
    assert_eq!(without_credentials("http://proxy.example.com:3128"), "http://proxy.example.com:3128/");
    assert!(!without_credentials("not a url user:pw@host").contains("pw"));
}
