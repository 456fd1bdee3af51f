//! AD write safety on the real Samba DC (issue 12): one test per numbered input of the
//! issue and per kind of fault under its "What to build", with the connector as customers
//! run it: bound as `svc-delegated` (rights on `OU=Team #2` only), `base_dn` that OU as a
//! person writes it. A Domain Admin runs only where a test says why.
//!
//! Each test works in an OU of its own below `OU=Team #2` ([`TestOu`]); the shared rig
//! fixtures (`samba.sh`: the R&D and Tier 0 groups, their members) are only read or, for
//! a membership, given a member the test owns (gone with the test's OU). So a test that
//! fails, on the code before the fix or after, never spoils the rig for the next one.
//!
//! Tests of one item other than item 2 set `allowed_ous` to the team OU as Samba spells
//! it (`OU=Team \#2,…`), and their creates name the parent that way too
//! ([`samba_spelled`]), so that on the code before the fix they fail for their own item,
//! not for item 2's string comparison of DNs.

use std::collections::BTreeSet;
use std::process::Command;
use std::time::Duration;

use base64::Engine;
use serde_json::{json, Value};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;

use crate::ad::admin_ldif;
use crate::ad_ops::{as_admin, code, contains, files, ok, online, read, run, value, TestOu, LIMIT};
use crate::harness::servers::{self, toml_escape, ServerEnv};
use crate::harness::{eventually, Connector, Sim};
use crate::ldap::login;

// === helpers ===

/// RFC 4514 escape of one attribute value, as a person would write it in a DN.
fn esc(v: &str) -> String {
    let mut out = String::new();
    for (i, c) in v.chars().enumerate() {
        let special = ",+\"\\<>;=".contains(c) || (i == 0 && (c == '#' || c == ' '));
        if special || (c == ' ' && i == v.chars().count() - 1) {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

fn unicode_pwd(pw: &str) -> String {
    let bytes: Vec<u8> = format!("\"{pw}\"").encode_utf16().flat_map(u16::to_le_bytes).collect();
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

/// A short tag that differs between test runs (sAMAccountNames hold at most 20 characters).
fn tag() -> u32 {
    std::process::id() % 100_000
}

/// A user the administrator adds for a test: disabled and without a password unless told.
struct NewUser {
    cn: String,
    sam: String,
    password: Option<String>,
    uac: u32,
    extra: String,
}

impl NewUser {
    fn new(cn: &str, sam: String) -> NewUser {
        NewUser { cn: cn.to_owned(), sam, password: None, uac: 514, extra: String::new() }
    }

    /// With this password, and enabled (userAccountControl 512).
    fn password(mut self, pw: &str) -> NewUser {
        self.password = Some(pw.to_owned());
        self.uac = 512;
        self
    }

    fn uac(mut self, uac: u32) -> NewUser {
        self.uac = uac;
        self
    }

    /// More LDIF attribute lines (each ending in a newline).
    fn extra(mut self, ldif: &str) -> NewUser {
        self.extra.push_str(ldif);
        self
    }

    /// Adds it under `parent`; returns its DN as written.
    fn add(self, env: &ServerEnv, parent: &str) -> String {
        let dn = format!("CN={},{parent}", esc(&self.cn));
        let pw = self.password.map(|p| format!("unicodePwd:: {}\n", unicode_pwd(&p))).unwrap_or_default();
        let ldif = format!(
            "dn: {dn}\nchangetype: add\nobjectClass: user\nsAMAccountName: {sam}\nuserPrincipalName: {sam}@{suffix}\n{pw}userAccountControl: {uac}\n{extra}",
            sam = self.sam,
            suffix = env.get("AD_UPN_SUFFIX"),
            uac = self.uac,
            extra = self.extra,
        );
        assert!(admin_ldif(env, &ldif), "cannot add {dn}");
        dn
    }
}

fn add_ou(env: &ServerEnv, dn: &str) {
    assert!(
        admin_ldif(env, &format!("dn: {dn}\nchangetype: add\nobjectClass: organizationalUnit\n")),
        "cannot add {dn}"
    );
}

fn add_member(env: &ServerEnv, group: &str, member: &str) {
    let ldif = format!("dn: {group}\nchangetype: modify\nadd: member\nmember: {member}\n-\n");
    assert!(admin_ldif(env, &ldif), "cannot add {member} to {group}");
}

/// A fine-grained password policy (PSO) for `user` only, deleted when dropped.
struct Pso {
    env: ServerEnv,
    dn: String,
}

impl Pso {
    fn new(env: &ServerEnv, name: &str, user: &str, min_length: u32, max_age: &str) -> Pso {
        let dn = format!(
            "CN=ic-{name}-{},CN=Password Settings Container,CN=System,{}",
            std::process::id(),
            env.get("AD_BASE_DN")
        );
        let _ = admin_ldif(env, &format!("dn: {dn}\nchangetype: delete\n"));
        assert!(admin_ldif(env, &format!(
            "dn: {dn}\nchangetype: add\nobjectClass: msDS-PasswordSettings\nmsDS-PasswordSettingsPrecedence: 1\nmsDS-PasswordReversibleEncryptionEnabled: FALSE\nmsDS-PasswordHistoryLength: 0\nmsDS-PasswordComplexityEnabled: FALSE\nmsDS-MinimumPasswordLength: {min_length}\nmsDS-MinimumPasswordAge: 0\nmsDS-MaximumPasswordAge: {max_age}\nmsDS-LockoutThreshold: 0\nmsDS-LockoutObservationWindow: -18000000000\nmsDS-LockoutDuration: -18000000000\nmsDS-PSOAppliesTo: {user}\n"
        )), "cannot add the PSO {dn}");
        Pso { env: env.clone(), dn }
    }
}

impl Drop for Pso {
    fn drop(&mut self) {
        let _ = admin_ldif(&self.env, &format!("dn: {}\nchangetype: delete\n", self.dn));
    }
}

/// A simple bind as `who` over LDAPS: "ok", or the AD data code of the refusal ("773").
fn bind_result(env: &ServerEnv, who: &str, pw: &str) -> String {
    let out = Command::new("ldapsearch")
        .args(["-x", "-H", env.get("AD_LDAPS_URL"), "-D", who, "-w", pw, "-b", "", "-s", "base", "1.1"])
        .env("LDAPTLS_CACERT", env.get("AD_CA"))
        .output()
        .expect("ldapsearch");
    if out.status.success() {
        return "ok".into();
    }
    let text = String::from_utf8_lossy(&out.stderr).into_owned();
    text.split("data ").nth(1).map(|r| r.split(',').next().unwrap_or_default().to_owned()).unwrap_or(text)
}

/// sAMAccountNames of the users in `base` (admin search).
fn users_under(env: &ServerEnv, base: &str, filter: &str) -> Vec<String> {
    let out = as_admin(env, "ldapsearch")
        .args(["-LLL", "-o", "ldif-wrap=no", "-b", base, &format!("(&(objectClass=user){filter})"), "sAMAccountName"])
        .output()
        .expect("ldapsearch");
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter_map(|l| l.strip_prefix("sAMAccountName: ").map(str::to_owned))
        .collect()
}

fn values(env: &ServerEnv, dn: &str, attr: &str) -> Vec<String> {
    read(env, dn, &[attr]).into_iter().filter(|(k, _)| k.eq_ignore_ascii_case(attr)).map(|(_, v)| v).collect()
}

/// Whether the DC's schema has an attribute of this lDAPDisplayName.
fn in_schema(env: &ServerEnv, name: &str) -> bool {
    let schema = format!("CN=Schema,CN=Configuration,{}", env.get("AD_BASE_DN"));
    let out = as_admin(env, "ldapsearch")
        .args(["-LLL", "-b", &schema, "-s", "one", &format!("(lDAPDisplayName={name})"), "1.1"])
        .output()
        .expect("ldapsearch");
    String::from_utf8_lossy(&out.stdout).lines().any(|l| l.starts_with("dn:"))
}

/// `[directories.ad]` as svc-delegated plus a policy table with `lines`.
fn delegated_with_policy(env: &ServerEnv, lines: &[String]) -> String {
    let mut config = servers::samba_delegated_directory("ad", env);
    if !lines.is_empty() {
        config.push_str("\n[directories.ad.policy]\n");
        for l in lines {
            config.push_str(l);
            config.push('\n');
        }
    }
    config
}

/// `allowed_ous` = the team OU as Samba spells it (see the module header).
fn samba_spelled_scope(env: &ServerEnv) -> String {
    format!("allowed_ous = [\"{}\"]", toml_escape(env.get("AD_TEAM_OU_DN_ESCAPED")))
}

/// A DN under the team OU, with the team OU spelled as Samba spells it.
fn samba_spelled(env: &ServerEnv, dn: &str) -> String {
    let team = env.get("AD_TEAM_OU_DN");
    assert!(dn.ends_with(team), "{dn} is not under {team}");
    format!("{}{}", &dn[..dn.len() - team.len()], env.get("AD_TEAM_OU_DN_ESCAPED"))
}

fn toml_list(items: &[&str]) -> String {
    let quoted: Vec<String> = items.iter().map(|i| format!("\"{}\"", toml_escape(i))).collect();
    format!("[{}]", quoted.join(", "))
}

/// Starts a simulator and a connector with `config`; fails fast, with the connector's
/// log, when the connector exits instead of coming online (e.g. a config it refuses).
async fn start(config: &str) -> (Sim, Connector) {
    let sim = Sim::start_with(true, &["--heartbeat-interval-s", "1"]).await;
    let mut c = Connector::for_sim(&sim, "c1", config);
    online(&sim, &mut c).await;
    (sim, c)
}

/// Asserts a `forbidden_by_policy` refusal whose message contains each of `words`
/// (case-insensitive): the rule and the group or attribute it names.
fn refused(r: &Value, what: &str, words: &[&str]) {
    assert_eq!(code(r), "forbidden_by_policy", "{what}: {r}");
    let message = r["error"]["message"].as_str().unwrap_or_default().to_lowercase();
    for w in words {
        assert!(message.contains(&w.to_lowercase()), "{what}: the message does not name `{w}`: {r}");
    }
}

/// The lines of the audit journal (`audit.jsonl` in the storage path) of one job.
fn audit_lines(c: &Connector, job_id: &str) -> Vec<Value> {
    let text = std::fs::read_to_string(c.dir.join("data").join("audit.jsonl")).unwrap_or_default();
    text.lines().filter_map(|l| serde_json::from_str::<Value>(l).ok()).filter(|v| v["job_id"] == job_id).collect()
}

fn user_ref(dn: &str) -> Value {
    json!({"dn": dn})
}

// === item 1: escaped names in protected_groups ===

/// Item 1: `protected_groups = ["R&D, Lab #1"]` (the CN as a person writes it; Samba
/// answers `CN=R&D\, Lab \#1,…`): adding anyone to the group, by any reference, and
/// disabling one of its members are refused; the same with the group given by a DN spelled
/// another way (`\2C`, `\23`, other case).
#[tokio::test]
async fn item1_a_protected_group_named_with_escapes_is_matched() {
    let env = servers::samba();
    let ou = TestOu::new(&env, "item1");
    let t = tag();
    let rnd = env.get("AD_RND_GROUP_DN");
    let member = NewUser::new("R&D member, #1", format!("icr1m{t}")).password("Member-Pw-1").add(&env, &ou.dn);
    add_member(&env, rnd, &member);
    let outsider = NewUser::new("Outsider", format!("icr1o{t}")).password("Outsider-Pw-1").add(&env, &ou.dn);
    let other_spelling = "cn=r&d\\2C lab \\231,ou=TEAM \\232,dc=example,dc=TEST";
    for protected in [env.get("AD_RND_GROUP_CN").to_owned(), other_spelling.to_owned()] {
        let config = delegated_with_policy(
            &env,
            &[samba_spelled_scope(&env), format!("protected_groups = {}", toml_list(&[&protected]))],
        );
        let (sim, _c) = start(&config).await;
        for group in [
            json!({"dn": rnd}),
            json!({"sam_account_name": env.get("AD_RND_GROUP_SAM")}),
            json!({"name": env.get("AD_RND_GROUP_CN")}),
        ] {
            let r =
                run(&sim, "ad.add_to_group", json!({"directory": "ad", "user": user_ref(&outsider), "group": group}))
                    .await;
            refused(&r, &format!("add_to_group {group} with protected_groups [{protected}]"), &["protected", "R&D"]);
        }
        let r = run(&sim, "ad.disable_user", json!({"directory": "ad", "user": user_ref(&member)})).await;
        refused(&r, &format!("disable a member with protected_groups [{protected}]"), &["protected", "R&D"]);
        assert!(values(&env, &outsider, "memberOf").is_empty(), "the outsider was added to R&D");
        assert_eq!(value(&env, &member, "userAccountControl").as_deref(), Some("512"), "the member was disabled");
    }
}

// === item 2: allowed_ous as a person writes it ===

/// Item 2: `allowed_ous = ["OU=Team #2,DC=example,DC=test"]` as a person writes it
/// (Samba answers `OU=Team \#2,…`): jobs on users inside it run, not only creates; a user
/// outside it is refused and stays unchanged.
#[tokio::test]
async fn item2_allowed_ous_written_as_a_person_writes_them_cover_the_users_inside() {
    let env = servers::samba();
    let ou = TestOu::new(&env, "item2");
    let t = tag();
    let config = delegated_with_policy(&env, &[format!("allowed_ous = {}", toml_list(&[env.get("AD_TEAM_OU_DN")]))]);
    let (sim, _c) = start(&config).await;
    let sam = format!("icou{t}");
    let create = json!({"directory": "ad", "parent_dn": ou.dn, "sam_account_name": sam, "password": "Item2-Pw-1"});
    let created = run(&sim, "ad.create_user", create).await;
    let dn = ok(&created)["dn"].as_str().expect("dn").to_owned();
    let user = json!({"sam_account_name": sam});
    let disabled = run(&sim, "ad.disable_user", json!({"directory": "ad", "user": user})).await;
    assert_eq!(ok(&disabled)["changed"], true, "{disabled}");
    assert_eq!(value(&env, &dn, "userAccountControl").as_deref(), Some("514"));
    let upd = json!({"directory": "ad", "user": user, "replace": {"description": ["inside Team #2"]}});
    ok(&run(&sim, "ad.update_user", upd).await);
    // the rig's ordinary user, inside the OU but outside this test's own: allowed too, and
    // a no-op (already enabled), so the fixture stays as it is
    let team_user = json!({"directory": "ad", "user": {"sam_account_name": env.get("AD_TEAM_USER")}});
    assert_eq!(ok(&run(&sim, "ad.enable_user", team_user).await)["changed"], false);
    // outside: a DN the DC would find, but not under allowed_ous
    let fx_ok = format!("CN={},{}", env.get("AD_USER_OK"), env.get("AD_FIXTURES_DN"));
    let r = run(&sim, "ad.disable_user", json!({"directory": "ad", "user": user_ref(&fx_ok)})).await;
    // Refused by the scope policy; a connector that resolves DNs only under base_dn may
    // answer user_not_found instead: either way nothing is written.
    assert!(matches!(code(&r), "forbidden_by_policy" | "user_not_found"), "{r}");
    assert_eq!(value(&env, &fx_ok, "userAccountControl").as_deref(), Some("512"));
    let outside =
        json!({"directory": "ad", "parent_dn": env.get("AD_STAFF_DN"), "sam_account_name": format!("icou{t}x")});
    refused(&run(&sim, "ad.create_user", outside).await, "create outside allowed_ous", &["allowed_ous"]);
}

// === item 3: two creates with one CN ===

/// Item 3: two `ad.create_user` in one poll answer, same display name (so the same CN)
/// under the same parent, different sAMAccountNames and passwords, the second with a
/// group: exactly one succeeds, the other is `already_exists`; the entry is the winner's
/// (its sAMAccountName, its password), the loser's password does not log in as it and the
/// loser's group gains no member. Five rounds: the fault was a race (3 of 5 on Samba).
#[tokio::test]
async fn item3_two_creates_with_one_cn_never_adopt_each_others_account() {
    let env = servers::samba();
    let ou = TestOu::new(&env, "item3");
    let t = tag();
    let config = delegated_with_policy(&env, &[samba_spelled_scope(&env)]);
    let (sim, _c) = start(&config).await;
    for round in 0..5 {
        let parent = format!("OU=round {round},{}", ou.dn);
        add_ou(&env, &parent);
        let parent = samba_spelled(&env, &parent);
        let group = ou.group(&format!("icdup{t}g{round}"));
        let (sam_a, sam_b) = (format!("icdup{t}{round}a"), format!("icdup{t}{round}b"));
        let (pw_a, pw_b) = (format!("Dup-A-{round}-pw"), format!("Dup-B-{round}-pw"));
        let jobs = json!([
            {"type": "ad.create_user", "payload": {"directory": "ad", "parent_dn": parent, "sam_account_name": sam_a,
                "display_name": "John Smith", "password": pw_a}},
            {"type": "ad.create_user", "payload": {"directory": "ad", "parent_dn": parent, "sam_account_name": sam_b,
                "display_name": "John Smith", "password": pw_b, "groups": [{"dn": group}]}},
        ]);
        let ids = sim.submit(jobs).await;
        let views = sim.wait_done(&ids, LIMIT).await;
        let results: Vec<&Value> = views.iter().map(|v| &v["result"]).collect();
        let winners: Vec<usize> = (0..2).filter(|i| results[*i]["status"] == "succeeded").collect();
        assert_eq!(winners.len(), 1, "round {round}: exactly one create must succeed: {results:?}");
        let (w, l) = (winners[0], 1 - winners[0]);
        assert_eq!(code(results[l]), "already_exists", "round {round}: the other must be already_exists: {results:?}");
        let sams = [&sam_a, &sam_b];
        let pws = [&pw_a, &pw_b];
        assert_eq!(
            users_under(&env, &parent, ""),
            vec![sams[w].clone()],
            "round {round}: the entry is not the winner's"
        );
        let mine = login(&sim, "ad", sams[w], pws[w]).await;
        assert_eq!(mine["authenticated"], true, "round {round}: the winner's own password: {mine}");
        let theirs = login(&sim, "ad", sams[w], pws[l]).await;
        assert_eq!(
            theirs["authenticated"], false,
            "round {round}: the loser's password logs in as the winner: {theirs}"
        );
        let members = values(&env, &group, "member");
        if w == 1 {
            assert_eq!(members.len(), 1, "round {round}: the winner's group: {members:?}");
        } else {
            assert!(members.is_empty(), "round {round}: the loser's group gained {members:?}");
        }
    }
}

// === item 4: a create without a password ===

/// Item 4: a create without a password makes a disabled account (514, no PASSWD_NOTREQD)
/// and answers `{"dn", "guid"}`; `enabled: true` without a password is `invalid_job` and
/// creates nothing.
#[tokio::test]
async fn item4_a_create_without_a_password_is_a_disabled_account() {
    let env = servers::samba();
    let ou = TestOu::new(&env, "item4");
    let t = tag();
    let config = delegated_with_policy(&env, &[samba_spelled_scope(&env)]);
    let (sim, _c) = start(&config).await;
    let parent = samba_spelled(&env, &ou.dn);
    let sam = format!("icnopw{t}");
    let r = run(&sim, "ad.create_user", json!({"directory": "ad", "parent_dn": parent, "sam_account_name": sam})).await;
    let result = ok(&r);
    let keys: BTreeSet<&str> = result.as_object().expect("object").keys().map(String::as_str).collect();
    assert_eq!(keys, BTreeSet::from(["dn", "guid"]), "{r}");
    let dn = result["dn"].as_str().unwrap();
    let uac: u32 = value(&env, dn, "userAccountControl").and_then(|v| v.parse().ok()).expect("uac");
    assert_eq!((uac, uac & 0x20), (514, 0), "userAccountControl {uac}: disabled, PASSWD_NOTREQD not set");
    let sam2 = format!("icnopw{t}e");
    let enabled = json!({"directory": "ad", "parent_dn": parent, "sam_account_name": sam2, "enabled": true});
    let r = run(&sim, "ad.create_user", enabled).await;
    assert_eq!(code(&r), "invalid_job", "{r}");
    assert!(users_under(&env, &ou.dn, &format!("(sAMAccountName={sam2})")).is_empty(), "it was created");
}

// === item 5: self-service change for must-change and expired users ===

/// Item 5: `ad.change_password` for a user who must change the password (pwdLastSet=0,
/// bind answers 773) and one whose password expired (a PSO's maximum age, bind 532):
/// the right old password changes it and the user logs in with the new one; a wrong old
/// password is `invalid_credentials`, a new one the policy refuses is `password_policy`,
/// each with the AD data code in `details`.
#[tokio::test]
async fn item5_must_change_and_expired_users_change_their_own_password() {
    let env = servers::samba();
    let ou = TestOu::new(&env, "item5");
    let t = tag();
    let old = "Old-Pw-5";
    let must = NewUser::new("Must Change", format!("icmc{t}")).password(old).extra("pwdLastSet: 0\n").add(&env, &ou.dn);
    let expired = NewUser::new("Expired", format!("icex{t}")).password(old).add(&env, &ou.dn);
    let strict = NewUser::new("Strict", format!("icst{t}")).password(old).add(&env, &ou.dn);
    // Samba counts a maximum age under one day as "never": one day and a second, and the
    // password set three days back (the rig's expire-password does what LDAP may not).
    let _expiry = Pso::new(&env, "item5-exp", &expired, 1, "-864010000000");
    let out = Command::new("bash")
        .arg(servers::script("samba.sh"))
        .args(["expire-password", env.get("AD_DIR"), &format!("icex{t}"), "3"])
        .output()
        .expect("samba.sh expire-password");
    assert!(out.status.success(), "samba.sh expire-password: {}", String::from_utf8_lossy(&out.stderr));
    let _strict = Pso::new(&env, "item5-len", &strict, 20, "-36288000000000");
    assert_eq!(bind_result(&env, &must, old), "773", "the must-change user is not what this test needs");
    assert_eq!(bind_result(&env, &expired, old), "532", "the expired user is not what this test needs");
    let config = delegated_with_policy(&env, &[samba_spelled_scope(&env)]);
    let (sim, _c) = start(&config).await;
    let change = |dn: &str, old: &str, new: &str| json!({"directory": "ad", "user": user_ref(dn), "old_password": old, "new_password": new});
    for (who, dn, sam) in [("must-change", &must, format!("icmc{t}")), ("expired", &expired, format!("icex{t}"))] {
        let new = format!("New-{who}-Pw");
        let r = run(&sim, "ad.change_password", change(dn, old, &new)).await;
        assert_eq!(r["status"], "succeeded", "the {who} user's own change: {r}");
        let l = login(&sim, "ad", &sam, &new).await;
        assert_eq!(l["authenticated"], true, "the {who} user logs in with the new password: {l}");
    }
    let wrong = run(&sim, "ad.change_password", change(&must, "Not-The-Pw-5", "Never-Set-5")).await;
    assert_eq!(code(&wrong), "invalid_credentials", "{wrong}");
    assert!(wrong["error"]["details"]["data"].as_str().is_some_and(|d| !d.is_empty()), "no data code: {wrong}");
    let weak = run(&sim, "ad.change_password", change(&strict, old, "short")).await;
    assert_eq!(code(&weak), "password_policy", "{weak}");
    assert_eq!(weak["error"]["details"]["data"], "52d", "{weak}");
    assert_eq!(bind_result(&env, &strict, old), "ok", "the refused change changed the password");
}

// === item 6: values compared by matching rule ===

/// Item 6: with `otherMailbox: repro.alt1@other.example` stored, adding the upper-case
/// variant changes nothing (one value stays), deleting it deletes the stored value.
#[tokio::test]
async fn item6_case_variants_of_a_case_insensitive_value_are_the_same_value() {
    let env = servers::samba();
    let ou = TestOu::new(&env, "item6");
    let t = tag();
    let dn =
        NewUser::new("Mailbox", format!("icmb{t}")).extra("otherMailbox: repro.alt1@other.example\n").add(&env, &ou.dn);
    let config = delegated_with_policy(&env, &[samba_spelled_scope(&env)]);
    let (sim, _c) = start(&config).await;
    let upd = |op: &str| json!({"directory": "ad", "user": user_ref(&dn), op: {"otherMailbox": ["REPRO.ALT1@OTHER.EXAMPLE"]}});
    let added = run(&sim, "ad.update_user", upd("add")).await;
    assert_eq!(ok(&added)["changed"], json!([]), "{added}");
    assert_eq!(values(&env, &dn, "otherMailbox"), vec!["repro.alt1@other.example"]);
    let deleted = run(&sim, "ad.update_user", upd("delete")).await;
    assert_eq!(ok(&deleted)["changed"], json!(["otherMailbox"]), "{deleted}");
    assert!(values(&env, &dn, "otherMailbox").is_empty(), "the stored value is still there");
}

/// Kind "values compared by matching rule", DN syntax: `manager` replaced by the DN it
/// already holds, spelled another way, changes nothing.
#[tokio::test]
async fn kind_dn_valued_attributes_compare_as_dns() {
    let env = servers::samba();
    let ou = TestOu::new(&env, "dnval");
    let t = tag();
    let manager = env.get("AD_RND_MEMBER_DN"); // CN=Member\, R&D Lab #1,OU=Team #2,…
    let dn = NewUser::new("Managed", format!("icmg{t}")).extra(&format!("manager: {manager}\n")).add(&env, &ou.dn);
    let config = delegated_with_policy(&env, &[samba_spelled_scope(&env)]);
    let (sim, _c) = start(&config).await;
    let spelled = "cn=member\\2C r&d lab \\231,ou=team \\232,DC=EXAMPLE,DC=TEST";
    let upd = json!({"directory": "ad", "user": user_ref(&dn), "replace": {"manager": [spelled]}});
    assert_eq!(ok(&run(&sim, "ad.update_user", upd).await)["changed"], json!([]));
}

// === item 7: attribute policy from the schema ===

/// Item 7, creates: security-relevant attributes in `attributes` are refused and nothing
/// is created.
#[tokio::test]
async fn item7_security_relevant_attributes_are_refused_on_create() {
    let env = servers::samba();
    let ou = TestOu::new(&env, "item7c");
    let t = tag();
    let config = delegated_with_policy(&env, &[samba_spelled_scope(&env)]);
    let (sim, _c) = start(&config).await;
    let parent = samba_spelled(&env, &ou.dn);
    let cases = [
        ("servicePrincipalName", format!("HTTP/ic-spn-{t}.example.test")),
        ("adminCount", "1".to_owned()),
        ("msDS-KeyCredentialLink", format!("B:8:0102ABCD:CN=ic-kcl-{t},{}", ou.dn)),
        ("altSecurityIdentities", "X509:<I>CN=Evil CA<S>CN=Administrator".to_owned()),
        ("userPassword", format!("Attr-Secret-{t}")),
    ];
    for (i, (attr, v)) in cases.iter().enumerate() {
        let sam = format!("icat{t}{i}");
        let create =
            json!({"directory": "ad", "parent_dn": parent, "sam_account_name": sam, "attributes": {*attr: [v]}});
        let r = run(&sim, "ad.create_user", create).await;
        if in_schema(&env, attr) {
            refused(&r, &format!("create with {attr}"), &[*attr]);
        } else {
            // Samba 4.17 has no 2016 schema, which brought msDS-KeyCredentialLink: an
            // attribute the schema lacks cannot be written at all, and `invalid_job` naming
            // it refuses as surely as the policy does.
            assert!(matches!(code(&r), "forbidden_by_policy" | "invalid_job"), "create with {attr}: {r}");
            assert!(r["error"]["message"].as_str().unwrap_or_default().contains(*attr), "{r}");
        }
        assert!(users_under(&env, &ou.dn, &format!("(sAMAccountName={sam})")).is_empty(), "created with {attr}");
    }
}

/// Item 7, updates: the refusal holds for an attribute given by its OID or as
/// `name;option`, and scriptPath is refused by default; the user stays unchanged.
#[tokio::test]
async fn item7_attributes_by_oid_or_with_options_are_refused_on_update() {
    let env = servers::samba();
    let ou = TestOu::new(&env, "item7u");
    let t = tag();
    let dn = NewUser::new("Oid Target", format!("icoid{t}")).add(&env, &ou.dn);
    let config = delegated_with_policy(&env, &[samba_spelled_scope(&env)]);
    let (sim, _c) = start(&config).await;
    let cases = [
        ("replace", "1.2.840.113556.1.4.771", format!("HTTP/ic-oid-{t}.example.test")), // servicePrincipalName
        ("replace", "1.2.840.113556.1.4.62", "logon.bat".to_owned()),                   // scriptPath
        ("replace", "scriptPath", "logon.bat".to_owned()),
        ("add", "servicePrincipalName;binary", format!("HTTP/ic-opt-{t}.example.test")),
        ("add", "ServicePrincipalName", format!("HTTP/ic-case-{t}.example.test")),
    ];
    for (op, attr, v) in &cases {
        let upd = json!({"directory": "ad", "user": user_ref(&dn), *op: {*attr: [v]}});
        let r = run(&sim, "ad.update_user", upd).await;
        assert_eq!(code(&r), "forbidden_by_policy", "update {op} {attr}: {r}");
    }
    assert!(values(&env, &dn, "servicePrincipalName").is_empty(), "an SPN was written");
    assert!(values(&env, &dn, "scriptPath").is_empty(), "scriptPath was written");
}

/// Item 7, `writable_attributes = ["description"]` narrows what may be written.
#[tokio::test]
async fn item7_writable_attributes_narrow_what_may_be_written() {
    let env = servers::samba();
    let ou = TestOu::new(&env, "item7w");
    let t = tag();
    let dn = NewUser::new("Narrow", format!("icnw{t}")).add(&env, &ou.dn);
    let config =
        delegated_with_policy(&env, &[samba_spelled_scope(&env), "writable_attributes = [\"description\"]".into()]);
    let (sim, _c) = start(&config).await;
    let mailbox = json!({"directory": "ad", "user": user_ref(&dn), "add": {"otherMailbox": ["x@other.example"]}});
    refused(&run(&sim, "ad.update_user", mailbox).await, "otherMailbox outside writable_attributes", &["otherMailbox"]);
    assert!(values(&env, &dn, "otherMailbox").is_empty());
    let desc = json!({"directory": "ad", "user": user_ref(&dn), "replace": {"description": ["allowed"]}});
    assert_eq!(ok(&run(&sim, "ad.update_user", desc).await)["changed"], json!(["description"]));
    let create = json!({"directory": "ad", "parent_dn": samba_spelled(&env, &ou.dn), "sam_account_name": format!("icnw{t}c"),
        "attributes": {"otherMailbox": ["y@other.example"]}});
    refused(&run(&sim, "ad.create_user", create).await, "create with otherMailbox", &["otherMailbox"]);
}

/// Item 7, secrets: a `userPassword` value in `attributes` never appears in clear in the
/// connector's storage (queue, spool, audit journal, logs), in `queue show` or `audit
/// show`, or in the result. The create is held in the queue behind a sleeping job on the
/// same ordering key, read at rest after a kill -9, then run.
#[tokio::test]
async fn item7_a_password_in_attributes_never_reaches_storage_or_output() {
    let env = servers::samba();
    let ou = TestOu::new(&env, "item7s");
    let t = tag();
    let secret = format!("Zebra-Attr-{t}!");
    let config = delegated_with_policy(&env, &[samba_spelled_scope(&env)]);
    let (sim, mut c) = start(&config).await;
    let ids = sim
        .submit(json!([
            {"type": "test.noop", "ordering_key": "hold", "payload": {"sleep_ms": 8000}},
            {"type": "ad.create_user", "ordering_key": "hold", "payload": {"directory": "ad", "parent_dn": samba_spelled(&env, &ou.dn),
                "sam_account_name": format!("icsa{t}"), "attributes": {"userPassword": [secret]}}},
        ]))
        .await;
    eventually(LIMIT, "the held create acknowledged (stored in the queue)", || async {
        (sim.job(&ids[1]).await["state"] == "acked").then_some(())
    })
    .await;
    c.kill9();
    let mut places: Vec<(String, Vec<u8>)> =
        files(&c.dir).into_iter().map(|(p, b)| (format!("{} (at rest)", p.display()), b)).collect();
    let show = c.cli(&["queue", "show", &ids[1]]);
    places.push(("queue show".into(), [show.stdout, show.stderr].concat()));
    c.restart();
    online(&sim, &mut c).await;
    let views = sim.wait_done(&ids, LIMIT).await;
    c.terminate(LIMIT);
    places.extend(files(&c.dir).into_iter().map(|(p, b)| (format!("{} (after the job)", p.display()), b)));
    let audit = c.cli(&["audit", "show"]);
    places.push(("audit show".into(), [audit.stdout, audit.stderr].concat()));
    places.push(("connector log".into(), c.log_text().into_bytes()));
    places.push(("the result the connector delivered".into(), views[1]["result"].to_string().into_bytes()));
    assert!(places.len() > 5, "scanned only {} places", places.len());
    for (place, bytes) in &places {
        assert!(!contains(bytes, &secret), "the userPassword value was found in {place}");
    }
}

// === item 8: protected principals by identity ===

/// Item 8: `protected_groups = ["Tier0Admins"]` (the sAMAccountName; the CN is "Tier 0
/// Admins"): a direct member, a member only through a nested group, and a member only by
/// primary group are refused every write; no one is added to the group, to the group
/// nested into it, or to a group nested below that, and no one leaves it. The directory
/// stays unchanged.
#[tokio::test]
async fn item8_members_of_a_protected_group_by_nesting_or_primary_group_are_refused() {
    let env = servers::samba();
    let ou = TestOu::new(&env, "item8");
    let t = tag();
    let tier0 = env.get("AD_TIER0_GROUP_DN");
    let nested = env.get("AD_TIER0_NESTED_GROUP_DN");
    let pw = "Tier0-Pw-8";
    let direct = NewUser::new("Direct T0", format!("ic8d{t}")).password(pw).add(&env, &ou.dn);
    add_member(&env, tier0, &direct);
    let via_nesting = NewUser::new("Nested T0", format!("ic8n{t}")).password(pw).add(&env, &ou.dn);
    add_member(&env, nested, &via_nesting);
    let by_primary = NewUser::new("Primary T0", format!("ic8p{t}")).password(pw).add(&env, &ou.dn);
    add_member(&env, tier0, &by_primary);
    let rid = value(&env, env.get("AD_TIER0_PRIMARY_MEMBER_DN"), "primaryGroupID").expect("the rig's primary member");
    assert!(admin_ldif(
        &env,
        &format!("dn: {by_primary}\nchangetype: modify\nreplace: primaryGroupID\nprimaryGroupID: {rid}\n-\n")
    ));
    let below = ou.group(&format!("ic8g{t}")); // nested into the nested group: two levels below Tier0Admins
    add_member(&env, nested, &below);
    let plain_group = ou.group(&format!("ic8q{t}"));
    let outsider = NewUser::new("Outsider T0", format!("ic8o{t}")).password(pw).add(&env, &ou.dn);
    let before: Vec<_> = [&direct, &via_nesting, &by_primary]
        .iter()
        .map(|dn| read(&env, dn, &["userAccountControl", "pwdLastSet", "description", "memberOf"]))
        .collect();
    let config =
        delegated_with_policy(&env, &[samba_spelled_scope(&env), "protected_groups = [\"Tier0Admins\"]".into()]);
    let (sim, _c) = start(&config).await;
    for (who, dn) in [("direct", &direct), ("nested", &via_nesting), ("primary-group", &by_primary)] {
        let u = user_ref(dn);
        let jobs = [
            ("ad.update_user", json!({"directory": "ad", "user": u, "replace": {"description": ["x"]}})),
            ("ad.reset_password", json!({"directory": "ad", "user": u, "new_password": "Reset-Pw-8"})),
            ("ad.unlock_user", json!({"directory": "ad", "user": u})),
            ("ad.enable_user", json!({"directory": "ad", "user": u})),
            ("ad.disable_user", json!({"directory": "ad", "user": u})),
            ("ad.add_to_group", json!({"directory": "ad", "user": u, "group": {"dn": plain_group}})),
            ("ad.delete_user", json!({"directory": "ad", "user": u})),
        ];
        for (job_type, payload) in jobs {
            let r = run(&sim, job_type, payload).await;
            refused(&r, &format!("{job_type} of the {who} member"), &["protected", "Tier"]);
        }
    }
    for group in [json!({"sam_account_name": "Tier0Admins"}), json!({"dn": nested}), json!({"dn": below})] {
        let payload = json!({"directory": "ad", "user": user_ref(&outsider), "group": group});
        let r = run(&sim, "ad.add_to_group", payload).await;
        refused(&r, &format!("add_to_group {group}"), &["protected", "Tier"]);
    }
    // a protected group is not changed at all: no one leaves it either
    let leave = json!({"directory": "ad", "user": user_ref(&direct), "group": {"sam_account_name": "Tier0Admins"}});
    refused(&run(&sim, "ad.remove_from_group", leave).await, "remove_from_group Tier0Admins", &["protected", "Tier"]);
    let after: Vec<_> = [&direct, &via_nesting, &by_primary]
        .iter()
        .map(|dn| read(&env, dn, &["userAccountControl", "pwdLastSet", "description", "memberOf"]))
        .collect();
    assert_eq!(before, after, "a protected member was changed");
    assert!(values(&env, &outsider, "memberOf").is_empty(), "the outsider was added to a protected group");
    assert_eq!(bind_result(&env, &direct, pw), "ok", "a protected member's password was reset");
}

/// Item 8, the nesting walk (issue #17): a group's parents are read up `memberOf`, and
/// past 8 of them the in-chain search decides. Refused: a group 3 levels below the group
/// nested into Tier0Admins (the walk finds it), one 10 levels below (the in-chain search
/// finds it), and one whose diamond of parents reaches it on one side only. Allowed: a
/// group whose parents form a cycle and a diamond, none protected (the walk ends).
#[tokio::test]
async fn item8_nesting_is_found_at_any_depth_through_cycles_and_diamonds() {
    let env = servers::samba();
    let ou = TestOu::new(&env, "item8w");
    let t = tag();
    let nested = env.get("AD_TIER0_NESTED_GROUP_DN");
    let chain = |name: &str, n: usize| -> Vec<String> {
        let groups: Vec<String> = (0..n).map(|i| ou.group(&format!("ic8w{t}{name}{i}"))).collect();
        for w in groups.windows(2) {
            add_member(&env, &w[1], &w[0]);
        }
        groups
    };
    let shallow = chain("s", 3);
    add_member(&env, nested, &shallow[2]);
    let deep = chain("d", 10);
    add_member(&env, nested, &deep[9]);
    // c0 in c1 and c2, both in c3, c3 in c1 again: a diamond and a cycle, nothing protected.
    let clear: Vec<String> = (0..4).map(|i| ou.group(&format!("ic8w{t}c{i}"))).collect();
    for (parent, child) in [(1, 0), (2, 0), (3, 1), (3, 2), (1, 3)] {
        add_member(&env, &clear[parent], &clear[child]);
    }
    // p0 in p1 and p2; only p2 is in the nested group.
    let diamond = chain("p", 2);
    let p2 = ou.group(&format!("ic8w{t}p2"));
    add_member(&env, &p2, &diamond[0]);
    add_member(&env, nested, &p2);
    let outsider = NewUser::new("Walk T0", format!("ic8wo{t}")).password("Tier0-Pw-8w").add(&env, &ou.dn);
    let config =
        delegated_with_policy(&env, &[samba_spelled_scope(&env), "protected_groups = [\"Tier0Admins\"]".into()]);
    let (sim, _c) = start(&config).await;
    for (what, group) in
        [("3 levels below", &shallow[0]), ("10 levels below", &deep[0]), ("one side of a diamond", &diamond[0])]
    {
        let payload = json!({"directory": "ad", "user": user_ref(&outsider), "group": {"dn": group}});
        refused(&run(&sim, "ad.add_to_group", payload).await, &format!("add_to_group {what}"), &["protected", "Tier"]);
    }
    assert!(
        values(&env, &outsider, "memberOf").is_empty(),
        "the outsider was added to a group nested into Tier0Admins"
    );
    let payload = json!({"directory": "ad", "user": user_ref(&outsider), "group": {"dn": clear[0]}});
    let r = run(&sim, "ad.add_to_group", payload).await;
    assert_eq!(r["status"], "succeeded", "a group whose parents form a cycle, none protected: {r}");
    assert_eq!(values(&env, &outsider, "memberOf").len(), 1, "the outsider is in the cycle's group");
}

/// Item 8, the built-in set: AD's privileged groups are protected by default, including
/// DnsAdmins (no fixed RID: found by name), Cert Publishers, Domain Controllers and
/// Read-only Domain Controllers; a member of Domain Admins is refused too. (Key Admins and
/// Enterprise Key Admins exist only at the 2016 functional level, which Samba 4.17 does
/// not provision.)
#[tokio::test]
async fn item8_the_built_in_privileged_groups_are_protected_by_default() {
    let env = servers::samba();
    let ou = TestOu::new(&env, "item8b");
    let t = tag();
    let base = env.get("AD_BASE_DN");
    let groups = [
        env.get("AD_DNSADMINS_DN").to_owned(),
        format!("CN=Cert Publishers,CN=Users,{base}"),
        format!("CN=Domain Controllers,CN=Users,{base}"),
        format!("CN=Read-only Domain Controllers,CN=Users,{base}"),
    ];
    let x = NewUser::new("Would Be Admin", format!("ic8x{t}")).password("Admin-Pw-8").add(&env, &ou.dn);
    let da = NewUser::new("Disabled DA", format!("ic8a{t}")).password("Admin-Pw-8").uac(514).add(&env, &ou.dn);
    add_member(&env, env.get("AD_DOMAIN_ADMINS_DN"), &da);
    {
        // A Domain Admin over the whole domain: the delegated account may not write these
        // groups at all (the DC answers 50), so only a Domain Admin shows that it is the
        // connector's own policy that refuses.
        let (sim, _c) = start(&servers::samba_directory("ad", &env)).await;
        for g in &groups {
            let r = run(&sim, "ad.add_to_group", json!({"directory": "ad", "user": user_ref(&x), "group": {"dn": g}}))
                .await;
            let cn = g.split(',').next().unwrap_or_default().trim_start_matches("CN=");
            refused(&r, &format!("add_to_group {g} as a Domain Admin"), &["protected", cn]);
        }
        assert!(
            values(&env, &x, "memberOf").is_empty(),
            "added to a privileged group: {:?}",
            values(&env, &x, "memberOf")
        );
    }
    let config = delegated_with_policy(&env, &[samba_spelled_scope(&env)]);
    let (sim, _c) = start(&config).await;
    let r = run(&sim, "ad.add_to_group", json!({"directory": "ad", "user": user_ref(&x), "group": {"dn": groups[0]}}))
        .await;
    assert_eq!(code(&r), "forbidden_by_policy", "add_to_group DnsAdmins as svc-delegated: {r}");
    let r = run(&sim, "ad.enable_user", json!({"directory": "ad", "user": user_ref(&da)})).await;
    refused(&r, "enable a member of Domain Admins", &["protected", "Domain Admins"]);
    assert_eq!(value(&env, &da, "userAccountControl").as_deref(), Some("514"));
}

// === item 9: a write that was sent is reported by its outcome ===

/// What the proxy is doing with the DC's answers on the connection that sent the write.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    /// Everything passes.
    Open,
    /// The next ModifyRequest passes, then its connection's answers are held.
    Armed,
    /// A ModifyRequest went to the DC on connection `.0`; its answers wait.
    Holding(u64),
    /// Everything passes again.
    Released,
}

/// A TCP proxy in front of Samba's plain LDAP port (127.0.0.1:389), reading just enough
/// BER to see a ModifyRequest (`[APPLICATION 6]`, tag 0x66) go by.
struct HoldingProxy {
    port: u16,
    phase: watch::Sender<Phase>,
}

impl HoldingProxy {
    async fn start(upstream: String) -> HoldingProxy {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("proxy listen");
        let port = listener.local_addr().expect("addr").port();
        let (phase, _) = watch::channel(Phase::Open);
        let tx = phase.clone();
        tokio::spawn(async move {
            let mut next_id = 0u64;
            while let Ok((client, _)) = listener.accept().await {
                next_id += 1;
                let Ok(server) = TcpStream::connect(&upstream).await else { continue };
                tokio::spawn(Self::connection(next_id, client, server, tx.clone()));
            }
        });
        HoldingProxy { port, phase }
    }

    async fn connection(id: u64, client: TcpStream, server: TcpStream, phase: watch::Sender<Phase>) {
        let (mut cr, mut cw) = client.into_split();
        let (mut sr, mut sw) = server.into_split();
        let up_phase = phase.clone();
        let up = tokio::spawn(async move {
            let mut pending: Vec<u8> = Vec::new();
            let mut buf = [0u8; 16384];
            loop {
                let n = match cr.read(&mut buf).await {
                    Ok(0) | Err(_) => break,
                    Ok(n) => n,
                };
                pending.extend_from_slice(&buf[..n]);
                while let Some((len, _, op)) = crate::harness::ber::message(&pending) {
                    if op == 0x66 && *up_phase.borrow() == Phase::Armed {
                        up_phase.send_replace(Phase::Holding(id));
                    }
                    if sw.write_all(&pending[..len]).await.is_err() {
                        return;
                    }
                    pending.drain(..len);
                }
            }
        });
        let mut rx = phase.subscribe();
        let mut buf = [0u8; 16384];
        loop {
            let n = match sr.read(&mut buf).await {
                Ok(0) | Err(_) => break,
                Ok(n) => n,
            };
            while *rx.borrow_and_update() == Phase::Holding(id) {
                if rx.changed().await.is_err() {
                    break;
                }
            }
            if cw.write_all(&buf[..n]).await.is_err() {
                break;
            }
        }
        up.abort();
    }
}

/// Item 9: a portal cancel that arrives while the write is at the DC (the DC's answer held
/// back by a proxy) does not turn a write that happened into `cancelled`: the result is
/// the write's outcome and the audit journal has the job's line.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn item9_a_write_that_was_sent_is_reported_by_its_outcome_not_as_cancelled() {
    let env = servers::samba();
    let ou = TestOu::new(&env, "item9");
    let t = tag();
    let dn = NewUser::new("Cancel Target", format!("iccx{t}")).password("Cancel-Pw-9").add(&env, &ou.dn);
    let upstream = env.get("AD_URL").trim_start_matches("ldap://").to_owned();
    let proxy = HoldingProxy::start(upstream).await;
    // Plain LDAP through the proxy (no TLS: the proxy must read the requests); only a
    // job without a password runs over it.
    let config = format!(
        "[directories.ad]\nkind = \"active_directory\"\nurls = [\"ldap://127.0.0.1:{}\"]\nbind_dn = \"{}\"\nbind_password = \"{}\"\nbase_dn = \"{}\"\nstarttls = false\n\n[directories.ad.policy]\n{}\n",
        proxy.port,
        env.get("AD_DELEGATED_DN"),
        env.get("AD_DELEGATED_PW"),
        toml_escape(env.get("AD_TEAM_OU_DN")),
        samba_spelled_scope(&env),
    );
    let (sim, c) = start(&config).await;
    proxy.phase.send_replace(Phase::Armed);
    let ids =
        sim.submit(json!([{"type": "ad.disable_user", "payload": {"directory": "ad", "user": user_ref(&dn)}}])).await;
    eventually(LIMIT, "the disable's ModifyRequest at the DC, its answer held", || async {
        matches!(*proxy.phase.borrow(), Phase::Holding(_)).then_some(())
    })
    .await;
    sim.post(&format!("/admin/jobs/{}/cancel", ids[0]), json!({})).await;
    // The cancel reaches the connector with the next heartbeat answer (1 s here).
    tokio::time::sleep(Duration::from_secs(4)).await;
    proxy.phase.send_replace(Phase::Released);
    let views = sim.wait_done(&ids, LIMIT).await;
    assert_eq!(value(&env, &dn, "userAccountControl").as_deref(), Some("514"), "the write did not happen");
    let result = &views[0]["result"];
    assert_eq!(result["status"], "succeeded", "a write that happened reported as: {result}");
    assert_eq!(result["result"]["changed"], true, "{result}");
    let lines = audit_lines(&c, &ids[0]);
    assert!(
        lines.iter().any(|l| l["outcome"].as_str().is_some_and(|o| o.contains("succeeded"))),
        "no audit line with the write's outcome: {lines:?}"
    );
}

// === item 10: a forced change the DC would ignore ===

/// Item 10: `must_change_password: true` on an account with DONT_EXPIRE_PASSWORD
/// (userAccountControl 66048) is refused as `constraint_violation` naming the flag; nothing
/// is written (pwdLastSet and the password stay).
#[tokio::test]
async fn item10_a_forced_change_on_a_dont_expire_account_is_refused() {
    let env = servers::samba();
    let ou = TestOu::new(&env, "item10");
    let t = tag();
    let pw = "NoExpire-Pw-10";
    let dn = NewUser::new("No Expire", format!("icne{t}")).password(pw).uac(66048).add(&env, &ou.dn);
    let before = value(&env, &dn, "pwdLastSet");
    let config = delegated_with_policy(&env, &[samba_spelled_scope(&env)]);
    let (sim, _c) = start(&config).await;
    let reset =
        json!({"directory": "ad", "user": user_ref(&dn), "new_password": "Forced-Pw-10", "must_change_password": true});
    let r = run(&sim, "ad.reset_password", reset).await;
    assert_eq!(code(&r), "constraint_violation", "{r}");
    assert!(r["error"]["message"].as_str().unwrap_or_default().contains("DONT_EXPIRE_PASSWORD"), "{r}");
    assert_eq!(value(&env, &dn, "pwdLastSet"), before, "pwdLastSet changed");
    assert_eq!(bind_result(&env, &dn, pw), "ok", "the password was reset");
}

// === kind: no write without its audit line ===

/// Kind "no write without its audit line": the intent is journaled before the write and
/// the outcome after, both naming the target.
#[tokio::test]
async fn kind_every_write_has_its_intent_and_outcome_in_the_audit_journal() {
    let env = servers::samba();
    let ou = TestOu::new(&env, "audit");
    let t = tag();
    let dn = NewUser::new("Audited", format!("icau{t}")).password("Audit-Pw-1").add(&env, &ou.dn);
    let config = delegated_with_policy(&env, &[samba_spelled_scope(&env)]);
    let (sim, c) = start(&config).await;
    let ids =
        sim.submit(json!([{"type": "ad.disable_user", "payload": {"directory": "ad", "user": user_ref(&dn)}}])).await;
    let views = sim.wait_done(&ids, LIMIT).await;
    ok(&views[0]["result"]);
    let lines = audit_lines(&c, &ids[0]);
    assert!(lines.len() >= 2, "expected an intent line before the write and an outcome line after: {lines:?}");
    for l in &lines {
        assert!(l["target_dn"].as_str().is_some_and(|d| d.contains("Audited")), "a line not naming the target: {l}");
    }
    assert!(lines.last().and_then(|l| l["outcome"].as_str()).is_some_and(|o| o.contains("succeeded")), "{lines:?}");
    assert!(
        lines[..lines.len() - 1].iter().all(|l| l["outcome"] != "succeeded"),
        "no intent before the outcome: {lines:?}"
    );
}

// === kind: one Dn type for every DN comparison ===

/// Kind "DN comparison everywhere": `allowed_ous` and group references spelled another
/// way than Samba spells them (hex escapes, case), membership checks against them, and
/// create parents with escaped names as a person writes them.
#[tokio::test]
async fn kind_dns_are_compared_as_dns_everywhere() {
    let env = servers::samba();
    let ou = TestOu::new(&env, "dnkind");
    let t = tag();
    let parents = [format!("OU=Sales\\, EMEA #3,{}", ou.dn), format!("OU=\\#Ops \\+ ß 日本\\; x\\=y\\ ,{}", ou.dn)];
    for p in &parents {
        add_ou(&env, p);
    }
    let group = ou.group(&format!("icdng{t}"));
    let member = NewUser::new("Dn Member", format!("icdnm{t}")).add(&env, &ou.dn);
    add_member(&env, &group, &member);
    // `OU=Team #2` with `#` hex-escaped and other case
    let config = delegated_with_policy(&env, &["allowed_ous = [\"ou=TEAM \\\\232,dc=EXAMPLE,dc=test\"]".into()]);
    let (sim, _c) = start(&config).await;
    // the rig's R&D member, already in R&D (not protected here), the group spelled another way
    let rnd_spelled = "cn=r&d\\2c lab \\231,ou=team \\232,dc=example,dc=test";
    let already = json!({"directory": "ad", "user": {"sam_account_name": env.get("AD_RND_MEMBER")}, "group": {"dn": rnd_spelled}});
    assert_eq!(ok(&run(&sim, "ad.add_to_group", already).await)["changed"], false);
    // a membership removed through another spelling of the group, then gone
    let spelled = group.replace("CN=", "cn=").replace("OU=Team #2", "OU=team \\232");
    let remove = json!({"directory": "ad", "user": user_ref(&member), "group": {"dn": spelled}});
    assert_eq!(ok(&run(&sim, "ad.remove_from_group", remove.clone()).await)["changed"], true);
    assert!(values(&env, &member, "memberOf").is_empty());
    assert_eq!(ok(&run(&sim, "ad.remove_from_group", remove).await)["changed"], false);
    // creates under escaped parents, as a person writes them, with a group given another way
    for (i, parent) in parents.iter().enumerate() {
        let sam = format!("icdn{t}{i}");
        let create = json!({"directory": "ad", "parent_dn": parent, "sam_account_name": sam, "display_name": "Ünïcode, Name #1",
            "groups": [{"dn": spelled}]});
        let created = run(&sim, "ad.create_user", create).await;
        let dn = ok(&created)["dn"].as_str().expect("dn").to_owned();
        assert_eq!(
            users_under(&env, parent, &format!("(sAMAccountName={sam})")),
            vec![sam.clone()],
            "not under {parent}"
        );
        // the DN answered names that entry (the DC resolves it)
        assert_eq!(values(&env, &dn, "sAMAccountName"), vec![sam.clone()], "{dn}");
        assert_eq!(values(&env, &dn, "memberOf").len(), 1, "{dn}: the group");
    }
}

/// An OU of a test outside `OU=Team #2`, made and removed by the administrator.
struct OutsideOu {
    env: ServerEnv,
    dn: String,
}

impl Drop for OutsideOu {
    fn drop(&mut self) {
        let _ = crate::ad_ops::delete_tree(&self.env, &self.dn);
    }
}

/// Kind "DN comparison everywhere", import bases: a delta import of one OU (its base as a
/// person writes it) reports the deletion of an entry that was under it, and not that of
/// an entry elsewhere (a tombstone's last parent compared as a DN with the base).
#[tokio::test]
async fn kind_a_delta_import_reports_only_the_deletions_under_its_base() {
    let env = servers::samba();
    let inside = TestOu::new(&env, "deltain");
    let outside =
        OutsideOu { env: env.clone(), dn: format!("OU=ic-deltaout-{},{}", std::process::id(), env.get("AD_BASE_DN")) };
    let _ = crate::ad_ops::delete_tree(&env, &outside.dn);
    add_ou(&env, &outside.dn);
    let t = tag();
    let gone_inside = NewUser::new("Gone Inside", format!("icdi{t}")).add(&env, &inside.dn);
    let gone_outside = NewUser::new("Gone Outside", format!("icdo{t}")).add(&env, &outside.dn);
    // A Domain Admin: deletions are read from CN=Deleted Objects, which AD shows only to
    // administrators (svc-delegated's show-deleted search there answers nothing).
    let (sim, _c) = start(&servers::samba_directory("ad", &env)).await;
    let (full, records) = crate::ldap::import(&sim, "ad", json!({"base_dn": inside.dn})).await;
    assert_eq!(full["result"]["status"], "succeeded", "{}", full["result"]);
    assert!(records.iter().any(|r| r["dn"].as_str().is_some_and(|d| d.contains("Gone Inside"))), "{records:?}");
    let token = full["result"]["result"]["delta_token"].as_str().expect("delta_token").to_owned();
    for dn in [&gone_inside, &gone_outside] {
        assert!(admin_ldif(&env, &format!("dn: {dn}\nchangetype: delete\n")), "cannot delete {dn}");
    }
    let (delta, records) =
        crate::ldap::import(&sim, "ad", json!({"base_dn": inside.dn, "mode": "delta", "delta_token": token})).await;
    assert_eq!(delta["result"]["status"], "succeeded", "{}", delta["result"]);
    let deleted: Vec<&str> = records.iter().filter(|r| r["deleted"] == true).filter_map(|r| r["dn"].as_str()).collect();
    assert!(deleted.iter().any(|d| d.contains("Gone Inside")), "the deletion under the base is missing: {deleted:?}");
    assert!(
        !deleted.iter().any(|d| d.contains("Gone Outside")),
        "a deletion outside the base was reported: {deleted:?}"
    );
}

// === kind: an audit journal that cannot be written ===

/// Makes a file immutable (`chattr +i`: even an open descriptor's writes fail with EPERM)
/// until dropped, so a test can fail the audit journal's writes on a real filesystem.
struct Immutable(std::path::PathBuf);

impl Immutable {
    fn set(path: &std::path::Path) -> Immutable {
        let out = Command::new("chattr").arg("+i").arg(path).output().expect("chattr");
        assert!(out.status.success(), "chattr +i {}: {}", path.display(), String::from_utf8_lossy(&out.stderr));
        Immutable(path.to_path_buf())
    }
}

impl Drop for Immutable {
    fn drop(&mut self) {
        let _ = Command::new("chattr").arg("-i").arg(&self.0).output();
    }
}

/// Kind "no write without its audit line": when the journal cannot be written, the job
/// fails loudly (`internal`, naming the journal), nothing reaches the directory, and the
/// connector says `degraded` (component `audit` failing) until a line can be written again.
#[tokio::test]
async fn kind_a_journal_that_cannot_be_written_stops_the_write_and_degrades_the_connector() {
    let env = servers::samba();
    let ou = TestOu::new(&env, "auditfail");
    let dn = NewUser::new("Audit Fail", format!("icaf{}", tag())).uac(514).add(&env, &ou.dn);
    let config = delegated_with_policy(&env, &[samba_spelled_scope(&env)]);
    let (sim, c) = start(&config).await;
    let user = json!({"directory": "ad", "user": user_ref(&dn)});
    // A first write creates the journal, as it is in service.
    ok(&run(&sim, "ad.enable_user", user.clone()).await);
    let journal = c.dir.join("data").join("audit.jsonl");
    let lines_before = std::fs::read_to_string(&journal).expect("journal").lines().count();
    let guard = Immutable::set(&journal);
    let r = run(&sim, "ad.disable_user", user.clone()).await;
    assert_eq!(code(&r), "internal", "{r}");
    assert!(r["error"]["message"].as_str().unwrap_or_default().contains("audit journal"), "{r}");
    assert_eq!(value(&env, &dn, "userAccountControl").as_deref(), Some("512"), "written without an audit line");
    eventually(LIMIT, "the connector degraded", || async {
        let s = sim.summary().await;
        (s["connectors"][0]["status"] == "degraded").then_some(())
    })
    .await;
    drop(guard);
    assert_eq!(ok(&run(&sim, "ad.disable_user", user).await)["changed"], true);
    assert_eq!(value(&env, &dn, "userAccountControl").as_deref(), Some("514"));
    assert_eq!(std::fs::read_to_string(&journal).expect("journal").lines().count(), lines_before + 2);
    eventually(LIMIT, "the connector online again", || async {
        let s = sim.summary().await;
        (s["connectors"][0]["status"] == "online").then_some(())
    })
    .await;
}

// === found by review: each a bypass or a wrong answer of the first implementation ===

/// Two creates of one DN and one sAMAccountName that the portal put on different
/// ordering keys (so they run at once): the second add's "already exists" comes from the
/// first job, never from an earlier run of its own, so it must not take the account over.
#[tokio::test]
async fn review_a_first_run_never_adopts_an_entry_another_job_just_made() {
    let env = servers::samba();
    let ou = TestOu::new(&env, "rvadopt");
    let config = delegated_with_policy(&env, &[samba_spelled_scope(&env)]);
    let (sim, _c) = start(&config).await;
    let parent = samba_spelled(&env, &ou.dn);
    for round in 0..4 {
        let (g1, g2) = (ou.group(&format!("rvadopt-a{round}")), ou.group(&format!("rvadopt-b{round}")));
        let sam = format!("icra{}{round}", tag());
        let job = |key: &str, pw: &str, group: &str| {
            json!({"type": "ad.create_user", "ordering_key": format!("{key}{round}"), "payload": {"directory": "ad",
                "parent_dn": parent, "sam_account_name": sam, "cn": format!("Race {round}"), "password": pw,
                "groups": [{"dn": group}]}})
        };
        let ids = sim.submit(json!([job("a", "Race-Pw-A1", &g1), job("b", "Race-Pw-B1", &g2)])).await;
        let views = sim.wait_done(&ids, LIMIT).await;
        let outcomes: Vec<&Value> = views.iter().map(|v| &v["result"]).collect();
        let won: Vec<usize> = (0..2).filter(|i| outcomes[*i]["status"] == "succeeded").collect();
        assert_eq!(won.len(), 1, "round {round}: exactly one create wins: {outcomes:?}");
        let lost = 1 - won[0];
        assert_eq!(code(outcomes[lost]), "already_exists", "round {round}: {outcomes:?}");
        let (pw, loser_group) = if won[0] == 0 { ("Race-Pw-A1", &g2) } else { ("Race-Pw-B1", &g1) };
        assert_eq!(login(&sim, "ad", &sam, pw).await["authenticated"], true, "round {round}: the winner's password");
        assert!(values(&env, loser_group, "member").is_empty(), "round {round}: the loser's group gained a member");
    }
}

/// A distribution group in `protected_groups` protects its members too (`tokenGroups`
/// holds security groups only: membership is also read with the in-chain rule).
#[tokio::test]
async fn review_a_protected_distribution_group_protects_its_members() {
    let env = servers::samba();
    let ou = TestOu::new(&env, "rvdist");
    let t = tag();
    let group = format!("CN=Distribution {t},{}", ou.dn);
    assert!(admin_ldif(
        &env,
        &format!("dn: {group}\nchangetype: add\nobjectClass: group\nsAMAccountName: icdist{t}\ngroupType: 2\n")
    ));
    let member = NewUser::new("Dist Member", format!("icdm{t}")).password("Dist-Pw-1").add(&env, &ou.dn);
    add_member(&env, &group, &member);
    let config = delegated_with_policy(
        &env,
        &[samba_spelled_scope(&env), format!("protected_groups = [\"{}\"]", toml_escape(&group))],
    );
    let (sim, _c) = start(&config).await;
    let r = run(&sim, "ad.disable_user", json!({"directory": "ad", "user": user_ref(&member)})).await;
    assert_eq!(code(&r), "forbidden_by_policy", "{r}");
    assert!(r["error"]["message"].as_str().unwrap_or_default().contains("protected group"), "{r}");
    assert_eq!(value(&env, &member, "userAccountControl").as_deref(), Some("512"));
}

/// An account flagged PASSWD_NOTREQD is never enabled (it may have no password); a reset
/// clears the flag, and then it can be. A create without a password gets one nobody
/// knows (pwdLastSet moves), so enabling it later never yields an account without one.
#[tokio::test]
async fn review_no_path_enables_an_account_without_a_password() {
    let env = servers::samba();
    let ou = TestOu::new(&env, "rvnopw");
    let t = tag();
    let notreqd = NewUser::new("No Pw Req", format!("icnr{t}")).uac(546).add(&env, &ou.dn);
    let config = delegated_with_policy(&env, &[samba_spelled_scope(&env)]);
    let (sim, _c) = start(&config).await;
    let user = json!({"directory": "ad", "user": user_ref(&notreqd)});
    let r = run(&sim, "ad.enable_user", user.clone()).await;
    assert_eq!(code(&r), "constraint_violation", "{r}");
    assert!(r["error"]["message"].as_str().unwrap_or_default().contains("PASSWD_NOTREQD"), "{r}");
    assert_eq!(value(&env, &notreqd, "userAccountControl").as_deref(), Some("546"));
    let reset = json!({"directory": "ad", "user": user_ref(&notreqd), "new_password": "Now-Has-Pw-1"});
    ok(&run(&sim, "ad.reset_password", reset).await);
    assert_eq!(value(&env, &notreqd, "userAccountControl").as_deref(), Some("514"), "the reset clears the flag");
    assert_eq!(ok(&run(&sim, "ad.enable_user", user).await)["changed"], true);
    let sam = format!("icnp{t}");
    let create = json!({"directory": "ad", "parent_dn": samba_spelled(&env, &ou.dn), "sam_account_name": sam});
    let dn = ok(&run(&sim, "ad.create_user", create).await)["dn"].as_str().expect("dn").to_owned();
    assert_eq!(value(&env, &dn, "userAccountControl").as_deref(), Some("514"));
    assert_ne!(value(&env, &dn, "pwdLastSet").as_deref(), Some("0"), "no password was set");
}

/// DNs as people write them (spaces around `=`, `OID.2.5.4.11=`, long type names) reach
/// the DC in the form it accepts; a multi-valued RDN, which AD cannot hold, is the job's
/// error; the primary group cannot be "removed" as if it were an ordinary membership; a
/// sAMAccountName taken elsewhere is named in the answer.
#[tokio::test]
async fn review_dns_as_written_primary_groups_and_taken_names_get_plain_answers() {
    let env = servers::samba();
    let ou = TestOu::new(&env, "rvdn");
    let t = tag();
    let dn = NewUser::new("Spaced Name", format!("icsp{t}")).password("Spaced-Pw-1").add(&env, &ou.dn);
    let config = delegated_with_policy(&env, &[samba_spelled_scope(&env)]);
    let (sim, _c) = start(&config).await;
    let tail = ou.dn.replace("OU=Team #2,", "OID.2.5.4.11 = team \\232 , ");
    let spaced = format!("cn = Spaced Name , {}", tail.replace("OU=", "organizationalUnitName="));
    let r = run(&sim, "ad.disable_user", json!({"directory": "ad", "user": {"dn": spaced}})).await;
    assert_eq!(ok(&r)["changed"], true, "{r}");
    let create =
        json!({"directory": "ad", "parent_dn": tail, "sam_account_name": format!("icsq{t}"), "password": "Sq-Pw-1"});
    ok(&run(&sim, "ad.create_user", create).await);
    let multi =
        json!({"directory": "ad", "parent_dn": format!("OU=x+CN=y,{}", ou.dn), "sam_account_name": format!("icmv{t}")});
    assert_eq!(code(&run(&sim, "ad.create_user", multi).await), "invalid_job");
    let primary = json!({"directory": "ad", "user": user_ref(&dn),
        "group": {"dn": format!("CN=Domain Users,CN=Users,{}", env.get("AD_BASE_DN"))}});
    let r = run(&sim, "ad.remove_from_group", primary).await;
    assert_ne!(r["status"], "succeeded", "removing the primary group answered success: {r}");
    let taken = json!({"directory": "ad", "parent_dn": samba_spelled(&env, &ou.dn), "sam_account_name": env.get("AD_USER_OK"),
        "cn": format!("Other {t}")});
    let r = run(&sim, "ad.create_user", taken).await;
    assert_eq!(code(&r), "already_exists", "{r}");
    assert!(r["error"]["message"].as_str().unwrap_or_default().contains(env.get("AD_USER_OK")), "{r}");
}

/// Machine-like names on create (noPac, CVE-2021-42278): a sAMAccountName ending in `$`
/// is the job's error; the name of a computer without its `$` is refused.
#[tokio::test]
async fn review_a_user_never_gets_a_machine_like_name() {
    let env = servers::samba();
    let ou = TestOu::new(&env, "rvmach");
    let t = tag();
    let computer = format!("CN=icpc{t},{}", ou.dn);
    assert!(admin_ldif(
        &env,
        &format!("dn: {computer}\nchangetype: add\nobjectClass: computer\nsAMAccountName: icpc{t}$\n")
    ));
    let config = delegated_with_policy(&env, &[samba_spelled_scope(&env)]);
    let (sim, _c) = start(&config).await;
    let parent = samba_spelled(&env, &ou.dn);
    let dollar = json!({"directory": "ad", "parent_dn": parent, "sam_account_name": format!("icfake{t}$")});
    assert_eq!(code(&run(&sim, "ad.create_user", dollar).await), "invalid_job");
    let shadow = json!({"directory": "ad", "parent_dn": parent, "sam_account_name": format!("icpc{t}"), "cn": format!("Shadow {t}")});
    let r = run(&sim, "ad.create_user", shadow).await;
    assert_eq!(code(&r), "constraint_violation", "{r}");
    assert!(users_under(&env, &ou.dn, &format!("(sAMAccountName=icpc{t})")).is_empty(), "created anyway");
}

/// Issue #17, AD creates: over LDAPS a create with a password is one add carrying the
/// password (audited as a secret) and the final userAccountControl, with no modify of
/// the password after it; the account logs in at once, and must-change still works.
#[tokio::test]
async fn a_create_with_a_password_puts_it_and_the_final_flags_in_the_add() {
    let env = servers::samba();
    let ou = TestOu::new(&env, "pwadd");
    let t = tag();
    let (sim, c) = start(&servers::samba_delegated_directory("ad", &env)).await;
    let pw = format!("InAdd-Pw-{t}");
    let create = |sam: String, must: bool| json!([{"type": "ad.create_user", "payload": {"directory": "ad", "parent_dn": ou.dn, "sam_account_name": sam, "password": pw, "must_change_password": must}}]);
    let ids = sim.submit(create(format!("icpa{t}"), false)).await;
    ok(&sim.wait_done(&ids, LIMIT).await[0]["result"]);
    let lines = audit_lines(&c, &ids[0]);
    let writes_of = |attr: &str| -> Vec<&Value> {
        lines
            .iter()
            .filter(|l| l["changes"].as_array().is_some_and(|cs| cs.iter().any(|c| c["attribute"] == attr)))
            .collect()
    };
    let pw_lines = writes_of("unicodePwd");
    assert!(
        !pw_lines.is_empty() && pw_lines.len() == writes_of("objectClass").len(),
        "the password goes with the add only: {lines:?}"
    );
    for l in &pw_lines {
        let c =
            l["changes"].as_array().and_then(|cs| cs.iter().find(|c| c["attribute"] == "unicodePwd")).expect("change");
        assert_eq!(c["after"], "(secret)", "{l}");
        let uac = l["changes"]
            .as_array()
            .and_then(|cs| cs.iter().find(|c| c["attribute"] == "userAccountControl"))
            .expect("uac");
        assert_eq!(uac["after"], json!(["512"]), "enabled in the add: {l}");
    }
    assert!(!std::fs::read_to_string(c.dir.join("data").join("audit.jsonl")).unwrap_or_default().contains(&pw));
    let r = crate::ldap::login(&sim, "ad", &format!("icpa{t}"), &pw).await;
    assert_eq!(r["authenticated"], true, "{r}");
    // must_change: the add carries the password, the modify after it pwdLastSet = 0.
    let ids = sim.submit(create(format!("icpm{t}"), true)).await;
    ok(&sim.wait_done(&ids, LIMIT).await[0]["result"]);
    let r = crate::ldap::login(&sim, "ad", &format!("icpm{t}"), &pw).await;
    assert_eq!(r["reason"], "password_must_change", "{r}");
}
