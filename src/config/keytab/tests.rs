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

/// A file that starts as MIT's keytab format does (version 0x0502, no record), mode 0600.
fn keytab(dir: &Path) -> PathBuf {
    let path = dir.join("svc.keytab");
    std::fs::write(&path, [5u8, 2]).unwrap();
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
    assert_eq!(k.ccache, "MEMORY:integration-connector-corp-ad", "never the user's cache");
    assert!(s.warnings.is_empty(), "{:?}", s.warnings);
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
}
