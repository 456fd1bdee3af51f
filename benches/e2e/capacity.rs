//! Workload `capacity` (issue #17): the connector's login capacity on slapd. The offered
//! rate steps up until the p99 of submit → result passes 50 ms (the knee); then 2× and
//! 4× the knee show whether overload keeps the knee's throughput or collapses. The
//! baseline, in the same run: a bare client doing the same search + bind straight
//! against the same slapd, closed loop, with as many connections as the connector
//! uses (the physical limit here).

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use connector_actors::directory::connect::{open, Endpoint};
use connector_actors::directory::tls::client_config;
use connector_actors::directory::PlainUrlSecurity;
use serde_json::{json, Value};

use crate::harness::servers::{self, ServerEnv};
use crate::harness::{Connector, Sim};
use crate::Row;

const USERS: u32 = 10_000;
const STEP_SECS: u64 = 5;
/// The connector's default dispatcher concurrency: the baseline runs as many loops.
const LOOPS: usize = 16;
/// The p99 that ends the knee.
const KNEE_P99_MS: f64 = 50.0;

pub fn users(env: &ServerEnv) -> Vec<String> {
    std::fs::read_to_string(env.get("SLAPD_MANIFEST"))
        .unwrap_or_default()
        .lines()
        .filter_map(|l| serde_json::from_str::<Value>(l).ok())
        .filter_map(|m| m["attributes"]["uid"][0].as_str().map(str::to_owned))
        .take(5000)
        .collect()
}

/// What one step measured. Throughputs are over the step's window: its first submit to
/// its last result.
#[derive(Debug, Clone)]
pub struct Step {
    /// Logins submitted per second.
    pub offered_per_s: f64,
    /// Logins answered succeeded and authenticated.
    pub succeeded: usize,
    /// Logins answered `timeout` / `at_capacity` without being run (`shed_logins_after`).
    pub shed: usize,
    /// Any other answer (e.g. `deadline_exceeded` after a wait past 30 s).
    pub other: usize,
    pub window_s: f64,
    /// p99 of submit → result of the succeeded logins, ms.
    pub p99_ms: f64,
    /// Cores the connector used over the window, and the machine's busy share (both
    /// cores; slapd, simulator and this bench included), from `/proc`.
    pub connector_cores: f64,
    pub machine_busy: f64,
}

impl Step {
    pub fn succeeded_per_s(&self) -> f64 {
        self.succeeded as f64 / self.window_s
    }

    pub fn shed_per_s(&self) -> f64 {
        self.shed as f64 / self.window_s
    }

    /// One line of the overload table (markdown).
    pub fn table_row(&self, run: &str) -> String {
        format!(
            "| {run} | {:.0} | {:.0} | {:.0} | {} | {:.0} | {:.2} | {:.0}% |",
            self.offered_per_s,
            self.succeeded_per_s(),
            self.shed_per_s(),
            self.other,
            self.p99_ms,
            self.connector_cores,
            self.machine_busy * 100.0
        )
    }
}

/// One step: `rate`/s offered for [`STEP_SECS`] to the connector `pid`, each login
/// stamped with its submit time as `created_at` (a portal's creation time, to the ms).
pub async fn step(sim: &Sim, users: &[String], pw: &str, rate: u32, pid: u32) -> Step {
    let polls_before = sim.summary().await["polls"].as_u64().unwrap_or(0);
    let cpu = Cpu::read(pid);
    let mut out = offer(sim, users, pw, rate).await;
    let used = Cpu::read(pid);
    out.connector_cores = (used.process_ticks - cpu.process_ticks) as f64 / 100.0 / out.window_s;
    out.machine_busy = (used.busy - cpu.busy) as f64 / (used.total - cpu.total).max(1) as f64;
    // Jobs per poll: a saturated connector that polls for each freed slot takes them
    // one by one, each paying a whole round (issue #17's collapse).
    let polls = sim.summary().await["polls"].as_u64().unwrap_or(0).saturating_sub(polls_before);
    let jobs = out.succeeded + out.shed + out.other;
    eprintln!("capacity: {rate}/s offered: {polls} polls, {:.1} jobs per poll", jobs as f64 / polls.max(1) as f64);
    out
}

async fn offer(sim: &Sim, users: &[String], pw: &str, rate: u32) -> Step {
    let tick = Duration::from_millis(20);
    let per_tick = (rate as usize / 50).max(1);
    let begin = Instant::now();
    let mut sent: Vec<(String, Duration)> = Vec::new();
    let mut next = begin;
    for t in 0..(STEP_SECS as usize * 50) {
        let created_at = connector_actors::time::rfc3339(connector_actors::time::now_ms());
        let specs: Vec<Value> = (0..per_tick)
            .map(|i| {
                let u = &users[(t * per_tick + i) % users.len()];
                json!({"type": "ldap.authenticate", "created_at": created_at,
                    "payload": {"directory": "corp", "username": u, "password": pw}})
            })
            .collect();
        let at = begin.elapsed();
        sent.extend(sim.submit(json!(specs)).await.into_iter().map(|id| (id, at)));
        next += tick;
        tokio::time::sleep_until(next.into()).await;
    }
    let submitting = begin.elapsed();
    let ids: Vec<String> = sent.iter().map(|(id, _)| id.clone()).collect();
    let views = sim.wait_done(&ids, Duration::from_secs(600)).await;
    tally(rate, &sent, &views, submitting)
}

/// Sorts the answers of one step into succeeded, shed and other, and times them.
fn tally(rate: u32, sent: &[(String, Duration)], views: &[Value], submitting: Duration) -> Step {
    let mut lat = Vec::new();
    let (mut shed, mut other, mut last) = (0, 0, Duration::ZERO);
    let mut succeeded_views = Vec::new();
    for ((_, at), v) in sent.iter().zip(views) {
        let r = &v["result"];
        let ms = v["latency_ms"].as_f64().unwrap_or(0.0);
        last = last.max(*at + Duration::from_secs_f64(ms / 1000.0));
        if r["result"]["authenticated"] == true {
            lat.push(ms);
            succeeded_views.push(v);
        } else if r["error"]["details"]["reason"] == "at_capacity" {
            shed += 1;
        } else {
            if other == 0 {
                eprintln!("capacity: {rate}/s offered: a login neither succeeded nor shed: {r}");
            }
            other += 1;
        }
    }
    let samples: Vec<_> = succeeded_views.iter().map(|v| crate::timing::Sample::of_view(v)).collect();
    eprintln!("{}", crate::timing::steps_table(&format!("capacity step, {rate}/s offered, succeeded"), &samples));
    lat.sort_by(f64::total_cmp);
    Step {
        offered_per_s: sent.len() as f64 / submitting.as_secs_f64(),
        succeeded: lat.len(),
        shed,
        other,
        window_s: last.as_secs_f64(),
        p99_ms: crate::timing::percentile(&lat, 0.99),
        connector_cores: f64::NAN,
        machine_busy: f64::NAN,
    }
}

/// CPU counters from `/proc` (ticks of 1/100 s): one process's user + system time, and
/// the machine's busy and total time over all cores.
struct Cpu {
    process_ticks: u64,
    busy: u64,
    total: u64,
}

impl Cpu {
    fn read(pid: u32) -> Cpu {
        let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
        let fields: Vec<u64> = stat
            .rsplit_once(')')
            .map(|(_, rest)| rest.split_whitespace().map(|v| v.parse().unwrap_or(0)).collect())
            .unwrap_or_default();
        let process_ticks = fields.get(11).copied().unwrap_or(0) + fields.get(12).copied().unwrap_or(0);
        let all = std::fs::read_to_string("/proc/stat").unwrap_or_default();
        let cpu: Vec<u64> =
            all.lines().next().unwrap_or("").split_whitespace().skip(1).filter_map(|v| v.parse().ok()).collect();
        let total: u64 = cpu.iter().take(8).sum();
        let idle = cpu.get(3).copied().unwrap_or(0) + cpu.get(4).copied().unwrap_or(0);
        Cpu { process_ticks, busy: total - idle, total }
    }
}

/// The slapd's URL and a TLS configuration trusting its CA.
fn slapd_target(env: &ServerEnv) -> (url::Url, Arc<rustls::ClientConfig>) {
    let url = url::Url::parse(env.get("SLAPD_URL")).expect("url");
    let ca = std::fs::read(env.get("SLAPD_CA")).expect("ca");
    (url, client_config(Some(&ca)).expect("tls"))
}

/// StartTLS to `url`, resolved by the system, as the connector connects.
fn endpoint<'a>(url: &'a url::Url, tls: &Arc<rustls::ClientConfig>) -> Endpoint<'a> {
    Endpoint {
        url,
        addrs: &[],
        tls: tls.clone(),
        plain: PlainUrlSecurity::StartTls,
        connect_timeout: Duration::from_secs(5),
    }
}

/// One service connection (StartTLS, bound as the service account) and one for user
/// binds, as the connector holds them.
async fn bare_connections(env: &ServerEnv) -> (ldap3::Ldap, ldap3::Ldap) {
    let (url, tls) = slapd_target(env);
    let ep = || endpoint(&url, &tls);
    let mut service = open(&ep()).await.expect("connect");
    service
        .simple_bind(env.get("SLAPD_SERVICE_DN"), env.get("SLAPD_SERVICE_PW"))
        .await
        .expect("bind")
        .success()
        .expect("bound");
    (service, open(&ep()).await.expect("connect"))
}

/// The directory's own cost of a login in this run: `rate`/s for `secs`, each the
/// connector's search then a bind as the user, timed here; (search ms, bind ms) each.
pub async fn bare_login_times(env: &ServerEnv, rate: u32, secs: u32) -> (Vec<f64>, Vec<f64>) {
    let users = users(env);
    let (mut search, mut bind) = bare_connections(env).await;
    let (base, pw) = (env.get("SLAPD_BASE_DN"), env.get("SLAPD_GEN_USER_PW"));
    let gap = Duration::from_secs_f64(1.0 / rate as f64);
    let begin = tokio::time::Instant::now();
    let (mut searches, mut binds) = (Vec::new(), Vec::new());
    for n in 0..(rate * secs) as usize {
        tokio::time::sleep_until(begin + gap * n as u32).await;
        let u = &users[n % users.len()];
        let filter = format!("(&(objectClass=inetOrgPerson)(|(uid={u})(mail={u})))");
        let t0 = Instant::now();
        let (found, _) = search
            .search(base, ldap3::Scope::Subtree, &filter, vec!["entryUUID", "uid", "cn", "mail"])
            .await
            .expect("search")
            .success()
            .expect("found");
        let t1 = Instant::now();
        let dn = ldap3::SearchEntry::construct(found.into_iter().next().expect("one")).dn;
        bind.simple_bind(&dn, pw).await.expect("bind").success().expect("user bound");
        searches.push((t1 - t0).as_secs_f64() * 1000.0);
        binds.push(t1.elapsed().as_secs_f64() * 1000.0);
    }
    (searches, binds)
}

/// The bare client: [`LOOPS`] loops, each a search on one of 4 shared service
/// connections and a bind on a connection of its own, for `secs`; logins per second.
async fn bare_client(env: &ServerEnv, users: &[String], secs: u64) -> f64 {
    let (url, tls) = slapd_target(env);
    let ep = || endpoint(&url, &tls);
    let mut service = Vec::new();
    for _ in 0..4 {
        let mut l = open(&ep()).await.expect("connect");
        l.simple_bind(env.get("SLAPD_SERVICE_DN"), env.get("SLAPD_SERVICE_PW"))
            .await
            .expect("bind")
            .success()
            .expect("bound");
        service.push(l);
    }
    let done = Arc::new(AtomicU64::new(0));
    let until = Instant::now() + Duration::from_secs(secs);
    let mut tasks = Vec::new();
    for i in 0..LOOPS {
        let (mut search, mut bind) = (service[i % 4].clone(), open(&ep()).await.expect("connect"));
        let (users, done) = (users.to_vec(), done.clone());
        let (base, pw) = (env.get("SLAPD_BASE_DN").to_owned(), env.get("SLAPD_GEN_USER_PW").to_owned());
        tasks.push(tokio::spawn(async move {
            let mut n = i;
            while Instant::now() < until {
                let u = &users[n % users.len()];
                n += LOOPS;
                let filter = format!("(&(objectClass=inetOrgPerson)(|(uid={u})(mail={u})))");
                let (found, _) = search
                    .search(&base, ldap3::Scope::Subtree, &filter, vec!["entryUUID", "uid", "cn", "mail"])
                    .await
                    .expect("search")
                    .success()
                    .expect("found");
                let dn = ldap3::SearchEntry::construct(found.into_iter().next().expect("one")).dn;
                bind.simple_bind(&dn, &pw).await.expect("bind").success().expect("user bound");
                done.fetch_add(1, Ordering::Relaxed);
            }
        }));
    }
    for t in tasks {
        t.await.expect("loop");
    }
    done.load(Ordering::Relaxed) as f64 / secs as f64
}

pub async fn run() -> Vec<Row> {
    let env = crate::ldap::slapd(USERS);
    let users = users(&env);
    let pw = env.get("SLAPD_GEN_USER_PW").to_owned();
    let bare = bare_client(&env, &users, STEP_SECS).await;
    let (sim, c) = start_connector(&env, "").await;
    let pid = c.pid().expect("connector running");
    let mut rows = Vec::new();
    let mut knee = (0u32, 0.0f64);
    // `IC_BENCH_KNEE=RATE` skips the search and measures the overload at 2× and 4× RATE
    // against that one step (on a machine too busy for the steps to mean anything).
    let forced: Option<u32> = std::env::var("IC_BENCH_KNEE").ok().and_then(|k| k.parse().ok());
    let rates = match forced {
        Some(rate) => vec![rate],
        None => vec![200u32, 500, 1000, 1500, 2000, 3000, 4000],
    };
    for rate in rates {
        let s = step(&sim, &users, &pw, rate, pid).await;
        let (done_per_s, p99) = (s.succeeded_per_s(), s.p99_ms);
        eprintln!(
            "capacity: offered {rate}/s → completed {done_per_s:.0}/s, p99 {p99:.1} ms; connector {:.2} cores, machine {:.0}% busy",
            s.connector_cores,
            s.machine_busy * 100.0
        );
        rows.push(Row {
            workload: format!("logins offered at {rate}/s (slapd, StartTLS)"),
            items: s.succeeded as u64,
            seconds: s.window_s,
            baseline_per_s: Some(bare),
            note: format!("p99 {p99:.1} ms; baseline: a bare client's search + bind, {LOOPS} loops"),
        });
        if p99 > KNEE_P99_MS && forced.is_none() {
            break;
        }
        knee = (rate, done_per_s);
    }
    if knee.0 == 0 {
        // Even the first step passed the limit: overload is measured against it.
        knee = (200, rows.first().map_or(0.0, |r| r.items as f64 / r.seconds));
    }
    let plain = crate::overload::steps(&sim, &users, &pw, knee.0, pid).await;
    drop(c);
    drop(sim);
    let (shed_table, shed_label) = crate::overload::shed_config();
    let (sim, c) = start_connector(&env, &shed_table).await;
    let pid = c.pid().expect("connector running");
    let shedding = crate::overload::steps(&sim, &users, &pw, knee.0, pid).await;
    drop(c);
    rows.extend(crate::overload::report(knee, &plain, &shedding, &shed_label));
    crate::ldap::stop(USERS);
    rows
}

/// A fresh simulator and a connector on `env`'s slapd with `extra` config, online and
/// past one uncounted step at 200/s: a connector that has served logins before, its stock
/// of ready bind connections grown (the first seconds after start are not capacity).
async fn start_connector(env: &ServerEnv, extra: &str) -> (Sim, Connector) {
    let sim = Sim::start(false).await;
    let config = format!("{extra}\n{}", servers::slapd_directory("corp", env, false));
    let c = Connector::for_sim(&sim, "c1", &config);
    sim.wait_online(Duration::from_secs(30)).await;
    let users = users(env);
    step(&sim, &users, env.get("SLAPD_GEN_USER_PW"), 200, c.pid().expect("connector running")).await;
    (sim, c)
}

/// Workload `memory`: the connector's resident memory after `IC_BENCH_IDLE_MINUTES`
/// (default 10) of heartbeats and empty polls against the simulator, with one directory
/// configured (issue #17: ≤ 20 MiB).
pub async fn idle_memory() -> Vec<Row> {
    let minutes: u64 = std::env::var("IC_BENCH_IDLE_MINUTES").ok().and_then(|m| m.parse().ok()).unwrap_or(10);
    let env = crate::ldap::slapd(USERS);
    let sim = Sim::start(false).await;
    let directory = servers::slapd_directory("corp", &env, false);
    // The memory goal is the shipped program's (bench.sh builds it when it can).
    let shipped = crate::shipped_program();
    let (c, which) = match &shipped {
        Some(p) => (Connector::for_sim_with_program(&sim, "c1", &directory, p), "the shipped static binary"),
        None => (Connector::for_sim(&sim, "c1", &directory), "the bench-jobs build"),
    };
    sim.wait_online(Duration::from_secs(30)).await;
    let pid = c.pid().expect("running");
    let start = crate::ldap::status_mib(pid, "VmRSS:");
    tokio::time::sleep(Duration::from_secs(minutes * 60)).await;
    let rss = crate::ldap::status_mib(pid, "VmRSS:");
    let peak = crate::ldap::status_mib(pid, "VmHWM:");
    drop(c);
    crate::ldap::stop(USERS);
    vec![Row {
        workload: format!("idle for {minutes} min (heartbeats, long polls, directory health checks), {which}"),
        items: 1,
        seconds: (minutes * 60) as f64,
        baseline_per_s: None,
        note: format!("RSS {rss:.1} MiB (peak {peak:.1}, {start:.1} once online)"),
    }]
}
