//! Workloads against a real Samba AD DC: `ad-create` (2,000 users with passwords and two
//! groups each through the connector, against the same creates by one sequential
//! `ldapmodify` over LDAPS in the same run), in Samba's `single` and `prefork` models;
//! `ad-read` (import and logins on Samba, against `ldapsearch`).

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::{json, Value};

use crate::harness::servers::{self, ServerEnv};
use crate::harness::{Connector, Sim};
use crate::Row;

const CREATES: u32 = 2_000;

fn dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("target/bench-area/samba")
}

fn samba(model: &str) -> ServerEnv {
    let script = servers::script("samba.sh");
    let _ = Command::new("bash").arg(&script).arg("stop").arg(dir()).output();
    let out = Command::new("bash")
        .arg(&script)
        .arg("start")
        .arg(dir())
        .args(["--users", "2000", "--model", model])
        .output()
        .expect("samba.sh");
    assert!(
        out.status.success(),
        "samba.sh start failed (is another Samba holding 389/636?):\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    ServerEnv::read(&dir().join("samba.env"))
}

fn stop() {
    let _ = Command::new("bash").arg(servers::script("samba.sh")).arg("stop").arg(dir()).output();
}

fn admin(env: &ServerEnv, ldif: &str) -> f64 {
    let start = Instant::now();
    let mut child = Command::new("ldapmodify")
        .args(["-x", "-H", env.get("AD_LDAPS_URL"), "-D", env.get("AD_ADMIN_DN"), "-w", env.get("AD_ADMIN_PW")])
        .env("LDAPTLS_CACERT", env.get("AD_CA"))
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .spawn()
        .expect("ldapmodify");
    child.stdin.take().expect("stdin").write_all(ldif.as_bytes()).expect("ldif");
    assert!(child.wait().expect("ldapmodify").success(), "ldapmodify failed");
    start.elapsed().as_secs_f64()
}

fn b64_pwd(pw: &str) -> String {
    use base64::Engine;
    let bytes: Vec<u8> = format!("\"{pw}\"").encode_utf16().flat_map(u16::to_le_bytes).collect();
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

/// Makes an OU with two groups; returns (ou, g1, g2).
fn fixture(env: &ServerEnv, name: &str) -> (String, String, String) {
    let ou = format!("OU={name},{}", env.get("AD_STAFF_DN"));
    let (g1, g2) = (format!("CN={name}-g1,{ou}"), format!("CN={name}-g2,{ou}"));
    admin(
        env,
        &format!(
            "dn: {ou}\nchangetype: add\nobjectClass: organizationalUnit\n\ndn: {g1}\nchangetype: add\nobjectClass: group\nsAMAccountName: {name}-g1\n\ndn: {g2}\nchangetype: add\nobjectClass: group\nsAMAccountName: {name}-g2\n"
        ),
    );
    (ou, g1, g2)
}

/// The same creates as one sequential script: add with password and UAC 512, then two group adds.
fn baseline(env: &ServerEnv, tag: &str) -> f64 {
    let (ou, g1, g2) = fixture(env, &format!("bs{tag}"));
    let mut ldif = String::new();
    for i in 0..CREATES {
        let dn = format!("CN=bs{tag}u{i},{ou}");
        ldif.push_str(&format!(
            "dn: {dn}\nchangetype: add\nobjectClass: user\nsAMAccountName: bs{tag}u{i}\nunicodePwd:: {}\nuserAccountControl: 512\n\n",
            b64_pwd(&format!("Pw-{i}-bench"))
        ));
        for g in [&g1, &g2] {
            ldif.push_str(&format!("dn: {g}\nchangetype: modify\nadd: member\nmember: {dn}\n\n"));
        }
    }
    admin(env, &ldif)
}

async fn connector_creates(env: &ServerEnv, tag: &str) -> f64 {
    let (ou, g1, g2) = fixture(env, &format!("ic{tag}"));
    let sim = Sim::start(false).await;
    let c = Connector::for_sim(
        &sim,
        "c1",
        &format!("[connector]\nmax_concurrency = 16\n\n{}", servers::samba_directory("ad", env)),
    );
    sim.wait_online(Duration::from_secs(30)).await;
    let specs: Vec<Value> = (0..CREATES)
        .map(|i| {
            json!({"type": "ad.create_user", "payload": {"directory": "ad", "parent_dn": ou, "sam_account_name": format!("ic{tag}u{i}"),
                "password": format!("Pw-{i}-bench"), "groups": [{"dn": g1}, {"dn": g2}]}})
        })
        .collect();
    let start = Instant::now();
    let ids = sim.submit(json!(specs)).await;
    let views = sim.wait_done(&ids, Duration::from_secs(1800)).await;
    let secs = start.elapsed().as_secs_f64();
    for v in &views {
        assert_eq!(v["result"]["status"], "succeeded", "{}", v["result"]);
    }
    drop(c);
    secs
}

pub async fn create() -> Vec<Row> {
    let mut rows = Vec::new();
    for model in ["single", "prefork"] {
        let env = samba(model);
        let tag = format!("{}{}", &model[..1], std::process::id() % 10_000);
        let base_s = baseline(&env, &tag);
        let ic_s = connector_creates(&env, &tag).await;
        rows.push(Row {
            workload: format!("AD create {CREATES} users + password + 2 groups, Samba -M {model}"),
            items: CREATES as u64,
            seconds: ic_s,
            baseline_per_s: Some(CREATES as f64 / base_s),
            note: "baseline: one sequential ldapmodify over LDAPS doing the same adds and group adds".into(),
        });
    }
    stop();
    rows
}

fn ad_ldapsearch_rate(env: &ServerEnv) -> (u64, f64) {
    let args = format!(
        "-H '{}' -D '{}' -w '{}' -b '{}' '(&(objectCategory=person)(objectClass=user))' '*'",
        env.get("AD_LDAPS_URL"),
        env.get("AD_SERVICE_DN"),
        env.get("AD_SERVICE_PW"),
        env.get("AD_STAFF_DN")
    );
    crate::ldapsearch_rate(&args, env.get("AD_CA"))
}

/// Import of OU=Staff and logins at 20/s on Samba (`-M single`, 2,000 users).
pub async fn read() -> Vec<Row> {
    let env = samba("single");
    let (n, raw_rate) = ad_ldapsearch_rate(&env);
    let sim = Sim::start(false).await;
    let c = Connector::for_sim(&sim, "c1", &servers::samba_directory("ad", &env));
    sim.wait_online(Duration::from_secs(30)).await;
    let start = Instant::now();
    let ids = sim.submit(json!([{"type": "ldap.import", "payload": {"directory": "ad", "mode": "full", "base_dn": env.get("AD_STAFF_DN")}}])).await;
    let view = sim.wait_done(&ids, Duration::from_secs(600)).await.remove(0);
    let secs = start.elapsed().as_secs_f64();
    let total = view["result"]["result"]["total"].as_u64().unwrap_or(0);
    assert_eq!(total, n, "the connector imported {total}, ldapsearch saw {n}");
    let (rate, seconds) = (20u32, 10u32);
    let mut ids = Vec::new();
    let mut next = Instant::now();
    for _ in 0..(rate * seconds) {
        let spec = json!([{"type": "ldap.authenticate", "payload": {"directory": "ad", "username": env.get("AD_USER_OK"), "password": env.get("AD_FIXTURE_PW")}}]);
        ids.extend(sim.submit(spec).await);
        next += Duration::from_millis(1000 / rate as u64);
        tokio::time::sleep_until(next.into()).await;
    }
    let views = sim.wait_done(&ids, Duration::from_secs(120)).await;
    let mut lat: Vec<f64> = views.iter().filter_map(|v| v["latency_ms"].as_f64()).collect();
    for v in &views {
        assert_eq!(v["result"]["result"]["authenticated"], true, "{}", v["result"]);
    }
    lat.sort_by(f64::total_cmp);
    let pct = |p: f64| lat.get(((lat.len() as f64 - 1.0) * p).round() as usize).copied().unwrap_or(f64::NAN);
    drop(c);
    stop();
    vec![
        Row {
            workload: format!("import {n} users from Samba AD (LDAPS)"),
            items: total,
            seconds: secs,
            baseline_per_s: Some(raw_rate),
            note: "baseline: ldapsearch -E pr=500 over LDAPS as the service account".into(),
        },
        Row {
            workload: format!("login at {rate}/s on Samba AD (LDAPS)"),
            items: views.len() as u64,
            seconds: seconds as f64,
            baseline_per_s: None,
            note: format!("p50 {:.1} ms, p99 {:.1} ms (submit → result at the portal)", pct(0.5), pct(0.99)),
        },
    ]
}
