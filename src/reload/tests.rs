//! What a reload would apply and what it names for a restart, from two parsed files.

use std::path::Path;

use super::diff;
use crate::config::{parse, ProcessEnv, Settings};

const BASE: &str = r#"
[server]
protocol = "https"
host = "servicedesk.example.com"
token = "dG9rZW4="

[storage]
path = "/var/lib/ic"

[directories.corp]
kind = "active_directory"
urls = ["ldaps://dc1.example.test:636"]
bind_dn = "CN=svc,DC=example,DC=test"
bind_password = "pw"
base_dn = "DC=example,DC=test"
"#;

fn settings(text: &str) -> Settings {
    parse(Path::new("/etc/ic.toml"), text, &ProcessEnv).unwrap_or_else(|e| panic!("{e}"))
}

#[test]
fn a_changed_policy_or_url_replaces_the_directory_and_a_missing_one_is_removed() {
    let old = settings(&format!("{BASE}\n[directories.spare]\nkind = \"ldap\"\nurls = [\"ldaps://l.example.test\"]\nbind_dn = \"cn=s\"\nbind_password = \"p\"\nbase_dn = \"dc=e\"\n"));
    let same = diff::directories(&old, &old);
    assert!(same.replaced.is_empty() && same.removed.is_empty());
    let policy =
        settings(&format!("{BASE}\n[directories.corp.policy]\nallowed_ous = [\"OU=Staff,DC=example,DC=test\"]\n"));
    let d = diff::directories(&old, &policy);
    assert_eq!(d.replaced.iter().map(|d| d.name.as_str()).collect::<Vec<_>>(), ["corp"]);
    assert_eq!(d.removed, ["spare"]);
    let url = settings(&BASE.replace("dc1.example.test", "dc2.example.test"));
    assert_eq!(diff::directories(&settings(BASE), &url).replaced.len(), 1);
    let password = settings(&BASE.replace("bind_password = \"pw\"", "bind_password = \"pw2\""));
    assert_eq!(diff::directories(&settings(BASE), &password).replaced.len(), 1, "a new bind password is a change");
}

#[test]
fn keys_only_a_restart_takes_are_named_and_the_in_place_ones_are_not() {
    let old = settings(BASE);
    assert!(diff::restart_only(&old, &old).is_empty());
    let moved = settings(&BASE.replace("/var/lib/ic", "/srv/ic").replace("dG9rZW4=", "bmV3"));
    assert_eq!(diff::restart_only(&old, &moved), ["storage.path", "server.token", "logging.dir"]);
    let in_place = settings(&format!("{BASE}\n[logging]\nlevel = \"debug\"\n").replace("dc1.", "dc9."));
    assert!(diff::restart_only(&old, &in_place).is_empty(), "{:?}", diff::restart_only(&old, &in_place));
}
