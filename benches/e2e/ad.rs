//! Workloads against a real Samba AD DC: `ad-create` (2,000 users with passwords and two
//! groups each through the connector, against the same creates by one sequential
//! `ldapmodify` over LDAPS in the same run, once with the connector's steps and once with
//! the password in the add), in Samba's `single` and `prefork` models, with the CPU the
//! DC spent per user on each;
//! `ad-read` (import and logins on Samba, against `ldapsearch`).

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use connector_actors::directory::connect::{open, Endpoint};
use connector_actors::directory::tls::client_config;
use connector_actors::directory::PlainUrlSecurity;
use serde_json::{json, Value};

use crate::harness::servers::{self, ServerEnv};
use crate::harness::{Connector, Sim};
use crate::Row;

const CREATES: u32 = 2_000;

/// The DC of `ad-read`; `ad-create` provisions a fresh one per model (14 s), since every
/// create makes the next one dearer (an add cost Samba 11 ms of CPU in a young domain, 18
/// ms after some 30,000 more users).
fn dir(workload: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("target/bench-area").join(workload)
}

/// The benches' own DCs listen here, beside the test run's DC on 127.0.0.1 (and the
/// discovery tests' relays on 127.0.20.x).
const BENCH_DC_IP: &str = "127.0.0.9";

fn samba(dir: &Path, model: &str) -> ServerEnv {
    let script = servers::script("samba.sh");
    let _ = Command::new("bash").arg(&script).arg("stop").arg(dir).output();
    let out = Command::new("bash")
        .arg(&script)
        .arg("start")
        .arg(dir)
        .args(["--users", "2000", "--model", model, "--ip", BENCH_DC_IP])
        .output()
        .expect("samba.sh");
    assert!(
        out.status.success(),
        "samba.sh start failed (is another Samba holding {BENCH_DC_IP}:389/636?):\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    ServerEnv::read(&dir.join("samba.env"))
}

fn stop(dir: &Path) {
    let _ = Command::new("bash").arg(servers::script("samba.sh")).arg("stop").arg(dir).output();
}

fn admin(env: &ServerEnv, ldif: &str) -> f64 {
    ldapmodify_as(env, env.get("AD_ADMIN_DN"), env.get("AD_ADMIN_PW"), ldif)
}

/// Deletes `dn` and everything below it, as the DC's administrator.
fn remove_tree(env: &ServerEnv, dn: &str) {
    let status = Command::new("ldapdelete")
        .args([
            "-x",
            "-r",
            "-H",
            env.get("AD_LDAPS_URL"),
            "-D",
            env.get("AD_ADMIN_DN"),
            "-w",
            env.get("AD_ADMIN_PW"),
            dn,
        ])
        .env("LDAPTLS_CACERT", env.get("AD_CA"))
        .status()
        .expect("ldapdelete");
    assert!(status.success(), "ldapdelete -r {dn} failed");
}

/// One `ldapmodify` process (one connection) applying `ldif`; returns its seconds.
fn ldapmodify_as(env: &ServerEnv, dn: &str, pw: &str, ldif: &str) -> f64 {
    let start = Instant::now();
    let mut child = Command::new("ldapmodify")
        .args(["-x", "-H", env.get("AD_LDAPS_URL"), "-D", dn, "-w", pw])
        .env("LDAPTLS_CACERT", env.get("AD_CA"))
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .spawn()
        .expect("ldapmodify");
    child.stdin.take().expect("stdin").write_all(ldif.as_bytes()).expect("ldif");
    assert!(child.wait().expect("ldapmodify").success(), "ldapmodify failed");
    start.elapsed().as_secs_f64()
}

/// CPU seconds the DC's processes (its root process and every descendant) have used:
/// on this Samba every write runs one at a time, so this is what the creates cost it.
fn dc_cpu_seconds(env: &ServerEnv) -> f64 {
    let root: u32 = env.get("AD_PID").parse().expect("AD_PID");
    let mut stats = Vec::new();
    for dir in std::fs::read_dir("/proc").expect("/proc").flatten() {
        let Ok(pid) = dir.file_name().to_string_lossy().parse::<u32>() else { continue };
        let Ok(text) = std::fs::read_to_string(dir.path().join("stat")) else { continue };
        let Some((_, rest)) = text.rsplit_once(')') else { continue };
        let f: Vec<&str> = rest.split_whitespace().collect();
        let num = |i: usize| f.get(i).and_then(|v| v.parse::<u64>().ok()).unwrap_or(0);
        stats.push((pid, num(1) as u32, num(11) + num(12)));
    }
    let descends = |mut pid: u32| {
        for _ in 0..8 {
            if pid == root {
                return true;
            }
            match stats.iter().find(|(p, ..)| *p == pid) {
                Some((_, parent, _)) if *parent > 1 => pid = *parent,
                _ => return false,
            }
        }
        false
    };
    let ticks: u64 = stats.iter().filter(|(pid, ..)| descends(*pid)).map(|(.., t)| t).sum();
    ticks as f64 / 100.0
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

/// How the sequential script creates a user.
#[derive(Clone, Copy)]
enum Script {
    /// The steps the connector takes (PROTOCOL.md, issue #5): add disabled, then the
    /// password and the enable in one modify, then the two group adds.
    SameSteps,
    /// The fewest writes: the password and UAC 512 in the add, then the two group adds.
    OneAdd,
}

/// The creates as one sequential script, bound as the connector's service account (the
/// DC's access checks cost differently per account); returns (seconds, DC CPU seconds).
fn baseline(env: &ServerEnv, tag: &str, script: Script, creates: u32) -> (f64, f64) {
    let (ou, g1, g2) = fixture(env, tag);
    let mut ldif = String::new();
    for i in 0..creates {
        let (dn, pwd) = (format!("CN={tag}u{i},{ou}"), b64_pwd(&format!("Pw-{i}-bench")));
        let head = format!("dn: {dn}\nchangetype: add\nobjectClass: user\nsAMAccountName: {tag}u{i}\n");
        ldif.push_str(&match script {
            Script::OneAdd => format!("{head}unicodePwd:: {pwd}\nuserAccountControl: 512\n\n"),
            Script::SameSteps => format!(
                "{head}userAccountControl: 514\n\ndn: {dn}\nchangetype: modify\nreplace: unicodePwd\nunicodePwd:: {pwd}\n-\nreplace: userAccountControl\nuserAccountControl: 512\n-\n\n"
            ),
        });
        for g in [&g1, &g2] {
            ldif.push_str(&format!("dn: {g}\nchangetype: modify\nadd: member\nmember: {dn}\n\n"));
        }
    }
    let cpu = dc_cpu_seconds(env);
    let secs = ldapmodify_as(env, env.get("AD_SERVICE_DN"), env.get("AD_SERVICE_PW"), &ldif);
    (secs, dc_cpu_seconds(env) - cpu)
}

/// Returns (seconds, DC CPU seconds) for the creates through the connector.
async fn connector_creates(env: &ServerEnv, tag: &str, creates: u32, concurrency: u32) -> (f64, f64) {
    let (ou, g1, g2) = fixture(env, tag);
    let pool = std::env::var("IC_BENCH_AD_POOL_MAX").map(|n| format!("pool_max = {n}\n")).unwrap_or_default();
    let sim = Sim::start(false).await;
    // The per-step timings (`ic::ad::step` debug events) for `print_steps`.
    let logging = "[logging]\nlevel = \"info,ic::ad::step=debug\"\n\n";
    let c = Connector::for_sim(
        &sim,
        "c1",
        &format!(
            "[connector]\nmax_concurrency = {concurrency}\n\n{logging}{}{pool}",
            servers::samba_directory("ad", env)
        ),
    );
    sim.wait_online(Duration::from_secs(30)).await;
    let specs: Vec<Value> = (0..creates)
        .map(|i| {
            json!({"type": "ad.create_user", "payload": {"directory": "ad", "parent_dn": ou, "sam_account_name": format!("{tag}u{i}"),
                "password": format!("Pw-{i}-bench"), "groups": [{"dn": g1}, {"dn": g2}]}})
        })
        .collect();
    let (start, cpu) = (Instant::now(), dc_cpu_seconds(env));
    let ids = sim.submit(json!(specs)).await;
    let views = sim.wait_done(&ids, Duration::from_secs(1800)).await;
    let (secs, cpu) = (start.elapsed().as_secs_f64(), dc_cpu_seconds(env) - cpu);
    for v in &views {
        assert_eq!(v["result"]["status"], "succeeded", "{}", v["result"]);
    }
    print_steps(&c.log, creates);
    if let Ok(keep) = std::env::var("IC_BENCH_KEEP_LOG") {
        let _ = std::fs::copy(&c.log, keep);
    }
    drop(c);
    (secs, cpu)
}

/// Where a create's time goes: the connector's `ic::ad::step` events (one per LDAP
/// search or write, audit line, journal step, and the whole operation), summed per step
/// and divided by the creates. Steps of concurrent creates overlap, so the rows add up to
/// more than the wall time per create.
fn print_steps(log: &Path, creates: u32) {
    let Ok(text) = std::fs::read_to_string(log) else { return };
    let mut steps: std::collections::BTreeMap<String, (u64, u64)> = Default::default();
    for line in text.lines().filter(|l| l.contains(": ad step ")) {
        let field = |name: &str| line.split(&format!(" {name}=")).nth(1).map(|rest| rest.to_owned());
        let step = field("step").and_then(|r| r.strip_prefix('"').and_then(|r| r.split('"').next()).map(str::to_owned));
        let us = field("us").and_then(|r| r.split_whitespace().next().and_then(|v| v.parse::<u64>().ok()));
        if let (Some(step), Some(us)) = (step, us) {
            let e = steps.entry(step).or_default();
            e.0 += 1;
            e.1 += us;
        }
    }
    println!("\nper create ({creates} creates), the connector's steps: count, mean ms each, ms per create");
    for (step, (n, us)) in &steps {
        let per = *n as f64 / creates as f64;
        println!(
            "  {step:<34} {per:>5.1} × {:>7.2} ms = {:>7.2} ms",
            *us as f64 / *n as f64 / 1000.0,
            *us as f64 / creates as f64 / 1000.0
        );
    }
}

fn knob(name: &str, default: u32) -> u32 {
    std::env::var(name).ok().and_then(|v| v.parse().ok()).unwrap_or(default)
}

/// Medians of (seconds, DC CPU seconds).
fn median(runs: &mut [(f64, f64)]) -> (f64, f64) {
    let mid = runs.len() / 2;
    runs.sort_by(|a, b| a.0.total_cmp(&b.0));
    let secs = runs[mid].0;
    runs.sort_by(|a, b| a.1.total_cmp(&b.1));
    (secs, runs[mid].1)
}

/// Knobs: `IC_BENCH_AD_CREATES` (2000), `IC_BENCH_AD_CONCURRENCY` (the connector's
/// `max_concurrency`, 16), `IC_BENCH_AD_MODELS` ("single,prefork"), `IC_BENCH_AD_ROUNDS`
/// (3: each round runs both scripts and the connector, the scripts' order alternating,
/// since every round grows the directory; medians reported).
pub async fn create() -> Vec<Row> {
    let creates = knob("IC_BENCH_AD_CREATES", CREATES);
    let concurrency = knob("IC_BENCH_AD_CONCURRENCY", 16);
    let rounds = knob("IC_BENCH_AD_ROUNDS", 3).max(1);
    let models = std::env::var("IC_BENCH_AD_MODELS").unwrap_or_else(|_| "single,prefork".into());
    let mut rows = Vec::new();
    let dir = dir("samba-create");
    // IC_BENCH_SAMBA_ENV: a DC already running (its samba.env), e.g. a long-lived one
    // holding the users of earlier runs, measured as it is (its model, not re-provisioned).
    let existing = std::env::var("IC_BENCH_SAMBA_ENV").ok().map(|f| ServerEnv::read(Path::new(&f)));
    let models = if existing.is_some() { "existing DC".to_owned() } else { models };
    for model in models.split(',') {
        let env = match &existing {
            Some(env) => env.clone(),
            None => {
                stop(&dir);
                let _ = std::fs::remove_dir_all(&dir);
                samba(&dir, model)
            }
        };
        let (mut same, mut ic, mut one) = (Vec::new(), Vec::new(), Vec::new());
        for round in 0..rounds {
            let tag = |who: &str| format!("{who}{}{round}x{}", &model[..1], std::process::id() % 10_000);
            let first = if round % 2 == 0 { Script::SameSteps } else { Script::OneAdd };
            let runs = baseline(&env, &tag("b1"), first, creates);
            ic.push(connector_creates(&env, &tag("ic"), creates, concurrency).await);
            let second = if round % 2 == 0 { Script::OneAdd } else { Script::SameSteps };
            let later = baseline(&env, &tag("b2"), second, creates);
            let (s, o) = if round % 2 == 0 { (runs, later) } else { (later, runs) };
            same.push(s);
            one.push(o);
        }
        if existing.is_some() {
            // A DC the bench did not provision gets back what it was (tests count OU=Staff).
            for round in 0..rounds {
                for who in ["b1", "ic", "b2"] {
                    let ou = format!(
                        "OU={who}{}{round}x{},{}",
                        &model[..1],
                        std::process::id() % 10_000,
                        env.get("AD_STAFF_DN")
                    );
                    remove_tree(&env, &ou);
                }
            }
        }
        let (ic_s, ic_cpu) = median(&mut ic);
        let per_user = |cpu: f64| cpu * 1000.0 / creates as f64;
        let workload = format!("AD create {creates} users + password + 2 groups, Samba -M {model}");
        for (script, runs) in [("the connector's steps", &mut same), ("password in the add", &mut one)] {
            let (secs, cpu) = median(runs);
            rows.push(Row {
                workload: workload.clone(),
                items: creates as u64,
                seconds: ic_s,
                baseline_per_s: Some(creates as f64 / secs),
                note: format!(
                    "baseline: one sequential ldapmodify, {script}; medians of {rounds}; DC CPU per user: connector {:.1} ms, script {:.1} ms",
                    per_user(ic_cpu),
                    per_user(cpu)
                ),
            });
        }
    }
    if existing.is_none() {
        stop(&dir);
    }
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
    let dir = dir("samba");
    let env = samba(&dir, "single");
    let (n, raw_rate) = ad_ldapsearch_rate(&env);
    let sim = Sim::start(false).await;
    // IC_BENCH_AD_USER_FILTER: compare a login filter of your own (e.g. the class first).
    let filter =
        std::env::var("IC_BENCH_AD_USER_FILTER").map(|f| format!("user_filter = \"{f}\"\n")).unwrap_or_default();
    let c = Connector::for_sim(&sim, "c1", &format!("{}{filter}", servers::samba_directory("ad", &env)));
    sim.wait_online(Duration::from_secs(30)).await;
    let start = Instant::now();
    let ids = sim.submit(json!([{"type": "ldap.import", "payload": {"directory": "ad", "mode": "full", "base_dn": env.get("AD_STAFF_DN")}}])).await;
    let view = sim.wait_done(&ids, Duration::from_secs(600)).await.remove(0);
    let secs = start.elapsed().as_secs_f64();
    let total = view["result"]["result"]["total"].as_u64().unwrap_or(0);
    assert_eq!(total, n, "the connector imported {total}, ldapsearch saw {n}");
    let (rate, seconds) = (20u32, 10u32);
    let pw = env.get("AD_FIXTURE_PW");
    let plain = login_rate(&sim, env.get("AD_USER_OK"), pw, "none", rate, seconds).await;
    // A user in a group nested into another (and its primary group): tokenGroups, then
    // the group cache.
    let nested = login_rate(&sim, env.get("AD_TIER0_NESTED_MEMBER"), pw, "nested", rate, seconds).await;
    let bare = bare_ad_logins(&env, env.get("AD_USER_OK"), pw, rate, seconds).await;
    let (busy, imports_run) = logins_beside_imports(&sim, &env, rate, seconds).await;
    let pct =
        |lat: &[f64], p: f64| lat.get(((lat.len() as f64 - 1.0) * p).round() as usize).copied().unwrap_or(f64::NAN);
    let (bare_p50, bare_p99) = crate::timing::p50_p99(bare);
    drop(c);
    stop(&dir);
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
            items: plain.len() as u64,
            seconds: seconds as f64,
            baseline_per_s: None,
            note: format!(
                "p50 {:.1} ms, p99 {:.1} ms (submit → result at the portal); a bare search + bind in the same run (LDAPS, the default AD user filter) p50 {bare_p50:.2} ms, p99 {bare_p99:.2} ms: the connector's share p99 {:.1} ms",
                pct(&plain, 0.5),
                pct(&plain, 0.99),
                pct(&plain, 0.99) - bare_p99
            ),
        },
        crate::relative_row(
            format!("login at {rate}/s on Samba AD during imports of its users"),
            &busy,
            seconds as f64,
            pct(&plain, 0.99),
            &format!("the idle p99 ({imports_run} full imports ran back to back meanwhile)"),
        ),
        crate::relative_row(
            format!("login at {rate}/s with nested groups on Samba AD"),
            &nested,
            seconds as f64,
            pct(&plain, 0.99),
            "the p99 without groups (tokenGroups read + cached SIDs)",
        ),
    ]
}

/// Logins as in [`read`] while full imports of the users run back to back, so every login
/// meets one; (sorted latencies in ms, imports run).
async fn logins_beside_imports(sim: &Sim, env: &ServerEnv, rate: u32, seconds: u32) -> (Vec<f64>, u32) {
    let done = std::cell::Cell::new(false);
    let imports = async {
        let mut n = 0;
        while !done.get() {
            let spec = json!([{"type": "ldap.import", "payload": {"directory": "ad", "mode": "full", "base_dn": env.get("AD_STAFF_DN")}}]);
            let ids = sim.submit(spec).await;
            let view = sim.wait_done(&ids, Duration::from_secs(600)).await.remove(0);
            assert_eq!(view["result"]["status"], "succeeded", "{}", view["result"]);
            n += 1;
        }
        n
    };
    let logins = async {
        let lat = login_rate(sim, env.get("AD_USER_OK"), env.get("AD_FIXTURE_PW"), "none", rate, seconds).await;
        done.set(true);
        lat
    };
    tokio::join!(logins, imports)
}

/// The DC's own cost of a login in this run: `rate`/s for `seconds`, each the default AD
/// user search for `user` (LDAPS, bound as the service account) and then a bind as the
/// user on a connection of its own, as the connector holds them; ms of each pair.
async fn bare_ad_logins(env: &ServerEnv, user: &str, pw: &str, rate: u32, seconds: u32) -> Vec<f64> {
    let url = url::Url::parse(env.get("AD_LDAPS_URL")).expect("AD_LDAPS_URL");
    let tls = client_config(Some(&std::fs::read(env.get("AD_CA")).expect("AD_CA"))).expect("tls");
    let ep = || Endpoint {
        url: &url,
        addrs: &[],
        tls: tls.clone(),
        plain: PlainUrlSecurity::StartTls,
        connect_timeout: Duration::from_secs(5),
    };
    let mut search = open(&ep()).await.expect("connect");
    let bound = search.simple_bind(env.get("AD_SERVICE_DN"), env.get("AD_SERVICE_PW")).await.expect("bind");
    bound.success().expect("service account bound");
    let mut bind = open(&ep()).await.expect("connect");
    let filter =
        format!("(&(|(sAMAccountName={user})(userPrincipalName={user}))(objectClass=user)(objectCategory=person))");
    let gap = Duration::from_secs_f64(1.0 / rate as f64);
    let begin = tokio::time::Instant::now();
    let mut out = Vec::new();
    for n in 0..rate * seconds {
        tokio::time::sleep_until(begin + gap * n).await;
        let t0 = Instant::now();
        let (found, _) = search
            .search(
                env.get("AD_BASE_DN"),
                ldap3::Scope::Subtree,
                &filter,
                vec!["objectGUID", "sAMAccountName", "cn", "mail"],
            )
            .await
            .expect("search")
            .success()
            .expect("found");
        let dn = ldap3::SearchEntry::construct(found.into_iter().next().expect("one user")).dn;
        bind.simple_bind(&dn, pw).await.expect("bind").success().expect("user bound");
        out.push(t0.elapsed().as_secs_f64() * 1000.0);
    }
    out
}

/// Logins of `user` at `rate`/s for `seconds`, asking for `groups`; sorted latencies (ms,
/// submit → result at the portal).
async fn login_rate(sim: &Sim, user: &str, pw: &str, groups: &str, rate: u32, seconds: u32) -> Vec<f64> {
    let mut ids = Vec::new();
    let mut next = Instant::now();
    for _ in 0..(rate * seconds) {
        let spec = json!([{"type": "ldap.authenticate", "payload": {"directory": "ad", "username": user, "password": pw, "groups": groups}}]);
        ids.extend(sim.submit(spec).await);
        next += Duration::from_millis(1000 / rate as u64);
        tokio::time::sleep_until(next.into()).await;
    }
    let views = sim.wait_done(&ids, Duration::from_secs(120)).await;
    for v in &views {
        assert_eq!(v["result"]["result"]["authenticated"], true, "{}", v["result"]);
    }
    let mut lat: Vec<f64> = views.iter().filter_map(|v| v["latency_ms"].as_f64()).collect();
    lat.sort_by(f64::total_cmp);
    lat
}
