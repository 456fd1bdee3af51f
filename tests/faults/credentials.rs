//! Faults of the passwordless service credentials (issue #20), as customers meet them: the
//! client certificate file replaced by an expired one, or its key gone mid-rotation, when
//! the configuration is reloaded (against the real slapd, which maps the certificate);
//! and, with Kerberos, the KDC unreachable while the ticket must be renewed (`keytab.rs`).

use std::path::Path;
use std::time::Duration;

use serde_json::{json, Value};

use crate::harness::servers::{self, ServerEnv};
use crate::harness::{eventually, logged_ui_url, Connector, Sim};
use crate::suite::{Scenario, Tally};

const LIMIT: Duration = Duration::from_secs(60);

pub fn scenarios() -> Vec<Scenario> {
    vec![Scenario::new(
        "credentials: the client certificate replaced by an expired one, then its key gone, at reload: refused naming the key, the running certificate kept, every login answered",
        certificate_rotation_gone_wrong,
    )]
}

/// `[directories.corp]` bound by the certificate in `cert`/`key` (SASL EXTERNAL).
fn cert_directory(env: &ServerEnv, cert: &Path, key: &Path) -> String {
    format!(
        "[directories.corp]\nkind = \"ldap\"\nurls = [\"{}\"]\nbind_dn = \"{}\"\nbase_dn = \"{}\"\nca_file = \"{}\"\n\
         client_cert_file = \"{}\"\nclient_key_file = \"{}\"\n",
        env.get("SLAPD_LDAPS_URL"),
        env.get("SLAPD_CERT_SERVICE_DN"),
        env.get("SLAPD_BASE_DN"),
        env.get("SLAPD_CA"),
        cert.display(),
        key.display(),
    )
}

/// An expired certificate (2020-2021) and its own key, as PEM.
fn expired_pair() -> (String, String) {
    let key = rcgen::KeyPair::generate().expect("key");
    let mut params = rcgen::CertificateParams::new(vec!["connector-cert".to_owned()]).expect("params");
    params.not_before = rcgen::date_time_ymd(2020, 1, 1);
    params.not_after = rcgen::date_time_ymd(2021, 1, 1);
    let cert = params.self_signed(&key).expect("self-signed");
    (cert.pem(), key.serialize_pem())
}

async fn last_reload(ui: &str) -> Value {
    let status: Value = reqwest::get(format!("{ui}/api/status")).await.expect("status").json().await.expect("JSON");
    status["config"]["last_reload"].clone()
}

/// SIGHUP, then the reload's outcome once it differs from `before`.
async fn reload(c: &Connector, ui: &str, before: &Value) -> Value {
    assert_eq!(unsafe { libc::kill(c.pid().expect("running") as i32, libc::SIGHUP) }, 0);
    eventually(LIMIT, "the reload's outcome", || async {
        let now = last_reload(ui).await;
        (now != *before).then_some(now)
    })
    .await
}

/// A login of the slapd's `fixture-ok`, which must succeed; its job id.
async fn login(sim: &Sim, env: &ServerEnv, what: &str) -> String {
    let ids = sim
        .submit(json!([{"type": "ldap.authenticate", "payload": {"directory": "corp",
            "username": env.get("SLAPD_USER_OK"), "password": env.get("SLAPD_USER_OK_PW")}}]))
        .await;
    let view = sim.wait_done(&ids, LIMIT).await.remove(0);
    assert_eq!(view["result"]["result"]["authenticated"], true, "{what}: {}", view["result"]);
    ids[0].clone()
}

async fn certificate_rotation_gone_wrong() -> Tally {
    let env = servers::slapd();
    let sim = Sim::start(false).await;
    let files = sim.dir.path().join("tls");
    std::fs::create_dir_all(&files).expect("tls dir");
    let (cert, key) = (files.join("client.crt"), files.join("client.key"));
    let (good_cert, good_key) = (
        std::fs::read(env.get("SLAPD_CLIENT_CERT")).expect("client cert"),
        std::fs::read(env.get("SLAPD_CLIENT_KEY")).expect("client key"),
    );
    let put = |c: &[u8], k: Option<&[u8]>| {
        std::fs::write(&cert, c).expect("write cert");
        match k {
            Some(k) => std::fs::write(&key, k).expect("write key"),
            None => std::fs::remove_file(&key).expect("remove key"),
        }
        std::fs::set_permissions(&files, std::os::unix::fs::PermissionsExt::from_mode(0o700)).expect("chmod");
    };
    put(&good_cert, Some(&good_key));
    std::fs::set_permissions(&key, std::os::unix::fs::PermissionsExt::from_mode(0o600)).expect("chmod key");
    let c = Connector::for_sim(&sim, "c1", &cert_directory(&env, &cert, &key));
    sim.wait_online(LIMIT).await;
    let ui = logged_ui_url(|| c.log_text()).await.trim_end_matches('/').to_owned();
    let mut sent = Vec::new();
    sent.push(login(&sim, &env, "before any change").await);

    // The certificate file replaced by an expired one (an old backup restored).
    let (old_cert, old_key) = expired_pair();
    put(old_cert.as_bytes(), Some(old_key.as_bytes()));
    let before = last_reload(&ui).await;
    let expired = reload(&c, &ui, &before).await;
    assert_eq!(expired["outcome"], "refused", "{expired}");
    let said = expired["problems"].to_string();
    assert!(said.contains("client_cert_file") && said.contains("expired at 2021-01-01"), "{expired}");
    sent.push(login(&sim, &env, "after the expired certificate was refused").await);

    // Mid-rotation: the new certificate written, its key not yet.
    put(&good_cert, None);
    let gone = reload(&c, &ui, &expired).await;
    assert_eq!(gone["outcome"], "refused", "{gone}");
    let said = gone["problems"].to_string();
    assert!(said.contains("client_key_file") && said.contains("cannot read"), "{gone}");
    sent.push(login(&sim, &env, "after the missing key was refused").await);

    // Both in place: applied, and logins go on.
    put(&good_cert, Some(&good_key));
    std::fs::set_permissions(&key, std::os::unix::fs::PermissionsExt::from_mode(0o600)).expect("chmod key");
    let fixed = reload(&c, &ui, &gone).await;
    assert_eq!(fixed["outcome"], "applied", "{fixed}");
    sent.push(login(&sim, &env, "after the good files were back").await);
    let text = c.log_text();
    let body = String::from_utf8_lossy(&good_key);
    assert!(body.lines().filter(|l| l.len() > 20).all(|l| !text.contains(l)), "the key reached the log");
    // Each login asserted its answer: every one sent has its one result.
    Tally::from_results(&sent, &sent)
}
