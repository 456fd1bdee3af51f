//! The end-to-end benchmark harness: starts the real simulator (and, in later
//! workloads, the directory servers) and the real connector, drives a workload, and
//! prints a table with a baseline measured in the same run.
//!
//! Run with `scripts/bench.sh` (builds the `bench-jobs` profile, which has the
//! benchmark-only job types; the release binary does not).

mod ad;
mod ad_login;
mod capacity;
#[path = "../../tests/harness/mod.rs"]
mod harness;
mod ldap;
mod link;
mod overload;
mod timing;

pub struct Row {
    pub workload: String,
    pub items: u64,
    pub seconds: f64,
    pub baseline_per_s: Option<f64>,
    pub note: String,
}

/// A raw paged `ldapsearch` (the baselines): `args` are its connection and search
/// arguments, `ca` the CA it trusts. Returns the entries it printed and their rate.
pub fn ldapsearch_rate(args: &str, ca: &str) -> (u64, f64) {
    let start = std::time::Instant::now();
    let out = std::process::Command::new("sh")
        .arg("-c")
        .arg(format!("ldapsearch -LLL -x {args} -E pr=500/noprompt | grep -c '^dn:'"))
        .env("LDAPTLS_CACERT", ca)
        .output()
        .expect("ldapsearch");
    let secs = start.elapsed().as_secs_f64();
    let n: u64 = String::from_utf8_lossy(&out.stdout).trim().parse().unwrap_or(0);
    assert!(n > 0, "ldapsearch returned nothing: {}", String::from_utf8_lossy(&out.stderr));
    (n, n as f64 / secs)
}

/// The program the packages ship (`IC_BENCH_SHIPPED_BIN`, which `scripts/bench.sh` sets
/// to the static musl release build when that target is installed): the memory figures
/// of issue #17 are measured on it. `None` when unset.
pub fn shipped_program() -> Option<std::path::PathBuf> {
    let path = std::path::PathBuf::from(std::env::var_os("IC_BENCH_SHIPPED_BIN")?);
    assert!(path.exists(), "IC_BENCH_SHIPPED_BIN names {}, which does not exist", path.display());
    Some(path)
}

/// A row of logins against a reference: `lat` sorted latencies (ms) over `seconds`; its
/// note "p50 …, p99 … = N× {against}", N its p99 over `reference_p99`.
pub fn relative_row(workload: String, lat: &[f64], seconds: f64, reference_p99: f64, against: &str) -> Row {
    let (p50, p99) = (timing::percentile(lat, 0.5), timing::percentile(lat, 0.99));
    Row {
        workload,
        items: lat.len() as u64,
        seconds,
        baseline_per_s: None,
        note: format!("p50 {p50:.1} ms, p99 {p99:.1} ms = {:.2}× {against}", p99 / reference_p99),
    }
}

fn main() {
    let filter = std::env::args().nth(1).filter(|a| !a.starts_with('-'));
    let rt = tokio::runtime::Builder::new_multi_thread().enable_all().build().expect("runtime");
    let mut rows = Vec::new();
    let wants = |name: &str| filter.as_deref().is_none_or(|f| f == name);
    if wants("link") {
        rows.extend(rt.block_on(link::run()));
    }
    if wants("import") {
        let mut sizes = vec![10_000, 100_000];
        if std::env::var("IC_BENCH_MILLION").is_ok() {
            sizes.push(1_000_000);
        }
        rows.extend(rt.block_on(ldap::import(&sizes)));
    }
    if wants("login") {
        rows.extend(rt.block_on(ldap::login()));
    }
    if wants("capacity") {
        rows.extend(rt.block_on(capacity::run()));
    }
    if wants("memory") {
        rows.extend(rt.block_on(capacity::idle_memory()));
    }
    if wants("ad-read") {
        rows.extend(rt.block_on(ad::read()));
    }
    if wants("ad-login") {
        rows.extend(rt.block_on(ad_login::run()));
    }
    if wants("ad-create") {
        rows.extend(rt.block_on(ad::create()));
    }
    println!("\n| workload | items | seconds | items/s | baseline items/s | ratio | notes |");
    println!("|---|---:|---:|---:|---:|---:|---|");
    for r in rows {
        let rate = r.items as f64 / r.seconds;
        let (base, ratio) = match r.baseline_per_s {
            Some(b) => (format!("{b:.0}"), format!("{:.2}", rate / b)),
            None => ("-".into(), "-".into()),
        };
        println!(
            "| {} | {} | {:.2} | {:.0} | {} | {} | {} |",
            r.workload, r.items, r.seconds, rate, base, ratio, r.note
        );
    }
}
