//! Faults of keytab-bound service accounts (issue #20) against the Samba DC's own KDC
//! (`samba.sh --dns-kdc`), with tickets of 4 minutes (Samba's KDC refuses service tickets
//! on a TGT with less than about 2.5 minutes left, so not shorter). Slow: about 5 minutes
//! each, run side by side.
//! - The KDC unreachable while the ticket must be renewed: reached through a TCP relay that
//!   the scenario closes and opens (the realm's `kdc` pointed at it, Kerberos over TCP only).
//! - The keytab behind the account: an administrator resets the password (the key version
//!   rises) and exports a new keytab, deployed only later.

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use serde_json::{json, Value};

use crate::harness::dns::Relay;
use crate::harness::servers::{self, ServerEnv};
use crate::harness::{Connector, Sim};
use crate::suite::{Scenario, Tally};

const LIMIT: Duration = Duration::from_secs(120);
/// Where the relay to the KDC listens: apart from 127.0.0.x (developers' DCs) and the
/// discovery tests' 127.0.20.2-6.
const KDC_RELAY: &str = "127.0.20.8:88";
const TICKET: Duration = Duration::from_secs(240);

pub fn scenarios() -> Vec<Scenario> {
    vec![
        Scenario::new(
            "credentials: the keytab behind the account after a password reset: logins go on until the ticket ends, then fail saying the keytab is behind (the old key never offered: no lockout), and work once the new keytab is in place, no restart",
            keytab_behind_the_account,
        ),
        Scenario::new(
        "credentials: the KDC unreachable when the keytab's ticket must be renewed: logins and imports go on with the old ticket until it ends, then fail directory_unavailable naming the KDC, and work again once it is back",
        kdc_gone_at_renewal,
        ),
    ]
}

/// The DC's krb5.conf with 4-minute tickets, TCP only, and the realm's KDC at `relay`
/// when given.
fn krb5_conf(env: &ServerEnv, dir: &std::path::Path, relay: Option<&str>) -> String {
    let conf = env.get("AD_KRB5_CONF");
    assert!(!conf.is_empty(), "{} has no KDC: start it with samba.sh start DIR --dns-kdc", env.file.display());
    let text = std::fs::read_to_string(conf).expect("krb5.conf");
    let kdc = format!("kdc = {}:88", env.get("AD_IP"));
    assert!(text.contains(&kdc), "{conf} has no `{kdc}`:\n{text}");
    let short = text.replace(&kdc, &relay.map_or(kdc.clone(), |r| format!("kdc = {r}"))).replace(
        "[libdefaults]",
        "[libdefaults]\n\tticket_lifetime = 4m\n\trenew_lifetime = 0\n\tudp_preference_limit = 1",
    );
    let path = dir.join("krb5-short.conf");
    std::fs::write(&path, short).expect("write krb5.conf");
    path.display().to_string()
}

fn login_job(env: &ServerEnv) -> Value {
    json!([{"type": "ldap.authenticate",
        "payload": {"directory": "ad", "username": env.get("AD_USER_OK"), "password": env.get("AD_FIXTURE_PW")}}])
}

/// An import of the `fx-*` fixtures (it opens a connection of its own: a new service bind).
fn import_job() -> Value {
    json!([{"type": "ldap.import", "payload": {"directory": "ad", "mode": "full", "filter": "(sAMAccountName=fx-*)"}}])
}

/// A login and an import, both answered successfully; their ids.
async fn both_work(sim: &Sim, env: &ServerEnv, when: &str) -> Vec<String> {
    let mut ids = sim.submit(login_job(env)).await;
    ids.extend(sim.submit(import_job()).await);
    for view in sim.wait_done(&ids, LIMIT).await {
        assert_eq!(view["result"]["status"], "succeeded", "{when}: {}", view["result"]);
    }
    ids
}

async fn sleep_until(t: Instant) {
    tokio::time::sleep(t.saturating_duration_since(Instant::now())).await;
}

async fn kdc_gone_at_renewal() -> Tally {
    let env = servers::samba();
    let kdc: SocketAddr = format!("{}:88", env.get("AD_IP")).parse().expect("AD_IP");
    let relay = Relay::start(KDC_RELAY.parse().expect("relay address"), kdc).await;
    let sim = Sim::start(true).await;
    let conf = krb5_conf(&env, sim.dir.path(), Some(KDC_RELAY));
    let started = Instant::now();
    let table = servers::samba_keytab_directory("ad", &env, env.get("AD_SERVICE_KEYTAB"), env.get("AD_CA"));
    let c = Connector::for_sim_with_env(&sim, "kdc", &table, &[("KRB5_CONFIG", conf.as_str())]);
    sim.wait_online(LIMIT).await;
    let online = Instant::now();
    let mut sent = both_work(&sim, &env, "with the KDC reachable").await;

    relay.stop();
    sent.extend(both_work(&sim, &env, "the KDC just gone, the ticket young").await);
    // Past half the ticket's life: the GSS library tries the KDC for a new one and fails.
    sleep_until(started + TICKET * 5 / 8).await;
    sent.extend(both_work(&sim, &env, "the KDC gone, the ticket past half its life").await);

    // The ticket has ended, and the DC closes the connections bound with it (Samba ends
    // an LDAP session at its ticket's end): every service bind needs a new ticket. A
    // login fails `directory_unavailable` (retried, then given up), naming the KDC.
    sleep_until(online + TICKET + Duration::from_secs(10)).await;
    let login = sim.submit(login_job(&env)).await;
    let view = sim.wait_done(&login, LIMIT).await.remove(0);
    assert_eq!(view["result"]["error"]["code"], "directory_unavailable", "{}", view["result"]);
    let msg = view["result"]["error"]["message"].as_str().unwrap_or_default();
    assert!(msg.contains("the ticket has ended") && msg.contains("KDC") && msg.contains("EXAMPLE.TEST"), "{msg}");
    assert!(!c.log_text().contains(env.get("AD_SERVICE_PW")));
    sent.extend(login);

    // The KDC is back: logins and imports work again, without a restart.
    relay.open().await;
    sent.extend(both_work(&sim, &env, "the KDC back").await);
    crate::suite::tally(&sim, &sent).await
}

/// A login that must succeed; its job id.
async fn login(sim: &Sim, env: &ServerEnv, when: &str) -> Vec<String> {
    let ids = sim.submit(login_job(env)).await;
    let view = sim.wait_done(&ids, LIMIT).await.remove(0);
    assert_eq!(view["result"]["result"]["authenticated"], true, "{when}: {}", view["result"]);
    ids
}

async fn keytab_behind_the_account() -> Tally {
    let env = servers::samba();
    let sim = Sim::start(true).await;
    let (held, fresh) = (sim.dir.path().join("held.keytab"), sim.dir.path().join("fresh.keytab"));
    let account = servers::SambaAccount::new(&env, "svc-kv", "Kv-Passw0rd-1", &held);
    let conf = krb5_conf(&env, sim.dir.path(), None);
    let (principal, dn) = account.principal_and_dn();
    let table =
        servers::samba_keytab_directory_of("ad", &env, held.to_str().expect("path"), env.get("AD_CA"), &principal, &dn);
    let c = Connector::for_sim_with_env(&sim, "kvno", &table, &[("KRB5_CONFIG", conf.as_str())]);
    sim.wait_online(LIMIT).await;
    let online = Instant::now();
    let mut sent = login(&sim, &env, "with the keytab current").await;

    // An administrator resets the password: the account's keys move to a new version; the
    // new keytab is exported, not yet deployed.
    account.set("Kv-Passw0rd-2", &fresh);
    sent.extend(login(&sim, &env, "the keytab behind, the ticket still good").await);

    // Within a minute the directory reads the account's new key version and keeps the file
    // as behind in the storage path: `check`, a process of its own that cannot know the
    // version before it binds, does not offer it either (before, it did: 2 more counts).
    let kept = c.dir.join("data").join(integration_connector::keytab_refusals::FILE_NAME);
    crate::harness::eventually(Duration::from_secs(90), "the keytab kept as behind", || async {
        std::fs::read_to_string(&kept).ok().filter(|t| t.contains("the account is at")).map(|_| ())
    })
    .await;
    let out = c.cli(&["check"]);
    let out = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    let bind = out.lines().find(|l| l.contains("directory.ad.bind:")).unwrap_or_default();
    assert!(
        bind.contains("none is asked for") && bind.contains("its password changed"),
        "check offered the keytab:\n{out}"
    );

    // The ticket ends. The directory has read the account's new key version meanwhile
    // (every minute for a keytab bind): the old key is not offered to the KDC, which
    // would count each refusal toward the account's lockout (before, the retried binds
    // locked it: "client's credentials have been revoked", which no key undoes until
    // the lockout duration has passed), and the login says why.
    sleep_until(online + TICKET + Duration::from_secs(10)).await;
    let ids = sim.submit(login_job(&env)).await;
    let view = sim.wait_done(&ids, LIMIT).await.remove(0);
    assert_eq!(view["result"]["error"]["code"], "directory_unavailable", "{}", view["result"]);
    let msg = view["result"]["error"]["message"].as_str().unwrap_or_default();
    assert!(msg.contains("its password changed") && msg.contains("export the keytab again"), "{msg}");
    assert!(msg.contains(&principal), "{msg}");
    sent.extend(ids);

    // The new keytab deployed over the old file: read again at the next bind, no restart.
    std::fs::copy(&fresh, &held).expect("deploy the new keytab");
    sent.extend(login(&sim, &env, "the new keytab in place").await);
    assert!(!c.log_text().contains("Kv-Passw0rd"), "a password reached the log");
    crate::suite::tally(&sim, &sent).await
}
