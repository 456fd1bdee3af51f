//! The discovery keys of `[directories.NAME]`: what loads, and each mistake named by key.

use std::path::Path;
use std::time::Duration;

use crate::config::{parse, ConfigError, ConfigErrors, SecretSource};

struct NoEnv;

impl SecretSource for NoEnv {
    fn var(&self, _: &str) -> Option<String> {
        None
    }
}

fn config(directory_keys: &str) -> String {
    format!(
        "[server]\nprotocol = \"https\"\nhost = \"sd.example.com\"\ntoken = \"dG9rZW4=\"\n[storage]\npath = \"/var/lib/ic\"\n\
         [directories.corp]\nkind = \"active_directory\"\n{directory_keys}\nbind_dn = \"CN=svc,DC=example,DC=test\"\n\
         bind_password = \"pw\"\nbase_dn = \"DC=example,DC=test\"\n"
    )
}

fn errors(keys: &str) -> Vec<ConfigError> {
    match parse(Path::new("/etc/ic.toml"), &config(keys), &NoEnv) {
        Ok(_) => panic!("accepted: {keys}"),
        Err(ConfigErrors(list)) => list,
    }
}

#[test]
fn domain_alone_is_enough_and_the_defaults_apply() {
    let s = parse(Path::new("/etc/ic.toml"), &config("domain = \"Example.Test.\""), &NoEnv).unwrap();
    let d = &s.directories[0];
    assert!(d.urls.is_empty());
    let disc = d.discovery.as_ref().expect("discovery");
    assert_eq!(disc.domain, "example.test");
    assert_eq!(disc.site, None);
    assert!(disc.dns_servers.is_empty(), "the system's resolver by default");
    assert_eq!(disc.max_ttl, Duration::from_secs(300));
    assert_eq!(disc.failback_after, Duration::from_secs(60));
    assert!(d.encrypted(), "discovered servers use StartTLS");
}

#[test]
fn every_discovery_key_is_read() {
    let keys = "domain = \"example.test\"\nsite = \"Berlin\"\ndns_servers = [\"10.0.0.53\", \"127.0.0.2:5353\", \"[::1]:53\"]\n\
                dns_max_ttl = \"2m\"\nfailback_after = \"5s\"\nurls = [\"ldaps://dc9.example.test\"]";
    let s = parse(Path::new("/etc/ic.toml"), &config(keys), &NoEnv).unwrap();
    let d = &s.directories[0];
    assert_eq!(d.urls.len(), 1, "urls beside domain are kept as the fallback");
    let disc = d.discovery.as_ref().expect("discovery");
    assert_eq!(disc.site.as_deref(), Some("Berlin"));
    let servers: Vec<String> = disc.dns_servers.iter().map(|a| a.to_string()).collect();
    assert_eq!(servers, ["10.0.0.53:53", "127.0.0.2:5353", "[::1]:53"]);
    assert_eq!((disc.max_ttl, disc.failback_after), (Duration::from_secs(120), Duration::from_secs(5)));
}

#[test]
fn neither_urls_nor_domain_says_how_to_fix_it() {
    let e = errors("");
    assert_eq!(e.len(), 1, "{e:?}");
    assert_eq!(e[0].key, "directories.corp.urls");
    assert!(e[0].message.contains("domain = \"example.test\""), "{}", e[0].message);
    let e = errors("urls = []");
    assert_eq!(e[0].key, "directories.corp.urls");
}

#[test]
fn each_bad_discovery_value_is_named_by_its_key() {
    let cases = [
        ("domain = \"exa mple.test\"", "directories.corp.domain", "not a DNS domain name"),
        ("domain = \"example.test\"\nsite = \"a.b\"", "directories.corp.site", "not an AD site name"),
        (
            "domain = \"example.test\"\ndns_servers = [\"dns.example.test\"]",
            "directories.corp.dns_servers",
            "not an IP address",
        ),
        ("domain = \"example.test\"\ndns_max_ttl = \"0s\"", "directories.corp.dns_max_ttl", "between 1s and 24h"),
        ("domain = \"example.test\"\nfailback_after = \"soon\"", "directories.corp.failback_after", "duration"),
        ("urls = [\"ldaps://dc1\"]\nsite = \"Berlin\"", "directories.corp.site", "only used with domain"),
        (
            "urls = [\"ldaps://dc1\"]\ndns_servers = [\"10.0.0.53\"]",
            "directories.corp.dns_servers",
            "only used with domain",
        ),
    ];
    for (keys, key, says) in cases {
        let e = errors(keys);
        assert_eq!(e.len(), 1, "{keys}: {e:?}");
        assert_eq!(e[0].key, key, "{keys}");
        assert!(e[0].message.contains(says), "{keys}: {}", e[0].message);
    }
}

#[test]
fn a_site_on_an_ldap_directory_is_refused() {
    let text = config("domain = \"example.test\"\nsite = \"Berlin\"").replace("active_directory", "ldap");
    let Err(ConfigErrors(e)) = parse(Path::new("/etc/ic.toml"), &text, &NoEnv) else { panic!("accepted") };
    assert_eq!(e[0].key, "directories.corp.site");
    assert!(e[0].message.contains("Active Directory"), "{}", e[0].message);
}
