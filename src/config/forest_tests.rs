//! The forest keys of `[directories.NAME]`: what loads, and each mistake named by key.

use std::num::NonZeroU8;
use std::path::Path;

use connector_actors::directory::forest::{GcServers, Referrals};

use crate::config::{parse, ConfigErrors, SecretSource};

struct NoEnv;

impl SecretSource for NoEnv {
    fn var(&self, _: &str) -> Option<String> {
        None
    }
}

fn config(kind: &str, keys: &str) -> String {
    format!(
        "[server]\nprotocol = \"https\"\nhost = \"sd.example.com\"\ntoken = \"dG9rZW4=\"\n[storage]\npath = \"/var/lib/ic\"\n\
         [directories.corp]\nkind = \"{kind}\"\n{keys}\nbind_dn = \"CN=svc,DC=example,DC=test\"\n\
         bind_password = \"pw\"\nbase_dn = \"DC=example,DC=test\"\n"
    )
}

fn loaded(keys: &str) -> connector_actors::directory::forest::ForestSettings {
    let s = parse(Path::new("/etc/ic.toml"), &config("active_directory", keys), &NoEnv).unwrap();
    s.directories[0].forest.clone()
}

#[test]
fn off_by_default_and_each_key_read() {
    let f = loaded("urls = [\"ldap://dc1.example.test\"]");
    assert_eq!(f.global_catalog, None);
    assert_eq!(f.referrals, Referrals::Drop);
    let f = loaded("domain = \"Example.Test\"\nglobal_catalog = true\nfollow_referrals = true");
    assert_eq!(f.global_catalog, Some(GcServers::Dns { forest: "example.test".into() }));
    assert_eq!(f.referrals, Referrals::Follow { hops: NonZeroU8::new(2).unwrap() });
    let f = loaded("urls = [\"ldap://dc1\"]\nfollow_referrals = true\nreferral_hops = 5");
    assert_eq!(f.referrals, Referrals::Follow { hops: NonZeroU8::new(5).unwrap() });
    let f = loaded("urls = [\"ldap://dc1\"]\nglobal_catalog = true\ngc_urls = [\"ldaps://gc.example.test:3269\"]");
    let url = url::Url::parse("ldaps://gc.example.test:3269").unwrap();
    assert_eq!(f.global_catalog, Some(GcServers::Urls(vec![url])));
}

#[test]
fn each_mistake_is_named_by_its_key() {
    let cases = [
        ("active_directory", "urls = [\"ldap://dc1\"]\nglobal_catalog = true", "global_catalog", "needs domain"),
        (
            "active_directory",
            "urls = [\"ldap://dc1\"]\ngc_urls = [\"ldap://gc:3268\"]",
            "gc_urls",
            "only used with global_catalog",
        ),
        (
            "active_directory",
            "urls = [\"ldap://dc1\"]\nglobal_catalog = true\ngc_urls = [\"ldap://gc\"]",
            "gc_urls",
            "port must be written",
        ),
        (
            "ldap",
            "urls = [\"ldap://dc1\"]\nglobal_catalog = true\ngc_urls = [\"ldap://gc:3268\"]",
            "global_catalog",
            "Active Directory's",
        ),
        (
            "active_directory",
            "urls = [\"ldap://dc1\"]\nfollow_referrals = true\nreferral_hops = 0",
            "referral_hops",
            "out of range",
        ),
        (
            "active_directory",
            "urls = [\"ldap://dc1\"]\nreferral_hops = 3",
            "referral_hops",
            "only used with follow_referrals",
        ),
    ];
    for (kind, keys, key, says) in cases {
        let errors = match parse(Path::new("/etc/ic.toml"), &config(kind, keys), &NoEnv) {
            Ok(_) => panic!("accepted: {keys}"),
            Err(ConfigErrors(list)) => list,
        };
        let e = errors.iter().find(|e| e.key == format!("directories.corp.{key}"));
        let e = e.unwrap_or_else(|| panic!("{keys}: no error for {key}: {errors:?}"));
        assert!(e.message.contains(says), "{keys}: {}", e.message);
    }
}
