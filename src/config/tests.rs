//! Each kind of bad config gets a message naming line and key; good ones load.

use std::collections::HashMap;
use std::path::Path;

use super::*;

struct Env(HashMap<String, String>);

impl SecretSource for Env {
    fn var(&self, name: &str) -> Option<String> {
        self.0.get(name).cloned()
    }
}

fn no_env() -> Env {
    Env(HashMap::new())
}

const GOOD: &str = r#"
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

fn errors(text: &str) -> Vec<ConfigError> {
    match parse(Path::new("/etc/ic.toml"), text, &no_env()) {
        Ok(_) => panic!("config was accepted:\n{text}"),
        Err(ConfigErrors(list)) => list,
    }
}

fn one_error(text: &str) -> ConfigError {
    let e = errors(text);
    assert_eq!(e.len(), 1, "{e:?}");
    e.into_iter().next().unwrap()
}

#[test]
fn a_good_config_loads_with_defaults() {
    let s = parse(Path::new("/etc/ic.toml"), GOOD, &no_env()).unwrap();
    assert_eq!(s.link.base_url, "https://servicedesk.example.com:443/api/v1/integration-connector");
    assert_eq!(s.link.token.expose(), "dG9rZW4=");
    assert_eq!(s.ui_listen.to_string(), "127.0.0.1:8086");
    assert_eq!(s.directories[0].kind, DirectoryKind::ActiveDirectory);
    assert!(s.directories[0].user_filter.contains("sAMAccountName={username}"));
    assert_eq!(s.dispatcher.max_concurrency, 16);
}

#[test]
fn unknown_key_names_line_and_key() {
    let e = one_error(&GOOD.replace("host =", "hots = \"x\"\nhost ="));
    assert_eq!((e.line, e.key.as_str()), (Some(4), "server.hots"));
    assert!(e.to_string().starts_with("/etc/ic.toml:4: server.hots: unknown field"), "{e}");
}

#[test]
fn wrong_type_names_the_line() {
    let e = one_error(&GOOD.replace("[storage]", "port = \"443\"\n[storage]"));
    assert_eq!(e.line, Some(7));
    assert!(e.message.contains("invalid type"), "{e}");
}

#[test]
fn missing_token_both_tokens_and_unreadable_token_file() {
    let e = one_error(&GOOD.replace("token = \"dG9rZW4=\"\n", ""));
    assert_eq!(e.key, "server.token");
    assert!(e.message.contains("token_file") && e.message.contains(TOKEN_ENV));
    let e = one_error(&GOOD.replace("token = \"dG9rZW4=\"", "token = \"a\"\ntoken_file = \"/x\""));
    assert_eq!((e.key.as_str(), e.line), ("server.token_file", Some(6)));
    let e = one_error(&GOOD.replace("token = \"dG9rZW4=\"", "token_file = \"/nonexistent/token\""));
    assert!(e.message.contains("cannot read /nonexistent/token"), "{e}");
}

#[test]
fn the_environment_overrides_secrets() {
    let env = Env(HashMap::from([
        (TOKEN_ENV.to_owned(), "ZW52".to_owned()),
        (bind_password_env("corp"), "from-env".to_owned()),
    ]));
    let text = GOOD.replace("token = \"dG9rZW4=\"\n", "").replace("bind_password = \"pw\"\n", "");
    let s = parse(Path::new("/etc/ic.toml"), &text, &env).unwrap();
    assert_eq!(s.link.token.expose(), "ZW52");
    assert_eq!(s.directories[0].bind.password().expect("a password bind").expose(), "from-env");
}

#[test]
fn bad_values_are_all_reported_at_once() {
    let text = GOOD
        .replace("protocol = \"https\"", "protocol = \"ftp\"\nport = 70000")
        .replace("kind = \"active_directory\"", "kind = \"novell\"")
        .replace("ldaps://dc1.example.test:636", "http://dc1")
        .replace("path = \"/var/lib/ic\"", "path = \"relative/dir\"");
    let e = errors(&text);
    let keys: Vec<&str> = e.iter().map(|e| e.key.as_str()).collect();
    for k in ["server.protocol", "server.port", "directories.corp.kind", "directories.corp.urls", "storage.path"] {
        assert!(keys.contains(&k), "{k} missing in {keys:?}");
    }
    assert!(e.iter().all(|e| e.line.is_some()));
}

#[test]
fn duplicate_directory_and_invalid_host() {
    let dup = format!("{GOOD}\n[directories.corp]\nkind = \"ldap\"\n");
    let e = one_error(&dup);
    assert!(e.message.contains("duplicate") || e.message.contains("redefin"), "{e}");
    let e = one_error(&GOOD.replace("servicedesk.example.com", "https://sd.example.com/x"));
    assert_eq!(e.key, "server.host");
}

#[test]
fn plain_http_to_a_remote_host_is_allowed_with_a_warning() {
    let s = parse(Path::new("/etc/ic.toml"), &GOOD.replace("\"https\"", "\"http\""), &no_env()).unwrap();
    assert!(s.link.base_url.starts_with("http://servicedesk.example.com:80/"));
    assert!(s.warnings.iter().any(|w| w.contains("unencrypted")));
    let local = GOOD.replace("\"https\"", "\"http\"").replace("servicedesk.example.com", "127.0.0.1");
    let s = parse(Path::new("/etc/ic.toml"), &local, &no_env()).unwrap();
    assert!(!s.warnings.iter().any(|w| w.contains("unencrypted")));
}

#[test]
fn a_readable_config_with_a_secret_is_warned_about() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("c.toml");
    std::fs::write(&path, GOOD).unwrap();
    std::fs::set_permissions(&path, std::os::unix::fs::PermissionsExt::from_mode(0o644)).unwrap();
    let s = load(&path, &no_env()).unwrap();
    assert!(s.warnings.iter().any(|w| w.contains("chmod 600")), "{:?}", s.warnings);
    std::fs::set_permissions(&path, std::os::unix::fs::PermissionsExt::from_mode(0o600)).unwrap();
    assert!(load(&path, &no_env()).unwrap().warnings.is_empty());
}

#[test]
fn a_ca_file_without_certificates_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let ca = dir.path().join("ca.pem");
    std::fs::write(&ca, "not a certificate").unwrap();
    let e = one_error(&GOOD.replace("[storage]", &format!("ca_file = \"{}\"\n[storage]", ca.display())));
    assert_eq!(e.key, "server.ca_file");
}

#[test]
fn the_example_config_is_valid() {
    let text = include_str!("../../config/connector.example.toml");
    let dir = tempfile::tempdir().unwrap();
    let token = dir.path().join("token");
    let pw = dir.path().join("pw");
    std::fs::write(&token, "dG9rZW4=\n").unwrap();
    std::fs::write(&pw, "secret\n").unwrap();
    for p in [&token, &pw] {
        std::fs::set_permissions(p, std::os::unix::fs::PermissionsExt::from_mode(0o600)).unwrap();
    }
    let text = text
        .replace("/opt/flotomate/integration-connector/token", &token.display().to_string())
        .replace("/opt/flotomate/integration-connector/corp.password", &pw.display().to_string());
    let s = parse(Path::new("connector.example.toml"), &text, &no_env()).unwrap();
    assert_eq!(s.directories.len(), 1);
    assert_eq!(s.link.token.expose(), "dG9rZW4=");
    assert!(s.warnings.is_empty(), "{:?}", s.warnings);
}

#[test]
fn a_scope_policy_is_read_and_checked() {
    let text = format!("{GOOD}\n[directories.corp.policy]\nallowed_operations = [\"ad.enable_user\", \"ad.format_disk\"]\nallowed_ous = [\"OU=Staff,DC=example,DC=test\"]\n");
    let e = one_error(&text);
    assert_eq!(e.key, "directories.corp.policy.allowed_operations");
    assert!(e.message.contains("ad.format_disk"));
    let ok = text.replace(", \"ad.format_disk\"", "");
    let s = parse(Path::new("/etc/ic.toml"), &ok, &no_env()).unwrap();
    let p = &s.directories[0].policy;
    assert_eq!(p.allowed_operations, vec!["ad.enable_user"]);
    let staff = connector_actors::ldap::dn::Dn::parse("ou=staff, dc=Example,dc=test").unwrap();
    assert_eq!(p.allowed_ous, vec![staff]);
    // The built-in privileged groups are resolved by SID at run time, not listed here.
    assert!(p.protected_groups.is_empty());
    assert_eq!(p.protected_refresh, std::time::Duration::from_secs(900));
}

#[test]
fn policy_dns_and_durations_are_checked_when_read() {
    let text = format!("{GOOD}\n[directories.corp.policy]\nallowed_ous = [\"OU=Team #2,DC=example,DC=test\", \"Staff OU\"]\nprotected_refresh = \"soon\"\nprotected_groups = [\"R&D, Lab #1\", \"S-1-5-32-544\"]\nwritable_attributes = [\"description\"]\n");
    let errs = errors(&text);
    let keys: Vec<&str> = errs.iter().map(|e| e.key.as_str()).collect();
    assert!(keys.contains(&"directories.corp.policy.allowed_ous"), "{keys:?}");
    assert!(keys.contains(&"directories.corp.policy.protected_refresh"), "{keys:?}");
    let ok = text.replace(", \"Staff OU\"", "").replace("\"soon\"", "\"1h\"");
    let s = parse(Path::new("/etc/ic.toml"), &ok, &no_env()).unwrap();
    let p = &s.directories[0].policy;
    let team = connector_actors::ldap::dn::Dn::parse("OU=Team \\#2,DC=example,DC=test").unwrap();
    assert_eq!(p.allowed_ous, vec![team]);
    assert_eq!(p.protected_groups, vec!["R&D, Lab #1", "S-1-5-32-544"]);
    assert_eq!(p.writable_attributes.as_deref(), Some(&["description".to_owned()][..]));
    assert_eq!(p.protected_refresh, std::time::Duration::from_secs(3600));
}

#[test]
fn a_wrong_type_in_every_section_names_its_dotted_key() {
    let with_section = |extra: &str| format!("{GOOD}\n{extra}\n");
    let cases: Vec<(String, &str)> = vec![
        (GOOD.replace("host =", "port = \"eighty\"\nhost ="), "server.port"),
        (GOOD.replace("host = \"servicedesk.example.com\"", "host = 443"), "server.host"),
        (GOOD.replace("path = \"/var/lib/ic\"", "path = 7"), "storage.path"),
        (with_section("[connector]\nmax_concurrency = \"many\""), "connector.max_concurrency"),
        (with_section("[ui]\nlisten = 8086"), "ui.listen"),
        (with_section("[logging]\njson = \"yes\""), "logging.json"),
        (GOOD.replace("bind_password = \"pw\"", "bind_password = 123456"), "directories.corp.bind_password"),
        (GOOD.replace("urls = [\"ldaps://dc1.example.test:636\"]", "urls = \"ldaps://dc1\""), "directories.corp.urls"),
        (
            with_section("[directories.corp.policy]\nallowed_ous = \"OU=Staff,DC=example,DC=test\""),
            "directories.corp.policy.allowed_ous",
        ),
    ];
    for (text, key) in cases {
        let e = one_error(&text);
        assert_eq!(e.key, key, "{e}");
        assert!(e.line.is_some(), "{e}");
        assert!(e.message.contains("invalid type"), "{e}");
    }
}

#[test]
fn a_missing_or_unknown_key_is_named_with_its_table() {
    let e = one_error(&GOOD.replace("host = \"servicedesk.example.com\"\n", ""));
    assert_eq!(e.key, "server.host", "{e}");
    let e = one_error(&GOOD.replace("bind_dn =", "bind_dnn = \"x\"\nbind_dn ="));
    assert_eq!(e.key, "directories.corp.bind_dnn", "{e}");
}

/// Every source of every secret: an empty or whitespace-only value is refused, naming the
/// key and the source (an empty bind password is an unauthenticated bind, RFC 4513 §5.1.2).
#[test]
fn an_empty_or_blank_secret_is_refused_from_every_source() {
    let dir = tempfile::tempdir().unwrap();
    let blank_file = dir.path().join("blank");
    std::fs::write(&blank_file, " \n\t\n").unwrap();
    std::fs::set_permissions(&blank_file, std::os::unix::fs::PermissionsExt::from_mode(0o600)).unwrap();
    let blank = blank_file.display().to_string();
    let no_token = GOOD.replace("token = \"dG9rZW4=\"\n", "");
    let no_pw = GOOD.replace("bind_password = \"pw\"\n", "");
    let ui = |extra: &str| format!("{GOOD}\n[ui]\n{extra}\n");
    let pw_env = bind_password_env("corp");
    // (config text, environment, key, source named)
    type Case<'a> = (String, Vec<(&'a str, &'a str)>, &'a str, String);
    let cases: Vec<Case> = vec![
        (GOOD.replace("\"dG9rZW4=\"", "\"\""), vec![], "server.token", "inline".into()),
        (GOOD.replace("\"dG9rZW4=\"", "\"  \\t \""), vec![], "server.token", "inline".into()),
        (
            no_token.replace("[storage]", &format!("token_file = \"{blank}\"\n[storage]")),
            vec![],
            "server.token",
            blank.clone(),
        ),
        (no_token.clone(), vec![(TOKEN_ENV, "")], "server.token", TOKEN_ENV.into()),
        (GOOD.to_owned(), vec![(TOKEN_ENV, " \n")], "server.token", TOKEN_ENV.into()),
        (GOOD.replace("\"pw\"", "\"\""), vec![], "directories.corp.bind_password", "inline".into()),
        (GOOD.replace("\"pw\"", "\"   \""), vec![], "directories.corp.bind_password", "inline".into()),
        (
            no_pw.replace("base_dn =", &format!("bind_password_file = \"{blank}\"\nbase_dn =")),
            vec![],
            "directories.corp.bind_password",
            blank.clone(),
        ),
        (no_pw.clone(), vec![(pw_env.as_str(), "")], "directories.corp.bind_password", pw_env.clone()),
        (GOOD.to_owned(), vec![(pw_env.as_str(), "\t")], "directories.corp.bind_password", pw_env.clone()),
        (ui("admin_token = \" \""), vec![], "ui.admin_token", "inline".into()),
        (ui(&format!("admin_token_file = \"{blank}\"")), vec![], "ui.admin_token", blank.clone()),
        (GOOD.to_owned(), vec![("IC_UI_ADMIN_TOKEN", "  ")], "ui.admin_token", "IC_UI_ADMIN_TOKEN".into()),
    ];
    for (text, env, key, source) in cases {
        let env = Env(env.into_iter().map(|(k, v)| (k.to_owned(), v.to_owned())).collect());
        let errs = match parse(Path::new("/etc/ic.toml"), &text, &env) {
            Ok(_) => panic!("an empty {key} ({source}) was accepted"),
            Err(ConfigErrors(list)) => list,
        };
        let e = errs.iter().find(|e| e.key == key).unwrap_or_else(|| panic!("{key} not named: {errs:?}"));
        assert!(e.message.contains(&source), "{e}");
        assert!(e.message.contains("empty") || e.message.contains("whitespace"), "{e}");
        assert!(e.message.contains("set ") || e.message.contains("write "), "no fix in: {e}");
    }
}

#[test]
fn a_secret_from_a_variable_or_file_loses_only_its_line_ending() {
    let env = Env(HashMap::from([(bind_password_env("corp"), " s3cret \r\n".to_owned())]));
    let s = parse(Path::new("/etc/ic.toml"), GOOD, &env).unwrap();
    assert_eq!(s.directories[0].bind.password().expect("a password bind").expose(), " s3cret ");
}

#[test]
fn a_ui_beyond_loopback_is_warned_about_having_no_tls() {
    let text = format!("{GOOD}\n[ui]\nlisten = \"0.0.0.0:8086\"\nadmin_token = \"0123456789abcdef0123\"\n");
    let s = parse(Path::new("/etc/ic.toml"), &text, &no_env()).unwrap();
    assert!(s.warnings.iter().any(|w| w.contains("ui.listen") && w.contains("no TLS")), "{:?}", s.warnings);
    let s = parse(Path::new("/etc/ic.toml"), GOOD, &no_env()).unwrap();
    assert!(!s.warnings.iter().any(|w| w.contains("ui.listen")), "{:?}", s.warnings);
}

/// Review of issue #14: every secret is `trim()`med, whatever its source. A quoted TOML
/// string is exact, and Active Directory accepts passwords that begin or end with a
/// space; such a service account's password is silently changed, the bind fails with
/// LDAP 49 and `check` tells the administrator the password is wrong. Only a file's (or
/// variable's) line ending should go; an inline value is the secret as written.
#[test]
fn an_inline_secret_keeps_its_spaces() {
    let text = GOOD.replace("bind_password = \"pw\"", "bind_password = \" correct horse \"");
    let s = parse(Path::new("/etc/ic.toml"), &text, &no_env()).unwrap();
    assert_eq!(s.directories[0].bind.password().expect("a password bind").expose(), " correct horse ");
}

/// Review of issue #14: `corp-a` and `corp_a` map to one variable,
/// IC_DIRECTORY_CORP_A_BIND_PASSWORD, so one directory could bind with the other's password.
#[test]
fn two_directories_sharing_a_password_variable_are_refused_by_name() {
    let second = GOOD.replace("[directories.corp]", "[directories.corp_x]");
    let text = format!(
        "{}\n{}",
        GOOD.replace("[directories.corp]", "[directories.corp-x]"),
        &second[second.find("[directories.corp_x]").unwrap()..]
    );
    let errors = parse(Path::new("/etc/ic.toml"), &text, &no_env()).unwrap_err().to_string();
    assert!(errors.contains("IC_DIRECTORY_CORP_X_BIND_PASSWORD") && errors.contains("rename one"), "{errors}");
}

#[test]
fn login_keys_are_checked_by_name_and_default_sensibly() {
    let s = parse(Path::new("/etc/ic.toml"), GOOD, &no_env()).unwrap();
    let login = &s.directories[0].login;
    assert_eq!((login.failure_limit, login.failure_window.as_secs()), (5, 900));
    assert_eq!((login.nesting_limit, login.group_limit, login.group_base_dn.as_deref()), (10, 1000, None));
    let bad = GOOD.replace(
        "base_dn = \"DC=example,DC=test\"",
        "base_dn = \"DC=example,DC=test\"\nlogin_failure_limit = -1\nlogin_failure_window = \"0s\"\ngroup_base_dn = \"groups\"\ngroup_nesting_limit = 0\ngroup_limit = 0\ndefault_password_policy_dn = \"policy\"\ngroup_member_attributes = [\"member\", \"owner\"]",
    );
    let keys: Vec<String> = errors(&bad).into_iter().map(|e| e.key).collect();
    for k in [
        "login_failure_limit",
        "login_failure_window",
        "group_base_dn",
        "group_nesting_limit",
        "group_limit",
        "default_password_policy_dn",
        "group_member_attributes",
    ] {
        assert!(keys.contains(&format!("directories.corp.{k}")), "{k} not named: {keys:?}");
    }
    let good = GOOD.replace(
        "base_dn = \"DC=example,DC=test\"",
        "base_dn = \"DC=example,DC=test\"\nlogin_failure_limit = 0\nlogin_failure_window = \"30m\"\ngroup_base_dn = \"OU=Groups,DC=example,DC=test\"",
    );
    let s = parse(Path::new("/etc/ic.toml"), &good, &no_env()).unwrap();
    let login = &s.directories[0].login;
    assert_eq!((login.failure_limit, login.failure_window.as_secs()), (0, 1800));
    assert_eq!(login.group_base_dn.as_deref(), Some("OU=Groups,DC=example,DC=test"));
}
