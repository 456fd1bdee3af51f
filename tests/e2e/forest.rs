//! Global Catalog mode (issue #20) against the real Samba DC, which serves a GC on
//! port 3268 (StartTLS) holding its one domain: the user found at the GC, then read and
//! bound at the DC. Samba 4.17 cannot build a forest of two domains, so a user of
//! another domain (its DCs found through DNS) is not tested here.

use std::time::Duration;

use serde_json::json;

use crate::ad_ops::{code, ok, run};
use crate::discovery::{check, line};
use crate::harness::servers::{self, ServerEnv};
use crate::harness::{Connector, Sim};

const LIMIT: Duration = Duration::from_secs(60);

/// `[directories.ad]` on the shared DC whose `base_dn` is the service OU, which holds
/// no login user: only a forest-wide search finds them. `extra` lines are added.
fn config(env: &ServerEnv, extra: &str) -> String {
    format!(
        "[directories.ad]\nkind = \"active_directory\"\nurls = [\"{}\"]\n{extra}\n\
         bind_dn = \"{}\"\nbind_password = \"{}\"\nbase_dn = \"{}\"\nca_file = \"{}\"\n",
        env.get("AD_URL"),
        env.get("AD_READONLY_DN"),
        env.get("AD_READONLY_PW"),
        env.get("AD_SERVICE_OU_DN"),
        env.get("AD_CA"),
    )
}

/// The GC port of the DC behind `AD_URL` (`ldap://127.0.0.1:389` → `ldap://127.0.0.1:3268`).
fn gc_url(env: &ServerEnv) -> String {
    let mut u = url::Url::parse(env.get("AD_URL")).expect("AD_URL");
    u.set_port(Some(3268)).expect("port");
    u.to_string().trim_end_matches('/').to_owned()
}

async fn login(sim: &Sim, user: &str, password: &str, groups: Option<&str>) -> serde_json::Value {
    let mut payload = json!({"directory": "ad", "username": user, "password": password});
    if let Some(g) = groups {
        payload["groups"] = json!(g);
    }
    run(sim, "ldap.authenticate", payload).await
}

#[tokio::test]
async fn a_gc_login_finds_the_user_outside_base_dn_and_binds_at_the_dc() {
    let env = servers::samba();
    let (user, pw) = (env.get("AD_TEAM_USER"), env.get("AD_FIXTURE_PW"));
    // Without GC mode the user, outside base_dn, is not found: the control.
    let sim = Sim::start(true).await;
    let c = Connector::for_sim(&sim, "c1", &config(&env, ""));
    sim.wait_online(LIMIT).await;
    let r = login(&sim, user, pw, None).await;
    assert_eq!(ok(&r)["reason"], "user_not_found", "{r}");
    drop(c);
    drop(sim);

    let gc = format!("global_catalog = true\ngc_urls = [\"{}\"]", gc_url(&env));
    let sim = Sim::start(true).await;
    let _c = Connector::for_sim(&sim, "c1", &config(&env, &gc));
    sim.wait_online(LIMIT).await;
    let r = login(&sim, user, pw, Some("nested")).await;
    let res = ok(&r);
    assert_eq!(res["authenticated"], true, "{r}");
    let dn = res["user"]["dn"].as_str().unwrap_or_default().replace("\\#", "#");
    assert_eq!(dn, env.get("AD_TEAM_USER_DN"), "{r}");
    // Read at the DC (the GC search asks for no attribute): its groups come from there.
    assert!(res["user"]["groups"].as_array().is_some_and(|g| !g.is_empty()), "{r}");
    // The bind is the DC's: a wrong password is refused as such.
    let wrong = login(&sim, user, "not-the-password", None).await;
    assert_eq!(ok(&wrong)["reason"], "invalid_credentials", "{wrong}");
    let nobody = login(&sim, "no-such-user-anywhere", pw, None).await;
    assert_eq!(ok(&nobody)["reason"], "user_not_found", "{nobody}");

    let out = check(&config(&env, &gc)).await;
    let said =
        format!("{}: bound as {}, a forest-wide search sees 1 domain(s)", gc_url(&env), env.get("AD_READONLY_DN"));
    line(&out, "OK   directory.ad.global_catalog:", &said);
}

#[tokio::test]
async fn a_gc_that_does_not_answer_fails_the_login_as_directory_unavailable() {
    let env = servers::samba();
    let gc = "global_catalog = true\ngc_urls = [\"ldap://127.0.0.1:9\"]";
    let sim = Sim::start(true).await;
    let _c = Connector::for_sim(&sim, "c1", &config(&env, gc));
    sim.wait_online(LIMIT).await;
    let r = login(&sim, env.get("AD_TEAM_USER"), env.get("AD_FIXTURE_PW"), None).await;
    assert_eq!(code(&r), "directory_unavailable", "{r}");
    assert!(r["error"]["message"].as_str().is_some_and(|m| m.contains("127.0.0.1:9")), "{r}");
    let out = check(&config(&env, gc)).await;
    line(&out, "FAIL directory.ad.global_catalog:", "ldap://127.0.0.1:9");
}

/// `[directories.ad]` found through the DC's own DNS (`domain`, `dns_servers`, no
/// `urls`), `base_dn` the service OU; `extra` lines are added.
fn dns_config(env: &ServerEnv, extra: &str) -> String {
    let urls = format!("urls = [\"{}\"]", env.get("AD_URL"));
    let dns =
        format!("domain = \"{}\"\ndns_servers = [\"{}\"]", env.get("AD_UPN_SUFFIX"), servers::samba_dns_server(env));
    config(env, extra).replace(&urls, &dns)
}

#[tokio::test]
async fn the_gc_is_found_through_the_forest_s_gc_srv_records() {
    let env = servers::samba();
    let (user, pw) = (env.get("AD_TEAM_USER"), env.get("AD_FIXTURE_PW"));
    // No gc_urls: the GC is the target of _gc._tcp.example.test (dc1.example.test:3268,
    // the DC's own DNS), StartTLS checked against that name.
    let gc = "global_catalog = true";
    let sim = Sim::start(true).await;
    let _c = Connector::for_sim(&sim, "c1", &dns_config(&env, gc));
    sim.wait_online(LIMIT).await;
    let r = login(&sim, user, pw, None).await;
    assert_eq!(ok(&r)["authenticated"], true, "{r}");
    let wrong = login(&sim, user, "not-the-password", None).await;
    assert_eq!(ok(&wrong)["reason"], "invalid_credentials", "{wrong}");

    let out = check(&dns_config(&env, gc)).await;
    let said = format!("ldap://{}:3268: bound as {}", env.get("AD_HOST"), env.get("AD_READONLY_DN"));
    line(&out, "OK   directory.ad.global_catalog:", &said);
}

#[tokio::test]
async fn a_gc_over_ldaps_on_port_3269_serves_logins() {
    let env = servers::samba();
    let (user, pw) = (env.get("AD_TEAM_USER"), env.get("AD_FIXTURE_PW"));
    let gc = format!("global_catalog = true\ngc_urls = [\"{}\"]", env.get("AD_GC_LDAPS_URL"));
    let sim = Sim::start(true).await;
    let _c = Connector::for_sim(&sim, "c1", &config(&env, &gc));
    sim.wait_online(LIMIT).await;
    let r = login(&sim, user, pw, None).await;
    assert_eq!(ok(&r)["authenticated"], true, "{r}");
    let out = check(&config(&env, &gc)).await;
    line(&out, "OK   directory.ad.global_catalog:", &format!("{}: bound as", env.get("AD_GC_LDAPS_URL")));
}
