//! Referral chains and loops (issue #20) on a private slapd whose `referral` entries
//! (RFC 3296: objectClass `referral`, a `ref` URL) send a subtree search on, one hop at a
//! time, to other parts of the same server: a login with `follow_referrals = true`
//! follows them up to `referral_hops` deep and fails naming the key beyond, a loop is
//! searched once, and a reference that lands on a referral object (a `referral` result,
//! RFC 4511 §4.1.10, not a continuation reference) is one more hop.
//!
//! The tree (`ou=chain` below the base; `→` is a referral entry and where it points):
//! - `ou=start`: → `ou=hop1`, which holds → `ou=hop2`, which holds `uid=deep-user`
//!   (two hops from `ou=start`);
//! - `ou=start2`: → the referral object `ou=to-hop2,ou=hop1` itself (slapd answers
//!   `referral` naming `ou=hop2`): also two hops;
//! - `ou=loop-a`: → `ou=loop-b`, which holds `uid=loop-user` and → `ou=loop-a`.

use std::time::Duration;

use serde_json::json;

use crate::ad_ops::{code, ok, run};
use crate::harness::servers::{self, ServerEnv, StopOnDrop};
use crate::harness::{Connector, Sim};

const LIMIT: Duration = Duration::from_secs(60);
const PASSWORD: &str = "Deep-Passw0rd";

fn chain_ldif(env: &ServerEnv) -> String {
    let b = env.get("SLAPD_BASE_DN");
    let at = format!("ldap://127.0.0.1:{}", env.get("SLAPD_PORT"));
    let ou = |dn: &str, name: &str| format!("dn: {dn}\nobjectClass: organizationalUnit\nou: {name}\n\n");
    let refer = |dn: &str, name: &str, to: &str| {
        format!("dn: {dn}\nobjectClass: referral\nobjectClass: extensibleObject\nou: {name}\nref: {at}/{to}\n\n")
    };
    let user = |dn: &str, uid: &str| {
        format!("dn: {dn}\nobjectClass: inetOrgPerson\nuid: {uid}\ncn: {uid}\nsn: {uid}\nuserPassword: {PASSWORD}\n\n")
    };
    let c = format!("ou=chain,{b}");
    [
        ou(&c, "chain"),
        ou(&format!("ou=start,{c}"), "start"),
        refer(&format!("ou=to-hop1,ou=start,{c}"), "to-hop1", &format!("ou=hop1,{c}")),
        ou(&format!("ou=hop1,{c}"), "hop1"),
        refer(&format!("ou=to-hop2,ou=hop1,{c}"), "to-hop2", &format!("ou=hop2,{c}")),
        ou(&format!("ou=hop2,{c}"), "hop2"),
        user(&format!("uid=deep-user,ou=hop2,{c}"), "deep-user"),
        ou(&format!("ou=start2,{c}"), "start2"),
        refer(&format!("ou=to-object,ou=start2,{c}"), "to-object", &format!("ou=to-hop2,ou=hop1,{c}")),
        ou(&format!("ou=loop-a,{c}"), "loop-a"),
        refer(&format!("ou=to-b,ou=loop-a,{c}"), "to-b", &format!("ou=loop-b,{c}")),
        ou(&format!("ou=loop-b,{c}"), "loop-b"),
        user(&format!("uid=loop-user,ou=loop-b,{c}"), "loop-user"),
        refer(&format!("ou=to-a,ou=loop-b,{c}"), "to-a", &format!("ou=loop-a,{c}")),
    ]
    .concat()
}

/// `[directories.NAME]` on the slapd (StartTLS, the service account), searching below
/// `ou=<start>,ou=chain`; `hops`: `None` leaves referrals off.
fn directory(name: &str, env: &ServerEnv, start: &str, hops: Option<u8>) -> String {
    let follow = hops.map(|h| format!("follow_referrals = true\nreferral_hops = {h}\n")).unwrap_or_default();
    servers::slapd_directory(name, env, false).replace(
        &format!("base_dn = \"{}\"", env.get("SLAPD_BASE_DN")),
        &format!("base_dn = \"ou={start},ou=chain,{}\"", env.get("SLAPD_BASE_DN")),
    ) + &follow
}

async fn login(sim: &Sim, dir: &str, user: &str) -> serde_json::Value {
    run(sim, "ldap.authenticate", json!({"directory": dir, "username": user, "password": PASSWORD})).await
}

#[tokio::test]
async fn a_referral_chain_is_followed_up_to_referral_hops_and_fails_naming_the_key_beyond() {
    let area = tempfile::tempdir().unwrap();
    let dir = area.path().join("slapd");
    let env = servers::start_private_slapd(&dir, 10);
    let _stop = StopOnDrop(dir);
    servers::slapd_modify(&env, &chain_ldif(&env), &["-a", "-M"]);
    let config = [
        directory("off", &env, "start", None),
        directory("two", &env, "start", Some(2)),
        directory("one", &env, "start", Some(1)),
        directory("object", &env, "start2", Some(2)),
        directory("loop", &env, "loop-a", Some(10)),
    ]
    .concat();
    let sim = Sim::start(true).await;
    let c = Connector::for_sim(&sim, "c1", &config);
    sim.wait_online(LIMIT).await;

    // The control: without following, the user two referrals away is not found.
    let off = login(&sim, "off", "deep-user").await;
    assert_eq!(ok(&off)["reason"], "user_not_found", "{off}");
    // Within the limit: found at the end of the chain, then bound.
    let two = login(&sim, "two", "deep-user").await;
    assert_eq!(ok(&two)["authenticated"], true, "{two}");
    assert!(ok(&two)["user"]["dn"].as_str().is_some_and(|d| d.starts_with("uid=deep-user,ou=hop2")), "{two}");
    // Beyond it: not "user_not_found" (a guess), but an error naming the key and the
    // referral left.
    let one = login(&sim, "one", "deep-user").await;
    assert_eq!(code(&one), "internal", "{one}");
    let msg = one["error"]["message"].as_str().unwrap_or_default();
    assert!(msg.contains("directories.one.referral_hops") && msg.contains("ou=hop2,ou=chain"), "{one}");
    // A reference to a referral object: its `referral` result is one more hop.
    let object = login(&sim, "object", "deep-user").await;
    assert_eq!(ok(&object)["authenticated"], true, "{object}");
    // A loop: each place searched once, the user found once (twice would be refused as
    // ambiguous), and the loop named in the log.
    let looped = login(&sim, "loop", "loop-user").await;
    assert_eq!(ok(&looped)["authenticated"], true, "{looped}");
    assert!(c.log_text().contains("a referral loop"), "{}", c.log_text());
}
