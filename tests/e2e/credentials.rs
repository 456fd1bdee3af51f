//! Passwordless service binds and credential expiry (issue #20) against the real slapd
//! of this test run: a certificate-bound service account (SASL EXTERNAL, mapped by
//! `olcAuthzRegexp` in `slapd.sh`) runs logins and an import; `check` says how it bound
//! and when the certificate expires; a certificate 10 days from its end warns in
//! `check`, the heartbeat, the UI and the log, and its key is never shown. Against
//! Samba, `check` reads the service password's expiry as the DC computes it.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use serde_json::{json, Value};

use crate::harness::servers::{self, ServerEnv};
use crate::harness::{binary, eventually, logged_ui_url, Connector, Sim};

const LIMIT: Duration = Duration::from_secs(60);

/// `[directories.NAME]` bound by `cert` and `key` as the slapd's certificate account.
fn cert_directory(name: &str, env: &ServerEnv, cert: &Path, key: &Path) -> String {
    format!(
        "[directories.{name}]\nkind = \"ldap\"\nurls = [\"{}\"]\nbind_dn = \"{}\"\nbase_dn = \"{}\"\nca_file = \"{}\"\n\
         client_cert_file = \"{}\"\nclient_key_file = \"{}\"\n",
        env.get("SLAPD_LDAPS_URL"),
        env.get("SLAPD_CERT_SERVICE_DN"),
        env.get("SLAPD_BASE_DN"),
        env.get("SLAPD_CA"),
        cert.display(),
        key.display(),
    )
}

/// A client certificate for the mapped subject, signed by the slapd's CA, valid `days`
/// from now; its key at mode 0600. Returns (certificate, key).
fn short_certificate(env: &ServerEnv, dir: &Path, days: u32) -> (PathBuf, PathBuf) {
    let ca = PathBuf::from(env.get("SLAPD_CA"));
    let ca_key = ca.with_file_name("ca.key");
    let (cert, key, csr) = (dir.join("short.crt"), dir.join("short.key"), dir.join("short.csr"));
    let run = |args: &[&str]| {
        let out = Command::new("openssl").args(args).output().expect("openssl");
        assert!(out.status.success(), "openssl {args:?}: {}", String::from_utf8_lossy(&out.stderr));
    };
    let (k, c, r) = (key.to_str().unwrap(), cert.to_str().unwrap(), csr.to_str().unwrap());
    let subject = "/O=Example/OU=services/CN=connector-cert";
    run(&["req", "-newkey", "rsa:2048", "-nodes", "-subj", subject, "-keyout", k, "-out", r]);
    let serial = format!("0x{:x}", rand::random::<u64>());
    let (ca_s, ca_key_s, days_s) = (ca.to_str().unwrap(), ca_key.to_str().unwrap(), days.to_string());
    run(&[
        "x509",
        "-req",
        "-in",
        r,
        "-CA",
        ca_s,
        "-CAkey",
        ca_key_s,
        "-set_serial",
        &serial,
        "-days",
        &days_s,
        "-out",
        c,
    ]);
    std::fs::set_permissions(&key, std::os::unix::fs::PermissionsExt::from_mode(0o600)).unwrap();
    (cert, key)
}

/// `check` of a config with `directory`, its storage of its own (a running connector
/// holds the lock of its own storage).
fn check(sim: &Sim, directory: &str) -> (Option<i32>, String) {
    let dir = sim.dir.path().join(format!("check-{}", rand::random::<u32>()));
    std::fs::create_dir_all(&dir).unwrap();
    let config = dir.join("connector.toml");
    std::fs::write(&config, crate::harness::connector::config_for(sim, &dir.join("data"), directory)).unwrap();
    let out =
        Command::new(binary("integration-connector")).args(["check", "--config"]).arg(&config).output().expect("check");
    (out.status.code(), format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr)))
}

fn line<'a>(out: &'a str, name: &str) -> &'a str {
    out.lines()
        .find(|l| l.get(5..).is_some_and(|r| r.starts_with(&format!("{name}:"))))
        .unwrap_or_else(|| panic!("no {name} in:\n{out}"))
}

/// Whether `text` says "`prefix` 9 days" or "… 10 days": a credential made to end in 10
/// days reads 10 in the second it was made, 9 after.
fn nine_or_ten(text: &str, prefix: &str) -> bool {
    text.contains(&format!("{prefix} 9 days")) || text.contains(&format!("{prefix} 10 days"))
}

/// The base64 body of a PEM key: what must never appear anywhere.
fn key_body(key: &Path) -> Vec<String> {
    let text = std::fs::read_to_string(key).unwrap();
    text.lines().filter(|l| !l.starts_with("-----") && l.len() > 40).map(str::to_owned).collect()
}

#[tokio::test]
async fn a_certificate_bound_service_account_runs_logins_and_an_import() {
    let env = servers::slapd();
    let (cert, key) = (PathBuf::from(env.get("SLAPD_CLIENT_CERT")), PathBuf::from(env.get("SLAPD_CLIENT_KEY")));
    let sim = Sim::start(true).await;
    let table = cert_directory("corp", &env, &cert, &key);
    let c = Connector::for_sim(&sim, "cert", &table);
    sim.wait_online(LIMIT).await;
    let ok = crate::ldap::login(&sim, "corp", env.get("SLAPD_USER_OK"), env.get("SLAPD_USER_OK_PW")).await;
    assert_eq!(ok["authenticated"], true, "{ok}");
    let bad = crate::ldap::login(&sim, "corp", env.get("SLAPD_USER_OK"), "not-the-password").await;
    assert_eq!(bad["reason"], "invalid_credentials", "{bad}");
    // Anonymous reads nothing in this slapd (`by * none`): records prove the certificate bound.
    let filter = "(&(objectClass=inetOrgPerson)(uid=fixture-*))";
    let (view, records) = crate::ldap::import(&sim, "corp", json!({"filter": filter})).await;
    assert_eq!(view["result"]["status"], "succeeded", "{}", view["result"]);
    assert_eq!(records.len(), 5, "the five fixture users: {records:?}");
    assert!(records.iter().all(|r| r["attributes"].get("userPassword").is_none()));

    let (code, out) = check(&sim, &table);
    assert_eq!(code, Some(0), "{out}");
    let bind = line(&out, "directory.corp.bind");
    assert!(bind.starts_with("OK") && bind.contains("SASL EXTERNAL"), "{bind}");
    assert!(
        bind.contains(&format!("dn:{}", env.get("SLAPD_CERT_SERVICE_DN"))),
        "Who am I? names the mapped entry: {bind}"
    );
    let creds = line(&out, "directory.corp.credentials");
    assert!(creds.starts_with("OK") && creds.contains("client certificate expires in 36"), "{creds}");
    for body in key_body(&key) {
        assert!(!out.contains(&body) && !c.log_text().contains(&body), "the key leaked");
    }
}

#[tokio::test]
async fn a_certificate_ten_days_from_its_end_warns_in_check_heartbeat_ui_and_log() {
    let env = servers::slapd();
    let sim = Sim::start_with(true, &["--heartbeat-interval-s", "1"]).await;
    let (cert, key) = short_certificate(&env, sim.dir.path(), 10);
    let table = cert_directory("corp", &env, &cert, &key);
    let c = Connector::for_sim(&sim, "short", &table);
    let online = sim.wait_online(LIMIT).await;
    let id = online["connector_id"].as_str().unwrap().to_owned();
    let ok = crate::ldap::login(&sim, "corp", env.get("SLAPD_USER_OK"), env.get("SLAPD_USER_OK_PW")).await;
    assert_eq!(ok["authenticated"], true, "the certificate still works: {ok}");

    let (code, out) = check(&sim, &table);
    assert_eq!(code, Some(0), "a warning is no failure: {out}");
    let creds = line(&out, "directory.corp.credentials");
    assert!(creds.starts_with("WARN") && nine_or_ten(creds, "client certificate expires in"), "{creds}");

    let warning = eventually(LIMIT, "a heartbeat with the certificate's warning", || async {
        let d = sim.get(&format!("/admin/connectors/{id}")).await;
        let dirs = d["directories"].as_array()?.clone();
        dirs.iter().find_map(|x| x["credential_warnings"].as_array()?.first().cloned())
    })
    .await;
    assert_eq!(warning["credential"], "client_certificate", "{warning}");
    assert!(matches!(warning["days_left"].as_i64(), Some(9 | 10)), "{warning}");

    let ui = logged_ui_url(|| c.log_text()).await;
    let ui = ui.trim_end_matches('/');
    let status: Value = reqwest::get(format!("{ui}/api/status")).await.unwrap().json().await.unwrap();
    assert_eq!(status["directories"][0]["credential_warnings"][0]["days_left"], warning["days_left"], "{status}");
    let panel = reqwest::get(format!("{ui}/panel")).await.unwrap().text().await.unwrap();
    assert!(nine_or_ten(&panel, "client certificate expires in"), "{panel}");
    let log = c.log_text();
    assert!(nine_or_ten(&log, "client certificate expires in"), "{log}");
    let heartbeat = sim.get(&format!("/admin/connectors/{id}")).await.to_string();
    for body in key_body(&key) {
        assert!(![&out, &log, &panel, &heartbeat].iter().any(|t| t.contains(&body)), "the key leaked");
    }
}

#[tokio::test]
async fn check_reads_the_ad_service_password_expiry_the_dc_computes() {
    let samba = servers::samba();
    let sim = Sim::start(false).await;
    let (_, out) = check(&sim, &servers::samba_reader_directory("ad", &samba));
    // What the DC itself says of the account, read beside the connector.
    let raw = Command::new("ldapsearch")
        .env("LDAPTLS_CACERT", samba.get("AD_CA"))
        .args([
            "-x",
            "-LLL",
            "-H",
            samba.get("AD_LDAPS_URL"),
            "-D",
            samba.get("AD_READONLY_DN"),
            "-w",
            samba.get("AD_READONLY_PW"),
        ])
        .args(["-s", "base", "-b", samba.get("AD_READONLY_DN"), "msDS-UserPasswordExpiryTimeComputed"])
        .output()
        .expect("ldapsearch");
    let raw = String::from_utf8_lossy(&raw.stdout).to_string();
    let value =
        raw.lines().find_map(|l| l.strip_prefix("msDS-UserPasswordExpiryTimeComputed: ")).expect("the DC's value");
    let creds = line(&out, "directory.ad.credentials");
    if value == i64::MAX.to_string() {
        assert!(creds.starts_with("OK") && creds.contains("password never expires"), "{creds}");
    } else {
        assert!(creds.contains("the service account's password expire"), "{creds}");
    }
    assert!(!out.contains(samba.get("AD_READONLY_PW")));
}

/// A service account of its own whose password a fine-grained policy (PSO) makes expire
/// 10 days after it was set; both deleted when dropped.
struct ExpiringAccount {
    env: ServerEnv,
    user: String,
    pso: String,
}

impl ExpiringAccount {
    fn create(env: &ServerEnv, password: &str) -> ExpiringAccount {
        use base64::Engine;
        let tag = format!("ic-expiry-{}", rand::random::<u32>() % 1_000_000);
        let user = format!("CN={tag},{}", env.get("AD_SERVICE_OU_DN"));
        let pso = format!("CN={tag},CN=Password Settings Container,CN=System,{}", env.get("AD_BASE_DN"));
        let quoted: Vec<u8> = format!("\"{password}\"").encode_utf16().flat_map(u16::to_le_bytes).collect();
        let pw = base64::engine::general_purpose::STANDARD.encode(quoted);
        let ten_days = 10 * 86_400 * 10_000_000i64;
        let ldif = format!(
            "dn: {user}\nchangetype: add\nobjectClass: user\nsAMAccountName: {tag}\nunicodePwd:: {pw}\nuserAccountControl: 512\n\n\
             dn: {pso}\nchangetype: add\nobjectClass: msDS-PasswordSettings\nmsDS-PasswordSettingsPrecedence: 1\n\
             msDS-PasswordReversibleEncryptionEnabled: FALSE\nmsDS-PasswordHistoryLength: 0\n\
             msDS-PasswordComplexityEnabled: FALSE\nmsDS-MinimumPasswordLength: 1\nmsDS-MinimumPasswordAge: 0\n\
             msDS-MaximumPasswordAge: -{ten_days}\nmsDS-LockoutThreshold: 0\nmsDS-LockoutObservationWindow: -18000000000\n\
             msDS-LockoutDuration: -18000000000\nmsDS-PSOAppliesTo: {user}\n"
        );
        let account = ExpiringAccount { env: env.clone(), user, pso };
        assert!(crate::ad::admin_ldif(env, &ldif), "creating {} and its PSO failed", account.user);
        account
    }
}

impl Drop for ExpiringAccount {
    fn drop(&mut self) {
        crate::ad_ops::delete_tree(&self.env, &self.pso);
        crate::ad_ops::delete_tree(&self.env, &self.user);
    }
}

#[tokio::test]
async fn an_ad_service_password_ten_days_from_expiry_warns_in_check_heartbeat_and_ui() {
    let samba = servers::samba();
    let password = format!("Exp-{}-pw", rand::random::<u32>());
    let account = ExpiringAccount::create(&samba, &password);
    let table = servers::samba_reader_directory("ad", &samba)
        .replace(samba.get("AD_READONLY_DN"), &account.user)
        .replace(samba.get("AD_READONLY_PW"), &password);
    let sim = Sim::start_with(true, &["--heartbeat-interval-s", "1"]).await;
    let (code, out) = check(&sim, &table);
    assert_eq!(code, Some(0), "{out}");
    let creds = line(&out, "directory.ad.credentials");
    assert!(creds.starts_with("WARN") && nine_or_ten(creds, "the service account's password expires in"), "{creds}");

    let c = Connector::for_sim(&sim, "pso", &table);
    let online = sim.wait_online(LIMIT).await;
    let id = online["connector_id"].as_str().unwrap().to_owned();
    let warning = eventually(LIMIT, "a heartbeat with the password's warning", || async {
        let d = sim.get(&format!("/admin/connectors/{id}")).await;
        d["directories"].as_array()?.iter().find_map(|x| x["credential_warnings"].as_array()?.first().cloned())
    })
    .await;
    assert_eq!(warning["credential"], "service_password", "{warning}");
    assert!(matches!(warning["days_left"].as_i64(), Some(9 | 10)), "{warning}");
    let ui = logged_ui_url(|| c.log_text()).await;
    let panel = reqwest::get(format!("{}/panel", ui.trim_end_matches('/'))).await.unwrap().text().await.unwrap();
    assert!(nine_or_ten(&panel, "password expires in"), "{panel}");
    let heartbeat = sim.get(&format!("/admin/connectors/{id}")).await.to_string();
    for text in [&out, &c.log_text(), &panel, &heartbeat] {
        assert!(!text.contains(&password), "the password leaked");
    }
}
