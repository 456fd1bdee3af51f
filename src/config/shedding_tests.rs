//! `[connector] shed_logins_after`: off when absent, read when valid, and a value too
//! small or malformed named by key and line with what to do.

use std::path::Path;
use std::time::Duration;

use crate::config::{parse, ConfigError, ConfigErrors, SecretSource, Settings};

struct NoEnv;

impl SecretSource for NoEnv {
    fn var(&self, _: &str) -> Option<String> {
        None
    }
}

/// A config whose `[connector]` table holds `keys` (line 2 on).
fn config(keys: &str) -> String {
    format!(
        "[connector]\n{keys}\n[server]\nprotocol = \"https\"\nhost = \"sd.example.com\"\ntoken = \"dG9rZW4=\"\n\
         [storage]\npath = \"/var/lib/ic\"\n"
    )
}

fn loaded(keys: &str) -> Settings {
    parse(Path::new("/etc/ic.toml"), &config(keys), &NoEnv).unwrap()
}

fn refused(keys: &str) -> ConfigError {
    match parse(Path::new("/etc/ic.toml"), &config(keys), &NoEnv) {
        Ok(_) => panic!("accepted: {keys}"),
        Err(ConfigErrors(mut list)) => {
            assert_eq!(list.len(), 1, "{list:?}");
            list.remove(0)
        }
    }
}

#[test]
fn absent_means_never() {
    assert_eq!(loaded("").queue.shed_logins_after, None);
}

#[test]
fn a_duration_is_read() {
    assert_eq!(loaded("shed_logins_after = \"500ms\"").queue.shed_logins_after, Some(Duration::from_millis(500)));
    assert_eq!(loaded("shed_logins_after = \"2s\"").queue.shed_logins_after, Some(Duration::from_secs(2)));
    assert_eq!(loaded("shed_logins_after = \"100ms\"").queue.shed_logins_after, Some(Duration::from_millis(100)));
}

#[test]
fn below_100ms_is_refused_saying_what_to_do() {
    let e = refused("shed_logins_after = \"99ms\"");
    assert_eq!((e.line, e.key.as_str()), (Some(2), "connector.shed_logins_after"));
    assert!(e.message.contains("below the least of 100ms"), "{e}");
    assert!(e.message.contains("remove the key to never shed logins"), "{e}");
    assert_eq!(refused("shed_logins_after = \"0s\"").key, "connector.shed_logins_after");
}

#[test]
fn a_malformed_value_is_refused_by_key_and_line() {
    let e = refused("shed_logins_after = \"soon\"");
    assert_eq!((e.line, e.key.as_str()), (Some(2), "connector.shed_logins_after"));
    assert!(e.message.contains("expected a duration such as \"500ms\""), "{e}");
    let e = refused("shed_logins_after = 500");
    assert_eq!((e.line, e.key.as_str()), (Some(2), "connector.shed_logins_after"));
    assert!(e.message.contains("invalid type"), "{e}");
}
