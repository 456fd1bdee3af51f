//! The MSI under Wine: built by packaging/windows/build-msi.sh (scripts/test.sh runs it),
//! installed silently into a fresh WINEPREFIX against the portal simulator on 127.0.0.1,
//! then: files, registry and service there; the connector Online; logins and an import
//! against the test slapd; a stop that drains; `check` passing with the ACL verified; a major
//! upgrade that keeps config and storage; an uninstall that keeps data and one that
//! removes it (REMOVE_DATA=1). What Wine cannot show is in packaging/windows/README.md.
//!
//! Needs wine, msitools (wixl) and the slapd of the test run: fails loudly without them.

#[allow(unused_imports)] // the harness exports more than these tests use
mod harness;

#[path = "windows/wine.rs"]
mod wine;

use std::path::{Path, PathBuf};
use std::time::Duration;

use serde_json::{json, Value};

use harness::servers::{self, ServerEnv};
use harness::Sim;
use wine::{Prefix, CONFIG_WIN, EXE_WIN, INSTALL_DIR, INSTALL_WIN};

const LIMIT: Duration = Duration::from_secs(90);

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// The MSI that build-msi.sh wrote for the workspace version.
fn msi() -> PathBuf {
    let path = repo().join(format!("target/windows/integration-connector-{}-x64.msi", env!("CARGO_PKG_VERSION")));
    assert!(path.exists(), "{} is missing: run packaging/windows/build-msi.sh (scripts/test.sh does)", path.display());
    path
}

/// The same binary packed as the next patch version, for the major upgrade.
fn next_msi(dir: &Path) -> PathBuf {
    let v: Vec<u32> = env!("CARGO_PKG_VERSION").split('.').map(|p| p.parse().expect("x.y.z")).collect();
    let next = format!("{}.{}.{}", v[0], v[1], v[2] + 1);
    let out = dir.join(format!("integration-connector-{next}-x64.msi"));
    let status = std::process::Command::new("wixl")
        .current_dir(repo())
        .args([
            "-a",
            "x64",
            "-D",
            &format!("Version={next}"),
            "-D",
            "Exe=target/windows/stage/integration-connector.exe",
        ])
        .args(["-D", "Readme=packaging/windows/README.md", "-D", "Example=config/connector.example.toml", "-o"])
        .arg(&out)
        .arg("packaging/windows/integration-connector.wxs")
        .status()
        .expect("run wixl (apt-get install wixl)");
    assert!(status.success(), "wixl failed for the upgrade MSI");
    out
}

async fn online_id(sim: &Sim) -> String {
    let row = sim.wait_online(LIMIT).await;
    row["connector_id"].as_str().expect("connector_id").to_owned()
}

async fn login(sim: &Sim, user: &str, password: &str) -> Value {
    let job = json!([{"type": "ldap.authenticate", "payload": {"directory": "corp", "username": user, "password": password}}]);
    let ids = sim.submit(job).await;
    let views = sim.wait_done(&ids, LIMIT).await;
    assert_eq!(views[0]["result"]["status"], "succeeded", "login job: {}", views[0]["result"]);
    views[0]["result"]["result"].clone()
}

#[tokio::test]
async fn the_msi_installs_runs_upgrades_and_uninstalls_under_wine() {
    let msi = msi();
    let slapd: ServerEnv = servers::slapd();
    let sim = Sim::start(false).await;
    let prefix = Prefix::create();
    let token_file = prefix.drive_c().join("token.txt");
    std::fs::write(&token_file, format!("{}\n", sim.token)).expect("token file");

    // Silent install with the installer's answers; the token from a file, never a
    // property. The MSI starts the service (StartServices waits for RUNNING).
    let port = sim.port().to_string();
    let props = ["PROTOCOL=http", "SERVER_URL=127.0.0.1", &format!("PORT={port}"), r"TOKEN_FILE=C:\token.txt"];
    let log = prefix.msiexec("/i", &msi, &props);
    assert!(!log.contains(&sim.token), "the token reached the MSI log");
    assert!(prefix.sc_query().contains("RUNNING"), "the MSI did not start the service:\n{}", prefix.sc_query());

    // Files, registry entries, the service, the config with its ACL.
    let folder = prefix.drive_c().join(INSTALL_DIR);
    assert!(folder.join("integration-connector.exe").exists(), "no program in {}", folder.display());
    assert!(folder.join("connector.example.toml").exists());
    let config = prefix.drive_c().join("ProgramData/Flotomate/IntegrationConnector/connector.toml");
    let text = std::fs::read_to_string(&config).expect("the installed config");
    assert!(text.contains("host = \"127.0.0.1\"") && text.contains(&format!("port = {port}")), "{text}");
    assert!(text.contains("protocol = \"http\""), "{text}");
    let storage = prefix.drive_c().join("ProgramData/Flotomate/IntegrationConnector/storage");
    assert!(storage.is_dir(), "the default storage path was not created");
    let ours = prefix.reg_query(r"HKLM\Software\Flotomate\IntegrationConnector");
    assert!(ours.contains(INSTALL_WIN) && ours.contains("ConfigFile"), "{ours}");
    let service = prefix.reg_query(r"HKLM\System\CurrentControlSet\Services\integration-connector");
    // configure rewrote msiexec's unquoted command line: the default folder has spaces.
    assert!(service.contains(&format!("\"{EXE_WIN}\" service run --config")), "{service}");
    assert!(service.contains("Integration Connector"), "{service}");
    let arp = prefix.uninstall_entries();
    assert!(arp.contains("Integration Connector"), "not in Programs and Features: {arp}");
    let id = online_id(&sim).await;
    assert!(prefix.sc_query().contains("RUNNING"), "{}", prefix.sc_query());

    // A directory, as an administrator adds one: stop (a drain), edit, start.
    prefix.net("stop");
    assert!(prefix.sc_query().contains("STOPPED"), "{}", prefix.sc_query());
    let service_log = prefix.service_log(&storage);
    assert!(service_log.contains("service stop: draining"), "no drain on SCM stop:\n{service_log}");
    assert!(service_log.contains("integration connector stopped"), "{service_log}");
    let ca = format!("Z:{}", slapd.get("SLAPD_CA"));
    let directory = servers::slapd_directory("corp", &slapd, false).replace(slapd.get("SLAPD_CA"), &ca);
    std::fs::write(&config, format!("{text}\n[ui]\nlisten = \"127.0.0.1:0\"\n\n{directory}")).expect("edit config");

    // `check` with the service stopped: every check passes, the ACL among them.
    let check = prefix.run(&[EXE_WIN, "check", "--config", CONFIG_WIN]);
    assert!(check.status.success(), "check failed:\n{}", wine::text(&check));
    let out = wine::text(&check);
    assert!(
        out.contains("ACL: SYSTEM, Administrators and the service's account only"),
        "storage ACL not verified:\n{out}"
    );
    assert!(out.contains("directory.corp.bind"), "{out}");

    prefix.net("start");
    assert_eq!(online_id(&sim).await, id, "a restart keeps the connector id");
    let ok = login(&sim, slapd.get("SLAPD_USER_OK"), slapd.get("SLAPD_USER_OK_PW")).await;
    assert_eq!(ok["authenticated"], true, "{ok}");
    let bad = login(&sim, slapd.get("SLAPD_USER_OK"), "wrong-password").await;
    assert_eq!(bad["authenticated"], false, "{bad}");
    assert_eq!(bad["reason"], "invalid_credentials", "{bad}");

    // An import of the fixture users in batches of two: every batch goes through the
    // queue's spool on disk before it is sent.
    let spec = json!({"directory": "corp", "mode": "full", "filter": "(uid=fixture-*)", "batch_size": 2});
    let ids = sim.submit(json!([{"type": "ldap.import", "payload": spec}])).await;
    let views = sim.wait_done(&ids, LIMIT).await;
    assert_eq!(views[0]["result"]["status"], "succeeded", "import: {}", views[0]["result"]);
    // Never interrupted: a failing spool write is resumed within the job, which would
    // hide it from the result.
    let service_log = prefix.service_log(&storage);
    assert!(!service_log.contains("import interrupted"), "the import was interrupted:\n{service_log}");
    let uids = imported_uids(&sim, &ids[0]).await;
    let fixtures = ["SLAPD_USER_OK", "SLAPD_USER_LOCKED", "SLAPD_USER_EXPIRED", "SLAPD_USER_MUST_CHANGE"];
    for uid in fixtures.map(|k| slapd.get(k)) {
        assert_eq!(uids.iter().filter(|u| *u == uid).count(), 1, "{uid} not imported once: {uids:?}");
    }
    assert!(uids.iter().all(|u| u.starts_with("fixture-")), "{uids:?}");

    // A major upgrade without answers: config and storage kept, the same connector.
    let key = std::fs::read(storage.join("connector.key")).expect("sealing key");
    let before = std::fs::read_to_string(&config).expect("config");
    let next = next_msi(prefix.dir());
    prefix.msiexec("/i", &next, &[]);
    assert_eq!(
        std::fs::read_to_string(&config).expect("config after upgrade"),
        before,
        "the upgrade rewrote the config"
    );
    assert_eq!(std::fs::read(storage.join("connector.key")).expect("key after upgrade"), key);
    assert!(prefix.reg_query(r"HKLM\Software\Flotomate\IntegrationConnector").contains(&next_version()));
    assert_eq!(online_id(&sim).await, id, "the upgraded service is the same connector");
    assert_eq!(login(&sim, slapd.get("SLAPD_USER_OK"), slapd.get("SLAPD_USER_OK_PW")).await["authenticated"], true);

    // Uninstall: binary, service and registry gone; config and storage kept.
    prefix.msiexec("/x", &next, &[]);
    assert!(!folder.join("integration-connector.exe").exists(), "the program is left");
    assert!(!prefix.reg_exists(r"HKLM\System\CurrentControlSet\Services\integration-connector"), "service left");
    assert!(!prefix.reg_exists(r"HKLM\Software\Flotomate\IntegrationConnector"), "registry key left");
    assert!(config.exists() && storage.join("connector.key").exists(), "data removed without REMOVE_DATA=1");
    let log = prefix.service_log(&storage);
    assert!(log.matches("integration connector stopped").count() >= 3, "every stop drained:\n{log}");

    // Installed again over the kept data, then removed with REMOVE_DATA=1: nothing left.
    prefix.msiexec("/i", &msi, &[]);
    assert_eq!(online_id(&sim).await, id, "a reinstall over kept data is the same connector");
    prefix.msiexec("/x", &msi, &["REMOVE_DATA=1"]);
    assert!(!config.exists() && !storage.exists(), "REMOVE_DATA=1 left data behind");
    assert_eq!(sim.violations().await, 0, "protocol violations:\n{}", sim.log());
}

/// The `uid` of every record the import delivered, in order.
async fn imported_uids(sim: &Sim, id: &str) -> Vec<String> {
    let records = sim.get(&format!("/admin/jobs/{id}/records")).await;
    let records = records["records"].as_array().expect("records").iter();
    records.filter_map(|r| r["attributes"]["uid"][0].as_str().map(str::to_owned)).collect()
}

fn next_version() -> String {
    let v: Vec<u32> = env!("CARGO_PKG_VERSION").split('.').map(|p| p.parse().expect("x.y.z")).collect();
    format!("{}.{}.{}", v[0], v[1], v[2] + 1)
}
