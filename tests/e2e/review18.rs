//! Issue #18 under review: what a newcomer breaks first (each test failed before its fix).

use std::time::Duration;

use serde_json::{json, Value};

use crate::ad::admin_ldif;
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
    let config = format!(
        "{}login_failure_limit = 2\nlogin_failure_window = \"30s\"\n",
        servers::samba_delegated_directory("ad", &env)
    );
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

/// A PSO with complexity on and length 8 for `user`, readable by the service account,
/// removed when dropped.
struct ComplexPso {
    env: servers::ServerEnv,
    dn: String,
}

impl ComplexPso {
    fn new(env: &servers::ServerEnv, tag: &str, user: &str) -> ComplexPso {
        let dn = format!(
            "CN=ic-review-{tag}-{},CN=Password Settings Container,CN=System,{}",
            std::process::id(),
            env.get("AD_BASE_DN")
        );
        let _ = admin_ldif(env, &format!("dn: {dn}\nchangetype: delete\n"));
        assert!(admin_ldif(env, &format!(
            "dn: {dn}\nchangetype: add\nobjectClass: msDS-PasswordSettings\nmsDS-PasswordSettingsPrecedence: 1\nmsDS-PasswordReversibleEncryptionEnabled: FALSE\nmsDS-PasswordHistoryLength: 0\nmsDS-PasswordComplexityEnabled: TRUE\nmsDS-MinimumPasswordLength: 8\nmsDS-MinimumPasswordAge: 0\nmsDS-MaximumPasswordAge: -36288000000000\nmsDS-LockoutThreshold: 0\nmsDS-LockoutObservationWindow: -18000000000\nmsDS-LockoutDuration: -18000000000\nmsDS-PSOAppliesTo: {user}\n"
        )), "cannot add the PSO {dn}");
        let out = std::process::Command::new("samba-tool")
            .args(["dsacl", "set", "-s", env.get("AD_CONF"), "-H"])
            .arg(format!("{}/dc/private/sam.ldb", env.get("AD_DIR")))
            .arg(format!("--objectdn={dn}"))
            .arg("--sddl=(A;;RP;;;AU)")
            .output()
            .expect("samba-tool");
        assert!(out.status.success(), "samba-tool dsacl: {}", String::from_utf8_lossy(&out.stderr));
        ComplexPso { env: env.clone(), dn }
    }
}

impl Drop for ComplexPso {
    fn drop(&mut self) {
        let _ = admin_ldif(&self.env, &format!("dn: {}\nchangetype: delete\n", self.dn));
    }
}

/// Sets `password` on `dn` as the administrator, as the DC judges it; whether it took.
fn dc_accepts(env: &servers::ServerEnv, dn: &str, password: &str) -> bool {
    use base64::Engine;
    let pw: Vec<u8> = format!("\"{password}\"").encode_utf16().flat_map(u16::to_le_bytes).collect();
    let pw = base64::engine::general_purpose::STANDARD.encode(pw);
    admin_ldif(env, &format!("dn: {dn}\nchangetype: modify\nreplace: unicodePwd\nunicodePwd:: {pw}\n"))
}

/// The local check must never refuse what the DC accepts. Samba counts every non-ASCII
/// character that is neither upper- nor lower-case (a superscript or Arabic-Indic digit,
/// a no-break space, a currency sign) in its fifth, "Unicode" category
/// (`check_password_quality`, lib/util/genrand_util.c); so must the connector.
#[tokio::test]
async fn the_local_complexity_check_never_refuses_a_password_the_dc_accepts() {
    let env = servers::samba();
    let ou = TestOu::new(&env, "rvpol");
    let user = format!("icrvpol{}", std::process::id() % 100_000);
    let sim = Sim::start(true).await;
    let _c = Connector::for_sim(&sim, "c1", &servers::samba_delegated_directory("ad", &env));
    sim.wait_online(LIMIT).await;
    let create = json!({"directory": "ad", "parent_dn": ou.dn, "sam_account_name": user, "password": "Start-Pw-1x"});
    let dn = ok(&run(&sim, "ad.create_user", create).await)["dn"].as_str().expect("dn").to_owned();
    let _pso = ComplexPso::new(&env, "pol", &dn);
    // Complexity is on for this user: three of five categories.
    assert!(!dc_accepts(&env, &dn, "abcdefghij"), "the PSO does not apply: the test proves nothing");
    for pw in ["Abcdefgh\u{b2}\u{b2}", "Abcdefgh\u{663}\u{663}", "Abcdefgh\u{a0}x", "abcdefgh1\u{a3}"] {
        assert!(dc_accepts(&env, &dn, pw), "Samba refuses {pw:?}: pick another example");
        let r =
            run(&sim, "ad.reset_password", json!({"directory": "ad", "user": {"dn": dn}, "new_password": pw})).await;
        assert_eq!(r["status"], "succeeded", "{pw:?}: refused although the DC accepts it: {r}");
    }
}

/// A `group_base_dn` that names nothing (a typo, an OU renamed since) must not give the
/// portal an empty list of groups as if the user were in none: the login fails, naming
/// the key, on AD (direct and nested) and on OpenLDAP.
#[tokio::test]
async fn a_group_base_dn_that_does_not_exist_fails_the_login_naming_the_key() {
    let (ad, slapd) = (servers::samba(), servers::slapd());
    let sim = Sim::start(true).await;
    let typo = "group_base_dn = \"OU=Gropus,DC=example,DC=test\"\n";
    let config = format!(
        "{}{typo}\n{}group_base_dn = \"ou=gropus,dc=example,dc=com\"\n",
        servers::samba_reader_directory("ad", &ad),
        servers::slapd_directory("corp", &slapd, false)
    );
    let _c = Connector::for_sim(&sim, "c1", &config);
    sim.wait_online(LIMIT).await;
    let cases = [
        ("ad", ad.get("AD_USER_OK"), ad.get("AD_FIXTURE_PW"), "direct"),
        ("ad", ad.get("AD_USER_OK"), ad.get("AD_FIXTURE_PW"), "nested"),
        ("corp", slapd.get("SLAPD_USER_OK"), slapd.get("SLAPD_USER_OK_PW"), "nested"),
    ];
    for (dir, user, pw, depth) in cases {
        let r = run(
            &sim,
            "ldap.authenticate",
            json!({"directory": dir, "username": user, "password": pw, "groups": depth}),
        )
        .await;
        assert_eq!(r["status"], "failed", "{dir} {depth}: an empty list of groups given as the truth: {r}");
        let message = r["error"]["message"].as_str().unwrap_or_default();
        assert!(message.contains(&format!("directories.{dir}.group_base_dn")), "{dir} {depth}: {r}");
    }
    // Without groups asked for, the base is not read: the login works.
    let r = run(
        &sim,
        "ldap.authenticate",
        json!({"directory": "ad", "username": ad.get("AD_USER_OK"), "password": ad.get("AD_FIXTURE_PW")}),
    )
    .await;
    assert_eq!(ok(&r)["authenticated"], true, "{r}");
}

/// Every path of issue #18 that carries a password (logins right and wrong, with groups,
/// refused by the shield; a create with a password; a reset refused locally by the
/// policy; a self-service change with a wrong old password) leaves none of them in the
/// storage dir (queue, journal, audit, spool), the log or a result, in UTF-8, UTF-16LE,
/// base64 or JSON escaping.
#[tokio::test]
async fn no_password_of_the_new_paths_reaches_disk_a_log_or_a_result() {
    use base64::Engine;
    let env = servers::samba();
    let ou = TestOu::new(&env, "rvsecret");
    let user = format!("icrvsec{}", std::process::id() % 100_000);
    let sim = Sim::start(true).await;
    let config = format!("{}login_failure_limit = 1\n", servers::samba_delegated_directory("ad", &env));
    let c = Connector::for_sim(&sim, "c1", &config);
    sim.wait_online(LIMIT).await;
    let good = "Qx7-Secret\"Pw\\42";
    let secrets =
        [good, "Wrong-Qx7-Secret-1", "Wrong-Qx7-Secret-2", "qx7short", "Wrong-Qx7-Old-3", "Qx7-Next-Secret-9"];
    let create = json!({"directory": "ad", "parent_dn": ou.dn, "sam_account_name": user, "password": good});
    let dn = ok(&run(&sim, "ad.create_user", create).await)["dn"].as_str().expect("dn").to_owned();
    let _pso = ComplexPso::new(&env, "secret", &dn);
    let mut results = Vec::new();
    let login = |pw: &str| json!({"directory": "ad", "username": user, "password": pw, "groups": "nested"});
    results.push(run(&sim, "ldap.authenticate", login(good)).await);
    results.push(run(&sim, "ldap.authenticate", login(secrets[1])).await);
    results.push(run(&sim, "ldap.authenticate", login(secrets[2])).await);
    assert_eq!(results[2]["result"]["details"]["source"], "connector", "{}", results[2]);
    let reset = json!({"directory": "ad", "user": {"dn": dn}, "new_password": secrets[3]});
    results.push(run(&sim, "ad.reset_password", reset).await);
    assert_eq!(results[3]["error"]["code"], "password_policy", "{}", results[3]);
    let change = json!({"directory": "ad", "user": {"dn": dn}, "old_password": secrets[4], "new_password": secrets[5]});
    results.push(run(&sim, "ad.change_password", change).await);
    let text = serde_json::to_string(&results).expect("json");
    let log = c.log_text();
    let files = crate::ad_ops::files(&c.dir);
    assert!(files.len() > 3, "the storage dir holds nothing: {}", c.dir.display());
    for s in secrets {
        let b64 = base64::engine::general_purpose::STANDARD.encode(s);
        let b64_16 = base64::engine::general_purpose::STANDARD
            .encode(format!("\"{s}\"").encode_utf16().flat_map(u16::to_le_bytes).collect::<Vec<u8>>());
        let escaped = serde_json::to_string(s).expect("json");
        let forms = [s.to_owned(), b64, b64_16, escaped[1..escaped.len() - 1].to_owned()];
        for f in &forms {
            assert!(!text.contains(f.as_str()), "{s:?} in a result: {text}");
            assert!(!log.contains(f.as_str()), "{s:?} in the log");
            for (path, bytes) in &files {
                assert!(!crate::ad_ops::contains(bytes, f), "{s:?} ({f}) in {}", path.display());
            }
        }
    }
}

/// AD's `badPwdCount` also counts the wrong passwords typed at a workstation. One typo
/// there plus a spray through the portal with `login_failure_limit` one below the
/// domain's threshold (which `check` calls safe) locked the real account while the shield
/// counted only its own; it now sends no bind that could bring the DC's count to the
/// threshold.
#[tokio::test]
async fn a_spray_after_a_typo_elsewhere_does_not_lock_the_ad_account() {
    let env = servers::samba();
    let ou = TestOu::new(&env, "rvtypo");
    let user = format!("icrvtypo{}", std::process::id() % 100_000);
    let pw = "Typo-Pw-1x";
    let sim = Sim::start(true).await;
    let config = format!("{}login_failure_limit = 2\n", servers::samba_delegated_directory("ad", &env));
    let _c = Connector::for_sim(&sim, "c1", &config);
    sim.wait_online(LIMIT).await;
    let create = json!({"directory": "ad", "parent_dn": ou.dn, "sam_account_name": user, "password": pw});
    let dn = ok(&run(&sim, "ad.create_user", create).await)["dn"].as_str().expect("dn").to_owned();
    let threshold: u32 = value(&env, env.get("AD_BASE_DN"), "lockoutThreshold").expect("threshold").parse().expect("n");
    assert_eq!(threshold, 3, "this test assumes the fixture domain's threshold of 3");
    // A typo at a workstation: one wrong bind straight to the DC.
    let typo = std::process::Command::new("ldapwhoami")
        .args(["-x", "-H", env.get("AD_LDAPS_URL"), "-D", &dn, "-w", "typo-at-the-desk"])
        .env("LDAPTLS_CACERT", env.get("AD_CA"))
        .output()
        .expect("ldapwhoami");
    assert!(!typo.status.success(), "the typo bound");
    assert_eq!(value(&env, &dn, "badPwdCount").as_deref(), Some("1"));
    for i in 0..5 {
        let _ = run(
            &sim,
            "ldap.authenticate",
            json!({"directory": "ad", "username": user, "password": format!("spray-{i}")}),
        )
        .await;
    }
    let locked = value(&env, &dn, "lockoutTime").is_some_and(|t| t != "0");
    assert!(!locked, "one typo elsewhere and a spray through the portal locked the account in AD");
}

/// A spray paced just slower than `login_failure_window`: the shield forgets, but the DC
/// counts wrong passwords over its own `lockoutObservationWindow` (30 min here, and by
/// default), so without regard to its count the second round locks the account.
#[tokio::test]
async fn a_spray_paced_slower_than_the_shield_window_does_not_lock_the_ad_account() {
    let env = servers::samba();
    let ou = TestOu::new(&env, "rvslow");
    let user = format!("icrvslow{}", std::process::id() % 100_000);
    let sim = Sim::start(true).await;
    let config = format!(
        "{}login_failure_limit = 2\nlogin_failure_window = \"3s\"\n",
        servers::samba_delegated_directory("ad", &env)
    );
    let _c = Connector::for_sim(&sim, "c1", &config);
    sim.wait_online(LIMIT).await;
    let create = json!({"directory": "ad", "parent_dn": ou.dn, "sam_account_name": user, "password": "Slow-Pw-1x"});
    let dn = ok(&run(&sim, "ad.create_user", create).await)["dn"].as_str().expect("dn").to_owned();
    for round in 0..2 {
        for i in 0..3 {
            let p = json!({"directory": "ad", "username": user, "password": format!("spray-{round}-{i}")});
            let _ = run(&sim, "ldap.authenticate", p).await;
        }
        tokio::time::sleep(Duration::from_secs(4)).await;
    }
    let bad = value(&env, &dn, "badPwdCount").unwrap_or_default();
    let locked = value(&env, &dn, "lockoutTime").is_some_and(|t| t != "0");
    assert!(!locked, "two rounds of a slow spray locked the account in AD (badPwdCount {bad})");
}

/// The same slow spray on OpenLDAP: ppolicy's default policy here locks after 3 failures
/// that never expire (`pwdFailureCountInterval: 0`) and for good (`pwdLockoutDuration:
/// 0`), so two rounds two wrong passwords each, a `login_failure_window` apart, lock it.
#[tokio::test]
async fn a_slow_spray_does_not_lock_an_openldap_account() {
    let env = servers::slapd();
    let tag = format!("rvslow{}", std::process::id());
    let ou = servers::SlapdOu::new(&env, "rvslow");
    let dn = format!("uid={tag},{}", ou.dn);
    let ldif = format!("dn: {dn}\nchangetype: add\nobjectClass: inetOrgPerson\nuid: {tag}\ncn: {tag}\nsn: T\nuserPassword: Slow-Pw-1x\n");
    servers::slapd_modify(&env, &ldif, &[]);
    let config = format!(
        "{}default_password_policy_dn = \"{}\"\nlogin_failure_limit = 2\nlogin_failure_window = \"3s\"\n",
        servers::slapd_directory("corp", &env, false),
        env.get("SLAPD_POLICY_DN")
    );
    let sim = Sim::start(true).await;
    let _c = Connector::for_sim(&sim, "c1", &config);
    sim.wait_online(LIMIT).await;
    for round in 0..2 {
        for i in 0..3 {
            let p = json!({"directory": "corp", "username": tag, "password": format!("spray-{round}-{i}")});
            let _ = run(&sim, "ldap.authenticate", p).await;
        }
        tokio::time::sleep(Duration::from_secs(4)).await;
    }
    let out = std::process::Command::new("ldapsearch")
        .args(["-LLL", "-x", "-H", env.get("SLAPD_URL"), "-D", env.get("SLAPD_ADMIN_DN"), "-w"])
        .args([env.get("SLAPD_ADMIN_PW"), "-s", "base", "-b", &dn, "pwdAccountLockedTime", "pwdFailureTime"])
        .output()
        .expect("ldapsearch");
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(!text.contains("pwdAccountLockedTime"), "a slow spray locked the OpenLDAP account:\n{text}");
}
