//! Packaging, without a running systemd: the unit (`systemd-analyze verify`, offline
//! `security`), install.sh/uninstall.sh for real into a scratch root and for real on this
//! machine with packaging/linux/testing/fake-systemctl (which runs the unit's ExecStart as
//! its User= and listens on NOTIFY_SOCKET), an upgrade while jobs are queued, a rolled-back
//! upgrade, and the .deb (built, inspected, installed, upgraded, removed).
//!
//! Needs root, systemd-analyze, shellcheck, strace, cargo-deb and the musl target: each
//! test fails loudly naming what is missing (scripts/test.sh installs them all). The tests
//! that install on this machine share /opt, /etc and the user, so they take `MACHINE` in
//! turn; the scratch-root and unit tests run beside them.

#[allow(unused_imports)] // the harness exports more than these tests use
mod harness;

use std::collections::{BTreeSet, HashMap};
use std::io::Write;
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::{Mutex, MutexGuard};
use std::time::{Duration, Instant};

use serde_json::{json, Value};

use harness::{binary, eventually, Sim};

const PREFIX: &str = "/opt/flotomate/integration-connector";
const CONFIG: &str = "/etc/integration-connector/connector.toml";
const UNIT: &str = "integration-connector.service";
const USER: &str = "integration-connector";
const LIMIT: Duration = Duration::from_secs(60);

/// The static package and the glibc one with keytab binds that replaces it.
const DEB: &str = "integration-connector";
const KERBEROS_DEB: &str = "integration-connector-kerberos";
/// The drop-in an operator writes for the kerberos package's `KRB5_CONFIG`.
const KERBEROS_DROP_IN: &str = "/etc/systemd/system/integration-connector.service.d/20-kerberos.conf";

/// The machine-wide install location: one test at a time.
static MACHINE: Mutex<()> = Mutex::new(());

// === helpers ===

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn script(name: &str) -> PathBuf {
    repo().join("packaging/linux").join(name)
}

fn require_root() {
    assert_eq!(
        unsafe { libc::geteuid() },
        0,
        "the packaging tests install for real and must run as root (scripts/test.sh runs them as root)"
    );
}

fn require_tool(name: &str, install_hint: &str) {
    let found =
        std::env::var_os("PATH").map(|p| std::env::split_paths(&p).any(|d| d.join(name).is_file())).unwrap_or(false);
    assert!(found, "`{name}` is missing: {install_hint} (scripts/test.sh installs it)");
}

fn text(out: &Output) -> String {
    format!("--- stdout\n{}--- stderr\n{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr))
}

fn assert_ok(what: &str, out: &Output) {
    assert!(out.status.success(), "{what} failed ({}):\n{}", out.status, text(out));
}

fn run_with_stdin(cmd: &mut Command, stdin: &str) -> Output {
    let mut child = cmd.stdin(Stdio::piped()).stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().expect("spawn");
    child.stdin.take().expect("stdin").write_all(stdin.as_bytes()).expect("write stdin");
    child.wait_with_output().expect("wait")
}

fn mode(path: &str) -> u32 {
    std::fs::metadata(path).unwrap_or_else(|e| panic!("{path}: {e}")).permissions().mode() & 0o7777
}

fn uid_of(user: &str, passwd: &Path) -> Option<u32> {
    let text = std::fs::read_to_string(passwd).ok()?;
    text.lines().find(|l| l.starts_with(&format!("{user}:"))).and_then(|l| l.split(':').nth(2)?.parse().ok())
}

fn sha(path: &Path) -> String {
    let out = Command::new("sha256sum").arg(path).output().expect("sha256sum");
    String::from_utf8_lossy(&out.stdout).split_whitespace().next().unwrap_or_default().to_owned()
}

/// Every path under `dirs` (not following symlinks), for before/after comparisons.
fn tree(dirs: &[&str]) -> BTreeSet<String> {
    let mut all = BTreeSet::new();
    let mut stack: Vec<PathBuf> = dirs.iter().map(PathBuf::from).collect();
    while let Some(p) = stack.pop() {
        let Ok(meta) = std::fs::symlink_metadata(&p) else { continue };
        all.insert(p.display().to_string());
        if meta.is_dir() {
            if let Ok(rd) = std::fs::read_dir(&p) {
                stack.extend(rd.flatten().map(|e| e.path()));
            }
        }
    }
    all
}

fn deb_installed(name: &str) -> bool {
    let out = Command::new("dpkg-query").args(["-W", "-f=${Status}", name]).output();
    out.map(|o| String::from_utf8_lossy(&o.stdout).contains("ok installed")).unwrap_or(false)
}

/// Known to dpkg in any state (installed, half-configured, unpacked…), so to purge.
fn deb_known(name: &str) -> bool {
    let out = Command::new("dpkg-query").args(["-W", "-f=${Status}", name]).output();
    out.map(|o| {
        let status = String::from_utf8_lossy(&o.stdout).into_owned();
        !status.trim().is_empty() && !status.contains("not-installed")
    })
    .unwrap_or(false)
}

fn user_lines() -> String {
    ["/etc/passwd", "/etc/group", "/etc/shadow", "/etc/gshadow"]
        .iter()
        .flat_map(|f| std::fs::read_to_string(f).unwrap_or_default().lines().map(str::to_owned).collect::<Vec<_>>())
        .filter(|l| l.starts_with(&format!("{USER}:")))
        .collect::<Vec<_>>()
        .join("\n")
}

/// A token file only root can read.
fn token_file(dir: &Path, token: &str) -> PathBuf {
    let path = dir.join("token");
    std::fs::write(&path, format!("{token}\n")).expect("token file");
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)).expect("chmod token");
    path
}

/// The effects file of `test.touch` jobs, in a directory the service user can write.
fn effects_dir() -> tempfile::TempDir {
    let dir = tempfile::Builder::new().prefix("ic-effects").tempdir().expect("effects dir");
    std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o777)).expect("chmod effects");
    dir
}

fn touch(effects: &Path, id: &str, sleep_ms: u64) -> Value {
    json!({"id": id, "type": "test.touch", "payload": {"path": effects.join("effects.txt").display().to_string(), "sleep_ms": sleep_ms}})
}

fn effect_counts(effects: &Path) -> HashMap<String, usize> {
    let mut counts = HashMap::new();
    for l in std::fs::read_to_string(effects.join("effects.txt")).unwrap_or_default().lines() {
        *counts.entry(l.to_owned()).or_default() += 1;
    }
    counts
}

/// An admin GET on a fresh connection each time (no keep-alive race with the simulator
/// closing an idle one), retried a few times.
async fn admin_get(sim: &Sim, path: &str) -> Value {
    let client = reqwest::Client::builder().pool_max_idle_per_host(0).build().expect("client");
    for _ in 0..5 {
        if let Ok(resp) = client.get(format!("{}{path}", sim.url)).send().await {
            if let Ok(v) = resp.json::<Value>().await {
                return v;
            }
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    panic!("admin GET {path} failed 5 times")
}

// === the machine, with a fake systemctl ===

/// This machine as install.sh sees it: root, the fake systemctl and its records. Taking
/// one waits for `MACHINE`; it starts from a clean machine and leaves one when dropped.
struct Machine {
    dir: tempfile::TempDir,
    _turn: MutexGuard<'static, ()>,
}

impl Machine {
    fn take() -> Machine {
        require_root();
        assert!(
            Path::new("/usr/bin/python3").exists(),
            "/usr/bin/python3 (the fake systemctl) is missing: apt-get install python3"
        );
        let turn = MACHINE.lock().unwrap_or_else(|e| e.into_inner());
        let m = Machine { dir: tempfile::tempdir().expect("machine dir"), _turn: turn };
        m.clean();
        assert!(!Path::new(PREFIX).exists() && !Path::new(CONFIG).exists(), "could not clean {PREFIX} up first");
        // The records start now, not with the clean-up.
        let _ = std::fs::remove_file(m.dir.path().join("calls"));
        let _ = std::fs::remove_dir_all(m.state());
        m
    }

    fn state(&self) -> PathBuf {
        self.dir.path().join("state")
    }

    fn cmd(&self, program: impl AsRef<std::ffi::OsStr>) -> Command {
        let mut c = Command::new(program);
        c.env("IC_SYSTEMCTL", script("testing/fake-systemctl"))
            .env("FAKE_SYSTEMCTL_STATE", self.state())
            .env("FAKE_SYSTEMCTL_LOG", self.dir.path().join("calls"))
            .env_remove("IC_SERVER_TOKEN")
            .stdin(Stdio::null());
        c
    }

    fn calls(&self) -> Vec<String> {
        std::fs::read_to_string(self.dir.path().join("calls")).unwrap_or_default().lines().map(str::to_owned).collect()
    }

    fn notifications(&self) -> String {
        std::fs::read_to_string(self.state().join(format!("{UNIT}.notify"))).unwrap_or_default()
    }

    /// Exit codes of the service's runs, as the fake saw them ("0", "killed"…).
    fn exits(&self) -> Vec<String> {
        std::fs::read_to_string(self.state().join(format!("{UNIT}.exits")))
            .unwrap_or_default()
            .lines()
            .map(str::to_owned)
            .collect()
    }

    fn service_log(&self) -> String {
        std::fs::read_to_string(self.state().join(format!("{UNIT}.log"))).unwrap_or_default()
    }

    fn main_pid(&self) -> Option<u32> {
        let pid: u32 = std::fs::read_to_string(self.state().join(format!("{UNIT}.pid"))).ok()?.trim().parse().ok()?;
        Path::new(&format!("/proc/{pid}")).exists().then_some(pid)
    }

    fn install(&self, sim: &Sim, bin: &Path, extra: &[&str]) -> Output {
        let mut c = self.cmd(script("install.sh"));
        c.arg("--binary").arg(bin).args([
            "--server",
            &sim.url,
            "--token-file",
            "-",
            "--ui-listen",
            "127.0.0.1:0",
            "-y",
        ]);
        run_with_stdin(c.args(extra), &sim.token)
    }

    fn uninstall(&self, extra: &[&str]) -> Output {
        self.cmd(script("uninstall.sh")).arg("-y").args(extra).output().expect("uninstall.sh")
    }

    /// Removes whatever an earlier (failed) run left: the package, the install, and
    /// service processes started from the installed binary (by pid).
    fn clean(&self) {
        for deb in [DEB, KERBEROS_DEB] {
            if deb_known(deb) {
                let _ = self.cmd("dpkg").args(["--purge", deb]).output();
            }
        }
        let _ = std::fs::remove_file(KERBEROS_DROP_IN);
        for pid in installed_processes() {
            unsafe { libc::kill(pid as i32, libc::SIGKILL) };
        }
        if Path::new(PREFIX).exists() || Path::new(CONFIG).exists() || !user_lines().is_empty() {
            let out = self.uninstall(&[]);
            assert_ok("uninstall.sh (cleaning up an earlier run)", &out);
        }
    }
}

impl Drop for Machine {
    fn drop(&mut self) {
        let _ = self.cmd(script("testing/fake-systemctl")).args(["stop", UNIT]).output();
        self.clean();
    }
}

/// Pids of processes running the installed binary (left by an earlier, failed run).
fn installed_processes() -> Vec<u32> {
    let Ok(rd) = std::fs::read_dir("/proc") else { return vec![] };
    rd.flatten()
        .filter_map(|e| e.file_name().to_str()?.parse::<u32>().ok())
        .filter(|pid| {
            std::fs::read_link(format!("/proc/{pid}/exe"))
                .map(|exe| exe.display().to_string().starts_with(&format!("{PREFIX}/")))
                .unwrap_or(false)
        })
        .collect()
}

// === the unit ===

#[test]
fn the_unit_passes_systemd_analyze_verify_and_is_hardened() {
    require_tool("systemd-analyze", "apt-get install systemd");
    let unit = std::fs::read_to_string(script(UNIT)).expect("unit");
    for line in [
        "Type=notify",
        "ExecStart=/opt/flotomate/integration-connector/integration-connector run --config /etc/integration-connector/connector.toml",
        "User=integration-connector",
        "Restart=on-failure",
        "ProtectSystem=strict",
        "ReadWritePaths=/opt/flotomate/integration-connector/data",
        "NoNewPrivileges=yes",
        "PrivateTmp=yes",
        "CapabilityBoundingSet=",
        "WatchdogSec=60s",
        "ExecReload=/opt/flotomate/integration-connector/integration-connector reload --config /etc/integration-connector/connector.toml --pid $MAINPID",
    ] {
        assert!(unit.lines().any(|l| l == line), "the unit lacks `{line}`");
    }
    // TimeoutStopSec = the default drain grace + the margin the service itself asks for.
    let stop = 30 + integration_connector::notify::STOP_MARGIN.as_secs();
    assert!(unit.lines().any(|l| l == format!("TimeoutStopSec={stop}s")), "TimeoutStopSec must be {stop}s");
    let example = std::fs::read_to_string(repo().join("config/connector.example.toml")).expect("example config");
    assert!(example.contains("# drain_grace = \"30s\""), "the example config's drain_grace default changed");

    // verify checks that ExecStart's binary exists: point it at the built one.
    let dir = tempfile::tempdir().expect("dir");
    let copy = dir.path().join(UNIT);
    let built = binary("integration-connector");
    std::fs::write(&copy, unit.replace(&format!("{PREFIX}/integration-connector"), &built.display().to_string()))
        .expect("unit copy");
    let out = Command::new("systemd-analyze").arg("verify").arg(&copy).output().expect("systemd-analyze");
    // verify exits 0 on unknown keys and bad values too: only an empty stderr is clean.
    assert!(out.status.success() && out.stderr.is_empty(), "systemd-analyze verify:\n{}", text(&out));

    let out =
        Command::new("systemd-analyze").args(["security", "--offline=true"]).arg(&copy).output().expect("security");
    let report = String::from_utf8_lossy(&out.stdout);
    let score: f64 = report
        .lines()
        .find_map(|l| l.split("exposure level for integration-connector.service: ").nth(1))
        .and_then(|rest| rest.split_whitespace().next()?.parse().ok())
        .unwrap_or_else(|| panic!("no exposure level in:\n{}", text(&out)));
    println!("systemd-analyze security --offline: exposure {score}");
    assert!(score <= 2.0, "exposure {score} > 2.0:\n{report}");
}

#[test]
fn the_scripts_pass_shellcheck() {
    require_tool("shellcheck", "apt-get install shellcheck");
    let files = ["install.sh", "uninstall.sh", "debian/postinst", "debian/prerm"];
    let out = Command::new("shellcheck").args(files.iter().map(|f| script(f))).output().expect("shellcheck");
    assert_ok("shellcheck", &out);
}

// === scratch root ===

/// install.sh --root under strace: the output, and every command line it ran.
fn scratch_install(root: &Path, sim: &Sim, extra: &[&str]) -> (Output, String) {
    let tokens = tempfile::tempdir().expect("dir");
    let token = token_file(tokens.path(), &sim.token);
    let trace = tokens.path().join("execve.trace");
    let out = Command::new("strace")
        .args(["-f", "-qq", "-e", "trace=execve", "-s", "65535", "-o"])
        .arg(&trace)
        .arg(script("install.sh"))
        .arg("--root")
        .arg(root)
        .arg("--binary")
        .arg(binary("integration-connector"))
        .args(["--server", &sim.url, "--ui-listen", "127.0.0.1:0", "-y", "--token-file"])
        .arg(&token)
        .args(extra)
        .env_remove("IC_SERVER_TOKEN")
        .stdin(Stdio::null())
        .output()
        .expect("strace install.sh");
    (out, std::fs::read_to_string(&trace).unwrap_or_default())
}

#[tokio::test]
async fn install_and_uninstall_into_a_scratch_root() {
    require_root();
    require_tool("systemd-sysusers", "apt-get install systemd");
    require_tool("strace", "apt-get install strace");
    let sim = Sim::start(false).await;
    let dir = tempfile::tempdir().expect("dir");
    let root = dir.path().join("root");
    let at = |p: &str| format!("{}{p}", root.display());

    let (out, execs) = scratch_install(&root, &sim, &[]);
    assert_ok("install.sh --root", &out);
    // The token is read from a file and written by shell built-ins: never an argument.
    assert!(execs.contains("\"check\""), "no check ran:\n{execs}");
    assert!(!execs.contains(&sim.token), "the token was on a command line:\n{execs}");
    assert!(!text(&out).contains(&sim.token), "the token was printed");
    let uid = uid_of(USER, Path::new(&at("/etc/passwd"))).expect("the user in the scratch root's /etc/passwd");
    let config = std::fs::read_to_string(at(CONFIG)).expect("config");
    assert!(config.contains(&format!("token = \"{}\"", sim.token)), "{config}");
    assert!(config.contains(&format!("path = \"{PREFIX}/data\"")), "{config}");
    assert_eq!(mode(&at(CONFIG)), 0o600);
    assert_eq!(std::fs::metadata(at(CONFIG)).expect("config").uid(), uid);
    assert_eq!(mode(&at(&format!("{PREFIX}/data"))), 0o700);
    assert_eq!(std::fs::metadata(at(&format!("{PREFIX}/data/connector.key"))).expect("key").uid(), uid);
    assert_eq!(mode(&at(&format!("{PREFIX}/integration-connector"))), 0o755);
    for f in ["install.sh", "uninstall.sh", "README.md", "connector.example.toml"] {
        assert!(Path::new(&at(&format!("{PREFIX}/{f}"))).is_file(), "{f} not installed");
    }
    assert_eq!(sha(Path::new(&at(&format!("{PREFIX}/integration-connector")))), sha(&binary("integration-connector")));
    assert!(Path::new(&at(&format!("/etc/systemd/system/multi-user.target.wants/{UNIT}"))).is_symlink(), "not enabled");
    assert!(!Path::new(&at(&format!("/etc/systemd/system/{UNIT}.d"))).exists(), "no drop-in for the default storage");

    // Again: an upgrade in place that keeps the config byte for byte.
    let (out, _) = scratch_install(&root, &sim, &[]);
    assert_ok("install.sh --root (again)", &out);
    assert!(String::from_utf8_lossy(&out.stdout).contains("upgrading in place"), "{}", text(&out));
    assert_eq!(std::fs::read_to_string(at(CONFIG)).expect("config"), config);

    // --keep-data keeps the storage path and its user; a second uninstall removes the rest.
    let out =
        Command::new(script("uninstall.sh")).arg("--root").arg(&root).args(["-y", "--keep-data"]).output().unwrap();
    assert_ok("uninstall.sh --keep-data", &out);
    assert!(Path::new(&at(&format!("{PREFIX}/data/connector.key"))).exists(), "storage kept");
    assert!(!Path::new(&at(CONFIG)).exists() && !Path::new(&at(&format!("{PREFIX}/integration-connector"))).exists());
    assert!(!Path::new(&at(&format!("/etc/systemd/system/{UNIT}"))).exists());
    let out = Command::new(script("uninstall.sh")).arg("--root").arg(&root).arg("-y").output().unwrap();
    assert_ok("uninstall.sh", &out);
    let left: Vec<String> = tree(&[root.to_str().unwrap()])
        .into_iter()
        .filter(|p| p.contains("flotomate") || p.contains("integration-connector"))
        .collect();
    assert!(left.is_empty(), "left behind: {left:?}");
    assert_eq!(uid_of(USER, Path::new(&at("/etc/passwd"))), None);
    let out = Command::new(script("uninstall.sh")).arg("--root").arg(&root).arg("-y").output().unwrap();
    assert!(
        out.status.success() && String::from_utf8_lossy(&out.stdout).contains("Nothing to remove"),
        "{}",
        text(&out)
    );

    // Another storage path: its own drop-in makes it the writable path.
    let other = dir.path().join("root2");
    let (out, _) = scratch_install(&other, &sim, &["--storage-path", "/srv/ic/data"]);
    assert_ok("install.sh --storage-path", &out);
    let dropin = std::fs::read_to_string(format!("{}/etc/systemd/system/{UNIT}.d/10-storage.conf", other.display()))
        .expect("drop-in");
    assert!(dropin.contains("ReadWritePaths=\nReadWritePaths=\"/srv/ic/data\"\n"), "{dropin}");
    assert!(other.join("srv/ic/data/connector.key").exists());
}

/// The scripts ask the binary for the storage path (`config get`) instead of matching the
/// TOML: a literal string holding a space, and a comment after `[storage]`, keep the
/// storage path writable on upgrade, and a purge removes its key and queue.
#[tokio::test]
async fn a_storage_path_in_a_literal_string_after_a_comment_survives_upgrade_and_purge() {
    require_root();
    require_tool("systemd-sysusers", "apt-get install systemd");
    require_tool("strace", "apt-get install strace");
    let sim = Sim::start(false).await;
    let dir = tempfile::tempdir().expect("dir");
    let root = dir.path().join("root");
    let at = |p: &str| format!("{}{p}", root.display());
    let storage = "/srv/ic data";
    let (out, _) = scratch_install(&root, &sim, &["--storage-path", storage]);
    assert_ok("install.sh --storage-path '/srv/ic data'", &out);
    let written = std::fs::read_to_string(at(CONFIG)).expect("config");
    let tricky = written.replace(
        "[storage]\npath = \"/srv/ic data\"\n",
        "[storage] # where the queue lives\n# path = \"/var/tmp/elsewhere\"\npath = '/srv/ic data' # literal: no escapes\n",
    );
    assert_ne!(tricky, written, "the installed config changed shape:\n{written}");
    std::fs::write(at(CONFIG), &tricky).expect("rewrite config");
    assert!(Path::new(&at("/srv/ic data/connector.key")).exists(), "no key after the install");

    let (out, _) = scratch_install(&root, &sim, &[]);
    assert_ok("install.sh (upgrade)", &out);
    assert!(text(&out).contains(&format!("storage {storage} kept")), "{}", text(&out));
    let dropin = std::fs::read_to_string(at(&format!("/etc/systemd/system/{UNIT}.d/10-storage.conf")))
        .unwrap_or_else(|e| panic!("the drop-in making {storage} writable is gone ({e}):\n{}", text(&out)));
    assert!(dropin.contains("ReadWritePaths=\nReadWritePaths=\"/srv/ic data\"\n"), "{dropin}");
    let uid = uid_of(USER, Path::new(&at("/etc/passwd"))).expect("user");
    assert_eq!(std::fs::metadata(at(storage)).expect("storage").uid(), uid);
    assert_eq!(mode(&at(storage)), 0o700);
    assert_eq!(std::fs::read_to_string(at(CONFIG)).expect("config"), tricky, "the upgrade changed the config");

    let out = Command::new(script("uninstall.sh")).arg("--root").arg(&root).arg("-y").output().expect("uninstall");
    assert_ok("uninstall.sh (purge)", &out);
    assert!(!Path::new(&at(storage)).exists(), "the storage path, its key and queue were left:\n{}", text(&out));
    let left: Vec<String> = tree(&[root.to_str().expect("utf-8")])
        .into_iter()
        .filter(|p| p.contains("flotomate") || p.contains("integration-connector") || p.contains("ic data"))
        .collect();
    assert!(left.is_empty(), "left behind: {left:?}");
}

/// `config get` reads what the scripts need and refuses secrets, from the real binary.
#[test]
fn config_get_prints_values_and_refuses_secrets() {
    let dir = tempfile::tempdir().expect("dir");
    let config = dir.path().join("c.toml");
    let body = "[server]\nprotocol = \"https\"\nhost = \"sd.example.com\"\ntoken_file = \"/not/readable/here\"\n\n[storage] # comment\npath = '/srv/ic data' # literal\n";
    std::fs::write(&config, body).expect("config");
    let get = |key: &str| {
        Command::new(binary("integration-connector"))
            .arg("config")
            .arg("--config")
            .arg(&config)
            .args(["get", key])
            .output()
            .expect("config get")
    };
    let out = get("storage.path");
    assert_ok("config get storage.path", &out);
    assert_eq!(String::from_utf8_lossy(&out.stdout), "/srv/ic data\n");
    let out = get("server.token");
    assert_eq!(out.status.code(), Some(64), "{}", text(&out));
    assert!(String::from_utf8_lossy(&out.stderr).contains("never prints secrets"), "{}", text(&out));

    // A certificate-bound directory: `config get` reads no secret, so the rule "one
    // credential only" must not count its placeholder as a bind password (it did, and
    // uninstall.sh then left the storage path behind).
    let made = rcgen::generate_simple_self_signed(vec!["svc.example.test".to_owned()]).expect("certificate");
    let (cert, key) = (dir.path().join("svc.pem"), dir.path().join("svc.key"));
    std::fs::write(&cert, made.cert.pem()).expect("cert");
    std::fs::write(&key, made.key_pair.serialize_pem()).expect("key");
    std::fs::set_permissions(&key, std::fs::Permissions::from_mode(0o600)).expect("chmod key");
    let table = format!(
        "\n[directories.corp]\nkind = \"ldap\"\nurls = [\"ldaps://ldap.example.test\"]\nbind_dn = \"cn=svc,dc=example,dc=test\"\nbase_dn = \"dc=example,dc=test\"\n\
         client_cert_file = \"{}\"\nclient_key_file = \"{}\"\n",
        cert.display(),
        key.display()
    );
    std::fs::write(&config, format!("{body}{table}")).expect("config");
    let out = get("storage.path");
    assert_ok("config get storage.path (a certificate-bound directory)", &out);
    assert_eq!(String::from_utf8_lossy(&out.stdout), "/srv/ic data\n");
}

#[tokio::test]
async fn install_asks_the_seed_questions_on_a_terminal() {
    require_root();
    require_tool("script", "apt-get install bsdutils");
    let sim = Sim::start(false).await;
    let dir = tempfile::tempdir().expect("dir");
    let root = dir.path().join("root");
    // `script` gives install.sh a terminal; the answers: Protocol, Server URL, Port, the
    // default Storage Path, Token.
    let command = format!(
        "{} --root {} --binary {} --ui-listen 127.0.0.1:0",
        script("install.sh").display(),
        root.display(),
        binary("integration-connector").display()
    );
    let answers = format!("http\n127.0.0.1\n{}\n\n{}\n", sim.port(), sim.token);
    let out = run_with_stdin(Command::new("script").args(["-q", "-e", "-c", &command, "/dev/null"]), &answers);
    assert_ok("install.sh on a terminal", &out);
    let screen = String::from_utf8_lossy(&out.stdout);
    for prompt in [
        "Protocol (http/https) [https]:",
        "Server URL (the ServiceOps portal",
        "Port [80]:",
        &format!("Storage Path [{PREFIX}/data]:"),
        "Token (the Credential Profile's Basic Authorization token; not shown):",
    ] {
        assert!(screen.contains(prompt), "no prompt {prompt:?}:\n{screen}");
    }
    let config = std::fs::read_to_string(root.join("etc/integration-connector/connector.toml")).expect("config");
    for line in [
        "protocol = \"http\"".to_owned(),
        "host = \"127.0.0.1\"".to_owned(),
        format!("port = {}", sim.port()),
        format!("path = \"{PREFIX}/data\""),
        format!("token = \"{}\"", sim.token),
    ] {
        assert!(config.lines().any(|l| l == line), "no `{line}` in:\n{config}");
    }
}

#[tokio::test]
async fn install_refuses_non_root_bad_answers_and_a_failed_check() {
    require_root();
    let sim = Sim::start(false).await;
    let dir = tempfile::tempdir().expect("dir");
    for s in ["install.sh", "uninstall.sh"] {
        let out = Command::new("setpriv")
            .args(["--reuid=nobody", "--regid=nogroup", "--clear-groups", "--"])
            .arg(script(s))
            .output()
            .expect("setpriv");
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "{s} as nobody:\n{}", text(&out));
        assert!(err.contains("Permission denied") && err.contains("as root or with sudo"), "{s}: {err}");
    }
    let root = dir.path().join("root");
    let bin = binary("integration-connector");
    // Each with the token on standard input, unless the case is about the token.
    let attempt = |args: &[&str], stdin: &str| {
        let mut c = Command::new(script("install.sh"));
        c.arg("--root").arg(&root).arg("--binary").arg(&bin).arg("-y").args(args).env_remove("IC_SERVER_TOKEN");
        run_with_stdin(&mut c, stdin)
    };
    let with_token = ["--token-file", "-"];
    for (args, says) in [
        (vec!["--server", "portal.example.test"], "missing: --token-file"),
        (vec!["--token", "abc"], "ps"),
        ([&["--server", "portal.example.test", "--port", "70000"][..], &with_token].concat(), "port must be 1-65535"),
        ([&["--server", "ftp://portal.example.test"][..], &with_token].concat(), "unknown scheme"),
        ([&["--server", "http://a.test", "--protocol", "https"][..], &with_token].concat(), "contradicts"),
        ([&["--server", "a.test", "--storage-path", "relative/dir"][..], &with_token].concat(), "must be absolute"),
        ([&["--server", "a.test", "--storage-path", "/etc"][..], &with_token].concat(), "system directory"),
        ([&["--server", "a.test"][..], &with_token].concat(), "no token on standard input"),
    ] {
        let stdin = if says.starts_with("no token") { "" } else { "dG9rZW4=" };
        let out = attempt(&args, stdin);
        assert_eq!(out.status.code(), Some(1), "{args:?}:\n{}", text(&out));
        assert!(String::from_utf8_lossy(&out.stderr).contains(says), "{args:?} should say {says:?}:\n{}", text(&out));
    }
    // A token the portal refuses fails the check: nothing enabled, no config kept, so a
    // second run asks again instead of upgrading.
    let tokens = tempfile::tempdir().expect("dir");
    let wrong = token_file(tokens.path(), "d3Jvbmc6dG9rZW4=");
    let out =
        attempt(&["--server", &sim.url, "--ui-listen", "127.0.0.1:0", "--token-file", wrong.to_str().unwrap()], "");
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    let all = text(&out);
    assert!(all.contains("FAIL") && all.contains("nothing was enabled or started"), "{all}");
    assert!(!all.contains("d3Jvbmc6dG9rZW4="), "the token was printed:\n{all}");
    assert!(!root.join("etc/integration-connector/connector.toml").exists());
    assert!(!root.join(format!("etc/systemd/system/multi-user.target.wants/{UNIT}")).exists());
}

// === this machine, with the fake systemctl ===

#[tokio::test]
async fn installed_for_real_it_registers_as_its_user_and_uninstall_leaves_nothing() {
    require_tool("systemd-analyze", "apt-get install systemd");
    // A portal over HTTPS with its own CA: --ca-file.
    let sim = Sim::start(true).await;
    let m = Machine::take();
    let before = tree(&["/opt", "/etc/integration-connector", "/etc/systemd/system", "/lib/systemd/system"]);

    // The token goes in on standard input.
    let started = Instant::now();
    let ca = sim.ca_file().display().to_string();
    let out = m.install(&sim, &binary("integration-connector"), &["--ca-file", &ca]);
    assert_ok("install.sh", &out);
    println!("install.sh (fresh): {:?}", started.elapsed());
    assert!(!text(&out).contains(&sim.token), "the token was printed");
    // `show`: the check runs with the unit's Environment= (none here).
    let calls = [format!("show -p Environment --value {UNIT}"), "daemon-reload".into(), format!("enable {UNIT}")];
    assert_eq!(m.calls(), [&calls[..], &[format!("start {UNIT}")]].concat());

    // The installed unit, binary and config, started as systemd would: it registers.
    let online = sim.wait_online(LIMIT).await;
    let pid = m.main_pid().expect("the service runs");
    assert_eq!(
        std::fs::read_link(format!("/proc/{pid}/exe")).unwrap(),
        PathBuf::from(format!("{PREFIX}/integration-connector"))
    );
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    let uid = uid_of(USER, Path::new("/etc/passwd")).expect("the user exists");
    let uid_text = uid.to_string();
    assert!(status.lines().any(|l| l.starts_with("Uid:") && l.split_whitespace().nth(1) == Some(uid_text.as_str())));
    let notified = m.notifications();
    assert!(notified.contains("READY=1"), "{notified}");
    let id = online["connector_id"].as_str().expect("connector id");
    eventually(LIMIT, "STATUS=online in the notifications", || async {
        m.notifications().contains(&format!("STATUS=online as connector {id}")).then_some(())
    })
    .await;
    assert_eq!(mode(CONFIG), 0o600);
    assert_eq!(std::fs::metadata(CONFIG).unwrap().uid(), uid);
    let config = std::fs::read_to_string(CONFIG).unwrap();
    assert!(
        config.contains("protocol = \"https\"")
            && config.contains("ca_file = \"/etc/integration-connector/portal-ca.pem\"")
    );
    assert_eq!(mode(&format!("{PREFIX}/data")), 0o700);
    let out =
        Command::new("systemd-analyze").arg("verify").arg(format!("/etc/systemd/system/{UNIT}")).output().unwrap();
    assert!(out.status.success() && out.stderr.is_empty(), "verify of the installed unit:\n{}", text(&out));

    // Uninstall: stop (a clean drain), disable, and nothing left.
    let out = m.uninstall(&[]);
    assert_ok("uninstall.sh", &out);
    let calls = m.calls();
    assert!(calls.contains(&format!("stop {UNIT}")) && calls.contains(&format!("disable {UNIT}")), "{calls:?}");
    assert_eq!(m.exits(), ["0"], "the service did not drain and exit 0:\n{}", m.service_log());
    let notified = m.notifications();
    assert!(notified.contains("STOPPING=1") && notified.contains("EXTEND_TIMEOUT_USEC=45000000"), "{notified}");
    let after = tree(&["/opt", "/etc/integration-connector", "/etc/systemd/system", "/lib/systemd/system"]);
    assert_eq!(after, before, "uninstall left the file system changed");
    assert_eq!(user_lines(), "", "the user is still there");
}

#[tokio::test]
async fn an_upgrade_while_jobs_are_queued_loses_none_and_runs_each_once() {
    let sim = Sim::start(false).await;
    let m = Machine::take();
    let effects = effects_dir();
    let out = m.install(&sim, &binary("integration-connector"), &[]);
    assert_ok("install.sh", &out);
    let first = sim.wait_online(LIMIT).await["connector_id"].as_str().expect("id").to_owned();

    // 160 jobs of 1 s: 16 run at a time, the rest wait in the connector's queue or the portal's.
    let specs: Vec<Value> = (0..160).map(|i| touch(effects.path(), &format!("up-{i:03}"), 1000)).collect();
    let ids = sim.submit(Value::Array(specs)).await;
    assert_eq!(ids.len(), 160);
    eventually(LIMIT, "a first few jobs done", || async { (effect_counts(effects.path()).len() >= 20).then_some(()) })
        .await;

    // The new binary: the same program with other bytes, so its replacement shows.
    let new_bin = m.dir.path().join("integration-connector");
    let mut bytes = std::fs::read(binary("integration-connector")).expect("binary");
    bytes.extend_from_slice(b"\0upgrade-test\0");
    std::fs::write(&new_bin, bytes).expect("new binary");
    std::fs::set_permissions(&new_bin, std::fs::Permissions::from_mode(0o755)).expect("chmod");
    // A directory that does not answer: the upgrade's check warns (the service retries
    // it once started) instead of failing the upgrade and leaving the service stopped.
    let mut config = std::fs::OpenOptions::new().append(true).open(CONFIG).expect("config");
    let gone = "\n[directories.gone]\nkind = \"ldap\"\nurls = [\"ldap://127.0.0.1:9\"]\nbind_dn = \"cn=x\"\nbind_password = \"y\"\nbase_dn = \"dc=x\"\n";
    std::io::Write::write_all(&mut config, gone.as_bytes()).expect("append a directory");
    drop(config);
    let started = Instant::now();
    let out = m.cmd(script("install.sh")).arg("--binary").arg(&new_bin).arg("-y").output().expect("install.sh");
    let took = started.elapsed();
    assert_ok("install.sh (upgrade)", &out);
    let stdout = String::from_utf8_lossy(&out.stdout);
    let warned = stdout.lines().any(|l| l.contains("WARN directory.gone.tcp") && l.contains("--upgrade"));
    assert!(warned, "the unreachable directory did not warn:\n{}", text(&out));
    let kept = stdout.lines().find(|l| l.contains("the queue is kept")).unwrap_or_else(|| panic!("{}", text(&out)));
    println!("upgrade in {took:?}; {}", kept.trim());
    assert_eq!(sha(&PathBuf::from(format!("{PREFIX}/integration-connector"))), sha(&new_bin), "binary not replaced");
    let calls = m.calls();
    let stop = calls.iter().position(|c| c == &format!("stop {UNIT}")).expect("stopped");
    let start = calls.iter().rposition(|c| c == &format!("start {UNIT}")).expect("started again");
    assert!(stop < start, "{calls:?}");
    assert_eq!(m.exits(), ["0"], "the old binary did not drain and exit 0:\n{}", m.service_log());

    eventually(Duration::from_secs(120), "every job done at the simulator", || async {
        (admin_get(&sim, "/admin/summary").await["jobs"]["done"].as_u64()? == 160).then_some(())
    })
    .await;
    for id in &ids {
        let view = admin_get(&sim, &format!("/admin/jobs/{id}")).await;
        assert_eq!(view["result"]["status"], "succeeded", "{view}");
    }
    let counts = effect_counts(effects.path());
    for id in &ids {
        assert_eq!(counts.get(id), Some(&1), "job {id} ran {:?} times", counts.get(id));
    }
    assert_eq!(sim.violations().await, 0);
    let summary = sim.summary().await;
    let rows = summary["connectors"].as_array().expect("connectors");
    assert_eq!(rows.len(), 1, "the upgraded connector is still the same row: {rows:?}");
    assert_eq!(rows[0]["connector_id"], first.as_str());
}

#[tokio::test]
async fn a_new_binary_that_fails_the_check_is_rolled_back_and_started_again() {
    let sim = Sim::start(false).await;
    let m = Machine::take();
    assert_ok("install.sh", &m.install(&sim, &binary("integration-connector"), &[]));
    sim.wait_online(LIMIT).await;
    let bad = m.dir.path().join("integration-connector");
    std::fs::write(
        &bad,
        "#!/bin/sh\ncase $1 in --version) echo 'integration-connector 9.9.9'; exit 0;; check) echo 'FAIL broken build'; exit 1;; esac\nexit 70\n",
    )
    .expect("bad binary");
    std::fs::set_permissions(&bad, std::fs::Permissions::from_mode(0o755)).expect("chmod");
    let out = m.cmd(script("install.sh")).arg("--binary").arg(&bad).arg("-y").output().expect("install.sh");
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    assert!(text(&out).contains("the previous one (integration-connector 0.1.0) is back"), "{}", text(&out));
    assert_eq!(sha(&PathBuf::from(format!("{PREFIX}/integration-connector"))), sha(&binary("integration-connector")));
    assert!(m.main_pid().is_some(), "the old binary was not started again");
    assert_eq!(m.exits(), ["0"]);
}

// === the .deb ===

/// True when the ELF file has no program interpreter (statically linked).
fn is_static_elf(bytes: &[u8]) -> bool {
    let u16_at = |o: usize| u16::from_le_bytes([bytes[o], bytes[o + 1]]) as usize;
    let u64_at = |o: usize| u64::from_le_bytes(bytes[o..o + 8].try_into().unwrap_or([0; 8])) as usize;
    assert_eq!(&bytes[..5], b"\x7fELF\x02", "not a 64-bit ELF file");
    let (phoff, phentsize, phnum) = (u64_at(0x20), u16_at(0x36), u16_at(0x38));
    (0..phnum).all(|i| u32::from_le_bytes(bytes[phoff + i * phentsize..][..4].try_into().unwrap_or([0; 4])) != 3)
}

/// The syscalls the unit's `SystemCallFilter=` lines allow, expanded with
/// `systemd-analyze syscall-filter` (allow lists, minus `~` deny lists).
fn unit_syscall_filter() -> BTreeSet<String> {
    let out = Command::new("systemd-analyze").arg("syscall-filter").output().expect("systemd-analyze syscall-filter");
    let mut groups: HashMap<String, Vec<String>> = HashMap::new();
    let mut current = String::new();
    for line in String::from_utf8_lossy(&out.stdout).lines() {
        if line.starts_with('@') {
            current = line.split_whitespace().next().unwrap_or_default().to_owned();
        } else if !line.trim().is_empty() && !line.trim().starts_with('#') && !current.is_empty() {
            groups.entry(current.clone()).or_default().push(line.trim().to_owned());
        }
    }
    fn expand(name: &str, groups: &HashMap<String, Vec<String>>, into: &mut BTreeSet<String>) {
        if !name.starts_with('@') {
            into.insert(name.to_owned());
            return;
        }
        for member in groups.get(name).unwrap_or_else(|| panic!("unknown syscall group {name}")) {
            expand(member, groups, into);
        }
    }
    // systemd's order: the first (allow) line starts the list, `~` lines take from it
    // and later allow lines add back to it.
    let mut allow = BTreeSet::new();
    for line in std::fs::read_to_string(script(UNIT)).expect("unit").lines() {
        let Some(value) = line.strip_prefix("SystemCallFilter=") else { continue };
        let mut set = BTreeSet::new();
        for item in value.trim_start_matches('~').split_whitespace() {
            expand(item, &groups, &mut set);
        }
        match value.starts_with('~') {
            true => allow.retain(|s| !set.contains(s)),
            false => allow.extend(set),
        }
    }
    assert!(!allow.is_empty(), "the unit has no SystemCallFilter allow list");
    allow
}

/// What [`syscalls_of`] runs: config tables besides the link's, the environment, the job.
#[derive(Default)]
struct Traced<'a> {
    extra: String,
    env: Vec<(&'a str, &'a str)>,
    job: Value,
}

/// Every syscall `bin` makes in `check` and in a `run` that registers, runs `traced.job`
/// and drains on SIGTERM, as strace sees them; and the job's view at the portal.
async fn syscalls_of(bin: &Path, sim: &Sim, dir: &Path, traced: &Traced<'_>) -> (BTreeSet<String>, Value) {
    require_tool("strace", "apt-get install strace");
    let config = dir.join("syscalls.toml");
    let storage = dir.join("syscalls-data");
    std::fs::write(
        &config,
        format!(
            "{}\n[server]\nprotocol = \"http\"\nhost = \"127.0.0.1\"\nport = {}\ntoken = \"{}\"\n[storage]\npath = \"{}\"\n[ui]\nlisten = \"127.0.0.1:0\"\n",
            traced.extra,
            sim.port(),
            sim.token,
            storage.display()
        ),
    )
    .expect("config");
    std::fs::set_permissions(&config, std::fs::Permissions::from_mode(0o600)).expect("chmod");
    let trace = |name: &str| dir.join(format!("{name}.trace"));
    let out = Command::new("strace")
        .args(["-f", "-qq", "-o"])
        .arg(trace("check"))
        .arg(bin)
        .arg("check")
        .arg("--config")
        .arg(&config)
        .envs(traced.env.iter().copied())
        .output()
        .expect("strace check");
    assert_ok("check under strace", &out);
    let mut strace = Command::new("strace")
        .args(["-f", "-qq", "-o"])
        .arg(trace("run"))
        .arg(bin)
        .arg("run")
        .arg("--config")
        .arg(&config)
        .envs(traced.env.iter().copied())
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(dir.join("syscalls-run.log")).expect("log"))
        .spawn()
        .expect("strace run");
    let online = sim.wait_online(LIMIT).await;
    let ids = sim.submit(json!([traced.job])).await;
    let done = sim.wait_done(&ids, LIMIT).await;
    assert!(online["connector_id"].is_string());
    let children = std::fs::read_to_string(format!("/proc/{0}/task/{0}/children", strace.id())).expect("children");
    let tracee: i32 = children.split_whitespace().next().and_then(|p| p.parse().ok()).expect("the traced connector");
    unsafe { libc::kill(tracee, libc::SIGTERM) };
    let status = strace.wait().expect("strace exit");
    assert!(status.success(), "the connector did not drain and exit 0 under strace: {status}");
    let mut names = BTreeSet::new();
    for name in ["check", "run"] {
        for line in std::fs::read_to_string(trace(name)).expect("trace").lines() {
            // "1234  openat(AT_FDCWD, …" or "1234  <... futex resumed>…"
            let call = line.split_whitespace().nth(1).unwrap_or_default();
            if let Some((name, _)) = call.split_once('(') {
                if !name.is_empty() && name.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_') {
                    names.insert(name.to_owned());
                }
            }
        }
    }
    (names, done[0].clone())
}

/// The .deb `cargo deb` builds (`args`: its target, variant and features) into `out`, or
/// the one the environment variable `given` names (a CI artifact).
fn build_deb(out: &Path, given: &str, args: &[&str]) -> PathBuf {
    require_tool("dpkg-deb", "apt-get install dpkg");
    if let Some(path) = std::env::var_os(given) {
        println!("testing the .deb named by {given}: {}", PathBuf::from(&path).display());
        return PathBuf::from(path);
    }
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let has_deb = Command::new(&cargo).args(["deb", "--version"]).output().map(|o| o.status.success()).unwrap_or(false);
    assert!(has_deb, "cargo-deb is missing: cargo install cargo-deb --locked (scripts/test.sh installs it)");
    let started = Instant::now();
    let built = Command::new(&cargo)
        .current_dir(repo())
        .args(["deb", "-p", "integration-connector", "--locked", "--strip"])
        .args(args)
        .arg("--output")
        .arg(out)
        .output()
        .expect("cargo deb");
    assert_ok(&format!("cargo deb {}", args.join(" ")), &built);
    println!("cargo deb {}: {:?}", args.join(" "), started.elapsed());
    std::fs::read_dir(out)
        .expect("out dir")
        .flatten()
        .map(|e| e.path())
        .find(|p| p.extension().is_some_and(|e| e == "deb"))
        .expect("a .deb")
}

fn deb_field(deb: &Path, field: &str) -> String {
    let out = Command::new("dpkg-deb").arg("-f").arg(deb).arg(field).output().expect("dpkg-deb -f");
    String::from_utf8_lossy(&out.stdout).trim().to_owned()
}

fn lintian_clean(deb: &Path) {
    require_tool("lintian", "apt-get install lintian");
    let out = Command::new("lintian").args(["--fail-on", "error,warning"]).arg(deb).output().expect("lintian");
    assert_ok("lintian (errors and warnings; packaging/linux/debian/lintian-overrides says why each override)", &out);
}

#[tokio::test]
async fn the_deb_is_built_inspected_installed_upgraded_and_removed_cleanly() {
    let targets = Command::new("rustup").args(["target", "list", "--installed"]).output().expect("rustup");
    assert!(
        String::from_utf8_lossy(&targets.stdout).contains("x86_64-unknown-linux-musl"),
        "the musl target is missing: rustup target add x86_64-unknown-linux-musl; apt-get install musl-tools"
    );
    let out_dir = tempfile::tempdir().expect("dir");
    let deb = build_deb(out_dir.path(), "IC_TEST_DEB", &["--target", "x86_64-unknown-linux-musl"]);

    let listing = Command::new("dpkg-deb").arg("-c").arg(&deb).output().expect("dpkg-deb -c");
    let listing = String::from_utf8_lossy(&listing.stdout);
    for path in [
        "./opt/flotomate/integration-connector/integration-connector",
        "./opt/flotomate/integration-connector/install.sh",
        "./opt/flotomate/integration-connector/uninstall.sh",
        "./opt/flotomate/integration-connector/connector.example.toml",
        "./lib/systemd/system/integration-connector.service",
    ] {
        assert!(listing.lines().any(|l| l.ends_with(path)), "{path} is not in the .deb:\n{listing}");
    }
    assert_eq!(deb_field(&deb, "Depends"), "passwd", "a static binary depends on nothing but passwd");
    let x = out_dir.path().join("x");
    assert_ok("dpkg-deb -x", &Command::new("dpkg-deb").arg("-x").arg(&deb).arg(&x).output().expect("dpkg-deb -x"));
    let packaged = std::fs::read(x.join("opt/flotomate/integration-connector/integration-connector")).expect("binary");
    assert!(is_static_elf(&packaged), "the packaged binary is not static");
    let has = |needle: &[u8]| packaged.windows(needle.len()).any(|w| w == needle);
    assert!(!has(b"test.touch"), "the packaged binary has the test job types");
    println!(
        "packaged binary: {:.1} MiB, static musl; .deb {:.1} MiB",
        packaged.len() as f64 / 1048576.0,
        std::fs::metadata(&deb).expect("deb").len() as f64 / 1048576.0
    );
    lintian_clean(&deb);

    let sim = Sim::start(false).await;
    let extracted = x.join("opt/flotomate/integration-connector/integration-connector");
    let job = json!({"type": "ldap.authenticate", "payload": {"directory": "none", "username": "a", "password": "b"}});
    let (used, _) = syscalls_of(&extracted, &sim, out_dir.path(), &Traced { job, ..Traced::default() }).await;
    let allowed = unit_syscall_filter();
    let refused: Vec<&String> = used.iter().filter(|s| !allowed.contains(*s)).collect();
    println!("the packaged binary made {} distinct syscalls; the unit allows {}", used.len(), allowed.len());
    assert!(refused.is_empty(), "SystemCallFilter would refuse {refused:?} (used: {used:?})");

    // Installed with the answers in the environment: configured, checked, started.
    let m = Machine::take();
    let before = tree(&["/opt", "/etc/integration-connector", "/etc/systemd/system", "/lib/systemd/system"]);
    let users_before = user_lines();
    let tokens = tempfile::tempdir().expect("dir");
    let token = token_file(tokens.path(), &sim.token);
    let dpkg = |args: &[&str]| {
        let mut c = m.cmd("dpkg");
        c.args(args).env("IC_SERVER", &sim.url).env("IC_TOKEN_FILE", &token).env("IC_UI_LISTEN", "127.0.0.1:0");
        c.output().expect("dpkg")
    };
    let out = dpkg(&["-i", deb.to_str().unwrap()]);
    assert_ok("dpkg -i", &out);
    let online = sim.wait_online(LIMIT).await;
    let id = online["connector_id"].as_str().expect("id").to_owned();
    let registered = sim.get(&format!("/admin/connectors/{id}")).await;
    let caps = registered["capabilities"].to_string();
    assert!(!caps.contains("test."), "the packaged binary offers test jobs: {caps}");

    // The same .deb again: prerm stops (drains), postinst upgrades in place.
    let out = dpkg(&["-i", deb.to_str().unwrap()]);
    assert_ok("dpkg -i (again)", &out);
    assert!(String::from_utf8_lossy(&out.stdout).contains("upgrading in place"), "{}", text(&out));
    assert!(m.main_pid().is_some(), "not running after the upgrade");
    assert_eq!(m.exits(), ["0"]);
    // The package's files are dpkg's: uninstall.sh sends the operator to dpkg -r.
    let out = m.cmd(format!("{PREFIX}/uninstall.sh")).arg("-y").output().expect("uninstall.sh");
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    assert!(String::from_utf8_lossy(&out.stderr).contains("dpkg -r integration-connector"), "{}", text(&out));

    let out = dpkg(&["-r", DEB]);
    assert_ok("dpkg -r", &out);
    assert_eq!(m.exits(), ["0", "0"]);
    let after = tree(&["/opt", "/etc/integration-connector", "/etc/systemd/system", "/lib/systemd/system"]);
    assert_eq!(after, before, "dpkg -r left the file system changed");
    assert_eq!(user_lines(), users_before, "dpkg -r left the user");
    let status = Command::new("dpkg-query").args(["-W", "-f=${Status}", DEB]).output().expect("dpkg-query");
    // No conffiles and no postrm: dpkg forgets the package (no "rc" line to purge).
    let status = String::from_utf8_lossy(&status.stdout);
    assert!(!status.contains("ok installed") && !status.contains("config-files"), "after dpkg -r: {status}");

    // Without answers: installed, not configured, not started; and removed as cleanly.
    let out = m.cmd("dpkg").args(["-i", deb.to_str().unwrap()]).output().expect("dpkg -i");
    assert_ok("dpkg -i (no answers)", &out);
    assert!(String::from_utf8_lossy(&out.stdout).contains("not configured yet"), "{}", text(&out));
    assert!(!Path::new(CONFIG).exists() && m.main_pid().is_none());
    assert_ok("dpkg -r (unconfigured)", &m.cmd("dpkg").args(["-r", DEB]).output().expect("dpkg -r"));
    assert_eq!(tree(&["/opt", "/etc/integration-connector", "/etc/systemd/system", "/lib/systemd/system"]), before);
    assert_eq!(user_lines(), users_before);
}

// === the kerberos package: keytab binds (issue #20) ===

/// A copy of `from` at `to` owned by the service user, with `mode`: what an operator does
/// with the keytab (0600), the realm's krb5.conf and the DC's CA (0644).
fn give_to_service(from: &Path, to: &Path, mode: u32) {
    std::fs::copy(from, to).unwrap_or_else(|e| panic!("copy {} to {}: {e}", from.display(), to.display()));
    std::fs::set_permissions(to, std::fs::Permissions::from_mode(mode)).expect("chmod");
    let out = Command::new("chown").arg(format!("{USER}:{USER}")).arg(to).output().expect("chown");
    assert_ok("chown", &out);
}

/// The `[directories.ad]` table of a keytab-bound service account on the test run's DC.
fn keytab_table(env: &harness::servers::ServerEnv, keytab: &Path, ca: &Path) -> String {
    harness::servers::samba_keytab_directory("ad", env, &keytab.display().to_string(), &ca.display().to_string())
}

/// The job's view once done, or a failure with the installed service's log.
async fn service_done(sim: &Sim, m: &Machine, id: &str) -> Value {
    let started = Instant::now();
    loop {
        let view = sim.job(id).await;
        if view["state"] == "done" {
            return view;
        }
        assert!(
            started.elapsed() < LIMIT,
            "{id} is {} after {LIMIT:?}; the service's log:\n{}",
            view["state"],
            m.service_log()
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

fn ad_login(env: &harness::servers::ServerEnv, password: &str) -> Value {
    json!({"type": "ldap.authenticate", "payload": {"directory": "ad", "username": env.get("AD_USER_OK"), "password": password}})
}

/// The glibc package built with `--features kerberos` (Cargo.toml's deb variant): its
/// fields, libraries and lint; a keytab bind's syscalls against the unit's filter; then
/// installed as the service, given a keytab the way an operator would (files for the
/// service user, a drop-in for KRB5_CONFIG, the directory added by `systemctl reload`),
/// it runs logins and an import with no password anywhere, and is removed cleanly.
#[tokio::test]
async fn the_kerberos_deb_installs_a_service_that_binds_with_a_keytab() {
    let env = harness::servers::samba();
    let (krb5_conf, keytab) = harness::servers::samba_kerberos(&env);
    let (krb5_conf, keytab) = (krb5_conf.as_str(), keytab.as_str());
    require_tool("dpkg-shlibdeps", "apt-get install dpkg-dev");
    let out_dir = tempfile::tempdir().expect("dir");
    let glibc = ["--variant", "kerberos", "-F", "kerberos", "--target", "x86_64-unknown-linux-gnu"];
    let deb = build_deb(out_dir.path(), "IC_TEST_KERBEROS_DEB", &glibc);

    assert_eq!(deb_field(&deb, "Package"), KERBEROS_DEB);
    let depends = deb_field(&deb, "Depends");
    for lib in ["libc6", "libgssapi-krb5-2", "passwd"] {
        assert!(
            depends.split(", ").any(|d| d.split_whitespace().next() == Some(lib)),
            "no {lib} in Depends: {depends}"
        );
    }
    for field in ["Conflicts", "Replaces", "Provides"] {
        assert_eq!(deb_field(&deb, field), DEB, "{field}: the kerberos package takes the static one's place");
    }
    let x = out_dir.path().join("x");
    assert_ok("dpkg-deb -x", &Command::new("dpkg-deb").arg("-x").arg(&deb).arg(&x).output().expect("dpkg-deb -x"));
    let extracted = x.join("opt/flotomate/integration-connector/integration-connector");
    let packaged = std::fs::read(&extracted).expect("binary");
    let has = |needle: &[u8]| packaged.windows(needle.len()).any(|w| w == needle);
    assert!(!is_static_elf(&packaged) && has(b"libgssapi_krb5.so.2"), "not linked against MIT's libgssapi_krb5");
    assert!(!has(b"test.touch"), "the packaged binary has the test job types");
    println!("kerberos package: Depends: {depends}; binary {:.1} MiB", packaged.len() as f64 / 1048576.0);
    lintian_clean(&deb);

    // A keytab bind under strace: GSSAPI's calls (keyring, the KDC over UDP/TCP) must
    // pass the unit's SystemCallFilter= too, or the service fails where `check` passed.
    let sim = Sim::start(false).await;
    let table = keytab_table(&env, Path::new(keytab), Path::new(env.get("AD_CA")));
    let traced =
        Traced { extra: table, env: vec![("KRB5_CONFIG", krb5_conf)], job: ad_login(&env, env.get("AD_FIXTURE_PW")) };
    let (used, view) = syscalls_of(&extracted, &sim, out_dir.path(), &traced).await;
    assert_eq!(view["result"]["result"]["authenticated"], true, "the traced keytab login: {view}");
    let allowed = unit_syscall_filter();
    let refused: Vec<&String> = used.iter().filter(|s| !allowed.contains(*s)).collect();
    assert!(refused.is_empty(), "SystemCallFilter would refuse {refused:?} to a keytab bind (used: {used:?})");
    drop(sim);

    let m = Machine::take();
    let before = tree(&["/opt", "/etc/integration-connector", "/etc/systemd/system", "/lib/systemd/system"]);
    let users_before = user_lines();
    // The operator's steps, as the README's "Keytab binds" gives them. KRB5_CONFIG by a
    // drop-in written before the install, so the first start has it: a restart would
    // leave the old process's long poll open at the simulator, which leases the next job
    // to it (PROTOCOL.md §2.3: offered again only when its lease ends, 60 s).
    let kdir = Path::new("/etc/integration-connector/kerberos");
    let drop_in = Path::new(KERBEROS_DROP_IN);
    std::fs::create_dir_all(drop_in.parent().expect("drop-in dir")).expect("drop-in dir");
    std::fs::write(drop_in, format!("[Service]\nEnvironment=KRB5_CONFIG={}\n", kdir.join("krb5.conf").display()))
        .expect("drop-in");
    // The static package first, configured; then the kerberos one in its place: dpkg
    // removes the static one "in favour" of it, which must keep config, storage, queue,
    // connector id and user (it once ran uninstall.sh and lost them all).
    let sim = Sim::start(false).await;
    let tokens = tempfile::tempdir().expect("dir");
    let token = token_file(tokens.path(), &sim.token);
    let static_deb = build_deb(out_dir.path(), "IC_TEST_DEB", &["--target", "x86_64-unknown-linux-musl"]);
    let mut install = m.cmd("dpkg");
    install.args(["-i", static_deb.to_str().expect("path")]);
    install.env("IC_SERVER", &sim.url).env("IC_TOKEN_FILE", &token).env("IC_UI_LISTEN", "127.0.0.1:0");
    assert_ok("dpkg -i (static)", &install.output().expect("dpkg"));
    let first = sim.wait_online(LIMIT).await["connector_id"].clone();
    let config_before = std::fs::read_to_string(CONFIG).expect("config");
    let out = m.cmd("dpkg").args(["-i", deb.to_str().expect("path")]).output().expect("dpkg");
    assert_ok("dpkg -i (kerberos over static)", &out);
    assert!(deb_installed(KERBEROS_DEB) && !deb_installed(DEB), "{}", text(&out));
    assert!(String::from_utf8_lossy(&out.stdout).contains("upgrading in place"), "{}", text(&out));
    assert_eq!(std::fs::read_to_string(CONFIG).expect("config kept"), config_before);
    assert_eq!(m.exits(), ["0"], "the static service drained and exited 0");
    assert!(m.main_pid().is_some(), "not running after the replacement:\n{}", m.service_log());
    let ids = sim.summary().await["connectors"].as_array().cloned().unwrap_or_default();
    assert!(ids.len() == 1 && ids[0]["connector_id"] == first, "the connector id changed: {ids:?}");
    // The stopped process's long poll stays open at the simulator until its 25 s wait
    // ends and would take the next job (README "Shutdown"): let it end first.
    tokio::time::sleep(Duration::from_secs(26)).await;

    std::fs::create_dir_all(kdir).expect("kerberos dir");
    std::fs::set_permissions(kdir, std::fs::Permissions::from_mode(0o755)).expect("chmod");
    give_to_service(Path::new(keytab), &kdir.join("service.keytab"), 0o600);
    give_to_service(Path::new(krb5_conf), &kdir.join("krb5.conf"), 0o644);
    give_to_service(Path::new(env.get("AD_CA")), &kdir.join("ad-ca.pem"), 0o644);
    // A file the service would refuse: `systemctl reload` fails naming the problem (the
    // unit's ExecReload validates before it signals), and the service runs on.
    let good = std::fs::read_to_string(CONFIG).expect("config");
    let mut config = std::fs::OpenOptions::new().append(true).open(CONFIG).expect("config");
    let bad = "[directories.bad]\nkind = \"novell\"\nurls = [\"ldap://127.0.0.1:9\"]\nbind_dn = \"cn=x\"\nbind_password = \"y\"\nbase_dn = \"dc=x\"";
    writeln!(config, "\n{bad}").expect("write");
    drop(config);
    let refused = m.cmd(script("testing/fake-systemctl")).args(["reload", UNIT]).output().expect("systemctl");
    assert!(!refused.status.success(), "a refused reload exited 0:\n{}", text(&refused));
    assert!(
        text(&refused).contains("directories.bad.kind") && text(&refused).contains("reload refused"),
        "{}",
        text(&refused)
    );
    assert!(m.main_pid().is_some(), "the service stopped at a refused reload:\n{}", m.service_log());
    std::fs::write(CONFIG, good).expect("restore the config");
    let mut config = std::fs::OpenOptions::new().append(true).open(CONFIG).expect("config");
    writeln!(config, "\n{}", keytab_table(&env, &kdir.join("service.keytab"), &kdir.join("ad-ca.pem"))).expect("write");
    drop(config);
    let reload = m.cmd(script("testing/fake-systemctl")).args(["reload", UNIT]).output().expect("systemctl");
    assert_ok("systemctl reload (the new directory)", &reload);

    let login = |password: &str| {
        let job = ad_login(&env, password);
        let (sim, m) = (&sim, &m);
        async move {
            let ids = sim.submit(json!([job])).await;
            service_done(sim, m, &ids[0]).await
        }
    };
    // The reload applies in the background: the first logins may meet no directory "ad".
    let ok = eventually(LIMIT, "a keytab-bound login through the reloaded config", || async {
        let view = login(env.get("AD_FIXTURE_PW")).await;
        (view["result"]["status"] == "succeeded").then_some(view)
    })
    .await;
    assert_eq!(ok["result"]["result"]["authenticated"], true, "{ok}");
    let bad = login("not-the-password").await;
    assert_eq!(bad["result"]["result"]["reason"], "invalid_credentials", "{bad}");
    let payload = json!({"directory": "ad", "mode": "full", "filter": "(sAMAccountName=fx-*)"});
    let ids = sim.submit(json!([{"type": "ldap.import", "payload": payload}])).await;
    let import = service_done(&sim, &m, &ids[0]).await;
    assert_eq!(import["result"]["status"], "succeeded", "{}", import["result"]);
    let records = sim.get(&format!("/admin/jobs/{}/records", ids[0])).await;
    let records = records["records"].as_array().cloned().unwrap_or_default();
    assert!(records.len() >= 5, "the fx-* fixtures: {records:?}");
    assert_eq!(m.exits(), ["0"], "the service stopped again: {}", m.service_log());

    // `check` with the installed binary and config names the ticket it got.
    let mut check = m.cmd(format!("{PREFIX}/integration-connector"));
    check.args(["check", "--config", CONFIG]).env("KRB5_CONFIG", kdir.join("krb5.conf"));
    let said = text(&check.output().expect("check"));
    let bind = said.lines().find(|l| l.contains("directory.ad.bind:")).unwrap_or_default();
    assert!(bind.starts_with("OK") && bind.contains("SASL GSSAPI"), "{said}");

    // An upgrade (the same package again): postinst's check runs with the unit's
    // Environment=, so the keytab bind finds the realm through the drop-in's KRB5_CONFIG
    // (it once failed there and left the service stopped).
    let out = m.cmd("dpkg").args(["-i", deb.to_str().expect("path")]).output().expect("dpkg");
    assert_ok("dpkg -i (kerberos upgrade with a keytab directory)", &out);
    assert!(String::from_utf8_lossy(&out.stdout).contains("upgrading in place"), "{}", text(&out));
    assert!(m.main_pid().is_some(), "not running after the upgrade:\n{}", m.service_log());

    assert_ok("dpkg -r (kerberos)", &m.cmd("dpkg").args(["-r", KERBEROS_DEB]).output().expect("dpkg -r"));
    let _ = std::fs::remove_file(drop_in); // the operator's own file
    let _ = std::fs::remove_dir(drop_in.parent().expect("drop-in dir"));
    let after = tree(&["/opt", "/etc/integration-connector", "/etc/systemd/system", "/lib/systemd/system"]);
    let changed: Vec<&String> = after.symmetric_difference(&before).collect();
    assert!(changed.is_empty(), "dpkg -r left the file system changed: {changed:?}");
    assert_eq!(user_lines(), users_before, "dpkg -r left the user");
}
