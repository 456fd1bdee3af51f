//! The group and move jobs and the password policy check of issue 18 on the real Samba
//! DC, with the connector as customers run it (`svc-delegated`, rights on `OU=Team #2`
//! only, `base_dn` that OU as a person writes it). Each test works in an OU of its own
//! ([`TestOu`]); what it adds elsewhere (a PSO) it removes when it ends.

use std::process::Command;

use base64::Engine;
use serde_json::{json, Value};

use crate::ad::admin_ldif;
use crate::ad_ops::{code, ok, online, read, run, same_dn, value, TestOu, LIMIT};
use crate::harness::servers::{self, toml_escape, ServerEnv};
use crate::harness::{Connector, Sim};

fn tag() -> u32 {
    std::process::id() % 100_000
}

fn config(env: &ServerEnv, policy: &[String]) -> String {
    let mut c = servers::samba_delegated_directory("ad", env);
    if !policy.is_empty() {
        c.push_str(&format!("\n[directories.ad.policy]\n{}\n", policy.join("\n")));
    }
    c
}

async fn start(config: &str) -> (Sim, Connector) {
    let sim = Sim::start_with(true, &["--heartbeat-interval-s", "1"]).await;
    let mut c = Connector::for_sim(&sim, "c1", config);
    online(&sim, &mut c).await;
    (sim, c)
}

/// An enabled user with `password` and `display_name`, added by the administrator.
fn add_user(env: &ServerEnv, parent: &str, cn: &str, sam: &str, password: &str) -> String {
    let dn = format!("CN={cn},{parent}");
    let pw: Vec<u8> = format!("\"{password}\"").encode_utf16().flat_map(u16::to_le_bytes).collect();
    let pw = base64::engine::general_purpose::STANDARD.encode(pw);
    let ldif = format!(
        "dn: {dn}\nchangetype: add\nobjectClass: user\nsAMAccountName: {sam}\ndisplayName: {cn}\nunicodePwd:: {pw}\nuserAccountControl: 512\n"
    );
    assert!(admin_ldif(env, &ldif), "cannot add {dn}");
    dn
}

fn add_ou(env: &ServerEnv, dn: &str) {
    assert!(admin_ldif(env, &format!("dn: {dn}\nchangetype: add\nobjectClass: organizationalUnit\n")), "{dn}");
}

fn exists(env: &ServerEnv, dn: &str) -> bool {
    !read(env, dn, &["1.1"]).is_empty()
}

fn audit_lines(c: &Connector, job_id: &str) -> Vec<Value> {
    let text = std::fs::read_to_string(c.dir.join("data").join("audit.jsonl")).unwrap_or_default();
    text.lines().filter_map(|l| serde_json::from_str::<Value>(l).ok()).filter(|v| v["job_id"] == job_id).collect()
}

/// Runs one job and returns (its id, its result).
async fn job(sim: &Sim, job_type: &str, payload: Value) -> (String, Value) {
    let ids = sim.submit(json!([{"type": job_type, "payload": payload}])).await;
    let result = sim.wait_done(&ids, LIMIT).await.remove(0)["result"].clone();
    (ids[0].clone(), result)
}

fn refused(r: &Value, code_wanted: &str, words: &[&str]) {
    assert_eq!(code(r), code_wanted, "{r}");
    let message = r["error"]["message"].as_str().unwrap_or_default().to_lowercase();
    for w in words {
        assert!(message.contains(&w.to_lowercase()), "the message does not name `{w}`: {r}");
    }
}

// === ad.create_group / ad.delete_group ===

/// A group with RFC 4514 specials in its name is created with its type, description and
/// member, audited; the same job again is `already_exists` (the group was there before
/// it); a name that cannot be a sAMAccountName is refused naming the field, a member not
/// found is `user_not_found` with nothing made, a parent or a group outside `allowed_ous`
/// is refused; delete by GUID, then again: `group_not_found`.
#[tokio::test]
async fn a_group_is_created_with_escapes_and_deleted_and_neither_repeats() {
    let env = servers::samba();
    let ou = TestOu::new(&env, "grp");
    let t = tag();
    let member = add_user(&env, &ou.dn, "Group Member", &format!("icgm{t}"), "Member-Pw-1");
    let (sim, c) = start(&config(&env, &[])).await;
    let name = "Ops, Team #1 <EU> + \"x\"";
    let payload = json!({"directory": "ad", "parent_dn": ou.dn, "name": name, "sam_account_name": format!("icg{t}"),
        "scope": "universal", "kind": "distribution", "description": "made by the connector",
        "members": [{"sam_account_name": format!("icgm{t}")}]});
    let (id, r) = job(&sim, "ad.create_group", payload.clone()).await;
    let made = ok(&r).clone();
    let dn = made["dn"].as_str().expect("dn").to_owned();
    assert!(made["guid"].as_str().is_some_and(|g| g.len() == 36), "{made}");
    assert!(same_dn(&dn, &format!("CN=Ops\\, Team \\#1 \\<EU\\> \\+ \\\"x\\\",{}", ou.dn)), "{dn}");
    assert_eq!(value(&env, &dn, "groupType").as_deref(), Some("8"), "universal distribution");
    assert_eq!(value(&env, &dn, "description").as_deref(), Some("made by the connector"));
    assert!(value(&env, &dn, "member").is_some_and(|m| same_dn(&m, &member)), "the member");
    let lines = audit_lines(&c, &id);
    assert!(lines.len() >= 2 && lines.last().unwrap()["outcome"] == "succeeded", "{lines:?}");
    assert_eq!(lines[0]["outcome"], "intent", "{lines:?}");
    refused(&job(&sim, "ad.create_group", payload).await.1, "already_exists", &["already"]);
    let bad = json!({"directory": "ad", "parent_dn": ou.dn, "name": "Sales, EU"});
    refused(&job(&sim, "ad.create_group", bad).await.1, "invalid_job", &["default samaccountname", "sam_account_name"]);
    let ghost = json!({"directory": "ad", "parent_dn": ou.dn, "name": format!("icg{t}-ghost"),
        "members": [{"sam_account_name": format!("icg{t}-nobody")}]});
    refused(&job(&sim, "ad.create_group", ghost).await.1, "user_not_found", &["nobody"]);
    assert!(!exists(&env, &format!("CN=icg{t}-ghost,{}", ou.dn)), "a group was made for a member not found");
    let elsewhere = json!({"directory": "ad", "parent_dn": env.get("AD_STAFF_DN"), "name": format!("icg{t}-out")});
    refused(&job(&sim, "ad.create_group", elsewhere).await.1, "forbidden_by_policy", &["allowed_ous"]);
    let outside = json!({"directory": "ad", "group": {"dn": env.get("AD_BIG_GROUP_DN")}});
    refused(&job(&sim, "ad.delete_group", outside).await.1, "forbidden_by_policy", &["allowed_ous"]);
    let global = json!({"directory": "ad", "parent_dn": ou.dn, "name": format!("icg{t}-global")});
    let global_dn = ok(&job(&sim, "ad.create_group", global).await.1)["dn"].as_str().unwrap().to_owned();
    assert_eq!(value(&env, &global_dn, "groupType").as_deref(), Some("-2147483646"), "global security by default");
    assert_eq!(value(&env, &global_dn, "sAMAccountName").as_deref(), Some(format!("icg{t}-global").as_str()));
    let by_guid = json!({"directory": "ad", "group": {"guid": made["guid"]}});
    assert!(same_dn(ok(&job(&sim, "ad.delete_group", by_guid.clone()).await.1)["dn"].as_str().unwrap(), &dn));
    assert!(!exists(&env, &dn), "{dn} is still there");
    assert!(exists(&env, &member), "deleting a group deleted its member");
    refused(&job(&sim, "ad.delete_group", by_guid).await.1, "group_not_found", &[]);
}

/// A protected group can be neither created over nor deleted: by a configured name, by
/// the built-in RID (Domain Admins), nested into a protected group, or marked by
/// `adminCount=1`; the directory keeps each.
#[tokio::test]
async fn a_protected_group_is_neither_created_over_nor_deleted() {
    let env = servers::samba();
    let ou = TestOu::new(&env, "grpprot");
    let t = tag();
    let marked = format!("CN=ic-marked-{t},{}", ou.dn);
    assert!(admin_ldif(
        &env,
        &format!("dn: {marked}\nchangetype: add\nobjectClass: group\nsAMAccountName: icmk{t}\nadminCount: 1\n")
    ));
    let policy = [format!("protected_groups = [\"{}\"]", toml_escape(env.get("AD_TIER0_GROUP_CN")))];
    let (sim, _c) = start(&config(&env, &policy)).await;
    for name in [env.get("AD_TIER0_GROUP_CN"), "Domain Admins"] {
        let r = job(
            &sim,
            "ad.create_group",
            json!({"directory": "ad", "parent_dn": ou.dn, "name": name,
            "sam_account_name": format!("icpx{t}")}),
        )
        .await
        .1;
        refused(&r, "forbidden_by_policy", &["protected", "created over"]);
        assert!(!exists(&env, &format!("CN={name},{}", ou.dn)), "{name} was created");
    }
    let same_sam = json!({"directory": "ad", "parent_dn": ou.dn, "name": format!("ic look-alike {t}"),
        "sam_account_name": env.get("AD_TIER0_GROUP_SAM")});
    refused(&job(&sim, "ad.create_group", same_sam).await.1, "forbidden_by_policy", &["protected"]);
    let targets = [
        (json!({"dn": env.get("AD_TIER0_GROUP_DN")}), env.get("AD_TIER0_GROUP_DN").to_owned(), "protected"),
        (json!({"dn": env.get("AD_DOMAIN_ADMINS_DN")}), env.get("AD_DOMAIN_ADMINS_DN").to_owned(), "protected"),
        (json!({"dn": env.get("AD_TIER0_NESTED_GROUP_DN")}), env.get("AD_TIER0_NESTED_GROUP_DN").to_owned(), "nested"),
        (json!({"dn": marked}), marked.clone(), "adminCount"),
    ];
    for (group, dn, word) in targets {
        let r = job(&sim, "ad.delete_group", json!({"directory": "ad", "group": group})).await.1;
        refused(&r, "forbidden_by_policy", &[word]);
        assert!(exists(&env, &dn), "{dn} was deleted");
    }
}

// === ad.move_user ===

/// A move needs both ends inside `allowed_ous`: out of them and into them are refused
/// (the DC would have allowed both: the delegated account has rights on all three OUs),
/// within them it moves, with a new CN that needs escapes, also to an OU outside
/// `base_dn`; the same move again is `changed: false`; a rename alone keeps the parent.
#[tokio::test]
async fn a_move_needs_both_ends_in_allowed_ous_and_escapes_the_new_cn() {
    let env = servers::samba();
    let ou = TestOu::new(&env, "move");
    let t = tag();
    let (a, b, outside) = (format!("OU=A,{}", ou.dn), format!("OU=B,{}", ou.dn), format!("OU=C,{}", ou.dn));
    for dn in [&a, &b, &outside] {
        add_ou(&env, dn);
    }
    let inside = add_user(&env, &a, "Mover One", &format!("icmv{t}a"), "Mover-Pw-1");
    let stranger = add_user(&env, &outside, "Mover Two", &format!("icmv{t}b"), "Mover-Pw-1");
    let scope = format!("allowed_ous = [\"{}\", \"{}\"]", toml_escape(&a), toml_escape(&b));
    // base_dn is A: B lies inside allowed_ous but outside base_dn, where a search from
    // base_dn cannot see the moved user (it is read at its new DN).
    let team_base = format!("base_dn = \"{}\"", toml_escape(env.get("AD_TEAM_OU_DN")));
    let config = config(&env, &[scope]).replace(&team_base, &format!("base_dn = \"{}\"", toml_escape(&a)));
    assert!(config.contains(&a), "{config}");
    let (sim, c) = start(&config).await;
    let mv = |user: &str, parent: &str, cn: Option<&str>| json!({"directory": "ad", "user": {"dn": user}, "new_parent_dn": parent, "new_cn": cn});
    let out = job(&sim, "ad.move_user", mv(&inside, &outside, None)).await.1;
    refused(&out, "forbidden_by_policy", &["target parent", "allowed_ous"]);
    assert!(exists(&env, &inside), "moved out of allowed_ous");
    refused(&job(&sim, "ad.move_user", mv(&stranger, &a, None)).await.1, "forbidden_by_policy", &["allowed_ous"]);
    assert!(exists(&env, &stranger), "moved in from outside allowed_ous");
    let cn = "Smith, John #1 <x> + \\y";
    let (id, r) = job(&sim, "ad.move_user", mv(&inside, &b, Some(cn))).await;
    let moved = ok(&r).clone();
    let want = format!("CN=Smith\\, John \\#1 \\<x\\> \\+ \\\\y,{b}");
    assert!(same_dn(moved["dn"].as_str().unwrap(), &want), "{moved}");
    assert!(same_dn(moved["old_dn"].as_str().unwrap(), &inside), "{moved}");
    assert_eq!(moved["changed"], true);
    assert!(exists(&env, &want) && !exists(&env, &inside), "the directory does not show the move");
    let lines = audit_lines(&c, &id);
    assert!(lines.len() == 2 && lines[0]["outcome"] == "intent" && lines[1]["outcome"] == "succeeded", "{lines:?}");
    let again = ok(&job(&sim, "ad.move_user", mv(&want, &b, Some(cn))).await.1).clone();
    assert_eq!((again["changed"].as_bool(), again["dn"] == moved["dn"]), (Some(false), true), "{again}");
    let rename = json!({"directory": "ad", "user": {"dn": want}, "new_cn": "Renamed Only"});
    let renamed = ok(&job(&sim, "ad.move_user", rename).await.1).clone();
    assert!(same_dn(renamed["dn"].as_str().unwrap(), &format!("CN=Renamed Only,{b}")), "{renamed}");
}

// === password policy before the write ===

/// A fine-grained policy for one user (length 12, complexity, history 2, no minimum
/// age), readable by every authenticated user when `readable`; deleted when dropped.
struct Pso {
    env: ServerEnv,
    dn: String,
}

impl Pso {
    fn new(env: &ServerEnv, user: &str, readable: bool) -> Pso {
        let dn = format!(
            "CN=ic-lifecycle-{}-{readable},CN=Password Settings Container,CN=System,{}",
            std::process::id(),
            env.get("AD_BASE_DN")
        );
        let _ = admin_ldif(env, &format!("dn: {dn}\nchangetype: delete\n"));
        assert!(admin_ldif(env, &format!(
            "dn: {dn}\nchangetype: add\nobjectClass: msDS-PasswordSettings\nmsDS-PasswordSettingsPrecedence: 1\nmsDS-PasswordReversibleEncryptionEnabled: FALSE\nmsDS-PasswordHistoryLength: 2\nmsDS-PasswordComplexityEnabled: TRUE\nmsDS-MinimumPasswordLength: 12\nmsDS-MinimumPasswordAge: 0\nmsDS-MaximumPasswordAge: -36288000000000\nmsDS-LockoutThreshold: 0\nmsDS-LockoutObservationWindow: -18000000000\nmsDS-LockoutDuration: -18000000000\nmsDS-PSOAppliesTo: {user}\n"
        )), "cannot add the PSO {dn}");
        if readable {
            // What an administrator grants the service account so that it can read the
            // policy (by default only Domain Admins can).
            let out = Command::new("samba-tool")
                .args(["dsacl", "set", "-s", env.get("AD_CONF"), "-H"])
                .arg(format!("{}/dc/private/sam.ldb", env.get("AD_DIR")))
                .arg(format!("--objectdn={dn}"))
                .arg("--sddl=(A;;RP;;;AU)")
                .output()
                .expect("samba-tool");
            assert!(out.status.success(), "samba-tool dsacl: {}", String::from_utf8_lossy(&out.stderr));
        }
        Pso { env: env.clone(), dn }
    }
}

impl Drop for Pso {
    fn drop(&mut self) {
        let _ = admin_ldif(&self.env, &format!("dn: {}\nchangetype: delete\n", self.dn));
    }
}

/// A password that is too short or not complex enough under the user's PSO is refused
/// with `password_policy` naming the rule and `details.source = "connector"`, and the DC
/// never saw it: no audit line for the job, `pwdLastSet` and `badPwdCount` unchanged. A
/// password holding the account's names is left to Samba, which accepts it (Windows
/// would not: `rules.rs` unit tests).
/// History is still the DC's to judge, and comes back with its data code. A PSO the
/// service account may not read leaves the judgement to the DC.
#[tokio::test]
async fn a_password_policy_refusal_is_named_before_the_dc_sees_it() {
    let env = servers::samba();
    let ou = TestOu::new(&env, "pwpol");
    let t = tag();
    let (first, second) = ("Zebra-Pw-2024!x", "Analytical#Engine9");
    let user = add_user(&env, &ou.dn, "Ada Lovelace", &format!("icpp{t}"), first);
    let hidden_user = add_user(&env, &ou.dn, "Hidden Policy", &format!("icph{t}"), first);
    let _pso = Pso::new(&env, &user, true);
    let _hidden = Pso::new(&env, &hidden_user, false);
    let (sim, c) = start(&config(&env, &[])).await;
    let state = |dn: &str| (value(&env, dn, "pwdLastSet"), value(&env, dn, "badPwdCount"));
    let before = state(&user);
    let cases = [
        ("ad.reset_password", json!({"new_password": "Sh0rt!pw"}), "min_length", "minimum length is 12"),
        ("ad.reset_password", json!({"new_password": "all lowercase words only"}), "complexity_categories", "needs 3"),
    ];
    for (job_type, fields, rule, words) in cases {
        let mut payload = json!({"directory": "ad", "user": {"dn": user}});
        payload.as_object_mut().unwrap().extend(fields.as_object().unwrap().clone());
        let (id, r) = job(&sim, job_type, payload).await;
        refused(&r, "password_policy", &[words, "fine-grained password policy", "nothing was sent"]);
        assert_eq!(
            (r["error"]["details"]["source"].as_str(), r["error"]["details"]["rule"].as_str()),
            (Some("connector"), Some(rule)),
            "{r}"
        );
        assert!(
            audit_lines(&c, &id).is_empty(),
            "{job_type} {rule}: a write was attempted: {:?}",
            audit_lines(&c, &id)
        );
        assert_eq!(state(&user), before, "{job_type} {rule}: the DC saw the password");
    }
    // Samba judges complexity without the account's names (unlike Windows): a password
    // holding the displayName's "Lovelace" or the sAMAccountName is the DC's to accept,
    // and a local refusal would refuse what the DC accepts.
    let change = |old: &str, new: &str| json!({"directory": "ad", "user": {"dn": user}, "old_password": old, "new_password": new});
    let named = format!("Lovelace-icpp{t}-42");
    ok(&run(&sim, "ad.change_password", change(first, &named)).await);
    ok(&run(&sim, "ad.change_password", change(&named, second)).await);
    let history = run(&sim, "ad.change_password", change(second, &named)).await;
    assert_eq!(code(&history), "password_policy", "{history}");
    assert_ne!(history["error"]["details"]["source"], "connector", "history is the DC's to judge: {history}");
    assert!(history["error"]["details"]["data"].is_string(), "the DC's data code: {history}");
    let hidden = json!({"directory": "ad", "user": {"dn": hidden_user}, "new_password": "Sh0rt!pw"});
    let r = run(&sim, "ad.reset_password", hidden).await;
    assert_eq!(code(&r), "password_policy", "the DC refuses what its PSO refuses: {r}");
    assert_ne!(r["error"]["details"]["source"], "connector", "an unreadable PSO is not guessed at: {r}");
    assert!(c.log_text().contains("cannot read this password policy"), "no log line says the PSO is unreadable");
    // `check` names the PSO the service account cannot read, and not the one it can.
    let out = c.cli(&["check"]);
    let out = String::from_utf8_lossy(&out.stdout).into_owned();
    let l = out
        .lines()
        .find(|l| l.contains("directory.ad.password_policy"))
        .unwrap_or_else(|| panic!("no line in:\n{out}"));
    let pid = std::process::id();
    assert!(
        l.starts_with("WARN") && l.contains("cannot read") && l.contains(&format!("ic-lifecycle-{pid}-false")),
        "{l}"
    );
    assert!(!l.contains(&format!("ic-lifecycle-{pid}-true")) && l.contains("minimum length 1"), "{l}");
}
