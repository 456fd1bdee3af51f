//! The group and move jobs under SIGKILL: every `ad.create_group`, `ad.move_user` and
//! `ad.delete_group` must end with exactly one success and the directory exactly as the
//! jobs say, however many times the connector was killed between a write and its result
//! (the re-run must recognise its own group, moved user or deleted group, PROTOCOL.md §3).

use std::io::Write;
use std::process::{Command, Stdio};
use std::time::Duration;

use rand::Rng;
use serde_json::{json, Value};

use super::suite::{tally, Scenario, Tally};
use crate::harness::servers::{self, ServerEnv};
use crate::harness::{Connector, Sim};

pub fn scenarios() -> Vec<Scenario> {
    vec![Scenario::new(
        "ad lifecycle: kill -9 during group creates, user moves and group deletes leaves exactly the expected directory",
        kill_9_during_group_and_move_jobs,
    )]
}

fn admin(env: &ServerEnv, program: &str) -> Command {
    let mut cmd = Command::new(program);
    cmd.args(["-x", "-H", env.get("AD_LDAPS_URL"), "-D", env.get("AD_ADMIN_DN"), "-w", env.get("AD_ADMIN_PW")])
        .env("LDAPTLS_CACERT", env.get("AD_CA"));
    cmd
}

fn admin_ldif(env: &ServerEnv, ldif: &str) {
    let mut child = admin(env, "ldapmodify").stdin(Stdio::piped()).stdout(Stdio::null()).spawn().expect("ldapmodify");
    child.stdin.take().expect("stdin").write_all(ldif.as_bytes()).expect("ldif");
    assert!(child.wait().expect("ldapmodify").success(), "ldapmodify refused:\n{ldif}");
}

/// The DNs of the entries of `class` one level under `base`, with one attribute's values.
fn entries(env: &ServerEnv, base: &str, class: &str, attr: &str) -> Vec<(String, Vec<String>)> {
    let out = admin(env, "ldapsearch")
        .args(["-LLL", "-o", "ldif-wrap=no", "-s", "one", "-b", base, &format!("(objectClass={class})"), attr])
        .output()
        .expect("ldapsearch");
    let mut found: Vec<(String, Vec<String>)> = Vec::new();
    for line in String::from_utf8_lossy(&out.stdout).lines() {
        if let Some(dn) = line.strip_prefix("dn: ") {
            found.push((dn.to_owned(), Vec::new()));
        } else if let (Some(v), Some(last)) = (line.strip_prefix(&format!("{attr}: ")), found.last_mut()) {
            last.1.push(v.to_owned());
        }
    }
    found
}

/// Removes the test's OU with everything in it, however the scenario ends.
struct Gone(ServerEnv, String);

impl Drop for Gone {
    fn drop(&mut self) {
        let _ = admin(&self.0, "ldapdelete").args(["-r", &self.1]).output();
    }
}

async fn kill_9_during_group_and_move_jobs() -> Tally {
    let env = servers::samba();
    let tag = std::process::id() % 10_000;
    let root = format!("OU=ic-fault-life-{},{}", std::process::id(), env.get("AD_TEAM_OU_DN"));
    let _gone = Gone(env.clone(), root.clone());
    let (from, to) = (format!("OU=From,{root}"), format!("OU=To,{root}"));
    let mut ldif = String::new();
    for dn in [&root, &from, &to] {
        ldif.push_str(&format!("dn: {dn}\nchangetype: add\nobjectClass: organizationalUnit\n\n"));
    }
    let n = 30;
    for i in 0..n {
        ldif.push_str(&format!(
            "dn: CN=Life {i},{from}\nchangetype: add\nobjectClass: user\nsAMAccountName: icfl{tag}u{i}\n\n"
        ));
    }
    admin_ldif(&env, &ldif);
    let sim = Sim::start(false).await;
    let mut c = Connector::for_sim(&sim, "c1", &servers::samba_delegated_directory("ad", &env));
    sim.wait_online(Duration::from_secs(60)).await;
    let job = |t: &str, payload: Value| json!({"type": t, "payload": payload});
    let waves: Vec<Vec<Value>> = vec![
        (0..n)
            .map(|i| {
                job("ad.create_group", json!({"directory": "ad", "parent_dn": root, "name": format!("Life, Group #{i}"),
                    "sam_account_name": format!("icfl{tag}g{i}"), "members": [{"sam_account_name": format!("icfl{tag}u{i}")}]}))
            })
            .collect(),
        (0..n)
            .map(|i| {
                job("ad.move_user", json!({"directory": "ad", "user": {"sam_account_name": format!("icfl{tag}u{i}")},
                    "new_parent_dn": to, "new_cn": format!("Moved, Life #{i}")}))
            })
            .collect(),
        (0..n)
            .filter(|i| i % 2 == 0)
            .map(|i| {
                job("ad.delete_group", json!({"directory": "ad", "group": {"sam_account_name": format!("icfl{tag}g{i}")}}))
            })
            .collect(),
    ];
    let mut all = Vec::new();
    for wave in waves {
        let ids = sim.submit(json!(wave)).await;
        for _ in 0..3 {
            let pause = rand::thread_rng().gen_range(100..900);
            tokio::time::sleep(Duration::from_millis(pause)).await;
            c.kill9();
            c.restart();
        }
        for v in sim.wait_done(&ids, Duration::from_secs(300)).await {
            assert_eq!(v["result"]["status"], "succeeded", "{} {}: {}", v["type"], v["id"], v["result"]);
        }
        all.extend(ids);
    }
    let lower = |s: &str| s.to_lowercase().replace("\\#", "#").replace("\\2c", ",").replace("\\,", ",");
    let users = entries(&env, &to, "user", "sAMAccountName");
    assert_eq!(users.len(), n, "exactly {n} users moved: {users:?}");
    assert!(entries(&env, &from, "user", "sAMAccountName").is_empty(), "a user was left behind");
    let groups = entries(&env, &root, "group", "member");
    assert_eq!(groups.len(), n / 2, "the odd groups remain, no more: {groups:?}");
    for (dn, members) in &groups {
        let i: usize = lower(dn)
            .split('#')
            .nth(1)
            .and_then(|r| r.split(',').next())
            .and_then(|d| d.parse().ok())
            .expect("its number");
        assert_eq!(i % 2, 1, "{dn} should have been deleted");
        let want = lower(&format!("CN=Moved, Life #{i},{to}"));
        assert!(members.len() == 1 && lower(&members[0]) == want, "{dn}: members {members:?}, want {want}");
    }
    // How many jobs ran again after a kill that came after their write (more than one
    // intent line in the audit journal): the path this scenario exists for.
    let audit = std::fs::read_to_string(c.dir.join("data").join("audit.jsonl")).unwrap_or_default();
    let intents = all
        .iter()
        .filter(|id| audit.lines().filter(|l| l.contains(id.as_str()) && l.contains("\"intent\"")).count() > 1);
    eprintln!("ad lifecycle: {} of {} jobs wrote, were killed and ran again", intents.count(), all.len());
    tally(&sim, &all).await
}
