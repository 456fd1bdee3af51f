//! Config and secrets faults: passwords of every shape and escaping in malformed and
//! ordinary jobs never reach the log, a result or the storage path in clear; a proxy's
//! credentials never reach `check`; the loopback UI refuses a foreign `Host` (DNS
//! rebinding); an empty login password is refused without a bind (RFC 4513 §5.1.2).

use std::path::Path;
use std::time::Duration;

use serde_json::{json, Value};

use crate::harness::servers;
use crate::harness::{Connector, Sim};
use crate::suite::{Scenario, Tally};

const LIMIT: Duration = Duration::from_secs(60);

pub fn scenarios() -> Vec<Scenario> {
    vec![
        Scenario::new(
            "config: secrets of every JSON type and escaping stay out of log, results and disk",
            secrets_at_rest,
        ),
        Scenario::new("config: check prints a proxy without its credentials", proxy_in_check),
        Scenario::new("config: the loopback UI answers only a loopback Host", ui_host_check),
        Scenario::new("config: an empty login password is refused without a bind", empty_login_password),
    ]
}

/// Each secret as every formatting would show it: raw, JSON-escaped, Debug-escaped.
fn forms(secret: &str) -> Vec<String> {
    let json = serde_json::to_string(secret).expect("json");
    let debug = format!("{secret:?}");
    vec![secret.to_owned(), json[1..json.len() - 1].to_owned(), debug[1..debug.len() - 1].to_owned()]
}

/// Every byte under `dir`, lossily as text, with the file it came from.
fn files_under(dir: &Path, out: &mut Vec<(String, String)>) {
    for e in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let p = e.path();
        if p.is_dir() {
            files_under(&p, out);
        } else if let Ok(bytes) = std::fs::read(&p) {
            out.push((p.display().to_string(), String::from_utf8_lossy(&bytes).into_owned()));
        }
    }
}

async fn secrets_at_rest() -> Tally {
    let sim = Sim::start(false).await;
    let mut c = Connector::for_sim(&sim, "c1", "");
    sim.wait_online(LIMIT).await;
    let texts = ["Qu\"ote\\Back-Pw1", "100%-Percent-Pw2", "Two\nLines-Pw3", "Ünï-cödé-Pw4"];
    let number = 987_654_321_u64;
    let user = json!({"sam_account_name": "alice"});
    let jobs = json!([
        // Malformed: the wrong JSON type for a secret, each kind.
        {"type": "ldap.authenticate", "payload": {"directory": "corp", "username": "u", "password": number}},
        {"type": "ad.reset_password", "payload": {"directory": "corp", "user": user, "new_password": ["Arr-Secret-77"]}},
        {"type": "ad.change_password", "payload": {"directory": "corp", "user": user, "old_password": {"k": "Obj-Secret-88"}, "new_password": true}},
        // Well formed, with secrets holding quotes, backslashes, %, newlines, unicode.
        {"type": "ldap.authenticate", "payload": {"directory": "corp", "username": "u", "password": texts[0]}},
        {"type": "ad.change_password", "payload": {"directory": "corp", "user": user, "old_password": texts[1], "new_password": texts[2]}},
        {"type": "ad.reset_password", "payload": {"directory": "corp", "user": user, "new_password": texts[3]}},
        // An empty old password: invalid_job, never a bind.
        {"type": "ad.change_password", "payload": {"directory": "corp", "user": user, "old_password": " ", "new_password": texts[0]}},
    ]);
    let ids = sim.submit(jobs).await;
    let views = sim.wait_done(&ids, LIMIT).await;
    c.terminate(LIMIT);
    let mut secrets: Vec<String> = texts.iter().flat_map(|t| forms(t)).collect();
    secrets.extend([number.to_string(), "Arr-Secret-77".into(), "Obj-Secret-88".into()]);
    let results: Vec<String> = views.iter().map(|v| v["result"].to_string()).collect();
    assert_eq!(views[6]["result"]["error"]["code"], "invalid_job", "{}", results[6]);
    assert!(results[6].contains("old_password"), "{}", results[6]);
    let mut files = Vec::new();
    files_under(&c.dir, &mut files);
    assert!(files.iter().any(|(p, _)| p.contains("queue")), "no queue files under {}", c.dir.display());
    for s in &secrets {
        for (i, r) in results.iter().enumerate() {
            assert!(!r.contains(s.as_str()), "secret {s:?} in the result of job {i}: {r}");
        }
        for (path, text) in &files {
            assert!(!text.contains(s.as_str()), "secret {s:?} in {path}");
        }
    }
    let done: Vec<String> =
        views.iter().filter(|v| v["state"] == "done").filter_map(|v| v["id"].as_str().map(str::to_owned)).collect();
    Tally::from_results(&ids, &done)
}

async fn proxy_in_check() -> Tally {
    let sim = Sim::start(false).await;
    let root = sim.dir.path().join("c1");
    std::fs::create_dir_all(&root).expect("dir");
    let text = crate::harness::connector::config_for(&sim, &root.join("data"), "")
        .replace("[storage]", "proxy = \"http://proxy-user:Pr0xy%22Pw%5C9@127.0.0.1:9\"\n[storage]");
    let config = root.join("connector.toml");
    std::fs::write(&config, text).expect("config");
    let out = std::process::Command::new(crate::harness::binary("integration-connector"))
        .args(["check", "--config"])
        .arg(&config)
        .output()
        .expect("check");
    let printed = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    assert!(printed.contains("127.0.0.1:9"), "the proxy is not named at all:\n{printed}");
    for s in ["Pr0xy", "proxy-user"] {
        assert!(!printed.contains(s), "{s} printed by check:\n{printed}");
    }
    Tally { jobs: 1, results: 1, lost: 0, duplicated: 0 }
}

/// The UI address the connector logged.
async fn ui_url(c: &Connector) -> String {
    crate::harness::logged_ui_url(|| c.log_text()).await
}

async fn ui_host_check() -> Tally {
    let sim = Sim::start(false).await;
    let _c = Connector::for_sim(&sim, "c1", "");
    let url = ui_url(&_c).await;
    let port = url.trim_end_matches('/').rsplit(':').next().expect("port").to_owned();
    let client = reqwest::Client::new();
    let status = |host: String| {
        let req = client.get(format!("{url}api/status")).header("Host", host);
        async move { req.send().await.expect("GET").status().as_u16() }
    };
    let mut checked = 0;
    for host in [format!("127.0.0.1:{port}"), format!("localhost:{port}"), "localhost".to_owned()] {
        assert_eq!(status(host.clone()).await, 200, "Host {host}");
        checked += 1;
    }
    for host in [format!("attacker.example:{port}"), "127.0.0.1.attacker.example".to_owned()] {
        assert_eq!(status(host.clone()).await, 421, "Host {host}");
        checked += 1;
    }
    Tally { jobs: checked, results: checked, lost: 0, duplicated: 0 }
}

async fn empty_login_password() -> Tally {
    let env = servers::samba();
    let sim = Sim::start(true).await;
    let _c = Connector::for_sim(&sim, "c1", &servers::samba_reader_directory("ad", &env));
    sim.wait_online(LIMIT).await;
    let user = env.get("AD_USER_OK");
    let ids = sim
        .submit(json!([
            {"type": "ldap.authenticate", "payload": {"directory": "ad", "username": user, "password": ""}},
            {"type": "ldap.authenticate", "payload": {"directory": "ad", "username": user, "password": env.get("AD_FIXTURE_PW")}},
        ]))
        .await;
    let views = sim.wait_done(&ids, LIMIT).await;
    let r: Vec<&Value> = views.iter().map(|v| &v["result"]["result"]).collect();
    assert_eq!(
        (r[0]["authenticated"].as_bool(), r[0]["reason"].as_str()),
        (Some(false), Some("invalid_credentials")),
        "{}",
        r[0]
    );
    assert_eq!(r[1]["authenticated"], true, "the same user with the password logs in: {}", r[1]);
    let done: Vec<String> = views.iter().filter_map(|v| v["id"].as_str().map(str::to_owned)).collect();
    Tally::from_results(&ids, &done)
}
