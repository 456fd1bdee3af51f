//! Directories found through DNS (issue #20) against the real Samba DC's own DNS
//! (`samba.sh start --dns-kdc`): a config with only `domain`, the `check` lines of
//! discovery, a site preferred over the domain-wide list (and the fallback when the site
//! has no DC), and TLS checked against the SRV target's name. Failover and fail-back are
//! in the fault suite (`tests/faults/dns.rs`).

use std::process::Command;
use std::time::Duration;

use crate::harness::dns::{at_389, dc_ldap, on_server, Records, Relay, DC2_IP, DC3_IP, DC_NAMES, ROGUE_IP};
use crate::harness::servers::{self, ServerEnv};
use crate::harness::{binary, logged_ui_url, Connector, Sim};
use crate::ldap::login;

const LIMIT: Duration = Duration::from_secs(60);

/// `[directories.ad]` on the DC's DNS for `domain`, bound as `svc-readonly`; `extra`
/// lines are added (e.g. `site = …`).
fn config(env: &ServerEnv, domain: &str, extra: &str) -> String {
    format!(
        "[directories.ad]\nkind = \"active_directory\"\ndomain = \"{domain}\"\ndns_servers = [\"{}\"]\n{extra}\
         bind_dn = \"{}\"\nbind_password = \"{}\"\nbase_dn = \"{}\"\nca_file = \"{}\"\n",
        servers::samba_dns_server(env),
        env.get("AD_READONLY_DN"),
        env.get("AD_READONLY_PW"),
        env.get("AD_BASE_DN"),
        env.get("AD_CA"),
    )
}

/// `integration-connector check` on a config of `directory` (its portal unreachable:
/// only the directory lines matter here); its stdout. Run off the test's runtime, whose
/// relays must keep pumping meanwhile.
pub(crate) async fn check(directory: &str) -> String {
    let directory = directory.to_owned();
    tokio::task::spawn_blocking(move || check_now(&directory)).await.expect("check")
}

fn check_now(directory: &str) -> String {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("connector.toml");
    let text = format!(
        "{directory}\n[server]\nprotocol = \"http\"\nhost = \"127.0.0.1\"\nport = 9\ntoken = \"t\"\n[storage]\npath = \"{}\"\n",
        dir.path().join("data").display()
    );
    std::fs::write(&path, text).expect("write config");
    std::fs::set_permissions(&path, std::os::unix::fs::PermissionsExt::from_mode(0o600)).expect("chmod");
    let out =
        Command::new(binary("integration-connector")).args(["check", "--config"]).arg(&path).output().expect("check");
    String::from_utf8_lossy(&out.stdout).into_owned()
}

pub(crate) fn line<'a>(out: &'a str, start: &str, contains: &str) -> &'a str {
    out.lines()
        .find(|l| l.starts_with(start) && l.contains(contains))
        .unwrap_or_else(|| panic!("no line starting {start:?} with {contains:?} in:\n{out}"))
}

#[tokio::test]
async fn a_config_with_only_domain_finds_the_dc_in_its_dns_and_logs_in() {
    let env = servers::samba();
    let domain = env.get("AD_UPN_SUFFIX");
    let text = config(&env, domain, "");
    assert!(!text.contains("urls"), "{text}");
    let sim = Sim::start(true).await;
    let _c = Connector::for_sim(&sim, "c1", &text);
    sim.wait_online(LIMIT).await;
    let r = login(&sim, "ad", env.get("AD_USER_OK"), env.get("AD_FIXTURE_PW")).await;
    assert_eq!(r["authenticated"], true, "{r}");
    let wrong = login(&sim, "ad", env.get("AD_USER_OK"), "not-the-password").await;
    assert_eq!(wrong["reason"], "invalid_credentials", "{wrong}");

    let out = check(&text).await;
    let srv = format!("_ldap._tcp.dc._msdcs.{domain} -> dc1.example.test:389 (priority 0, weight 100)");
    line(&out, "OK   directory.ad.discovery:", &srv);
    line(&out, "OK   directory.ad.discovery:", "chose ldap://dc1.example.test:389");
    line(&out, "OK   directory.ad.tls:", "StartTLS: certificate chain trusted and valid for the host");
    line(&out, "OK   directory.ad.bind:", env.get("AD_READONLY_DN"));
}

#[tokio::test]
async fn a_site_is_preferred_and_a_site_without_a_dc_falls_back_to_the_domain_list() {
    let env = servers::samba();
    let _names = DC_NAMES.lock().await;
    let mut records = Records::new(&env);
    records.add("dc2", "A", DC2_IP);
    records.add("dc3", "A", DC3_IP);
    let (label, site) = (format!("st{}", std::process::id()), format!("s{}", std::process::id()));
    records.add(&format!("_ldap._tcp.dc._msdcs.{label}"), "SRV", "dc2.example.test 389 0 100");
    records.add(&format!("_ldap._tcp.{site}._sites.dc._msdcs.{label}"), "SRV", "dc3.example.test 389 50 100");
    let _dc2 = Relay::start(at_389(DC2_IP), dc_ldap(&env)).await;
    let _dc3 = Relay::start(at_389(DC3_IP), dc_ldap(&env)).await;
    let domain = format!("{label}.example.test");

    // the site's DC first, whatever its priority, then the domain-wide list
    let out = check(&config(&env, &domain, &format!("site = \"{site}\"\n"))).await;
    line(&out, "OK   directory.ad.discovery:", "order tried: ldap://dc3.example.test:389 ldap://dc2.example.test:389");
    line(&out, "OK   directory.ad.discovery:", "chose ldap://dc3.example.test:389");
    line(&out, "OK   directory.ad.bind:", env.get("AD_READONLY_DN"));

    // a site without SRV records: its query is reported, the domain-wide list is used
    let out = check(&config(&env, &domain, "site = \"Nowhere\"\n")).await;
    let said = line(&out, "OK   directory.ad.discovery:", "order tried:");
    assert!(said.contains(&format!("_ldap._tcp.Nowhere._sites.dc._msdcs.{domain} -> ")), "{said}");
    assert!(said.contains("order tried: ldap://dc2.example.test:389"), "{said}");
    line(&out, "OK   directory.ad.discovery:", "chose ldap://dc2.example.test:389");
}

/// `urls` beside `domain` are the fallback: a domain whose DNS names no DC (no SRV
/// record) still logs in through them, and `check` says what DNS answered.
#[tokio::test]
async fn urls_beside_domain_carry_the_logins_when_dns_names_no_dc() {
    let env = servers::samba();
    let domain = format!("nx{}.example.test", std::process::id());
    let text = config(&env, &domain, &format!("urls = [\"{}\"]\n", env.get("AD_LDAPS_URL")));
    let sim = Sim::start(true).await;
    let _c = Connector::for_sim(&sim, "c1", &text);
    sim.wait_online(LIMIT).await;
    let r = login(&sim, "ad", env.get("AD_USER_OK"), env.get("AD_FIXTURE_PW")).await;
    assert_eq!(r["authenticated"], true, "{r}");
    let out = check(&text).await;
    line(&out, "FAIL directory.ad.discovery:", &format!("_ldap._tcp.dc._msdcs.{domain}"));
    line(&out, "OK   directory.ad.bind:", env.get("AD_READONLY_DN"));
}

/// Re-resolved on TTL: a better DC added to DNS while all is well is found once the kept
/// answer expires (`dns_max_ttl`, far below the record's 900 s), and the pool moves to it.
#[tokio::test]
async fn a_better_dc_added_to_dns_is_used_once_the_kept_answer_expires() {
    let env = servers::samba();
    let _names = DC_NAMES.lock().await;
    let mut records = Records::new(&env);
    records.add("dc2", "A", DC2_IP);
    records.add("dc3", "A", DC3_IP);
    let label = format!("tt{}", std::process::id());
    let srv = format!("_ldap._tcp.dc._msdcs.{label}");
    records.add(&srv, "SRV", "dc3.example.test 389 10 100");
    let _dc2 = Relay::start(at_389(DC2_IP), dc_ldap(&env)).await;
    let _dc3 = Relay::start(at_389(DC3_IP), dc_ldap(&env)).await;
    let text = config(&env, &format!("{label}.example.test"), "dns_max_ttl = \"2s\"\nfailback_after = \"1s\"\n");
    let sim = Sim::start(true).await;
    let c = Connector::for_sim(&sim, "c1", &text);
    sim.wait_online(LIMIT).await;
    let ui = logged_ui_url(|| c.log_text()).await.trim_end_matches('/').to_owned();
    let (user, pw) = (env.get("AD_USER_OK"), env.get("AD_FIXTURE_PW"));
    assert_eq!(login(&sim, "ad", user, pw).await["authenticated"], true);
    on_server(&ui, "dc3.example.test").await;

    records.add(&srv, "SRV", "dc2.example.test 389 0 100");
    on_server(&ui, "dc2.example.test").await;
    assert_eq!(login(&sim, "ad", user, pw).await["authenticated"], true);
}

#[tokio::test]
async fn tls_is_checked_against_the_srv_targets_name() {
    let env = servers::samba();
    // a name the DC's certificate does not hold, answering with the DC's certificate
    let mut records = Records::new(&env);
    records.add("rogue", "A", ROGUE_IP);
    let label = format!("tn{}", std::process::id());
    records.add(&format!("_ldap._tcp.dc._msdcs.{label}"), "SRV", "rogue.example.test 389 0 100");
    let _rogue = Relay::start(at_389(ROGUE_IP), dc_ldap(&env)).await;
    let text = config(&env, &format!("{label}.example.test"), "");
    let out = check(&text).await;
    line(&out, "OK   directory.ad.tcp:", &format!("ldap://rogue.example.test:389: {ROGUE_IP}:389 accepts connections"));
    let tls = line(&out, "FAIL directory.ad.tls:", "rogue.example.test");
    assert!(tls.contains("use a host name"), "{tls}");

    // a login on it fails as the directory unavailable, never binding over it
    let sim = Sim::start(true).await;
    let _c = Connector::for_sim(&sim, "c1", &text);
    sim.wait_online(LIMIT).await;
    let ids = sim
        .submit(serde_json::json!([{"type": "ldap.authenticate", "payload": {"directory": "ad",
            "username": env.get("AD_USER_OK"), "password": env.get("AD_FIXTURE_PW")}}]))
        .await;
    let view = sim.wait_done(&ids, Duration::from_secs(120)).await.remove(0);
    assert_ne!(view["result"]["status"], "succeeded", "{view}");
    assert!(view["result"].to_string().contains("directory_unavailable"), "{view}");
}
