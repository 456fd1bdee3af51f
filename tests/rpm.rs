//! The RPM built by packaging/linux/build-rpm.sh (scripts/test.sh runs it): its header
//! and file list (`rpm -qip`, `-qlp`), its scriptlets (the .deb's install logic),
//! rpmlint, an install into a scratch root (`rpm --root … --nodeps --noscripts -i`: the
//! scriptlets need a running systemd, which packaging.rs covers for the same scripts),
//! and the installed binary's `--version` and `check` against the portal simulator.
//!
//! Needs rpm and rpmlint (scripts/test.sh installs them): fails loudly without them.

#[allow(unused_imports)] // the harness exports more than these tests use
mod harness;

use std::os::unix::fs::PermissionsExt;
use std::path::PathBuf;
use std::process::{Command, Output};

use harness::Sim;

const PREFIX: &str = "opt/flotomate/integration-connector";

fn rpm_file() -> PathBuf {
    let repo = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let path = repo.join(format!("target/rpm/integration-connector-{}-1.x86_64.rpm", env!("CARGO_PKG_VERSION")));
    assert!(path.exists(), "{} is missing: run packaging/linux/build-rpm.sh (scripts/test.sh does)", path.display());
    path
}

fn run(program: &str, args: &[&str]) -> Output {
    Command::new(program)
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("cannot run {program} ({e}): apt-get install rpm rpmlint"))
}

fn text(out: &Output) -> String {
    format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr))
}

#[test]
fn the_rpm_carries_the_debs_files_unit_and_install_logic() {
    let rpm = rpm_file();
    let rpm = rpm.to_str().expect("utf-8 path");
    let info = text(&run("rpm", &["-qip", rpm]));
    assert!(info.contains("Name        : integration-connector"), "{info}");
    assert!(info.contains(&format!("Version     : {}", env!("CARGO_PKG_VERSION"))), "{info}");
    assert!(info.contains("License     : Apache-2.0") && info.contains("Architecture: x86_64"), "{info}");
    let files = text(&run("rpm", &["-qlp", rpm]));
    for f in ["integration-connector", "install.sh", "uninstall.sh", "README.md", "connector.example.toml"] {
        assert!(files.lines().any(|l| l == format!("/{PREFIX}/{f}")), "{f} missing from:\n{files}");
    }
    assert!(files.lines().any(|l| l == "/usr/lib/systemd/system/integration-connector.service"), "{files}");
    let scripts = text(&run("rpm", &["-qp", "--scripts", rpm]));
    assert!(scripts.contains("install.sh --package --stop"), "an upgrade drains first:\n{scripts}");
    assert!(scripts.contains("/install.sh --package\n"), "{scripts}");
    assert!(scripts.contains("uninstall.sh --package"), "{scripts}");
    // The unit in the package is the .deb's, byte for byte (its hardening included).
    let scratch = tempfile::tempdir().expect("scratch root");
    let root = scratch.path().to_str().expect("utf-8 path");
    let out = run("rpm", &["--root", root, "--dbpath", "/var/lib/rpm", "--nodeps", "--noscripts", "-i", rpm]);
    assert!(out.status.success(), "rpm -i into a scratch root failed:\n{}", text(&out));
    let unit =
        std::fs::read(scratch.path().join("usr/lib/systemd/system/integration-connector.service")).expect("unit");
    let ours =
        std::fs::read(PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("packaging/linux/integration-connector.service"));
    assert_eq!(unit, ours.expect("packaging unit"));
    let bin = scratch.path().join(PREFIX).join("integration-connector");
    assert_eq!(std::fs::metadata(&bin).expect("binary").permissions().mode() & 0o777, 0o755);
    let version = run(bin.to_str().expect("path"), &["--version"]);
    assert_eq!(text(&version).trim(), format!("integration-connector {}", env!("CARGO_PKG_VERSION")));
    let erase = run(
        "rpm",
        &["--root", root, "--dbpath", "/var/lib/rpm", "--nodeps", "--noscripts", "-e", "integration-connector"],
    );
    assert!(erase.status.success(), "rpm -e failed:\n{}", text(&erase));
    assert!(!bin.exists(), "rpm -e left the binary");
}

#[test]
fn rpmlint_finds_no_error() {
    let rpm = rpm_file();
    let rc = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("packaging/linux/rpm/rpmlintrc");
    let out = run("rpmlint", &["-r", rc.to_str().expect("utf-8 path"), rpm.to_str().expect("utf-8 path")]);
    let report = text(&out);
    assert!(report.contains(" 0 errors"), "rpmlint:\n{report}");
}

#[tokio::test]
async fn the_installed_binary_passes_check_against_the_simulator() {
    let rpm = rpm_file();
    let scratch = tempfile::tempdir().expect("scratch root");
    let root = scratch.path().to_str().expect("utf-8 path");
    let out = run(
        "rpm",
        &["--root", root, "--dbpath", "/var/lib/rpm", "--nodeps", "--noscripts", "-i", rpm.to_str().expect("path")],
    );
    assert!(out.status.success(), "{}", text(&out));
    let sim = Sim::start(true).await;
    let config = scratch.path().join("connector.toml");
    std::fs::write(&config, harness::connector::config_for(&sim, &scratch.path().join("data"), "")).expect("config");
    std::fs::set_permissions(&config, std::fs::Permissions::from_mode(0o600)).expect("chmod");
    let bin = scratch.path().join(PREFIX).join("integration-connector");
    let check = run(bin.to_str().expect("path"), &["check", "--config", config.to_str().expect("path")]);
    assert!(check.status.success(), "check of the installed binary failed:\n{}", text(&check));
    assert!(text(&check).contains("OK   server.token"), "{}", text(&check));
}
