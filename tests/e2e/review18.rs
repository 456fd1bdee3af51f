//! Issue #18 under review: what a newcomer breaks first (each test failed before its fix).

use std::time::Duration;

use serde_json::{json, Value};

use crate::ad_ops::{ok, run, value, TestOu};
use crate::harness::servers;
use crate::harness::{Connector, Sim};

const LIMIT: Duration = Duration::from_secs(90);

/// A portal sends each login with an ordering key of its own (its session or request id)
/// and lets people sign in with the sAMAccountName or the UPN, in any case: these logins
/// run at once, and the shield must still let no more than its limit of wrong passwords
/// reach the DC, or a spray locks the real account.
#[tokio::test]
async fn a_concurrent_spray_under_several_spellings_and_ordering_keys_never_locks_the_ad_account() {
    let env = servers::samba();
    let ou = TestOu::new(&env, "rvspray");
    let user = format!("icrvspray{}", std::process::id() % 100_000);
    let upn = format!("{user}@{}", env.get("AD_UPN_SUFFIX"));
    let pw = "Spray-Pw-1x";
    let sim = Sim::start(true).await;
    let config = format!("{}login_failure_limit = 2\nlogin_failure_window = \"30s\"\n", servers::samba_delegated_directory("ad", &env));
    let _c = Connector::for_sim(&sim, "c1", &config);
    sim.wait_online(LIMIT).await;
    let create = json!({"directory": "ad", "parent_dn": ou.dn, "sam_account_name": user, "user_principal_name": upn, "password": pw});
    let dn = ok(&run(&sim, "ad.create_user", create).await)["dn"].as_str().expect("dn").to_owned();
    let threshold: u32 = value(&env, env.get("AD_BASE_DN"), "lockoutThreshold").expect("threshold").parse().expect("n");
    assert!(threshold > 2, "the domain's lockout threshold ({threshold}) must lie above the shield's limit");

    let spellings = [user.clone(), upn.clone(), user.to_uppercase(), upn.to_uppercase()];
    let specs: Vec<Value> = (0..60)
        .map(|i| {
            json!({"type": "ldap.authenticate", "ordering_key": format!("login-{i}"),
                   "payload": {"directory": "ad", "username": spellings[i % 4], "password": format!("wrong-{i}")}})
        })
        .collect();
    let ids = sim.submit(Value::Array(specs)).await;
    let views = sim.wait_done(&ids, LIMIT).await;
    let bound = views.iter().filter(|v| v["result"]["result"]["reason"] == "invalid_credentials").count();
    let bad: u32 = value(&env, &dn, "badPwdCount").unwrap_or_else(|| "0".into()).parse().expect("n");
    let locked = value(&env, &dn, "lockoutTime").is_some_and(|t| t != "0");
    assert!(
        bound <= 2 && bad < threshold && !locked,
        "{bound} wrong passwords reached the DC (limit 2); badPwdCount {bad}, threshold {threshold}, locked in AD: {locked}"
    );
}
