//! The command line: exit codes and messages of bad configs, `check`, `queue`.

use std::process::Command;

use crate::harness::{binary, Connector, Sim};

#[test]
fn a_bad_config_exits_64_naming_file_line_and_key() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("bad.toml");
    std::fs::write(&path, "[server]\nprotocol = \"https\"\nhots = \"x\"\n[storage]\npath = \"/tmp/x\"\n").unwrap();
    let out = Command::new(binary("integration-connector")).args(["run", "--config"]).arg(&path).output().unwrap();
    assert_eq!(out.status.code(), Some(64));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains(&format!("{}:3: server.hots: unknown field", path.display())), "{err}");
}

#[test]
fn a_missing_config_file_exits_64() {
    let out = Command::new(binary("integration-connector"))
        .args(["check", "--config", "/nonexistent/connector.toml"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(64));
    assert!(String::from_utf8_lossy(&out.stderr).contains("cannot read the config file"));
}

#[test]
fn version_and_usage() {
    let out = Command::new(binary("integration-connector")).arg("--version").output().unwrap();
    assert!(out.status.success());
    assert!(String::from_utf8_lossy(&out.stdout).contains(env!("CARGO_PKG_VERSION")));
    let out = Command::new(binary("integration-connector")).arg("frobnicate").output().unwrap();
    assert_eq!(out.status.code(), Some(2));
}

#[tokio::test]
async fn queue_commands_refuse_while_the_service_runs_and_work_after() {
    let sim = Sim::start(false).await;
    let mut c = Connector::for_sim(&sim, "c1", "");
    sim.wait_online(std::time::Duration::from_secs(20)).await;
    let out = c.cli(&["queue", "list"]);
    assert_eq!(out.status.code(), Some(69), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(String::from_utf8_lossy(&out.stderr).contains("stop it first"));
    assert_eq!(c.terminate(std::time::Duration::from_secs(20)), Some(0));
    let out = c.cli(&["queue", "list"]);
    assert!(out.status.success());
    assert!(String::from_utf8_lossy(&out.stdout).contains("0 job(s)"));
    let out = c.cli(&["queue", "show", "nope"]);
    assert_eq!(out.status.code(), Some(1));
    let out = c.cli(&["check"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stdout));
}
