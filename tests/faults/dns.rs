//! Faults of DNS-discovered directories (issue #20): the domain controller the pool is on
//! goes away, DNS names another, and the first one comes back. Against the real Samba
//! DC's own DNS (`samba.sh start --dns-kdc`): SRV records are added with `samba-tool dns
//! add` under a name of this run's own (`_ldap._tcp.dc._msdcs.fo<pid>.example.test`), for
//! targets `dc2`/`dc3.example.test` (names the DC's certificate holds) at 127.0.20.2 and
//! 127.0.20.3, where TCP relays to the DC can be stopped and started.

use std::time::Duration;

use serde_json::{json, Value};

use super::suite::{Scenario, Tally};
use crate::harness::dns::{at_389, dc_ldap, on_server, Records, Relay, DC2_IP, DC3_IP, DC_NAMES};
use crate::harness::servers;
use crate::harness::{logged_ui_url, Connector, Sim};

const LIMIT: Duration = Duration::from_secs(60);

pub fn scenarios() -> Vec<Scenario> {
    vec![Scenario::new(
        "dns: a DC that goes away is replaced through DNS without a restart, and the pool fails back when it returns",
        replaced_then_failback,
    )]
}

async fn login(sim: &Sim, user: &str, password: &str) -> (String, Value) {
    let ids = sim
        .submit(json!([{"type": "ldap.authenticate",
            "payload": {"directory": "ad", "username": user, "password": password}}]))
        .await;
    let view = sim.wait_done(&ids, LIMIT).await.remove(0);
    (ids[0].clone(), view["result"].clone())
}

async fn replaced_then_failback() -> Tally {
    let env = servers::samba();
    let dns_server = servers::samba_dns_server(&env).to_owned();
    let dc = dc_ldap(&env);
    let _names = DC_NAMES.lock().await;
    let mut records = Records::new(&env);
    records.add("dc2", "A", DC2_IP);
    records.add("dc3", "A", DC3_IP);
    let label = format!("fo{}", std::process::id());
    let srv = format!("_ldap._tcp.dc._msdcs.{label}");
    records.add(&srv, "SRV", "dc2.example.test 389 0 100");
    let dc2 = Relay::start(at_389(DC2_IP), dc).await;
    let _dc3 = Relay::start(at_389(DC3_IP), dc).await;

    let config = format!(
        "[directories.ad]\nkind = \"active_directory\"\ndomain = \"{label}.example.test\"\ndns_servers = [\"{dns_server}\"]\n\
         failback_after = \"1s\"\nbind_dn = \"{}\"\nbind_password = \"{}\"\nbase_dn = \"{}\"\nca_file = \"{}\"\n",
        env.get("AD_READONLY_DN"),
        env.get("AD_READONLY_PW"),
        env.get("AD_BASE_DN"),
        env.get("AD_CA"),
    );
    let sim = Sim::start(true).await;
    let c = Connector::for_sim(&sim, "c1", &config);
    sim.wait_online(LIMIT).await;
    let ui = logged_ui_url(|| c.log_text()).await.trim_end_matches('/').to_owned();
    let (user, pw) = (env.get("AD_USER_OK"), env.get("AD_FIXTURE_PW"));
    let (mut sent, mut results) = (Vec::new(), Vec::new());
    let mut run = |(id, r): (String, Value), what: &str| {
        assert_eq!(r["status"], "succeeded", "{what}: {r}");
        assert_eq!(r["result"]["authenticated"], true, "{what}: {r}");
        sent.push(id.clone());
        results.push(id);
    };

    run(login(&sim, user, pw).await, "login through dc2, the only SRV target");
    on_server(&ui, "dc2.example.test").await;

    // dc2 goes away; DNS now names dc3 (a DC replaced), with a worse priority
    dc2.stop();
    records.add(&srv, "SRV", "dc3.example.test 389 10 100");
    tokio::time::sleep(Duration::from_millis(500)).await;
    run(login(&sim, user, pw).await, "login once dc2 is gone and DNS names dc3");
    on_server(&ui, "dc3.example.test").await;

    // dc2 is back: once it has answered for failback_after the pool returns to it
    dc2.open().await;
    on_server(&ui, "dc2.example.test").await;
    run(login(&sim, user, pw).await, "login after the fail-back to dc2");
    assert!(c.log_text().contains("fail-back"), "the fail-back is logged");
    Tally::from_results(&sent, &results)
}
