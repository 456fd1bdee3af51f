//! Reload without a restart (issue 19), the real binary with SIGHUP against the real
//! slapd and Samba: one test per kind of change (directory URL and a removed directory,
//! scope policy, log level, UI token), a refused file, and a reload while an import runs.

use std::time::Duration;

use serde_json::{json, Value};

use crate::ad_ops::{code, ok, run, TestOu};
use crate::harness::connector::config_for;
use crate::harness::servers::{self, ServerEnv};
use crate::harness::{eventually, Connector, Sim};
use crate::ldap::login;
use crate::operator::{status, ui_url_after};

const LIMIT: Duration = Duration::from_secs(90);

/// A connector whose config a test rewrites and reloads.
struct Reloading {
    sim: Sim,
    c: Connector,
    ui: String,
}

impl Reloading {
    async fn start(sim: Sim, extra: &str) -> Reloading {
        let c = Connector::for_sim(&sim, "c1", extra);
        sim.wait_online(LIMIT).await;
        let ui = ui_url_after(&c, 0).await;
        Reloading { sim, c, ui }
    }

    /// Writes the config with `extra` (same server, storage and UI address) and sends
    /// SIGHUP; returns `/api/status`'s `config` once the reload's outcome shows there.
    async fn reload(&self, extra: &str) -> Value {
        let text = config_for(&self.sim, &self.c.dir.join("data"), extra);
        self.reload_text(&text).await
    }

    async fn reload_text(&self, text: &str) -> Value {
        let before = status(&self.ui).await["config"]["last_reload"].clone();
        std::fs::write(&self.c.config, text).expect("write config");
        let pid = self.c.pid().expect("running") as i32;
        assert_eq!(unsafe { libc::kill(pid, libc::SIGHUP) }, 0);
        eventually(LIMIT, "the reload's outcome on /api/status", || async {
            let config = status(&self.ui).await["config"].clone();
            (config["last_reload"] != before).then_some(config)
        })
        .await
    }

    /// As the unit's `ExecReload=` does: `reload --pid` validates the file and signals
    /// only when it is valid; returns `/api/status`'s `config` after the outcome shows.
    async fn reload_by_command(&self, text: &str) -> Value {
        let before = status(&self.ui).await["config"]["last_reload"].clone();
        std::fs::write(&self.c.config, text).expect("write config");
        let out = self.c.cli(&["reload", "--pid", &self.c.pid().expect("running").to_string()]);
        assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
        eventually(LIMIT, "the reload's outcome on /api/status", || async {
            let config = status(&self.ui).await["config"].clone();
            (config["last_reload"] != before).then_some(config)
        })
        .await
    }

    fn log_after(&self, marker: &str) -> String {
        let log = self.c.log_text();
        let at = log.rfind(marker).unwrap_or_else(|| panic!("`{marker}` not in the log:\n{log}"));
        log[at..].to_owned()
    }
}

fn sha256_hex(bytes: &[u8]) -> String {
    ring::digest::digest(&ring::digest::SHA256, bytes).as_ref().iter().map(|b| format!("{b:02x}")).collect()
}

fn list(v: &Value) -> Vec<String> {
    v.as_array().map(|a| a.iter().filter_map(|x| x.as_str().map(str::to_owned)).collect()).unwrap_or_default()
}

fn directory(status: &Value, name: &str) -> Vec<Value> {
    status["directories"].as_array().expect("directories").iter().filter(|d| d["name"] == name).cloned().collect()
}

#[tokio::test]
async fn a_reload_moves_a_directory_to_its_new_url_and_removes_one_and_shows_the_new_hash() {
    let env = servers::slapd();
    let both = servers::slapd_directory("corp", &env, false) + &servers::slapd_directory("spare", &env, false);
    let r = Reloading::start(Sim::start(false).await, &both).await;
    let (user, pw) = (env.get("SLAPD_USER_OK"), env.get("SLAPD_USER_OK_PW"));
    assert_eq!(login(&r.sim, "spare", user, pw).await["authenticated"], true);
    let first = status(&r.ui).await["config"].clone();
    assert_eq!(first["sha256"].as_str(), Some(sha256_hex(&std::fs::read(&r.c.config).unwrap()).as_str()));

    let config = r.reload(&servers::slapd_directory("corp", &env, true)).await;
    let reload = &config["last_reload"];
    assert_eq!(reload["outcome"], "applied", "{config}");
    let applied = list(&reload["applied"]);
    assert!(applied.contains(&"directory corp replaced".into()) && applied.contains(&"directory spare removed".into()));
    assert!(list(&reload["needs_restart"]).iter().any(|k| k.contains("announced to the portal")), "{config}");
    assert_eq!(config["sha256"].as_str(), Some(sha256_hex(&std::fs::read(&r.c.config).unwrap()).as_str()));
    assert_ne!(config["sha256"], first["sha256"]);
    assert!(config["loaded_at"].as_str() > first["loaded_at"].as_str(), "{config}");

    assert_eq!(login(&r.sim, "corp", user, pw).await["authenticated"], true);
    let now = status(&r.ui).await;
    let corp = directory(&now, "corp");
    assert_eq!(corp.len(), 1, "{now}");
    assert_eq!(corp[0]["url"].as_str(), Some(env.get("SLAPD_LDAPS_URL")), "{now}");
    assert!(directory(&now, "spare").is_empty(), "{now}");
    let pools: Vec<&Value> = now["components"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["name"].as_str().unwrap().starts_with("ldap_pool:"))
        .collect();
    assert_eq!(pools.len(), 1, "{now}");
    let ids = r
        .sim
        .submit(
            json!([{"type": "ldap.authenticate", "payload": {"directory": "spare", "username": user, "password": pw}}]),
        )
        .await;
    let gone = r.sim.wait_done(&ids, LIMIT).await.remove(0)["result"].clone();
    assert_eq!(code(&gone), "unknown_directory", "{gone}");
}

/// A connector installed before its directories are known (the package's first start)
/// is given its first directory by a reload: logins and an import then run on it.
#[tokio::test]
async fn a_first_directory_added_by_reload_runs_logins_and_an_import() {
    let env = servers::slapd();
    let r = Reloading::start(Sim::start(false).await, "").await;
    let config = r.reload(&servers::slapd_directory("corp", &env, true)).await;
    assert_eq!(config["last_reload"]["outcome"], "applied", "{config}");
    assert!(list(&config["last_reload"]["applied"]).contains(&"directory corp added".into()), "{config}");
    let (user, pw) = (env.get("SLAPD_USER_OK"), env.get("SLAPD_USER_OK_PW"));
    assert_eq!(login(&r.sim, "corp", user, pw).await["authenticated"], true);
    let (view, records) = crate::ldap::import(&r.sim, "corp", json!({"filter": format!("(uid={user})")})).await;
    assert_eq!(view["result"]["status"], "succeeded", "{}", view["result"]);
    assert_eq!(records.len(), 1, "{records:?}");
}

#[tokio::test]
async fn a_reload_changes_the_scope_policy_in_place() {
    let env = servers::samba();
    let ou = TestOu::new(&env, "reload");
    let elsewhere = TestOu::new(&env, "reload-other");
    let victim = format!("CN=ic-reload-user,{}", ou.dn);
    assert!(crate::ad::admin_ldif(
        &env,
        &format!("dn: {victim}\nchangetype: add\nobjectClass: user\nsAMAccountName: {}\n", TestOu::sam("icrl"))
    ));
    let dir = servers::samba_delegated_directory("ad", &env);
    let r = Reloading::start(Sim::start(true).await, &dir).await;
    let disable = json!({"directory": "ad", "user": {"dn": victim}});
    // Added without a password, the user is disabled already: no write either way.
    assert_eq!(ok(&run(&r.sim, "ad.disable_user", disable.clone()).await)["changed"], false);

    let narrow =
        format!("{dir}\n[directories.ad.policy]\nallowed_ous = [\"{}\"]\n", servers::toml_escape(&elsewhere.dn));
    let config = r.reload(&narrow).await;
    assert_eq!(config["last_reload"]["outcome"], "applied", "{config}");
    assert_eq!(list(&config["last_reload"]["applied"]), vec!["directory ad replaced".to_owned()]);
    let refused = run(&r.sim, "ad.disable_user", disable.clone()).await;
    assert_eq!(code(&refused), "forbidden_by_policy", "{refused}");
    assert!(refused["error"]["message"].as_str().unwrap_or("").contains("allowed_ous"), "{refused}");

    let config = r.reload(&dir).await;
    assert_eq!(config["last_reload"]["outcome"], "applied", "{config}");
    assert_eq!(ok(&run(&r.sim, "ad.disable_user", disable).await)["changed"], false);
}

#[tokio::test]
async fn a_reload_changes_the_log_level_in_place() {
    let env = servers::slapd();
    let dir = servers::slapd_directory("corp", &env, false);
    let r = Reloading::start(Sim::start(false).await, &dir).await;
    let noop = || json!([{"type": "test.noop", "payload": {}}]);
    r.sim.wait_done(&r.sim.submit(noop()).await, LIMIT).await;
    assert!(r.c.log_text().contains(" INFO "), "at info a job logs INFO lines");

    let config = r.reload(&format!("{dir}\n[logging]\nlevel = \"warn\"\n")).await;
    assert!(list(&config["last_reload"]["applied"]).contains(&"logging.level = warn".into()), "{config}");
    let marker = "configuration reloaded";
    r.sim.wait_done(&r.sim.submit(noop()).await, LIMIT).await;
    let login_ids = r
        .sim
        .submit(json!([{"type": "ldap.authenticate", "payload": {"directory": "corp", "username": "nobody-here", "password": "x-Wrong-1"}}]))
        .await;
    r.sim.wait_done(&login_ids, LIMIT).await;
    let after = r.log_after(marker);
    let info: Vec<&str> = after.lines().skip(1).filter(|l| l.contains(" INFO ")).collect();
    assert!(info.is_empty(), "INFO lines after the level went to warn: {info:?}");

    r.reload(&format!("{dir}\n[logging]\nlevel = \"debug\"\n")).await;
    let empty = json!({"directory": "corp", "mode": "full", "filter": "(uid=no-such-user-reload)"});
    r.sim.wait_done(&r.sim.submit(json!([{"type": "ldap.import", "payload": empty}])).await, LIMIT).await;
    let after = r.log_after(marker);
    assert!(
        after.contains(" DEBUG ") && after.contains("import progress tracked"),
        "no DEBUG line after the reload:\n{after}"
    );
}

#[tokio::test]
async fn a_reload_sets_the_ui_admin_token_in_place() {
    let r = Reloading::start(Sim::start(false).await, "").await;
    let url = format!("{}/api/status", r.ui);
    let get = |auth: Option<&'static str>| {
        let url = url.clone();
        async move {
            let mut req = reqwest::Client::new().get(url);
            if let Some(a) = auth {
                req = req.header("Authorization", a);
            }
            req.send().await.expect("GET").status().as_u16()
        }
    };
    assert_eq!(get(None).await, 200);
    // The outcome is read with the token (the page asks for it from now on).
    std::fs::write(
        &r.c.config,
        config_for(
            &r.sim,
            &r.c.dir.join("data"),
            "[ui]\nlisten = \"127.0.0.1:0\"\nadmin_token = \"tok-Reload-4417-aa6c9e01\"\n",
        ),
    )
    .unwrap();
    assert_eq!(unsafe { libc::kill(r.c.pid().unwrap() as i32, libc::SIGHUP) }, 0);
    let asks = eventually(LIMIT, "the reload to be answered", || async {
        if get(None).await == 401 {
            return Some(true);
        }
        let outcome = status(&r.ui).await["config"]["last_reload"].clone();
        (!outcome.is_null())
            .then(|| panic!("reloaded, but the page does not ask for the token: {outcome}\n{}", r.c.log_text()))
    })
    .await;
    assert!(asks);
    assert_eq!(get(Some("Bearer tok-Reload-4417-aa6c9e01")).await, 200);
    assert_eq!(get(Some("Bearer tok-wrong")).await, 401);
    assert!(!r.c.log_text().contains("tok-Reload-4417-aa6c9e01"), "the new token reached the log");
}

#[tokio::test]
async fn an_invalid_file_is_refused_whole_with_every_problem_and_the_running_config_kept() {
    let env = servers::slapd();
    let dir = servers::slapd_directory("corp", &env, false);
    let r = Reloading::start(Sim::start(false).await, &dir).await;
    let running = status(&r.ui).await["config"]["sha256"].clone();
    let (user, pw) = (env.get("SLAPD_USER_OK"), env.get("SLAPD_USER_OK_PW"));

    // Two problems, and a directory change that must not be applied with them.
    let extra = "[directories.extra]\nkind = \"novell\"\nurls = [\"ldap://127.0.0.1:1\"]\nbind_dn = \"cn=x\"\nbind_password = \"y\"\nbase_dn = \"dc=x\"\n";
    let bad = format!(
        "{}\n{extra}\n[logging]\nlevel = \"info,connector_actors=loud\"\n",
        servers::slapd_directory("corp", &env, true)
    );
    let config = r.reload(&bad).await;
    let reload = &config["last_reload"];
    assert_eq!(reload["outcome"], "refused", "{config}");
    let problems = list(&reload["problems"]);
    assert!(problems.iter().any(|p| p.contains("directories.extra.kind") && p.contains("novell")), "{problems:?}");
    assert!(problems.iter().any(|p| p.contains("logging.level")), "{problems:?}");
    assert_eq!(config["sha256"], running, "the running config's hash changed");
    let log = r.log_after("configuration reload refused");
    assert!(log.contains("config problem:") && log.contains("novell") && log.contains("logging.level"), "{log}");

    // A misspelt key (the TOML parser stops at it): named, with its line.
    let config = r.reload(&format!("[connector]\nnmae = \"typo\"\n\n{dir}")).await;
    assert_eq!(config["last_reload"]["outcome"], "refused", "{config}");
    let problems = list(&config["last_reload"]["problems"]);
    assert!(problems.iter().any(|p| p.contains("nmae") && p.contains("unknown field")), "{problems:?}");
    let now = status(&r.ui).await;
    assert_eq!(directory(&now, "corp")[0]["url"].as_str(), Some(env.get("SLAPD_URL")), "the refused URL was applied");
    assert!(directory(&now, "extra").is_empty());
    assert_eq!(login(&r.sim, "corp", user, pw).await["authenticated"], true);

    // `systemctl reload` (ExecReload: `reload --pid`) fails on the bad file, naming each
    // problem, and does not signal: the service's last reload stays the one above.
    let last = now["config"]["last_reload"].clone();
    std::fs::write(&r.c.config, config_for(&r.sim, &r.c.dir.join("data"), &bad)).expect("write config");
    let out = r.c.cli(&["reload", "--pid", &r.c.pid().expect("running").to_string()]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(64), "{err}");
    assert!(r.c.pid().is_some(), "the service went away");
    assert!(
        err.contains("directories.extra.kind") && err.contains("logging.level") && err.contains("reload refused"),
        "{err}"
    );
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(status(&r.ui).await["config"]["last_reload"], last, "a refused file was signalled");

    // Valid, but what only a restart takes is named and not applied.
    let moved = config_for(&r.sim, &r.c.dir.join("elsewhere"), &dir);
    let config = r.reload_by_command(&moved).await;
    assert_eq!(config["last_reload"]["outcome"], "applied", "{config}");
    assert!(list(&config["last_reload"]["needs_restart"]).contains(&"storage.path".to_owned()), "{config}");
    assert!(r.log_after("configuration reloaded").contains("storage.path"));
    assert!(!r.c.dir.join("elsewhere").exists(), "the storage path moved without a restart");
    assert_eq!(login(&r.sim, "corp", user, pw).await["authenticated"], true);
}

#[tokio::test]
async fn a_reload_while_an_import_runs_lets_it_finish_on_its_connection_and_new_jobs_use_the_new_pool() {
    let env: ServerEnv = servers::slapd();
    let sim = Sim::start(false).await;
    sim.faults(json!({"latency_ms": 100, "paths": ["records"]})).await;
    let r = Reloading::start(sim, &servers::slapd_directory("corp", &env, false)).await;
    let ids = r
        .sim
        .submit(json!([{"type": "ldap.import", "payload": {"directory": "corp", "mode": "full", "batch_size": 250}}]))
        .await;
    let id = ids[0].clone();
    eventually(LIMIT, "the import to be under way", || async {
        let s = status(&r.ui).await;
        s["imports"].as_array()?.iter().find(|i| i["job_id"] == id && i["records"].as_u64() > Some(1_000)).cloned()
    })
    .await;

    let config = r.reload(&servers::slapd_directory("corp", &env, true)).await;
    assert_eq!(config["last_reload"]["outcome"], "applied", "{config}");
    let (user, pw) = (env.get("SLAPD_USER_OK"), env.get("SLAPD_USER_OK_PW"));
    assert_eq!(login(&r.sim, "corp", user, pw).await["authenticated"], true);
    let s = status(&r.ui).await;
    assert_eq!(directory(&s, "corp")[0]["url"].as_str(), Some(env.get("SLAPD_LDAPS_URL")), "{s}");
    assert!(s["imports"].as_array().unwrap().iter().any(|i| i["job_id"] == id), "the import stopped at the reload");

    r.sim.clear_faults().await;
    let done = r.sim.wait_done(&ids, Duration::from_secs(300)).await.remove(0);
    assert_eq!(done["result"]["status"], "succeeded", "{}", done["result"]);
    assert!(done["result"]["result"]["total"].as_u64() >= Some(50_000), "{}", done["result"]);
    let records = r.sim.get(&format!("/admin/jobs/{id}/records")).await;
    let list = records["records"].as_array().expect("records");
    let unique: std::collections::HashSet<&str> = list.iter().filter_map(|x| x["guid"].as_str()).collect();
    assert_eq!(unique.len(), list.len(), "an entry was delivered twice");
    assert_eq!(r.sim.violations().await, 0, "{}", r.sim.log());
    assert!(!r.c.log_text().contains("import interrupted"), "the import lost its connection at the reload");
    eventually(LIMIT, "the old pool to close once the import let it go", || async {
        r.c.log_text().contains("connections of the previous configuration are closed").then_some(())
    })
    .await;
}
