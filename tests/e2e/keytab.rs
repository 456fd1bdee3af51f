//! Keytab service binds (SASL GSSAPI, issue #20) against the Samba DC of this test run,
//! whose KDC issues the tickets (`samba.sh --dns-kdc` exports svc-connector's keys to
//! `AD_SERVICE_KEYTAB` and registers the DC's `ldap/` SPNs): logins and an import with no
//! password anywhere, `check`'s lines, the private credential cache (the user's is never
//! touched), and a ticket renewed from the keytab when its short life ends (4 min: the
//! slowest test here).

use std::time::Duration;

use serde_json::json;

use crate::harness::servers::{self, ServerEnv};
use crate::harness::{binary, Connector, Sim};

const LIMIT: Duration = Duration::from_secs(60);

fn kerberos(env: &ServerEnv) -> (String, String) {
    servers::samba_kerberos(env)
}

fn keytab_directory(name: &str, env: &ServerEnv, keytab: &str) -> String {
    servers::samba_keytab_directory(name, env, keytab, env.get("AD_CA"))
}

async fn logins_and_an_import(sim: &Sim, env: &ServerEnv) {
    // The wrong password first: the good login after it sets the fixture user's
    // badPwdCount back to 0 (left at 1, tests beside this one would bring it to the DC's
    // threshold, and the connector's shield then answers account_locked).
    let bad = crate::ldap::login(sim, "ad", env.get("AD_USER_OK"), "not-the-password").await;
    assert_eq!(bad["reason"], "invalid_credentials", "{bad}");
    let ok = crate::ldap::login(sim, "ad", env.get("AD_USER_OK"), env.get("AD_FIXTURE_PW")).await;
    assert_eq!(ok["authenticated"], true, "{ok}");
    let (view, records) = crate::ldap::import(sim, "ad", json!({"filter": "(sAMAccountName=fx-*)"})).await;
    assert_eq!(view["result"]["status"], "succeeded", "{}", view["result"]);
    assert!(records.len() >= 5, "the fx-* fixtures: {records:?}");
}

#[tokio::test]
async fn a_keytab_bound_service_account_runs_logins_and_an_import() {
    let env = servers::samba();
    let (conf, keytab) = kerberos(&env);
    let sim = Sim::start(true).await;
    let user_cache = sim.dir.path().join("users-own-ccache");
    let cache = format!("FILE:{}", user_cache.display());
    let vars = [("KRB5_CONFIG", conf.as_str()), ("KRB5CCNAME", cache.as_str())];
    let table = keytab_directory("ad", &env, &keytab);
    let c = Connector::for_sim_with_env(&sim, "keytab", &table, &vars);
    sim.wait_online(LIMIT).await;
    logins_and_an_import(&sim, &env).await;
    assert!(!user_cache.exists(), "the connector wrote the user's credential cache");
    assert!(!c.log_text().contains(env.get("AD_SERVICE_PW")));

    let out = check_of(&sim, "check", &table, &vars);
    let bind = out.lines().find(|l| l.contains("directory.ad.bind:")).unwrap_or_default();
    assert!(
        bind.starts_with("OK") && bind.contains("SASL GSSAPI") && bind.contains(env.get("AD_SERVICE_PRINCIPAL")),
        "{out}"
    );
    let creds = out.lines().find(|l| l.contains("directory.ad.credentials:")).unwrap_or_default();
    assert!(creds.contains("the Kerberos ticket ends in"), "{out}");
    let versions = out.lines().find(|l| l.contains("directory.ad.keytab:")).unwrap_or_default();
    assert!(versions.starts_with("OK") && versions.contains("the account's current one (1)"), "{out}");
    assert!(!user_cache.exists(), "check wrote the user's credential cache");
}

#[tokio::test]
async fn a_ticket_that_ends_is_renewed_from_the_keytab_without_kinit() {
    let env = servers::samba();
    let (conf, keytab) = kerberos(&env);
    let sim = Sim::start(true).await;
    // The DC's krb5.conf with tickets of four minutes (Samba's KDC refuses service tickets
    // on a TGT with less than about two and a half minutes left, so not shorter): the
    // logins and the import after 4 min 10 s bind new connections (an import opens one of
    // its own) with a ticket the connector must have got anew from the keytab.
    let short = sim.dir.path().join("krb5-short.conf");
    let text = std::fs::read_to_string(&conf).unwrap();
    let lifetime = "[libdefaults]\n\tticket_lifetime = 4m\n\trenew_lifetime = 0";
    std::fs::write(&short, text.replace("[libdefaults]", lifetime)).unwrap();
    let vars = [("KRB5_CONFIG", short.to_str().unwrap())];
    let c = Connector::for_sim_with_env(&sim, "renew", &keytab_directory("ad", &env, &keytab), &vars);
    sim.wait_online(LIMIT).await;
    logins_and_an_import(&sim, &env).await;
    tokio::time::sleep(Duration::from_secs(250)).await;
    logins_and_an_import(&sim, &env).await;
    assert!(!c.log_text().contains("Ticket expired"), "{}", c.log_text());
}

/// A keytab-bound directory given to a running connector by a reload (as an operator
/// adds it after installing the package): logins and an import run on it.
#[tokio::test]
async fn a_keytab_directory_added_by_reload_runs_logins_and_an_import() {
    let env = servers::samba();
    let (conf, keytab) = kerberos(&env);
    let sim = Sim::start(false).await;
    let vars = [("KRB5_CONFIG", conf.as_str())];
    let c = Connector::for_sim_with_env(&sim, "reload", "", &vars);
    sim.wait_online(LIMIT).await;
    let text = crate::harness::connector::config_for(&sim, &c.dir.join("data"), &keytab_directory("ad", &env, &keytab));
    std::fs::write(&c.config, text).unwrap();
    assert_eq!(unsafe { libc::kill(c.pid().expect("running") as i32, libc::SIGHUP) }, 0);
    crate::harness::eventually(LIMIT, "the reload", || async {
        c.log_text().contains("directory ad added").then_some(())
    })
    .await;
    logins_and_an_import(&sim, &env).await;
}

/// `badPwdCount` of `dn` as the DC counts it (a refused pre-authentication adds to it).
fn bad_password_count(env: &ServerEnv, dn: &str) -> u32 {
    let v = crate::ad_ops::value(env, dn, "badPwdCount").unwrap_or_else(|| "0".into());
    v.trim().parse().unwrap_or_else(|_| panic!("badPwdCount of {dn}: {v}"))
}

/// `check`'s output (both streams) for a config of `sim` with `table`, in a folder `name`
/// of its own, run with `vars` set.
fn check_of(sim: &Sim, name: &str, table: &str, vars: &[(&str, &str)]) -> String {
    let dir = sim.dir.path().join(name);
    std::fs::create_dir_all(&dir).unwrap();
    let config = dir.join("connector.toml");
    std::fs::write(&config, crate::harness::connector::config_for(sim, &dir.join("data"), table)).unwrap();
    let out = std::process::Command::new(binary("integration-connector"))
        .args(["check", "--config"])
        .arg(&config)
        .envs(vars.iter().copied())
        .output()
        .unwrap();
    format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr))
}

/// `check`'s output (both streams) for connector `c`'s config.
fn check_output(c: &Connector) -> String {
    let out = c.cli(&["check"]);
    format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr))
}

fn line<'a>(out: &'a str, name: &str) -> &'a str {
    out.lines().find(|l| l.contains(&format!("{name}:"))).unwrap_or_default()
}

/// A keytab behind its account (the password changed after the export) is refused by the
/// KDC, and each refusal counts toward the account's lockout (threshold 3 on the test DC).
/// The refusal is kept in the storage path: neither `check` runs nor a restart offer the
/// same file again (before, each `check` added to `badPwdCount` and the second locked the
/// account), the keytab line says why even though the bind failed, and the keytab
/// exported anew is taken at once. Then: a `bind_dn` naming another account than the
/// principal is told by `check` instead of comparing that account's key version.
#[tokio::test]
async fn a_keytab_the_kdc_refused_is_not_offered_again_by_check_or_after_a_restart() {
    let env = servers::samba();
    let (conf, _) = kerberos(&env);
    let sim = Sim::start(true).await;
    let (held, fresh) = (sim.dir.path().join("held.keytab"), sim.dir.path().join("fresh.keytab"));
    let account = servers::SambaAccount::new(&env, "svc-rf", "Rf-Passw0rd-1", &held);
    account.set("Rf-Passw0rd-2", &fresh);
    let (principal, dn) = account.principal_and_dn();
    let held_s = held.to_str().unwrap();
    let table = servers::samba_keytab_directory_of("ad", &env, held_s, env.get("AD_CA"), &principal, &dn);
    let mut c = Connector::for_sim_with_env(&sim, "refused", &table, &[("KRB5_CONFIG", conf.as_str())]);
    let refusals = c.dir.join("data").join(integration_connector::keytab_refusals::FILE_NAME);
    crate::harness::eventually(LIMIT, "the KDC's refusal kept", || async { refusals.exists().then_some(()) }).await;
    // One offer, one count: the credential is asked for Kerberos alone (before, MIT asked
    // again through SPNEGO and each offer counted twice).
    let counted = bad_password_count(&env, &dn);
    assert_eq!(counted, 1, "the stale key was offered more than once, or not counted");

    for run in ["first", "second"] {
        let out = check_output(&c);
        let keytab = line(&out, "directory.ad.keytab");
        assert!(keytab.starts_with("FAIL") && keytab.contains("the KDC refused the key"), "{run} check:\n{out}");
        assert_eq!(bad_password_count(&env, &dn), counted, "the {run} check offered the refused keytab:\n{out}");
    }
    c.kill9();
    c.restart();
    sim.wait_online(LIMIT).await;
    // Logins of the scenario's own account: the shared fixture users meet wrong passwords
    // from tests running beside this one, and the connector's shield then refuses them.
    let user = account.user.clone();
    let payload = json!({"directory": "ad", "username": user, "password": "Rf-Passw0rd-2"});
    let ids = sim.submit(json!([{"type": "ldap.authenticate", "payload": payload}])).await;
    let view = sim.wait_done(&ids, LIMIT).await.remove(0);
    let msg = view["result"]["error"]["message"].as_str().unwrap_or_default().to_owned();
    assert!(msg.contains("the KDC refused the key"), "{}", view["result"]);
    assert_eq!(bad_password_count(&env, &dn), counted, "the restarted connector offered the refused keytab");

    std::fs::copy(&fresh, &held).unwrap();
    let ok = crate::ldap::login(&sim, "ad", &user, "Rf-Passw0rd-2").await;
    assert_eq!(ok["authenticated"], true, "the keytab exported anew is read at the next bind: {ok}");
    let out = check_output(&c);
    assert!(line(&out, "directory.ad.keytab").starts_with("OK"), "{out}");

    let other = table.replace(&format!("bind_dn = \"{dn}\""), &format!("bind_dn = \"{}\"", env.get("AD_SERVICE_DN")));
    std::fs::write(&c.config, crate::harness::connector::config_for(&sim, &c.dir.join("data"), &other)).unwrap();
    let out = check_output(&c);
    let keytab = line(&out, "directory.ad.keytab");
    assert!(keytab.starts_with("FAIL") && keytab.contains("not the account of bind_principal"), "{out}");
}

/// A `bind_principal` the keytab holds no key of: the config warns at load naming the
/// principals it holds, and `check`'s keytab line says so beside the failed bind (MIT's
/// own answer is only "No credentials cache found").
#[tokio::test]
async fn a_principal_the_keytab_lacks_is_told_with_the_principals_it_holds() {
    let env = servers::samba();
    let (conf, keytab) = kerberos(&env);
    let sim = Sim::start(true).await;
    let nobody = format!("nobody-{}@{}", std::process::id(), env.get("AD_REALM"));
    let table =
        servers::samba_keytab_directory_of("ad", &env, &keytab, env.get("AD_CA"), &nobody, env.get("AD_SERVICE_DN"));
    let out = check_of(&sim, "lacks", &table, &[("KRB5_CONFIG", conf.as_str())]);
    let held = format!("holds keys of {}", env.get("AD_SERVICE_PRINCIPAL"));
    let warned = out.lines().any(|l| l.starts_with("WARN config") && l.contains(&held) && l.contains(&nobody));
    assert!(warned, "{out}");
    assert!(line(&out, "directory.ad.bind").starts_with("FAIL"), "{out}");
    let keytab = line(&out, "directory.ad.keytab");
    assert!(keytab.starts_with("FAIL") && keytab.contains(&held) && keytab.contains(&nobody), "{out}");
}
