//! `client_cert_file` / `client_key_file`: a good pair loads as a certificate bind; each
//! kind of mistake is an error naming its key and what to do; a readable key warns.

use std::collections::HashMap;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

use connector_actors::directory::ServiceBind;

use crate::config::{parse, ConfigErrors, SecretSource, Settings};

struct Env(HashMap<String, String>);

impl SecretSource for Env {
    fn var(&self, name: &str) -> Option<String> {
        self.0.get(name).cloned()
    }
}

/// A certificate and its key (mode 0600) in `dir`; returns their paths.
fn pair(dir: &Path, name: &str) -> (PathBuf, PathBuf) {
    let c = rcgen::generate_simple_self_signed(vec!["connector".to_owned()]).unwrap();
    let (cert, key) = (dir.join(format!("{name}.crt")), dir.join(format!("{name}.key")));
    std::fs::write(&cert, c.cert.pem()).unwrap();
    std::fs::write(&key, c.key_pair.serialize_pem()).unwrap();
    std::fs::set_permissions(&key, std::fs::Permissions::from_mode(0o600)).unwrap();
    (cert, key)
}

fn config(credential: &str) -> String {
    format!(
        "[server]\nprotocol = \"https\"\nhost = \"sd.example.com\"\ntoken = \"dG9rZW4=\"\n[storage]\npath = \"/var/lib/ic\"\n\
         [directories.corp]\nkind = \"ldap\"\nurls = [\"ldaps://ldap.example.test\"]\n\
         bind_dn = \"cn=connector-cert,ou=system,dc=example,dc=com\"\nbase_dn = \"dc=example,dc=com\"\n{credential}"
    )
}

fn load(text: &str, env: &[(&str, &str)]) -> Result<Settings, ConfigErrors> {
    let env = Env(env.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect());
    parse(Path::new("/etc/ic.toml"), text, &env)
}

fn files(cert: &Path, key: &Path) -> String {
    format!("client_cert_file = \"{}\"\nclient_key_file = \"{}\"\n", cert.display(), key.display())
}

/// The one error of `text`: its key and message.
fn error(text: &str, env: &[(&str, &str)]) -> (String, String) {
    match load(text, env) {
        Ok(_) => panic!("accepted:\n{text}"),
        Err(ConfigErrors(e)) => {
            assert_eq!(e.len(), 1, "{e:?}");
            (e[0].key.clone(), e[0].message.clone())
        }
    }
}

#[test]
fn a_certificate_and_its_key_load_as_a_certificate_bind() {
    let dir = tempfile::tempdir().unwrap();
    let (cert, key) = pair(dir.path(), "svc");
    let s = load(&config(&files(&cert, &key)), &[]).unwrap();
    let ServiceBind::Certificate(c) = &s.directories[0].bind else { panic!("{:?}", s.directories[0].bind) };
    assert!(c.subject.contains("rcgen"), "{}", c.subject);
    assert!(c.not_after_s > 1_800_000_000, "rcgen's default notAfter is 4096: {}", c.not_after_s);
    assert!(s.warnings.is_empty(), "{:?}", s.warnings);
    let shown = format!("{:?}", s.directories[0]);
    let key_text = std::fs::read_to_string(&key).unwrap();
    let key_body = key_text.lines().nth(1).unwrap();
    assert!(!shown.contains(key_body), "the key is never shown: {shown}");
}

#[test]
fn half_a_pair_names_the_missing_key() {
    let dir = tempfile::tempdir().unwrap();
    let (cert, key) = pair(dir.path(), "svc");
    let (k, m) = error(&config(&format!("client_cert_file = \"{}\"\n", cert.display())), &[]);
    assert_eq!(k, "directories.corp.client_cert_file");
    assert!(m.contains("without client_key_file: set both"), "{m}");
    let (k, m) = error(&config(&format!("client_key_file = \"{}\"\n", key.display())), &[]);
    assert_eq!(k, "directories.corp.client_key_file");
    assert!(m.contains("without client_cert_file"), "{m}");
    let (k, m) = error(&config(""), &[]);
    assert_eq!(k, "directories.corp.bind_password", "no credential at all: {m}");
}

#[test]
fn a_certificate_and_a_password_together_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let (cert, key) = pair(dir.path(), "svc");
    let (k, m) = error(&config(&format!("{}bind_password = \"pw\"\n", files(&cert, &key))), &[]);
    assert_eq!(k, "directories.corp.client_cert_file");
    assert!(m.contains("keep one"), "{m}");
    let env = [("IC_DIRECTORY_CORP_BIND_PASSWORD", "pw")];
    let (_, m) = error(&config(&files(&cert, &key)), &env);
    assert!(m.contains("IC_DIRECTORY_CORP_BIND_PASSWORD"), "the variable is named: {m}");
    assert!(!m.contains("\"pw\""), "{m}");
}

#[test]
fn a_certificate_over_plain_ldap_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let (cert, key) = pair(dir.path(), "svc");
    let text = config(&format!("{}starttls = false\n", files(&cert, &key))).replace("ldaps://", "ldap://");
    let (k, m) = error(&text, &[]);
    assert_eq!(k, "directories.corp.client_cert_file");
    assert!(m.contains("only over TLS"), "{m}");
}

#[test]
fn a_key_of_another_certificate_or_no_pem_is_named() {
    let dir = tempfile::tempdir().unwrap();
    let (cert, _) = pair(dir.path(), "one");
    let (_, other_key) = pair(dir.path(), "two");
    let (k, m) = error(&config(&files(&cert, &other_key)), &[]);
    assert_eq!(k, "directories.corp.client_key_file");
    assert!(m.contains("does not fit the certificate"), "{m}");
    let junk = dir.path().join("junk.pem");
    std::fs::write(&junk, "not a certificate\n").unwrap();
    let (k, m) = error(&config(&files(&junk, &other_key)), &[]);
    assert_eq!(k, "directories.corp.client_cert_file");
    assert!(m.contains("holds no PEM certificate"), "{m}");
    let (k, m) = error(&config(&files(&cert, &junk)), &[]);
    assert_eq!(k, "directories.corp.client_key_file");
    assert!(m.contains("holds no PEM private key"), "{m}");
    let (k, m) = error(&config(&files(&cert, &dir.path().join("missing.key"))), &[]);
    assert_eq!(k, "directories.corp.client_key_file");
    assert!(m.contains("cannot read"), "{m}");
}

#[test]
fn a_key_others_may_read_warns_with_the_fix() {
    let dir = tempfile::tempdir().unwrap();
    let (cert, key) = pair(dir.path(), "svc");
    std::fs::set_permissions(&key, std::fs::Permissions::from_mode(0o644)).unwrap();
    let s = load(&config(&files(&cert, &key)), &[]).unwrap();
    let w = s.warnings.join("\n");
    assert!(w.contains("client_key_file") && w.contains(&format!("chmod 600 {}", key.display())), "{w}");
}

#[test]
fn an_x509_v1_certificate_loads() {
    // `openssl x509 -req` without extensions makes a v1 certificate; slapd takes it, and
    // rustls's own key check (WebPKI) refused it.
    let dir = tempfile::tempdir().unwrap();
    let (key, cert) = (dir.path().join("v1.key"), dir.path().join("v1.crt"));
    let out = std::process::Command::new("openssl")
        .args(["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "30", "-subj", "/CN=v1"])
        .args(["-addext", "basicConstraints=CA:FALSE"])
        .arg("-keyout")
        .arg(&key)
        .arg("-out")
        .arg(&cert)
        .output()
        .expect("openssl (slapd.sh install installs it)");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let csr = dir.path().join("v1.csr");
    let v1 = std::process::Command::new("openssl")
        .args(["x509", "-x509toreq", "-in"])
        .arg(&cert)
        .arg("-signkey")
        .arg(&key)
        .arg("-out")
        .arg(&csr)
        .output()
        .unwrap();
    assert!(v1.status.success(), "{}", String::from_utf8_lossy(&v1.stderr));
    let signed = std::process::Command::new("openssl")
        .args(["x509", "-req", "-days", "30", "-in"])
        .arg(&csr)
        .arg("-signkey")
        .arg(&key)
        .arg("-out")
        .arg(&cert)
        .output()
        .unwrap();
    assert!(signed.status.success(), "{}", String::from_utf8_lossy(&signed.stderr));
    std::fs::set_permissions(&key, std::fs::Permissions::from_mode(0o600)).unwrap();
    let text = std::fs::read(&cert).unwrap();
    let (_, parsed) = x509_parser::pem::parse_x509_pem(&text).unwrap();
    assert_eq!(parsed.parse_x509().unwrap().version().0, 0, "a v1 certificate");
    let s = load(&config(&files(&cert, &key)), &[]).unwrap();
    assert!(matches!(s.directories[0].bind, ServiceBind::Certificate(_)));
}

#[test]
fn an_expired_certificate_is_refused_naming_the_key_and_the_date() {
    let dir = tempfile::tempdir().unwrap();
    let key_pair = rcgen::KeyPair::generate().unwrap();
    let mut params = rcgen::CertificateParams::new(vec!["connector".to_owned()]).unwrap();
    params.not_before = rcgen::date_time_ymd(2020, 1, 1);
    params.not_after = rcgen::date_time_ymd(2021, 1, 1);
    let c = params.self_signed(&key_pair).unwrap();
    let (cert, key) = (dir.path().join("old.crt"), dir.path().join("old.key"));
    std::fs::write(&cert, c.pem()).unwrap();
    std::fs::write(&key, key_pair.serialize_pem()).unwrap();
    std::fs::set_permissions(&key, std::fs::Permissions::from_mode(0o600)).unwrap();
    let (k, m) = error(&config(&files(&cert, &key)), &[]);
    assert_eq!(k, "directories.corp.client_cert_file");
    assert!(m.contains("expired at 2021-01-01T00:00:00") && m.contains("renewed certificate"), "{m}");
}
