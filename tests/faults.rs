//! The fault suite: the faults an unattended connector meets in its first year (a full
//! or read-only disk, torn files, a hostile or broken server, a skewed clock, a
//! half-open connection), each run as a scenario against the real connector binary.
//!
//! It has its own `main` (`harness = false` in `Cargo.toml`) so that it can say, at the
//! end, how many scenarios ran and that nothing was lost or duplicated in any: each
//! scenario returns a [`Tally`] of the jobs it sent and what became of them.
//!
//! Run it alone: `cargo test --features test-jobs --test faults [NAME…]` (a name runs
//! the scenarios whose name contains it). Flags such as `--test-threads` that
//! `cargo test` passes to every test binary are ignored, but `--include-ignored` also
//! runs the open ones: faults found and not mended yet, each listed with why.

#[allow(unused_imports)] // each scenario file uses its own part of the harness
mod harness;

#[path = "faults/ad_lifecycle.rs"]
mod ad_lifecycle;
#[path = "faults/audit.rs"]
mod audit;
#[path = "faults/config.rs"]
mod config;
#[path = "faults/credentials.rs"]
mod credentials;
#[path = "faults/directory.rs"]
mod directory;
#[path = "faults/dns.rs"]
mod dns;
#[cfg(feature = "kerberos")]
#[path = "faults/keytab.rs"]
mod keytab;
#[path = "faults/logs.rs"]
mod logs;
#[path = "faults/reload.rs"]
mod reload;
#[path = "faults/server.rs"]
mod server;
#[path = "faults/storage.rs"]
mod storage;
#[path = "faults/suite.rs"]
mod suite;

use suite::Scenario;

/// Every scenario of the suite, by area. A new area adds its file and one line here.
fn scenarios() -> Vec<Scenario> {
    let mut all = Vec::new();
    all.extend(suite::self_check());
    all.extend(ad_lifecycle::scenarios());
    all.extend(audit::scenarios());
    all.extend(config::scenarios());
    all.extend(credentials::scenarios());
    all.extend(directory::scenarios());
    all.extend(dns::scenarios());
    #[cfg(feature = "kerberos")]
    all.extend(keytab::scenarios());
    all.extend(logs::scenarios());
    all.extend(reload::scenarios());
    all.extend(server::scenarios());
    all.extend(storage::scenarios());
    all
}

fn main() -> std::process::ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let filters: Vec<String> = args.iter().filter(|a| !a.starts_with('-')).cloned().collect();
    suite::run(scenarios(), &filters, args.iter().any(|a| a == "--include-ignored" || a == "--ignored"))
}
