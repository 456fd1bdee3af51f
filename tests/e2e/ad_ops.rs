//! AD workflow jobs against the real Samba DC: each job type's success, idempotent
//! repeat and main failures; the scope policy; the audit chain; lockout → unlock →
//! login; a kill -9 loop during 500 mixed jobs.
//!
//! The connector runs as customers run it: bound as `svc-delegated` (rights on
//! `OU=Team #2` only) with `base_dn` that OU as a person writes it, and each test works in
//! an OU of its own below it ([`TestOu`]). The shared helpers here are used by
//! `ad_safety.rs` too.

use std::time::Duration;

use rand::Rng;
use serde_json::{json, Value};

use crate::ad::admin_ldif;
use crate::harness::servers::{self, ServerEnv};
use crate::harness::{Connector, Sim};
use crate::ldap::login;

pub const LIMIT: Duration = Duration::from_secs(90);

/// An OU of its own for one test under `OU=Team #2` (so the delegated account may write
/// in it), made by the administrator and removed (with what is in it) at the end. Its DN
/// is spelled as a person writes it.
pub struct TestOu {
    pub env: ServerEnv,
    pub dn: String,
}

impl TestOu {
    pub fn new(env: &ServerEnv, tag: &str) -> TestOu {
        let dn = format!("OU=ic-{tag}-{},{}", std::process::id(), env.get("AD_TEAM_OU_DN"));
        let _ = delete_tree(env, &dn);
        assert!(
            admin_ldif(env, &format!("dn: {dn}\nchangetype: add\nobjectClass: organizationalUnit\n")),
            "cannot create {dn}"
        );
        TestOu { env: env.clone(), dn }
    }

    /// A group in this OU named `name`; its sAMAccountName is [`TestOu::sam`]`(name)`.
    pub fn group(&self, name: &str) -> String {
        let dn = format!("CN={name},{}", self.dn);
        let sam = TestOu::sam(name);
        assert!(admin_ldif(
            &self.env,
            &format!("dn: {dn}\nchangetype: add\nobjectClass: group\nsAMAccountName: {sam}\n")
        ));
        dn
    }

    /// `name` tagged with this test process: sAMAccountNames are unique in the whole
    /// domain, and two test runs may share the one Samba.
    pub fn sam(name: &str) -> String {
        format!("{name}-{}", std::process::id() % 100_000)
    }
}

impl Drop for TestOu {
    fn drop(&mut self) {
        let _ = delete_tree(&self.env, &self.dn);
    }
}

/// An OpenLDAP client command bound as the domain administrator over LDAPS.
pub fn as_admin(env: &ServerEnv, program: &str) -> std::process::Command {
    let mut cmd = std::process::Command::new(program);
    cmd.args(["-x", "-H", env.get("AD_LDAPS_URL"), "-D", env.get("AD_ADMIN_DN"), "-w", env.get("AD_ADMIN_PW")])
        .env("LDAPTLS_CACERT", env.get("AD_CA"));
    cmd
}

pub fn delete_tree(env: &ServerEnv, dn: &str) -> bool {
    as_admin(env, "ldapdelete").args(["-r", dn]).output().is_ok_and(|o| o.status.success())
}

/// Reads one entry's attributes as admin (what the directory says, not the connector).
pub fn read(env: &ServerEnv, dn: &str, attrs: &[&str]) -> Vec<(String, String)> {
    let out = as_admin(env, "ldapsearch")
        .args(["-LLL", "-o", "ldif-wrap=no", "-s", "base", "-b", dn])
        .args(attrs)
        .output()
        .expect("ldapsearch");
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter_map(|l| l.split_once(": ").map(|(k, v)| (k.to_owned(), v.to_owned())))
        .collect()
}

/// A DN in the form AD compares: attribute types and values case-insensitive, values
/// unescaped (RFC 4514 `\c` and `\XX`), spaces around `=`, `,` and `+` not part of them.
/// Samba answers `OU=Team \#2,…` for the `OU=Team #2,…` a test writes.
pub fn canonical_dn(dn: &str) -> Vec<String> {
    let b = dn.as_bytes();
    let (mut rdns, mut rdn, mut ty) = (Vec::new(), Vec::<String>::new(), String::new());
    let (mut val, mut kept, mut in_value, mut i) = (Vec::<u8>::new(), 0, false, 0);
    let hex = |c: Option<&u8>| c.and_then(|c| (*c as char).to_digit(16));
    // one attribute=value, its unescaped trailing spaces dropped (`kept`: up to the last escape)
    let finish = |ty: &mut String, val: &mut Vec<u8>, kept: &mut usize| {
        let end = val.iter().rposition(|c| *c != b' ').map_or(0, |p| p + 1).max(*kept);
        let ava = format!("{}={}", ty.trim().to_ascii_lowercase(), String::from_utf8_lossy(&val[..end]).to_lowercase());
        ty.clear();
        val.clear();
        *kept = 0;
        ava
    };
    while i < b.len() {
        match b[i] {
            b'\\' if in_value => {
                if let (Some(h), Some(l)) = (hex(b.get(i + 1)), hex(b.get(i + 2))) {
                    val.push((h * 16 + l) as u8);
                    i += 3;
                } else {
                    val.extend(b.get(i + 1));
                    i += 2;
                }
                kept = val.len();
                continue;
            }
            b'=' if !in_value => in_value = true,
            b',' | b'+' if in_value => {
                rdn.push(finish(&mut ty, &mut val, &mut kept));
                in_value = false;
                if b[i] == b',' {
                    rdn.sort();
                    rdns.push(rdn.join("+"));
                    rdn.clear();
                }
            }
            b' ' if in_value && val.is_empty() => {}
            c if in_value => val.push(c),
            c => ty.push(c as char),
        }
        i += 1;
    }
    rdn.push(finish(&mut ty, &mut val, &mut kept));
    rdn.sort();
    rdns.push(rdn.join("+"));
    rdns
}

/// Whether two DNs name the same entry (see [`canonical_dn`]).
pub fn same_dn(a: &str, b: &str) -> bool {
    canonical_dn(a) == canonical_dn(b)
}

#[test]
fn dns_compare_as_ad_compares_them() {
    assert!(same_dn("OU=Team #2,DC=example,DC=test", "ou=team \\#2, dc=EXAMPLE,dc=test"));
    assert!(same_dn("CN=R&D\\, Lab #1,OU=x", "cn=r&d\\2C lab \\231,ou=X"));
    assert!(same_dn("CN=a\\3Db,OU=x", "CN=a\\=b,OU=x"));
    assert!(same_dn("CN=\\ lead\\ ,OU=x", "CN=\\20lead\\20,OU=x"));
    assert!(!same_dn("CN=\\ lead,OU=x", "CN=lead,OU=x"));
    assert!(!same_dn("CN=a\\,OU=b,DC=x", "CN=a,OU=b,DC=x"));
    assert!(same_dn("CN=Élodie Straße,OU=x", "CN=\\C3\\89lodie Stra\\C3\\9Fe,OU=x"));
}

pub fn value(env: &ServerEnv, dn: &str, attr: &str) -> Option<String> {
    read(env, dn, &[attr]).into_iter().find(|(k, _)| k.eq_ignore_ascii_case(attr)).map(|(_, v)| v)
}

pub async fn run(sim: &Sim, job_type: &str, payload: Value) -> Value {
    let ids = sim.submit(json!([{"type": job_type, "payload": payload}])).await;
    sim.wait_done(&ids, LIMIT).await.remove(0)["result"].clone()
}

pub fn ok(r: &Value) -> &Value {
    assert_eq!(r["status"], "succeeded", "{r}");
    &r["result"]
}

pub fn code(r: &Value) -> &str {
    r["error"]["code"].as_str().unwrap_or("(none)")
}

async fn setup(env: &ServerEnv, extra: &str) -> (Sim, Connector) {
    let sim = Sim::start(true).await;
    let config = format!("{}{extra}", servers::samba_delegated_directory("ad", env));
    let mut c = Connector::for_sim(&sim, "c1", &config);
    online(&sim, &mut c).await;
    (sim, c)
}

/// Waits until the connector shows online; fails at once, with the connector's log, when
/// it exits instead (e.g. a config it refuses).
pub async fn online(sim: &Sim, c: &mut Connector) {
    let begin = std::time::Instant::now();
    loop {
        let s = sim.summary().await;
        if s["connectors"].as_array().is_some_and(|cs| cs.iter().any(|c| c["online"] == true)) {
            return;
        }
        if let Some(code) = c.exited() {
            panic!("the connector exited ({code:?}) instead of coming online:\n{}", c.log_text());
        }
        assert!(begin.elapsed() < LIMIT, "the connector did not come online:\n{}", c.log_text());
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test]
async fn each_job_type_succeeds_repeats_idempotently_and_fails_plainly() {
    let env = servers::samba();
    let ou = TestOu::new(&env, "ops");
    let g1 = ou.group("ic-ops-g1");
    let g2 = ou.group("ic-ops-g2");
    let (sim, mut c) = setup(&env, "").await;
    let sam = format!("icops{}", std::process::id() % 100_000);
    let pw = "Initial-Pw-1";
    let create = json!({"directory": "ad", "parent_dn": ou.dn, "sam_account_name": sam, "given_name": "Ops", "surname": "Test, Jr.",
        "display_name": "Ops Test, Jr.", "password": pw, "groups": [{"dn": g1}, {"sam_account_name": TestOu::sam("ic-ops-g2")}],
        "attributes": {"description": ["created by the connector"]}});
    let created = run(&sim, "ad.create_user", create.clone()).await;
    let dn = ok(&created)["dn"].as_str().unwrap().to_owned();
    assert!(dn.starts_with("CN=Ops Test\\, Jr.,"), "{dn}");
    assert_eq!(ok(&created)["guid"].as_str().map(str::len), Some(36));
    assert_eq!(value(&env, &dn, "userAccountControl").as_deref(), Some("512"));
    assert_eq!(code(&run(&sim, "ad.create_user", create).await), "already_exists");
    assert_eq!(login(&sim, "ad", &sam, pw).await["authenticated"], true);
    let user = json!({"sam_account_name": sam});
    let p = |extra: Value| {
        let mut v = json!({"directory": "ad", "user": user});
        v.as_object_mut().unwrap().extend(extra.as_object().unwrap().clone());
        v
    };
    // groups
    let member_of = read(&env, &dn, &["memberOf"]);
    assert!(
        member_of.iter().any(|(_, v)| same_dn(v, &g1)) && member_of.iter().any(|(_, v)| same_dn(v, &g2)),
        "{member_of:?}"
    );
    let again = run(&sim, "ad.add_to_group", p(json!({"group": {"dn": g1}}))).await;
    assert_eq!(ok(&again)["changed"], false);
    assert_eq!(ok(&run(&sim, "ad.remove_from_group", p(json!({"group": {"dn": g1}}))).await)["changed"], true);
    assert_eq!(ok(&run(&sim, "ad.remove_from_group", p(json!({"group": {"dn": g1}}))).await)["changed"], false);
    assert_eq!(
        code(&run(&sim, "ad.add_to_group", p(json!({"group": {"name": "no-such-group"}}))).await),
        "group_not_found"
    );
    // update
    let upd = p(
        json!({"replace": {"title": ["Engineer"]}, "add": {"otherTelephone": ["+1 555 0100"]}, "delete": {"description": []}}),
    );
    assert_eq!(
        ok(&run(&sim, "ad.update_user", upd.clone()).await)["changed"],
        json!(["description", "otherTelephone", "title"])
    );
    assert_eq!(ok(&run(&sim, "ad.update_user", upd).await)["changed"], json!([]));
    assert_eq!(value(&env, &dn, "title").as_deref(), Some("Engineer"));
    assert_eq!(value(&env, &dn, "description"), None);
    assert_eq!(
        code(&run(&sim, "ad.update_user", p(json!({"replace": {"userAccountControl": ["66048"]}}))).await),
        "forbidden_by_policy"
    );
    // reset / change password
    assert_eq!(ok(&run(&sim, "ad.reset_password", p(json!({"new_password": "Reset-Pw-2"}))).await)["dn"], dn);
    assert_eq!(login(&sim, "ad", &sam, "Reset-Pw-2").await["authenticated"], true);
    let change = p(json!({"old_password": "Reset-Pw-2", "new_password": "Changed-Pw-3"}));
    ok(&run(&sim, "ad.change_password", change).await);
    assert_eq!(login(&sim, "ad", &sam, "Changed-Pw-3").await["authenticated"], true);
    let wrong = p(json!({"old_password": "not-it", "new_password": "Other-Pw-4"}));
    assert_eq!(code(&run(&sim, "ad.change_password", wrong).await), "invalid_credentials");
    let must =
        run(&sim, "ad.reset_password", p(json!({"new_password": "Reset-Pw-5", "must_change_password": true}))).await;
    ok(&must);
    assert_eq!(value(&env, &dn, "pwdLastSet").as_deref(), Some("0"));
    assert_eq!(login(&sim, "ad", &sam, "Reset-Pw-5").await["reason"], "password_must_change");
    // weak password: a fine-grained policy (min length 20) on this user only
    let pso =
        format!("CN=ic-pso-{},CN=Password Settings Container,CN=System,{}", std::process::id(), env.get("AD_BASE_DN"));
    assert!(admin_ldif(&env, &format!("dn: {pso}\nchangetype: add\nobjectClass: msDS-PasswordSettings\nmsDS-PasswordSettingsPrecedence: 1\nmsDS-PasswordReversibleEncryptionEnabled: FALSE\nmsDS-PasswordHistoryLength: 0\nmsDS-PasswordComplexityEnabled: FALSE\nmsDS-MinimumPasswordLength: 20\nmsDS-MinimumPasswordAge: 0\nmsDS-MaximumPasswordAge: -36288000000000\nmsDS-LockoutThreshold: 0\nmsDS-LockoutObservationWindow: -18000000000\nmsDS-LockoutDuration: -18000000000\nmsDS-PSOAppliesTo: {dn}\n")));
    let weak = run(&sim, "ad.reset_password", p(json!({"new_password": "short"}))).await;
    let _ = admin_ldif(&env, &format!("dn: {pso}\nchangetype: delete\n"));
    assert_eq!(code(&weak), "password_policy", "{weak}");
    assert_eq!(weak["error"]["details"]["data"], "52d");
    // enable / disable keep every other bit (DONT_EXPIRE_PASSWORD 0x10000)
    assert!(admin_ldif(
        &env,
        &format!("dn: {dn}\nchangetype: modify\nreplace: userAccountControl\nuserAccountControl: 66048\n")
    ));
    let d = run(&sim, "ad.disable_user", p(json!({}))).await;
    assert_eq!((ok(&d)["enabled"].as_bool(), ok(&d)["changed"].as_bool()), (Some(false), Some(true)));
    assert_eq!(value(&env, &dn, "userAccountControl").as_deref(), Some("66050"));
    assert_eq!(ok(&run(&sim, "ad.disable_user", p(json!({}))).await)["changed"], false);
    ok(&run(&sim, "ad.enable_user", p(json!({}))).await);
    assert_eq!(value(&env, &dn, "userAccountControl").as_deref(), Some("66048"));
    // unlock when not locked
    assert_eq!(ok(&run(&sim, "ad.unlock_user", p(json!({}))).await)["was_locked"], false);
    // not found, delete, repeat
    let ghost = json!({"directory": "ad", "user": {"sam_account_name": "no-such-user-x"}});
    assert_eq!(code(&run(&sim, "ad.disable_user", ghost).await), "user_not_found");
    assert_eq!(ok(&run(&sim, "ad.delete_user", p(json!({}))).await)["dn"], dn);
    assert_eq!(code(&run(&sim, "ad.delete_user", p(json!({}))).await), "user_not_found");
    assert!(read(&env, &dn, &["cn"]).is_empty(), "the user is still there");
    // every write is in the audit chain, which verifies, and fails once a line is edited
    c.terminate(LIMIT);
    let verify = c.cli(&["audit", "verify"]);
    assert!(verify.status.success(), "{}", String::from_utf8_lossy(&verify.stdout));
    let show = String::from_utf8_lossy(&c.cli(&["audit", "show"]).stdout).into_owned();
    assert!(show.contains("ad.disable_user") && show.contains("userAccountControl: \"66048\" -> \"66050\""), "{show}");
    assert!(!show.contains("Changed-Pw-3") && !show.contains("Reset-Pw-2"), "a password reached the audit journal");
    let journal = c.dir.join("data").join("audit.jsonl");
    let text = std::fs::read_to_string(&journal).unwrap();
    std::fs::write(&journal, text.replacen("66050", "66051", 1)).unwrap();
    let broken = c.cli(&["audit", "verify"]);
    assert_eq!(broken.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&broken.stdout).contains("does not match its hash"));
}

#[tokio::test]
async fn the_delegated_account_gets_insufficient_access_outside_its_ou() {
    let env = servers::samba();
    let sim = Sim::start(true).await;
    // The whole domain in scope for the connector (base_dn, and so allowed_ous): what stops
    // the write to OU=Fixtures is the DC's own access check.
    let config = servers::samba_delegated_directory("ad", &env).replace(
        &format!("base_dn = \"{}\"", servers::toml_escape(env.get("AD_TEAM_OU_DN"))),
        &format!("base_dn = \"{}\"", env.get("AD_BASE_DN")),
    );
    assert!(config.contains(&format!("base_dn = \"{}\"", env.get("AD_BASE_DN"))), "{config}");
    let _c = Connector::for_sim(&sim, "c1", &config);
    sim.wait_online(LIMIT).await;
    let r =
        run(&sim, "ad.disable_user", json!({"directory": "ad", "user": {"sam_account_name": env.get("AD_USER_OK")}}))
            .await;
    assert_eq!(code(&r), "insufficient_access", "{r}");
    assert_eq!(
        value(&env, &format!("CN={},{}", env.get("AD_USER_OK"), env.get("AD_FIXTURES_DN")), "userAccountControl")
            .as_deref(),
        Some("512")
    );
}

#[tokio::test]
async fn the_scope_policy_refuses_and_leaves_the_directory_unchanged() {
    let env = servers::samba();
    let ou = TestOu::new(&env, "policy");
    let victim = format!("CN=ic-pol-user,{}", ou.dn);
    assert!(admin_ldif(
        &env,
        &format!(
            "dn: {victim}\nchangetype: add\nobjectClass: user\nsAMAccountName: icpol{}\n",
            std::process::id() % 100_000
        )
    ));
    let policy = format!(
        "\n[directories.ad.policy]\nallowed_operations = [\"ad.enable_user\", \"ad.disable_user\", \"ad.add_to_group\"]\nallowed_ous = [\"{}\"]\n",
        servers::toml_escape(&ou.dn)
    );
    let (sim, _c) = setup(&env, &policy).await;
    let admin_uac = value(&env, env.get("AD_ADMIN_DN"), "userAccountControl");
    let domain_admins = format!("CN=Domain Admins,CN=Users,{}", env.get("AD_BASE_DN"));
    let cases = [
        (
            "ad.add_to_group",
            json!({"directory": "ad", "user": {"dn": victim}, "group": {"dn": domain_admins}}),
            "protected group",
        ),
        ("ad.disable_user", json!({"directory": "ad", "user": {"dn": env.get("AD_ADMIN_DN")}}), "adminCount"),
        (
            "ad.disable_user",
            json!({"directory": "ad", "user": {"sam_account_name": env.get("AD_TEAM_USER")}}),
            "allowed_ous",
        ),
        ("ad.delete_user", json!({"directory": "ad", "user": {"dn": victim}}), "allowed_operations"),
    ];
    for (job_type, payload, why) in cases {
        let r = run(&sim, job_type, payload).await;
        assert_eq!(code(&r), "forbidden_by_policy", "{job_type} ({why}): {r}");
        assert!(r["error"]["message"].as_str().unwrap().contains(why), "{r}");
    }
    assert!(!read(&env, &victim, &["memberOf"]).iter().any(|(_, v)| same_dn(v, &domain_admins)));
    assert_eq!(value(&env, env.get("AD_ADMIN_DN"), "userAccountControl"), admin_uac);
    assert!(!read(&env, &victim, &["cn"]).is_empty(), "the refused delete happened");
    // allowed: a disable inside the OU works
    ok(&run(&sim, "ad.disable_user", json!({"directory": "ad", "user": {"dn": victim}})).await);
}

#[tokio::test]
async fn a_locked_out_user_is_unlocked_through_the_connector_then_logs_in() {
    let env = servers::samba();
    // A user of its own: the shared lockout fixture belongs to the login-reason test.
    let ou = TestOu::new(&env, "lockout");
    let user = format!("iclock{}", std::process::id() % 100_000);
    let user = user.as_str();
    let pw = "Lockout-Pw-1";
    // The lockout shield off (0): this test locks the account in AD through logins on
    // purpose, which the shield exists to prevent.
    let (sim, _c) = setup(&env, "login_failure_limit = 0\n").await;
    let create = json!({"directory": "ad", "parent_dn": ou.dn, "sam_account_name": user, "password": pw});
    ok(&run(&sim, "ad.create_user", create).await);
    for _ in 0..3 {
        login(&sim, "ad", user, "wrong").await;
    }
    assert_eq!(login(&sim, "ad", user, pw).await["reason"], "account_locked");
    let r = run(&sim, "ad.unlock_user", json!({"directory": "ad", "user": {"sam_account_name": user}})).await;
    assert_eq!(ok(&r)["was_locked"], true, "{r}");
    assert_eq!(login(&sim, "ad", user, pw).await["authenticated"], true);
}

#[tokio::test]
async fn kill_9_during_500_mixed_workflow_jobs_leaves_exactly_the_expected_directory() {
    let env = servers::samba();
    let ou = TestOu::new(&env, "crash");
    let g1 = ou.group("ic-crash-g1");
    let g2 = ou.group("ic-crash-g2");
    let sim = Sim::start(false).await;
    let mut c = Connector::for_sim(&sim, "c1", &servers::samba_delegated_directory("ad", &env));
    sim.wait_online(LIMIT).await;
    let users = 100;
    let tag = std::process::id() % 10_000;
    let user = |i: u32| json!({"sam_account_name": format!("ick{tag}u{i}")});
    // Three waves, as workflows send them: a step is sent once the one before it is done.
    // Within a wave, the jobs on one user commute, so the end state is fixed whatever
    // order they ran in.
    let waves: Vec<Vec<Value>> = vec![
        (0..users)
            .map(|i| json!({"type": "ad.create_user", "payload": {"directory": "ad", "parent_dn": ou.dn,
                "sam_account_name": format!("ick{tag}u{i}"), "password": format!("Pw-{i}-x"), "groups": [{"dn": g1}]}}))
            .collect(),
        (0..users)
            .flat_map(|i| {
                vec![
                    json!({"type": "ad.disable_user", "payload": {"directory": "ad", "user": user(i)}}),
                    json!({"type": "ad.add_to_group", "payload": {"directory": "ad", "user": user(i), "group": {"dn": g2}}}),
                    json!({"type": "ad.update_user", "payload": {"directory": "ad", "user": user(i), "replace": {"description": [format!("user {i}")]}}}),
                ]
            })
            .collect(),
        (0..users)
            .map(|i| match i % 2 {
                0 => json!({"type": "ad.enable_user", "payload": {"directory": "ad", "user": user(i)}}),
                _ => json!({"type": "ad.remove_from_group", "payload": {"directory": "ad", "user": user(i), "group": {"dn": g1}}}),
            })
            .collect(),
    ];
    let mut rng = rand::thread_rng();
    let mut total = 0;
    let mut kills = 0;
    for wave in waves {
        let ids = sim.submit(json!(wave)).await;
        total += ids.len();
        for _ in 0..3 {
            tokio::time::sleep(Duration::from_millis(rng.gen_range(200..1200))).await;
            c.kill9();
            kills += 1;
            c.restart();
        }
        let views = sim.wait_done(&ids, Duration::from_secs(300)).await;
        for v in &views {
            assert_eq!(v["result"]["status"], "succeeded", "{} {}: {}", v["type"], v["id"], v["result"]);
        }
    }
    assert_eq!(total, 500);
    assert_eq!(sim.violations().await, 0, "{}", sim.log());
    eprintln!("AD crash test: {total} jobs, {kills} SIGKILLs");
    for i in 0..users {
        let dn = format!("CN=ick{tag}u{i},{}", ou.dn);
        let i = i as usize;
        let attrs = read(&env, &dn, &["userAccountControl", "memberOf", "description"]);
        let get = |k: &str| attrs.iter().filter(|(a, _)| a == k).map(|(_, v)| v.clone()).collect::<Vec<_>>();
        assert_eq!(get("description"), vec![format!("user {i}")], "{dn}");
        let uac: u32 = get("userAccountControl").first().and_then(|v| v.parse().ok()).unwrap_or(0);
        let groups = get("memberOf");
        let has = |g: &str| groups.iter().any(|m| same_dn(m, g));
        if i.is_multiple_of(2) {
            assert_eq!(uac & 2, 0, "{dn} should be enabled");
            assert!(has(&g1) && has(&g2), "{dn}: {groups:?}");
        } else {
            assert_eq!(uac & 2, 2, "{dn} should be disabled");
            assert!(!has(&g1) && has(&g2), "{dn}: {groups:?}");
        }
    }
    let search = as_admin(&env, "ldapsearch")
        .args(["-LLL", "-b", &ou.dn, "(objectClass=user)", "dn"])
        .output()
        .expect("ldapsearch");
    let count = String::from_utf8_lossy(&search.stdout).lines().filter(|l| l.starts_with("dn:")).count();
    assert_eq!(count, users as usize, "the OU holds {count} users, expected exactly {users}");
}

/// Every file under `dir` (recursively), as bytes.
pub fn files(dir: &std::path::Path) -> Vec<(std::path::PathBuf, Vec<u8>)> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let p = e.path();
        if p.is_dir() {
            out.extend(files(&p));
        } else if let Ok(b) = std::fs::read(&p) {
            out.push((p, b));
        }
    }
    out
}

/// Whether `needle` is in `hay` as UTF-8 or as UTF-16LE (how `unicodePwd` travels).
pub fn contains(hay: &[u8], needle: &str) -> bool {
    let utf16: Vec<u8> = needle.encode_utf16().flat_map(u16::to_le_bytes).collect();
    hay.windows(needle.len()).any(|w| w == needle.as_bytes()) || hay.windows(utf16.len()).any(|w| w == utf16.as_slice())
}

#[tokio::test]
async fn no_password_reaches_a_log_a_file_a_result_or_the_portal() {
    let env = servers::samba();
    let ou = TestOu::new(&env, "secrets");
    let sim = Sim::start(true).await;
    let config = format!(
        "{}{}",
        servers::samba_delegated_directory("ad", &env),
        servers::slapd_directory("ldap", &servers::slapd(), false)
    );
    let mut c = Connector::for_sim(&sim, "c1", &config);
    sim.wait_online(LIMIT).await;
    let tag = std::process::id() % 100_000;
    let secrets = [
        format!("Zebra-Create-{tag}!"),
        format!("Quokka-Reset-{tag}?"),
        format!("Narwhal-Change-{tag}#"),
        format!("Okapi-Wrong-{tag}%"),
    ];
    let sam = format!("icsec{tag}");
    let user = json!({"sam_account_name": sam});
    let jobs = json!([
        {"type": "ad.create_user", "payload": {"directory": "ad", "parent_dn": ou.dn, "sam_account_name": sam, "password": secrets[0]}},
    ]);
    sim.wait_done(&sim.submit(jobs).await, LIMIT).await;
    // In steps, as a workflow would send them; failures last (three bad passwords lock the account).
    let steps = [
        json!([{"type": "ldap.authenticate", "payload": {"directory": "ad", "username": sam, "password": secrets[0]}}]),
        json!([{"type": "ad.reset_password", "payload": {"directory": "ad", "user": user, "new_password": secrets[1]}}]),
        json!([{"type": "ad.change_password", "payload": {"directory": "ad", "user": user, "old_password": secrets[1], "new_password": secrets[2]}}]),
        json!([{"type": "ldap.authenticate", "payload": {"directory": "ad", "username": sam, "password": secrets[2]}}]),
        json!([
            {"type": "ldap.authenticate", "payload": {"directory": "ad", "username": sam, "password": secrets[3]}},
            {"type": "ldap.authenticate", "payload": {"directory": "ldap", "username": "nobody", "password": secrets[3]}},
            {"type": "ad.change_password", "payload": {"directory": "ad", "user": user, "old_password": secrets[3], "new_password": secrets[0]}},
            {"type": "ad.reset_password", "payload": {"directory": "ad", "user": {"sam_account_name": "nobody-here"}, "new_password": secrets[1]}},
            {"type": "ad.create_user", "payload": {"directory": "nowhere", "parent_dn": ou.dn, "sam_account_name": "x", "password": secrets[0]}},
            {"type": "ad.create_user", "payload": {"directory": "ad", "parent_dn": ou.dn, "sam_account_name": 5, "password": secrets[0]}},
        ]),
    ];
    let mut views = Vec::new();
    for step in steps {
        let ids = sim.submit(step).await;
        views.extend(sim.wait_done(&ids, LIMIT).await);
    }
    assert_eq!(views[0]["result"]["result"]["authenticated"], true, "{}", views[0]);
    assert_eq!(views[2]["result"]["status"], "succeeded", "{}", views[2]);
    assert_eq!(
        views[3]["result"]["result"]["authenticated"], true,
        "the self-service change did not land: {}",
        views[3]
    );
    let failed = views.iter().filter(|v| v["result"]["status"] == "failed").count();
    assert!(failed >= 4, "the workload should include failures: {failed}");
    c.terminate(LIMIT);
    let mut places: Vec<(String, Vec<u8>)> = Vec::new();
    for (p, b) in files(&c.dir).into_iter().chain(files(&sim.dir.path().join("sim"))) {
        places.push((p.display().to_string(), b));
    }
    places.push(("connector log".into(), c.log_text().into_bytes()));
    places.push(("simulator log".into(), sim.log().into_bytes()));
    for v in &views {
        places.push((format!("job {} as the portal holds it", v["id"]), v.to_string().into_bytes()));
    }
    places.push(("simulator summary".into(), sim.summary().await.to_string().into_bytes()));
    let scanned = places.len();
    for secret in &secrets {
        for (place, bytes) in &places {
            assert!(!contains(bytes, secret), "a password was found in {place}");
        }
    }
    assert!(scanned > 10, "scanned only {scanned} places");
}
