//! The end-to-end benchmark harness: starts the real simulator (and, in later
//! workloads, the directory servers) and the real connector, drives a workload, and
//! prints a table with a baseline measured in the same run.
//!
//! Run with `scripts/bench.sh` (builds the `bench-jobs` profile, which has the
//! benchmark-only job types; the release binary does not).

#[path = "../../tests/harness/mod.rs"]
mod harness;
mod link;

pub struct Row {
    pub workload: String,
    pub items: u64,
    pub seconds: f64,
    pub baseline_per_s: Option<f64>,
}

fn main() {
    let filter = std::env::args().nth(1).filter(|a| !a.starts_with('-'));
    let rt = tokio::runtime::Builder::new_multi_thread().enable_all().build().expect("runtime");
    let mut rows = Vec::new();
    if filter.as_deref().is_none_or(|f| "link".contains(f)) {
        rows.extend(rt.block_on(link::run()));
    }
    println!("\n| workload | items | seconds | items/s | baseline items/s | ratio |");
    println!("|---|---:|---:|---:|---:|---:|");
    for r in rows {
        let rate = r.items as f64 / r.seconds;
        let (base, ratio) = match r.baseline_per_s {
            Some(b) => (format!("{b:.0}"), format!("{:.2}", rate / b)),
            None => ("-".into(), "-".into()),
        };
        println!("| {} | {} | {:.2} | {:.0} | {} | {} |", r.workload, r.items, r.seconds, rate, base, ratio);
    }
}
