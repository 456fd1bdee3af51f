//! Referral following (issue #20) on the real Samba DC with its own DNS
//! (`samba.sh start --dns-kdc`): a subtree search of the domain root returns continuation
//! references to the other naming contexts (`ldap://example.test/CN=Configuration,…`).
//! The login's user search, with `user_filter = "(cn={username})"`, looks for the site
//! object, which lies only in the Configuration partition: found (then its bind fails,
//! `invalid_credentials`) only when the referral is followed. A referral whose host
//! offers no TLS is refused.

use std::time::Duration;

use serde_json::json;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::ad_ops::{code, ok, run};
use crate::harness::dns::{at_389, Records, DC_NAMES};

/// Where the server without TLS listens: an address of its own, since the discovery
/// tests' rogue relay on `ROGUE_IP` may still hold its port while it is being dropped.
const NO_TLS_IP: &str = "127.0.20.6";
use crate::harness::servers::{self, ServerEnv};
use crate::harness::{Connector, Sim};

const LIMIT: Duration = Duration::from_secs(60);
const SITE: &str = "Default-First-Site-Name";

fn config(env: &ServerEnv, extra: &str) -> String {
    format!(
        "[directories.ad]\nkind = \"active_directory\"\ndomain = \"{}\"\ndns_servers = [\"{}\"]\n{extra}\n\
         user_filter = \"(cn={{username}})\"\nbind_dn = \"{}\"\nbind_password = \"{}\"\nbase_dn = \"{}\"\nca_file = \"{}\"\n",
        env.get("AD_UPN_SUFFIX"),
        servers::samba_dns_server(env),
        env.get("AD_READONLY_DN"),
        env.get("AD_READONLY_PW"),
        env.get("AD_BASE_DN"),
        env.get("AD_CA"),
    )
}

async fn login_site(extra: &str, env: &ServerEnv) -> serde_json::Value {
    let sim = Sim::start(true).await;
    let _c = Connector::for_sim(&sim, "c1", &config(env, extra));
    sim.wait_online(LIMIT).await;
    run(&sim, "ldap.authenticate", json!({"directory": "ad", "username": SITE, "password": "Some-Passw0rd"})).await
}

#[tokio::test]
async fn the_configuration_partition_is_searched_only_when_referrals_are_followed() {
    let env = servers::samba();
    let _names = DC_NAMES.lock().await;
    let off = login_site("", &env).await;
    assert_eq!(ok(&off)["reason"], "user_not_found", "{off}");
    let on = login_site("follow_referrals = true", &env).await;
    // Found in CN=Configuration through the referral; a site is no account: its bind fails.
    assert_eq!(ok(&on)["reason"], "invalid_credentials", "{on}");
}

/// A server on `NO_TLS_IP:389` that speaks LDAP but has no TLS: it answers StartTLS
/// (RFC 4511 §4.14.2) with `protocolError`, as a server without a certificate does.
async fn no_tls_server() -> tokio::task::JoinHandle<()> {
    let listener = tokio::net::TcpListener::bind(at_389(NO_TLS_IP)).await.expect("bind NO_TLS_IP:389");
    tokio::spawn(async move {
        while let Ok((mut s, _)) = listener.accept().await {
            tokio::spawn(async move {
                let mut buf = [0u8; 512];
                let Ok(n) = s.read(&mut buf).await else { return };
                // 30 LL 02 01 ID …: the request's message ID (short forms, as ldap3 sends).
                let id = if n > 4 { buf[4] } else { 1 };
                let resp = [0x30, 0x0c, 0x02, 0x01, id, 0x78, 0x07, 0x0a, 0x01, 0x02, 0x04, 0x00, 0x04, 0x00];
                let _ = s.write_all(&resp).await;
                let _ = s.read(&mut buf).await;
            });
        }
    })
}

#[tokio::test]
async fn a_referral_to_a_host_without_tls_is_refused() {
    let env = servers::samba();
    let _names = DC_NAMES.lock().await;
    let server = no_tls_server().await;
    let mut records = Records::new(&env);
    // The domain's own name (the referrals' host) now leads to the server without TLS.
    crate::harness::dns::dns(&env, "delete", "@", "A", env.get("AD_IP")).expect("delete the apex A record");
    records.add("@", "A", NO_TLS_IP);
    let r = login_site("follow_referrals = true", &env).await;
    crate::harness::dns::dns(&env, "add", "@", "A", env.get("AD_IP")).expect("restore the apex A record");
    drop(records);
    server.abort();
    assert_eq!(r["status"], "failed", "{r}");
    let msg = r["error"]["message"].as_str().unwrap_or_default();
    assert!(msg.contains("referral ldap://example.test/"), "{r}");
    // The one request the server got was StartTLS, which it refused: no bind was sent.
    assert!(msg.contains("protocolError"), "{r}");
    assert_eq!(code(&r), "directory_unavailable", "{r}");
}

#[tokio::test]
async fn the_default_hops_reach_every_partition_and_one_hop_fails_naming_the_key() {
    let env = servers::samba();
    let _names = DC_NAMES.lock().await;
    // domain → Configuration, DomainDnsZones, ForestDnsZones → Schema: two hops, then no
    // reference is left, so an unknown name is "not found" for sure.
    let login = |extra: &'static str| {
        let env = env.clone();
        async move {
            let sim = Sim::start(true).await;
            let _c = Connector::for_sim(&sim, "c1", &config(&env, extra));
            sim.wait_online(LIMIT).await;
            run(
                &sim,
                "ldap.authenticate",
                json!({"directory": "ad", "username": "nobody-here", "password": "x-Passw0rd"}),
            )
            .await
        }
    };
    let two = login("follow_referrals = true").await;
    assert_eq!(ok(&two)["reason"], "user_not_found", "{two}");
    // One hop leaves the Schema partition's reference: no answer is a guess.
    let one = login("follow_referrals = true\nreferral_hops = 1").await;
    assert_eq!(code(&one), "internal", "{one}");
    let msg = one["error"]["message"].as_str().unwrap_or_default();
    assert!(msg.contains("referral_hops (1)") && msg.contains("CN=Schema,CN=Configuration"), "{one}");
}
