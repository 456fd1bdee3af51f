//! `bind_keytab`, `bind_principal`, `bind_spn_host`: a good set loads as a keytab bind
//! (in a build with Kerberos); each mistake is an error naming its key; a keytab others
//! may read warns; a build without Kerberos refuses the key.

use std::collections::HashMap;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

#[cfg(feature = "kerberos")]
use connector_actors::directory::ServiceBind;

use crate::config::{parse, ConfigErrors, SecretSource, Settings};

struct Env(HashMap<String, String>);

impl SecretSource for Env {
    fn var(&self, name: &str) -> Option<String> {
        self.0.get(name).cloned()
    }
}

fn load(credential: &str) -> Result<Settings, ConfigErrors> {
    let text = format!(
        "[server]\nprotocol = \"https\"\nhost = \"sd.example.com\"\ntoken = \"dG9rZW4=\"\n[storage]\npath = \"/var/lib/ic\"\n\
         [directories.corp-ad]\nkind = \"active_directory\"\nurls = [\"ldaps://dc1.example.test\"]\n\
         bind_dn = \"CN=svc-connector,OU=Service,DC=example,DC=test\"\nbase_dn = \"DC=example,DC=test\"\n{credential}"
    );
    parse(Path::new("/etc/ic.toml"), &text, &Env(HashMap::new()))
}

/// One record of MIT's keytab format version 0x0502: `name@REALM`'s key at version 3.
fn record(name: &str, realm: &str) -> Vec<u8> {
    let mut e = Vec::new();
    e.extend(1u16.to_be_bytes());
    for s in [realm, name] {
        e.extend((s.len() as u16).to_be_bytes());
        e.extend(s.as_bytes());
    }
    e.extend(1u32.to_be_bytes()); // KRB5_NT_PRINCIPAL
    e.extend(1_700_000_000u32.to_be_bytes());
    e.push(3);
    e.extend(18u16.to_be_bytes()); // aes256
    e.extend(32u16.to_be_bytes());
    e.extend([7u8; 32]);
    let mut out = (e.len() as i32).to_be_bytes().to_vec();
    out.extend(e);
    out
}

/// A keytab (MIT's format, version 0x0502) with a key of svc-connector@EXAMPLE.TEST, mode 0600.
fn keytab(dir: &Path) -> PathBuf {
    let path = dir.join("svc.keytab");
    let mut bytes = vec![5u8, 2];
    bytes.extend(record("svc-connector", "EXAMPLE.TEST"));
    std::fs::write(&path, bytes).unwrap();
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)).unwrap();
    path
}

fn error(credential: &str) -> (String, String) {
    match load(credential) {
        Ok(_) => panic!("accepted: {credential}"),
        Err(ConfigErrors(e)) => {
            assert_eq!(e.len(), 1, "{e:?}");
            (e[0].key.clone(), e[0].message.clone())
        }
    }
}

#[cfg(feature = "kerberos")]
#[test]
fn a_keytab_and_its_principal_load_with_a_private_cache() {
    let dir = tempfile::tempdir().unwrap();
    let kt = keytab(dir.path());
    let s = load(&format!(
        "bind_keytab = \"{}\"\nbind_principal = \"svc-connector@EXAMPLE.TEST\"\nbind_spn_host = \"dc1.example.test\"\n",
        kt.display()
    ))
    .unwrap();
    let ServiceBind::Keytab(k) = &s.directories[0].bind else { panic!("{:?}", s.directories[0].bind) };
    assert_eq!(k.keytab, format!("FILE:{}", kt.display()));
    assert_eq!(k.principal, "svc-connector@EXAMPLE.TEST");
    assert_eq!(k.spn_host.as_deref(), Some("dc1.example.test"));
    assert_eq!(k.ccache, "MEMORY:integration-connector-corp-ad-svc-connector@EXAMPLE.TEST", "never the user's cache");
    assert!(s.warnings.is_empty(), "{:?}", s.warnings);
}

#[cfg(feature = "kerberos")]
#[test]
fn another_principal_of_the_same_directory_gets_a_cache_of_its_own() {
    let dir = tempfile::tempdir().unwrap();
    let kt = keytab(dir.path());
    let cache = |principal: &str| {
        let s = load(&format!("bind_keytab = \"{}\"\nbind_principal = \"{principal}\"\n", kt.display())).unwrap();
        let ServiceBind::Keytab(k) = &s.directories[0].bind else { panic!("{:?}", s.directories[0].bind) };
        k.ccache.clone()
    };
    assert_ne!(
        cache("svc-connector@EXAMPLE.TEST"),
        cache("svc-other@EXAMPLE.TEST"),
        "a reload may change the principal"
    );
}

#[cfg(feature = "kerberos")]
#[test]
fn a_principal_the_keytab_lacks_warns_naming_the_principals_it_holds() {
    let dir = tempfile::tempdir().unwrap();
    let kt = keytab(dir.path());
    let s =
        load(&format!("bind_keytab = \"{}\"\nbind_principal = \"svc-other@EXAMPLE.TEST\"\n", kt.display())).unwrap();
    let w = s.warnings.join("\n");
    assert!(w.contains("directories.corp-ad.bind_keytab"), "{w}");
    assert!(
        w.contains("holds keys of svc-connector@EXAMPLE.TEST, none of bind_principal svc-other@EXAMPLE.TEST"),
        "{w}"
    );
    let empty = dir.path().join("empty.keytab");
    std::fs::write(&empty, [5u8, 2]).unwrap();
    std::fs::set_permissions(&empty, std::fs::Permissions::from_mode(0o600)).unwrap();
    let s = load(&format!("bind_keytab = \"{}\"\nbind_principal = \"a@B\"\n", empty.display())).unwrap();
    assert!(s.warnings.join("\n").contains("holds no key at all"), "{:?}", s.warnings);
}

#[cfg(feature = "kerberos")]
#[test]
fn each_keytab_mistake_names_its_key() {
    let dir = tempfile::tempdir().unwrap();
    let kt = keytab(dir.path());
    let kt_line = format!("bind_keytab = \"{}\"\n", kt.display());
    let (k, m) = error(&kt_line);
    assert_eq!(k, "directories.corp-ad.bind_principal");
    assert!(m.contains("missing") && m.contains("svc-connector@EXAMPLE.TEST"), "{m}");
    let (k, m) = error(&format!("{kt_line}bind_principal = \"svc-connector\"\n"));
    assert_eq!(k, "directories.corp-ad.bind_principal");
    assert!(m.contains("name@REALM"), "{m}");
    let (k, m) = error("bind_principal = \"svc-connector@EXAMPLE.TEST\"\n");
    assert_eq!(k, "directories.corp-ad.bind_principal");
    assert!(m.contains("without bind_keytab"), "{m}");
    let (k, m) = error(&format!("{kt_line}bind_principal = \"a@B\"\nbind_password = \"pw\"\n"));
    assert_eq!(k, "directories.corp-ad.bind_keytab");
    assert!(m.contains("keep one"), "{m}");
    let junk = dir.path().join("junk");
    std::fs::write(&junk, "not a keytab").unwrap();
    let (k, m) = error(&format!("bind_keytab = \"{}\"\nbind_principal = \"a@B\"\n", junk.display()));
    assert_eq!(k, "directories.corp-ad.bind_keytab");
    assert!(m.contains("is not a keytab") && m.contains("exportkeytab"), "{m}");
    let (_, m) = error(&format!("bind_keytab = \"{}\"\nbind_principal = \"a@B\"\n", dir.path().join("none").display()));
    assert!(m.contains("cannot read"), "{m}");
}

#[cfg(feature = "kerberos")]
#[test]
fn a_keytab_others_may_read_warns_with_the_fix() {
    let dir = tempfile::tempdir().unwrap();
    let kt = keytab(dir.path());
    std::fs::set_permissions(&kt, std::fs::Permissions::from_mode(0o640)).unwrap();
    let s = load(&format!("bind_keytab = \"{}\"\nbind_principal = \"a@B\"\n", kt.display())).unwrap();
    let w = s.warnings.join("\n");
    assert!(w.contains("bind_keytab") && w.contains(&format!("chmod 600 {}", kt.display())), "{w}");
}

#[cfg(not(feature = "kerberos"))]
#[test]
fn a_build_without_kerberos_refuses_a_keytab_by_name() {
    let dir = tempfile::tempdir().unwrap();
    let kt = keytab(dir.path());
    let (k, m) = error(&format!("bind_keytab = \"{}\"\nbind_principal = \"a@B\"\n", kt.display()));
    assert_eq!(k, "directories.corp-ad.bind_keytab");
    assert!(m.contains("no Kerberos support") && m.contains("--features kerberos"), "{m}");
    assert!(m.contains("integration-connector-kerberos package"), "{m}");
}

#[cfg(feature = "kerberos")]
#[test]
fn one_spn_host_for_several_servers_warns_and_for_one_server_does_not() {
    let dir = tempfile::tempdir().unwrap();
    let kt = keytab(dir.path());
    let credential = format!(
        "bind_keytab = \"{}\"\nbind_principal = \"svc-connector@EXAMPLE.TEST\"\nbind_spn_host = \"dc1.example.test\"\n",
        kt.display()
    );
    assert!(load(&credential).unwrap().warnings.is_empty(), "one URL, one service");
    let text = format!(
        "[server]\nprotocol = \"https\"\nhost = \"sd.example.com\"\ntoken = \"dG9rZW4=\"\n[storage]\npath = \"/var/lib/ic\"\n\
         [directories.corp-ad]\nkind = \"active_directory\"\nurls = [\"ldaps://dc1.example.test\", \"ldaps://dc2.example.test\"]\n\
         bind_dn = \"CN=svc-connector,OU=Service,DC=example,DC=test\"\nbase_dn = \"DC=example,DC=test\"\n{credential}"
    );
    let s = parse(Path::new("/etc/ic.toml"), &text, &Env(HashMap::new())).unwrap();
    let w = s.warnings.join("\n");
    assert!(w.contains("directories.corp-ad.bind_spn_host = \"dc1.example.test\"") && w.contains("2 URLs"), "{w}");
}
