//! Directory servers for tests: started once per test run by `scripts/test.sh` (which
//! exports the path of each server's env file), or by a test for itself when it needs
//! to stop and start one. A test that needs a server it cannot find fails loudly.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::Command;

/// The `KEY=value` lines a server script wrote.
#[derive(Debug, Clone)]
pub struct ServerEnv {
    pub vars: HashMap<String, String>,
    pub file: PathBuf,
}

impl ServerEnv {
    pub fn read(file: &Path) -> ServerEnv {
        let text = std::fs::read_to_string(file)
            .unwrap_or_else(|e| panic!("cannot read the server env file {}: {e}", file.display()));
        let vars = text
            .lines()
            .filter_map(|l| l.split_once('='))
            .map(|(k, v)| (k.trim().to_owned(), v.trim().trim_matches('"').trim_matches('\'').to_owned()))
            .collect();
        ServerEnv { vars, file: file.to_path_buf() }
    }

    pub fn get(&self, key: &str) -> &str {
        self.vars.get(key).unwrap_or_else(|| panic!("{} has no {key}", self.file.display()))
    }
}

fn from_env(var: &str, script: &str) -> ServerEnv {
    let path = std::env::var(var).unwrap_or_else(|_| {
        panic!(
            "{var} is not set: this test needs a real directory server. Run scripts/test.sh (it starts one), \
             or start it with scripts/servers/{script} start DIR and export {var}=DIR/<name>.env"
        )
    });
    ServerEnv::read(Path::new(&path))
}

/// The shared OpenLDAP server of this test run.
pub fn slapd() -> ServerEnv {
    from_env("IC_TEST_SLAPD_ENV", "slapd.sh")
}

/// The shared Samba AD domain controller of this test run.
pub fn samba() -> ServerEnv {
    from_env("IC_TEST_SAMBA_ENV", "samba.sh")
}

pub fn script(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("scripts/servers").join(name)
}

/// Starts a private slapd in `dir` (for tests that stop and start it); returns its env.
pub fn start_private_slapd(dir: &Path, users: u32) -> ServerEnv {
    let out = Command::new("bash")
        .arg(script("slapd.sh"))
        .args(["start"])
        .arg(dir)
        .args(["--users", &users.to_string()])
        .output()
        .expect("run slapd.sh");
    assert!(
        out.status.success(),
        "slapd.sh start failed:\n{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    ServerEnv::read(&dir.join("slapd.env"))
}

/// Stops the private slapd in `dir` when dropped, so a failing test leaves no server behind.
pub struct StopOnDrop(pub PathBuf);

impl Drop for StopOnDrop {
    fn drop(&mut self) {
        let _ = Command::new("bash").arg(script("slapd.sh")).arg("stop").arg(&self.0).output();
    }
}

pub fn slapd_ctl(action: &str, dir: &Path) {
    let out = Command::new("bash").arg(script("slapd.sh")).arg(action).arg(dir).output().expect("run slapd.sh");
    assert!(out.status.success(), "slapd.sh {action} failed: {}", String::from_utf8_lossy(&out.stderr));
}

/// A `[directories.NAME]` table for the connector config.
pub fn slapd_directory(name: &str, env: &ServerEnv, ldaps: bool) -> String {
    let url = if ldaps { env.get("SLAPD_LDAPS_URL") } else { env.get("SLAPD_URL") };
    format!(
        "[directories.{name}]\nkind = \"ldap\"\nurls = [\"{url}\"]\nbind_dn = \"{}\"\nbind_password = \"{}\"\nbase_dn = \"{}\"\nca_file = \"{}\"\n",
        env.get("SLAPD_SERVICE_DN"),
        env.get("SLAPD_SERVICE_PW"),
        env.get("SLAPD_BASE_DN"),
        env.get("SLAPD_CA"),
    )
}

/// Whether the Samba directories of this run find the DC through its DNS
/// (`IC_TEST_AD_DISCOVERY=1`: `domain` and `dns_servers`, no `urls`) rather than by URL.
pub fn ad_discovery() -> bool {
    std::env::var("IC_TEST_AD_DISCOVERY").is_ok_and(|v| v == "1")
}

/// The DC's DNS server (`host:port`); fails the test when the DC runs without DNS.
pub fn samba_dns_server(env: &ServerEnv) -> &str {
    let dns = env.get("AD_DNS_SERVER");
    assert!(
        !dns.is_empty(),
        "{} has no DNS server: this test needs the DC's own DNS. Start it with scripts/servers/samba.sh start DIR --dns-kdc (scripts/test.sh does)",
        env.file.display()
    );
    dns
}

/// The lines that say where the DC is: its LDAPS URL, or with [`ad_discovery`] the
/// domain whose SRV records name it (`ldap://dc1.example.test:389`, StartTLS).
pub fn samba_servers(env: &ServerEnv) -> String {
    if ad_discovery() {
        format!("domain = \"{}\"\ndns_servers = [\"{}\"]\n", env.get("AD_UPN_SUFFIX"), samba_dns_server(env))
    } else {
        format!("urls = [\"{}\"]\n", env.get("AD_LDAPS_URL"))
    }
}

/// The connector as a Domain Admin (`svc-connector`) over the whole domain. Only for a
/// test that needs more than the delegated account may do, saying why.
pub fn samba_directory(name: &str, env: &ServerEnv) -> String {
    format!(
        "[directories.{name}]\nkind = \"active_directory\"\n{}bind_dn = \"{}\"\nbind_password = \"{}\"\nbase_dn = \"{}\"\nca_file = \"{}\"\n",
        samba_servers(env),
        env.get("AD_SERVICE_DN"),
        env.get("AD_SERVICE_PW"),
        env.get("AD_BASE_DN"),
        env.get("AD_CA"),
    )
}

/// The connector as customers run it: bound as `svc-delegated`, an ordinary account with
/// rights on `OU=Team #2` only (`samba.sh` grants them with `samba-tool dsacl`), and
/// `base_dn` that OU as a person writes it (`OU=Team #2,…`; Samba answers `OU=Team \#2,…`).
pub fn samba_delegated_directory(name: &str, env: &ServerEnv) -> String {
    format!(
        "[directories.{name}]\nkind = \"active_directory\"\n{}bind_dn = \"{}\"\nbind_password = \"{}\"\nbase_dn = \"{}\"\nca_file = \"{}\"\n",
        samba_servers(env),
        env.get("AD_DELEGATED_DN"),
        env.get("AD_DELEGATED_PW"),
        toml_escape(env.get("AD_TEAM_OU_DN")),
        env.get("AD_CA"),
    )
}

/// A value for a TOML basic string (DNs hold `\` and `"`).
pub fn toml_escape(s: &str) -> String {
    s.replace('\\', "\\\\").replace('"', "\\\"")
}

/// Bound as `svc-readonly`, an ordinary domain user (no rights beyond what every
/// authenticated user has), over the whole domain: enough for logins and imports.
pub fn samba_reader_directory(name: &str, env: &ServerEnv) -> String {
    samba_directory(name, env)
        .replace(env.get("AD_SERVICE_DN"), env.get("AD_READONLY_DN"))
        .replace(env.get("AD_SERVICE_PW"), env.get("AD_READONLY_PW"))
}

/// Runs an LDIF change on a slapd as its administrator (`extra`: more `ldapmodify`
/// arguments, e.g. `-e relax`); fails the test with ldapmodify's message.
pub fn slapd_modify(env: &ServerEnv, ldif: &str, extra: &[&str]) {
    use std::io::Write;
    let mut child = Command::new("ldapmodify")
        .args(["-x", "-H", env.get("SLAPD_URL"), "-D", env.get("SLAPD_ADMIN_DN"), "-w", env.get("SLAPD_ADMIN_PW")])
        .args(extra)
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("ldapmodify");
    child.stdin.take().expect("stdin").write_all(ldif.as_bytes()).expect("write ldif");
    let out = child.wait_with_output().expect("ldapmodify");
    assert!(out.status.success(), "ldapmodify: {}\n{ldif}", String::from_utf8_lossy(&out.stderr));
}

/// An OU of one test on the shared slapd (`ou=ic-{tag}-{pid},<base>`), removed with all
/// it holds when dropped. Tests add their entries here, never under `SLAPD_PEOPLE_DN`: the
/// people OU holds exactly what `slapd.sh` generated, so an import of it counts the same
/// in every run while other tests write (tests/e2e/operator.rs compares two such counts).
pub struct SlapdOu {
    env: ServerEnv,
    pub dn: String,
}

impl SlapdOu {
    pub fn new(env: &ServerEnv, tag: &str) -> SlapdOu {
        let dn = format!("ou=ic-{tag}-{},{}", std::process::id(), env.get("SLAPD_BASE_DN"));
        slapd_modify(env, &format!("dn: {dn}\nchangetype: add\nobjectClass: organizationalUnit\n"), &[]);
        SlapdOu { env: env.clone(), dn }
    }
}

impl Drop for SlapdOu {
    fn drop(&mut self) {
        let _ = Command::new("ldapdelete")
            .args(["-x", "-r", "-H", self.env.get("SLAPD_URL"), "-D", self.env.get("SLAPD_ADMIN_DN"), "-w"])
            .args([self.env.get("SLAPD_ADMIN_PW"), &self.dn])
            .output();
    }
}

/// The DC's krb5.conf and the service account's keytab (`samba.sh --dns-kdc` exports
/// `AD_KRB5_CONF` and `AD_SERVICE_KEYTAB`), or a loud failure naming how to get them.
pub fn samba_kerberos(env: &ServerEnv) -> (String, String) {
    let (conf, keytab) = (env.get("AD_KRB5_CONF"), env.get("AD_SERVICE_KEYTAB"));
    assert!(
        !conf.is_empty() && Path::new(keytab).exists(),
        "{} runs without a KDC or has no service keytab: start it with `scripts/servers/samba.sh start DIR --dns-kdc` \
         (scripts/test.sh does)",
        env.file.display()
    );
    (conf.to_owned(), keytab.to_owned())
}

/// The service account bound by `keytab` (SASL GSSAPI to `ldap/<AD_HOST>`), the DC's CA
/// at `ca`: no password anywhere.
pub fn samba_keytab_directory(name: &str, env: &ServerEnv, keytab: &str, ca: &str) -> String {
    let (principal, dn) = (env.get("AD_SERVICE_PRINCIPAL"), env.get("AD_SERVICE_DN"));
    samba_keytab_directory_of(name, env, keytab, ca, principal, dn)
}

/// As [`samba_keytab_directory`], bound as `principal` whose entry is `dn`.
pub fn samba_keytab_directory_of(
    name: &str,
    env: &ServerEnv,
    keytab: &str,
    ca: &str,
    principal: &str,
    dn: &str,
) -> String {
    format!(
        "[directories.{name}]\nkind = \"active_directory\"\nurls = [\"{}\"]\nbind_dn = \"{dn}\"\nbase_dn = \"{}\"\n\
         ca_file = \"{ca}\"\nbind_keytab = \"{keytab}\"\nbind_principal = \"{principal}\"\nbind_spn_host = \"{}\"\n",
        env.get("AD_LDAPS_URL"),
        env.get("AD_BASE_DN"),
        env.get("AD_HOST"),
    )
}

/// An account of one test in the DC's `OU=Service` (`samba.sh account`: created or its
/// password set, its keys exported to a keytab), deleted when dropped so that a failing
/// run leaves none behind.
pub struct SambaAccount {
    env: ServerEnv,
    pub user: String,
}

impl SambaAccount {
    /// Creates `user` (`{user}` made unique by the process id) with `password` and
    /// exports its keys to `keytab`.
    pub fn new(env: &ServerEnv, user: &str, password: &str, keytab: &Path) -> SambaAccount {
        let a = SambaAccount { env: env.clone(), user: format!("{user}{}", std::process::id()) };
        a.set(password, keytab);
        a
    }

    /// Sets the password (the account's key version rises) and exports the new keys.
    pub fn set(&self, password: &str, keytab: &Path) {
        let kt = keytab.to_str().expect("keytab path");
        samba_account(&self.env, &["set", &self.user, password, kt]);
    }

    /// `user@REALM` and the entry's DN.
    pub fn principal_and_dn(&self) -> (String, String) {
        let principal = format!("{}@{}", self.user, self.env.get("AD_REALM"));
        (principal, format!("CN={},{}", self.user, self.env.get("AD_SERVICE_OU_DN")))
    }
}

impl Drop for SambaAccount {
    fn drop(&mut self) {
        samba_account(&self.env, &["delete", &self.user]);
    }
}

/// `samba.sh account DIR OP USER [PASSWORD KEYTAB]` on the test DC.
fn samba_account(env: &ServerEnv, args: &[&str]) {
    let out = Command::new("bash")
        .arg(script("samba.sh"))
        .args(["account", env.get("AD_DIR")])
        .args(args)
        .output()
        .expect("run samba.sh account");
    assert!(out.status.success(), "samba.sh account {args:?}: {}", String::from_utf8_lossy(&out.stderr));
}
