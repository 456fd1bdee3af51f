//! The overload half of workload `capacity` (issue #17's Overload goal): 2× and 4× the
//! knee, once with the connector's defaults and once with `shed_logins_after`, in the
//! same run on the same slapd, each on a fresh simulator and connector. The goal, at
//! both factors: logins succeeded per second ≥ 0.9 × the knee's throughput, and the p99
//! of the succeeded logins (submit → result) under 1 s.

use crate::capacity::{step, Step};
use crate::harness::Sim;
use crate::Row;

const FACTORS: [u32; 2] = [2, 4];
/// The goal's bounds.
const MIN_SHARE_OF_KNEE: f64 = 0.9;
const MAX_P99_MS: f64 = 1_000.0;

/// The shedding run's `[connector]` table and its label: `shed_logins_after` from
/// `IC_BENCH_SHED_AFTER` (a humantime duration, default 500ms), and `max_concurrency`
/// from `IC_BENCH_SHED_CONCURRENCY` when set (a sensitivity run: the poll window is
/// twice it, and the knee stays the default's).
pub fn shed_config() -> (String, String) {
    let after = std::env::var("IC_BENCH_SHED_AFTER").unwrap_or_else(|_| "500ms".to_owned());
    let mut table = format!("[connector]\nshed_logins_after = \"{after}\"\n");
    let mut label = format!("shed_logins_after {after}");
    if let Ok(n) = std::env::var("IC_BENCH_SHED_CONCURRENCY") {
        table.push_str(&format!("max_concurrency = {n}\n"));
        label.push_str(&format!(", max_concurrency {n}"));
    }
    (table, label)
}

/// One step at each factor of `knee_rate`, offered to the connector `pid`.
pub async fn steps(sim: &Sim, users: &[String], pw: &str, knee_rate: u32, pid: u32) -> Vec<Step> {
    let mut out = Vec::new();
    for factor in FACTORS {
        out.push(step(sim, users, pw, knee_rate * factor, pid).await);
    }
    out
}

fn goal_met(s: &Step, knee_per_s: f64) -> bool {
    s.succeeded_per_s() >= MIN_SHARE_OF_KNEE * knee_per_s && s.p99_ms < MAX_P99_MS
}

/// Prints the two runs side by side and returns their rows for the summary table.
pub fn report(knee: (u32, f64), plain: &[Step], shedding: &[Step], shed_label: &str) -> Vec<Row> {
    let (knee_rate, knee_per_s) = knee;
    eprintln!(
        "\ncapacity: overload against the knee ({knee_rate}/s offered, {knee_per_s:.0}/s completed)\n\
         | run | offered/s | succeeded/s | shed/s | other failed | p99 of succeeded, ms | connector cores | machine busy |\n\
         |---|---:|---:|---:|---:|---:|---:|---:|"
    );
    let runs = [("no shedding", plain), (shed_label, shedding)];
    let mut rows = Vec::new();
    for (name, steps) in runs {
        for (factor, s) in FACTORS.iter().zip(steps) {
            eprintln!("{}", s.table_row(&format!("{name}, {factor}×")));
            let met = if goal_met(s, knee_per_s) { "met" } else { "not met" };
            rows.push(Row {
                workload: format!("overload: {factor}× the knee ({}/s offered), {name}", knee_rate * factor),
                items: s.succeeded as u64,
                seconds: s.window_s,
                baseline_per_s: Some(knee_per_s),
                note: format!(
                    "succeeded {:.0}/s, shed {:.0}/s, other failed {}; p99 of succeeded {:.0} ms; connector {:.2} cores, machine {:.0}% busy; goal (≥ {MIN_SHARE_OF_KNEE} of the knee, p99 < 1 s) {met}; baseline: the knee's throughput",
                    s.succeeded_per_s(),
                    s.shed_per_s(),
                    s.other,
                    s.p99_ms,
                    s.connector_cores,
                    s.machine_busy * 100.0
                ),
            });
        }
    }
    rows
}
