//! Login results beyond yes/no (PROTOCOL.md §3, issue #18): the groups asked for
//! (`direct`, `nested`) on OpenLDAP (three levels and a cycle) and on Samba AD (nesting
//! and the primary group, through the delegated account), password and account expiry,
//! and the lockout shield under a password spray.

use std::collections::BTreeSet;
use std::time::Duration;

use serde_json::{json, Value};

use crate::ad_ops::{as_admin, ok, run, value, TestOu};
use crate::harness::servers::{self, ServerEnv};
use crate::harness::{Connector, Sim};

const LIMIT: Duration = Duration::from_secs(60);

async fn login_with(sim: &Sim, dir: &str, user: &str, password: &str, groups: Option<&str>) -> Value {
    let mut payload = json!({"directory": dir, "username": user, "password": password});
    if let Some(g) = groups {
        payload["groups"] = json!(g);
    }
    run(sim, "ldap.authenticate", payload).await
}

fn names(r: &Value) -> BTreeSet<String> {
    let groups = r["result"]["user"]["groups"].as_array().unwrap_or_else(|| panic!("no groups in {r}"));
    for g in groups {
        assert!(g["dn"].as_str().is_some_and(|d| !d.is_empty()), "{g}");
        assert!(g["guid"].as_str().is_some_and(|d| d.len() == 36), "{g}");
    }
    groups.iter().map(|g| g["name"].as_str().unwrap_or_default().to_owned()).collect()
}

fn slapd_ldif(env: &ServerEnv, ldif: &str) {
    servers::slapd_modify(env, ldif, &[]);
}

fn slapd_read(env: &ServerEnv, dn: &str, attr: &str) -> Option<String> {
    let out = std::process::Command::new("ldapsearch")
        .args(["-LLL", "-x", "-H", env.get("SLAPD_URL"), "-D", env.get("SLAPD_ADMIN_DN"), "-w"])
        .args([env.get("SLAPD_ADMIN_PW"), "-s", "base", "-b", dn, attr])
        .output()
        .expect("ldapsearch");
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    text.lines().find_map(|l| l.strip_prefix(&format!("{attr}: ")).map(str::to_owned))
}

/// Users and groups of one test on the shared slapd, removed when dropped.
struct SlapdFixture {
    env: ServerEnv,
    dns: Vec<String>,
}

impl Drop for SlapdFixture {
    fn drop(&mut self) {
        for dn in self.dns.iter().rev() {
            let _ = std::process::Command::new("ldapdelete")
                .args(["-x", "-H", self.env.get("SLAPD_URL"), "-D", self.env.get("SLAPD_ADMIN_DN"), "-w"])
                .args([self.env.get("SLAPD_ADMIN_PW"), dn])
                .output();
        }
    }
}

#[tokio::test]
async fn openldap_groups_direct_and_nested_three_levels_with_a_cycle_and_the_password_expiry() {
    let env = servers::slapd();
    let tag = format!("lg{}", std::process::id());
    let ou = servers::SlapdOu::new(&env, "lg");
    let groups_ou = env.get("SLAPD_GROUPS_DN");
    let user = format!("uid={tag},{}", ou.dn);
    let g = |n: &str| format!("cn={tag}-{n},{groups_ou}");
    let mut fx = SlapdFixture { env: env.clone(), dns: Vec::new() };
    let pw = "Lg-Passw0rd-1";
    slapd_ldif(&env, &format!("dn: {user}\nchangetype: add\nobjectClass: inetOrgPerson\nuid: {tag}\ncn: {tag}\nsn: Test\nuserPassword: {pw}\n"));
    fx.dns.push(user.clone());
    // a ← b ← c ← a: three levels, then the cycle back to the first.
    for (name, member) in [("a", user.clone()), ("b", g("a")), ("c", g("b"))] {
        let dn = g(name);
        slapd_ldif(
            &env,
            &format!("dn: {dn}\nchangetype: add\nobjectClass: groupOfNames\ncn: {tag}-{name}\nmember: {member}\n"),
        );
        fx.dns.push(dn);
    }
    slapd_ldif(&env, &format!("dn: {}\nchangetype: modify\nadd: member\nmember: {}\n", g("a"), g("c")));
    let policy = env.get("SLAPD_POLICY_DN");
    let config = format!(
        "{}default_password_policy_dn = \"{policy}\"\n\n{}group_nesting_limit = 2\n",
        servers::slapd_directory("corp", &env, false),
        servers::slapd_directory("shallow", &env, false)
    );
    let sim = Sim::start(true).await;
    let _c = Connector::for_sim(&sim, "c1", &config);
    sim.wait_online(LIMIT).await;

    let ours = |set: BTreeSet<String>| set.into_iter().filter(|n| n.starts_with(&tag)).collect::<Vec<_>>();
    let nested = login_with(&sim, "corp", &tag, pw, Some("nested")).await;
    assert_eq!(ours(names(&nested)), [format!("{tag}-a"), format!("{tag}-b"), format!("{tag}-c")], "{nested}");
    let direct = login_with(&sim, "corp", &tag, pw, Some("direct")).await;
    assert_eq!(ours(names(&direct)), [format!("{tag}-a")], "{direct}");
    let plain = login_with(&sim, "corp", &tag, pw, None).await;
    assert_eq!(ok(&plain)["authenticated"], true);
    assert!(plain["result"]["user"].get("groups").is_none(), "no groups unless asked: {plain}");

    // Expiry: pwdChangedTime + the default policy's pwdMaxAge; no account end.
    let changed = slapd_read(&env, &user, "pwdChangedTime").expect("ppolicy set pwdChangedTime");
    let max_age: u64 = slapd_read(&env, policy, "pwdMaxAge").expect("pwdMaxAge").parse().expect("a number");
    assert!(max_age > 0, "the test's policy must expire passwords");
    let changed = format!(
        "{}-{}-{}T{}:{}:{}Z",
        &changed[0..4],
        &changed[4..6],
        &changed[6..8],
        &changed[8..10],
        &changed[10..12],
        &changed[12..14]
    );
    let expected = humantime::parse_rfc3339(&changed).expect("time") + Duration::from_secs(max_age);
    let user_view = &plain["result"]["user"];
    assert_eq!(
        user_view["password_expires_at"],
        json!(humantime::format_rfc3339_seconds(expected).to_string()),
        "{plain}"
    );
    assert_eq!(user_view["account_expires_at"], Value::Null);
    let (view, records) = crate::ldap::import(&sim, "corp", json!({"filter": format!("(uid={tag})")})).await;
    assert_eq!((view["result"]["status"].as_str(), records.len()), (Some("succeeded"), 1), "{view}");
    assert_eq!(
        records[0]["password_expires_at"], user_view["password_expires_at"],
        "the record agrees: {}",
        records[0]
    );
    assert!(records[0]["attributes"].get("pwdChangedTime").is_none(), "operational sources stay out: {}", records[0]);

    // Deeper than group_nesting_limit: the login fails naming the key, never a partial list.
    let shallow = login_with(&sim, "shallow", &tag, pw, Some("nested")).await;
    assert_eq!(shallow["status"], "failed", "{shallow}");
    assert!(shallow["error"]["message"].as_str().is_some_and(|m| m.contains("group_nesting_limit")), "{shallow}");
}

#[tokio::test]
async fn samba_groups_through_token_groups_and_the_primary_group_as_the_delegated_account() {
    let env = servers::samba();
    let sim = Sim::start(true).await;
    let _c = Connector::for_sim(&sim, "c1", &servers::samba_delegated_directory("ad", &env));
    sim.wait_online(LIMIT).await;
    let pw = env.get("AD_FIXTURE_PW");
    let tier0 = env.get("AD_TIER0_GROUP_CN");
    let helpdesk = "Helpdesk, Tier-0 nested";

    let nested = login_with(&sim, "ad", env.get("AD_TIER0_NESTED_MEMBER"), pw, Some("nested")).await;
    let set = names(&nested);
    for want in [helpdesk, tier0, "Domain Users"] {
        assert!(set.contains(want), "nested groups lack {want}: {set:?}");
    }
    let direct = names(&login_with(&sim, "ad", env.get("AD_TIER0_NESTED_MEMBER"), pw, Some("direct")).await);
    assert!(direct.contains(helpdesk) && direct.contains("Domain Users"), "{direct:?}");
    assert!(!direct.contains(tier0), "Tier 0 Admins is only nested: {direct:?}");
    // The primary group is a direct membership that memberOf never lists.
    let primary = names(&login_with(&sim, "ad", env.get("AD_TIER0_PRIMARY_MEMBER"), pw, Some("direct")).await);
    assert!(primary.contains(tier0), "{primary:?}");
    let view = &nested["result"]["user"];
    assert_eq!(
        (&view["password_expires_at"], &view["account_expires_at"]),
        (&Value::Null, &Value::Null),
        "never: {view}"
    );
}

/// 2030-01-01T00:00:00Z as an AD FILETIME.
const FILETIME_2030: i64 = 1_893_456_000 * 10_000_000 + 116_444_736_000_000_000;

#[tokio::test]
async fn a_spray_of_100_wrong_passwords_leaves_ad_bad_pwd_count_below_its_threshold() {
    let env = servers::samba();
    let ou = TestOu::new(&env, "shield");
    let user = format!("icshield{}", std::process::id() % 100_000);
    let pw = "Shield-Pw-1";
    let sim = Sim::start(true).await;
    // `loose`: the default limit (5), above this domain's threshold (3): `check` warns.
    let config = format!(
        "{}login_failure_limit = 2\nlogin_failure_window = \"12s\"\n\n{}",
        servers::samba_delegated_directory("ad", &env),
        servers::samba_delegated_directory("loose", &env)
    );
    let c = Connector::for_sim(&sim, "c1", &config);
    sim.wait_online(LIMIT).await;
    let out = c.cli(&["check"]);
    let text = String::from_utf8_lossy(&out.stdout);
    let line = |prefix: &str| text.lines().find(|l| l.starts_with(prefix)).map(str::to_owned);
    let ok_line = line("OK   directory.ad.login_failure_limit").unwrap_or_else(|| panic!("no OK line:\n{text}"));
    assert!(ok_line.contains("below the directory's lockout threshold"), "{ok_line}");
    let warn = line("WARN directory.loose.login_failure_limit").unwrap_or_else(|| panic!("no WARN line:\n{text}"));
    assert!(warn.contains("is not below the directory's lockout threshold"), "{warn}");
    assert!(line("OK   directory.ad.token_groups").is_some(), "the delegated account reads tokenGroups:\n{text}");
    let create = json!({"directory": "ad", "parent_dn": ou.dn, "sam_account_name": user, "password": pw});
    let dn = ok(&run(&sim, "ad.create_user", create).await)["dn"].as_str().expect("dn").to_owned();
    let threshold: u32 = value(&env, env.get("AD_BASE_DN"), "lockoutThreshold").expect("threshold").parse().expect("n");
    assert!(threshold > 2, "the domain's lockout threshold ({threshold}) must lie above the shield's limit");

    let ids = sim
        .submit(Value::Array(
            (0..100)
                .map(|i| json!({"type": "ldap.authenticate", "payload": {"directory": "ad", "username": user, "password": format!("wrong-{i}")}}))
                .collect(),
        ))
        .await;
    let views = sim.wait_done(&ids, LIMIT).await;
    let shielded = views
        .iter()
        .filter(|v| {
            v["result"]["result"]["reason"] == "account_locked"
                && v["result"]["result"]["details"]["source"] == "connector"
        })
        .count();
    assert!(shielded >= 98, "{shielded} of 100 answered by the shield");
    let bad: u32 = value(&env, &dn, "badPwdCount").unwrap_or_else(|| "0".into()).parse().expect("n");
    assert!(bad < threshold, "badPwdCount {bad} reached the threshold {threshold}");
    assert!(value(&env, &dn, "lockoutTime").is_none_or(|t| t == "0"), "the account was locked in AD");

    // Within the window even the right password is refused without a bind. After it, the
    // DC still counts the 2 wrong passwords (its own observation window is 30 min): one
    // more would lock the account, so the right one is still refused without a bind.
    let early = login_with(&sim, "ad", &user, pw, None).await;
    assert_eq!(ok(&early)["details"]["source"], "connector", "{early}");
    tokio::time::sleep(Duration::from_secs(12)).await;
    let later = login_with(&sim, "ad", &user, pw, None).await;
    assert_eq!(ok(&later)["details"]["source"], "connector", "the DC's count is one short of its threshold: {later}");
    // An administrator's unlock clears the DC's count: the right password works again.
    let unlock = format!("dn: {dn}\nchangetype: modify\nreplace: lockoutTime\nlockoutTime: 0\n");
    assert!(crate::ad::admin_ldif(&env, &unlock), "unlock");
    let again = login_with(&sim, "ad", &user, pw, None).await;
    assert_eq!(ok(&again)["authenticated"], true, "{again}");

    // An account end date set by an administrator comes back in RFC 3339.
    let ldif = format!("dn: {dn}\nchangetype: modify\nreplace: accountExpires\naccountExpires: {FILETIME_2030}\n");
    let mut cmd = as_admin(&env, "ldapmodify");
    let mut child =
        cmd.stdin(std::process::Stdio::piped()).stdout(std::process::Stdio::null()).spawn().expect("ldapmodify");
    std::io::Write::write_all(&mut child.stdin.take().expect("stdin"), ldif.as_bytes()).expect("write");
    assert!(child.wait().expect("ldapmodify").success());
    let dated = login_with(&sim, "ad", &user, pw, None).await;
    assert_eq!(ok(&dated)["user"]["account_expires_at"], "2030-01-01T00:00:00Z", "{dated}");
}

#[tokio::test]
async fn user_records_carry_expiry_never_set_and_must_change_on_samba() {
    let env = servers::samba();
    let sim = Sim::start(true).await;
    let _c = Connector::for_sim(&sim, "c1", &servers::samba_delegated_directory("ad", &env));
    sim.wait_online(LIMIT).await;
    let (never, expired, must) =
        (env.get("AD_TEAM_NOEXPIRE"), env.get("AD_TEAM_PW_EXPIRED"), env.get("AD_TEAM_MUST_CHANGE"));
    let filter = format!("(|(sAMAccountName={never})(sAMAccountName={expired})(sAMAccountName={must}))");
    // The job names its attributes: the expiry sources are read anyway and not exported.
    let payload = json!({"filter": filter, "attributes": ["sAMAccountName"]});
    let (view, records) = crate::ldap::import(&sim, "ad", payload).await;
    assert_eq!(view["result"]["status"], "succeeded", "{view}");
    let by_sam = |sam: &str| {
        records
            .iter()
            .find(|r| r["attributes"]["sAMAccountName"][0] == sam)
            .unwrap_or_else(|| panic!("no record of {sam}: {records:?}"))
            .clone()
    };
    let r = by_sam(never);
    assert_eq!((&r["password_expires_at"], &r["account_expires_at"]), (&Value::Null, &Value::Null), "{r}");
    assert!(r["attributes"].get("msDS-UserPasswordExpiryTimeComputed").is_none(), "a source leaked: {r}");
    assert!(r["attributes"].get("accountExpires").is_none(), "a source leaked: {r}");
    assert_eq!(by_sam(must)["password_expires_at"], "1970-01-01T00:00:00Z", "must change at next logon");
    // The PSO of this user expires passwords: a time, already past.
    let set = by_sam(expired)["password_expires_at"].as_str().map(str::to_owned).expect("a time");
    let at = humantime::parse_rfc3339(&set).expect("RFC 3339");
    assert!(at > std::time::UNIX_EPOCH + Duration::from_secs(86_400) && at < std::time::SystemTime::now(), "{set}");
}
