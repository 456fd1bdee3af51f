//! A fresh WINEPREFIX with a persistent wineserver (Wine stops services when no ordinary
//! program runs), and the Windows commands the test uses: msiexec, reg, sc, net.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// The default INSTALLFOLDER: its spaces test the service's quoted command line.
pub const INSTALL_WIN: &str = r"C:\Program Files\Flotomate\Integration Connector\";
pub const INSTALL_DIR: &str = "Program Files/Flotomate/Integration Connector";
pub const EXE_WIN: &str = r"C:\Program Files\Flotomate\Integration Connector\integration-connector.exe";
pub const CONFIG_WIN: &str = r"C:\ProgramData\Flotomate\IntegrationConnector\connector.toml";

pub struct Prefix {
    dir: tempfile::TempDir,
}

pub fn text(out: &Output) -> String {
    format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr))
}

/// A Linux path as Wine's Z: drive sees it.
pub fn z_path(path: &Path) -> String {
    format!("Z:{}", path.display()).replace('/', "\\")
}

impl Prefix {
    pub fn create() -> Prefix {
        for tool in ["wine", "wineserver", "wixl"] {
            let found = Command::new("sh").args(["-c", &format!("command -v {tool}")]).output().expect("sh");
            assert!(
                found.status.success(),
                "{tool} is missing: apt-get install wine64 wine msitools wixl (scripts/test.sh does)"
            );
        }
        let p = Prefix { dir: tempfile::tempdir().expect("prefix dir") };
        let server = p.command("wineserver").arg("-p").status().expect("wineserver -p");
        assert!(server.success(), "wineserver -p failed");
        // Not `wineboot -i`: in a new prefix Wine's loader runs `wineboot --init` before
        // any program, so an explicit `wineboot -i` initialises twice and leaves two
        // services.exe sharing one registry and one RPC endpoint. A service created through
        // one is then unknown to the other (1060), and a start waits for a control pipe the
        // other one serves (1053, "database locked"): the MSI's service never starts.
        let mut boot = p.command("wine");
        boot.args(["cmd", "/c", "exit"]).stdout(std::process::Stdio::null()).stderr(std::process::Stdio::null());
        assert!(boot.status().expect("wine cmd").success(), "the prefix was not created");
        let managers = p.services_exe_count();
        assert_eq!(managers, 1, "{managers} services.exe run in the new prefix (one expected)");
        // Wine 8.0 lacks bcryptprimitives.dll (Rust's std needs its ProcessPrng): a
        // test-only stand-in, built from packaging/windows/testing/bcryptprimitives.c.
        let dll = p.drive_c().join("windows/system32/bcryptprimitives.dll");
        let built = Command::new("x86_64-w64-mingw32-gcc")
            .args(["-shared", "-O2", "-o"])
            .arg(&dll)
            .arg(Path::new(env!("CARGO_MANIFEST_DIR")).join("packaging/windows/testing/bcryptprimitives.c"))
            .arg("-ladvapi32")
            .output()
            .expect("x86_64-w64-mingw32-gcc (apt-get install mingw-w64)");
        assert!(built.status.success(), "building bcryptprimitives.dll failed:\n{}", text(&built));
        p
    }

    /// How many services.exe run for this prefix (Linux processes whose WINEPREFIX is it).
    fn services_exe_count(&self) -> usize {
        let prefix = format!("WINEPREFIX={}", self.dir.path().display());
        let Ok(procs) = std::fs::read_dir("/proc") else { return 0 };
        procs
            .filter_map(|e| e.ok())
            .filter(|e| {
                let cmdline = std::fs::read(e.path().join("cmdline")).unwrap_or_default();
                let environ = std::fs::read(e.path().join("environ")).unwrap_or_default();
                // Wine rewrites argv in place: the program, then NUL padding.
                let program = cmdline.split(|&b| b == 0).next().unwrap_or_default();
                program.ends_with(b"\\services.exe") && environ.split(|&b| b == 0).any(|v| v == prefix.as_bytes())
            })
            .count()
    }

    pub fn dir(&self) -> &Path {
        self.dir.path()
    }

    pub fn drive_c(&self) -> PathBuf {
        self.dir.path().join("drive_c")
    }

    /// Under umask 077: Wine 8.0 keeps no ACL of its own; it shows a file's DACL from its
    /// Unix mode (owner, Everyone), so files must be created as private as the ACL that
    /// `configure` sets (packaging/windows/README.md, "What Wine cannot show").
    fn command(&self, program: &str) -> Command {
        let mut c = Command::new("sh");
        c.args(["-c", "umask 077 && exec \"$0\" \"$@\"", program]);
        c.env("WINEPREFIX", self.dir.path()).env("WINEDEBUG", "-all").env("WINEDLLOVERRIDES", "mscoree,mshtml=");
        c
    }

    /// `wine ARGS…`. Output goes through files, not pipes: a service that msiexec or
    /// `net start` starts inherits them, and a pipe would never reach its end.
    pub fn run(&self, args: &[&str]) -> Output {
        let (out, err) = (self.dir.path().join("wine.out"), self.dir.path().join("wine.err"));
        let file = |p: &Path| std::fs::File::create(p).expect("wine output file");
        let status = self.command("wine").args(args).stdout(file(&out)).stderr(file(&err)).status().expect("run wine");
        let read = |p: &Path| std::fs::read(p).unwrap_or_default();
        Output { status, stdout: read(&out), stderr: read(&err) }
    }

    /// `msiexec ACTION MSI /qn /l*v LOG PROPS…`; asserts success; returns the log.
    pub fn msiexec(&self, action: &str, msi: &Path, props: &[&str]) -> String {
        let log = self.drive_c().join("msiexec.log");
        let _ = std::fs::remove_file(&log);
        let msi = z_path(msi);
        let mut args = vec!["msiexec", action, &msi, "/qn", "/l*v", r"C:\msiexec.log"];
        args.extend_from_slice(props);
        let out = self.run(&args);
        let text = std::fs::read(&log).map(|b| decode(&b)).unwrap_or_default();
        assert!(
            out.status.success(),
            "msiexec {action} failed ({:?}):\n{}\n{}",
            out.status,
            self::text(&out),
            tail(&text)
        );
        text
    }

    pub fn reg_query(&self, key: &str) -> String {
        let out = self.run(&["reg", "query", key]);
        assert!(out.status.success(), "reg query {key} failed:\n{}", text(&out));
        text(&out)
    }

    pub fn reg_exists(&self, key: &str) -> bool {
        self.run(&["reg", "query", key]).status.success()
    }

    /// The display names under the Uninstall key (Programs and Features).
    pub fn uninstall_entries(&self) -> String {
        text(&self.run(&["reg", "query", r"HKLM\Software\Microsoft\Windows\CurrentVersion\Uninstall", "/s"]))
    }

    pub fn sc_query(&self) -> String {
        text(&self.run(&["sc", "query", "integration-connector"]))
    }

    /// `net start|stop integration-connector`, then waits for RUNNING or STOPPED (Wine's
    /// `net stop` may return while the service still drains).
    pub fn net(&self, action: &str) {
        let out = self.run(&["net", action, "integration-connector"]);
        assert!(out.status.success(), "net {action} failed:\n{}", text(&out));
        let want = if action == "stop" { "STOPPED" } else { "RUNNING" };
        let start = std::time::Instant::now();
        while !self.sc_query().contains(want) {
            assert!(
                start.elapsed() < std::time::Duration::from_secs(60),
                "not {want} after net {action}:\n{}",
                self.sc_query()
            );
            std::thread::sleep(std::time::Duration::from_millis(250));
        }
    }

    /// Every log file of the service, oldest first.
    pub fn service_log(&self, storage: &Path) -> String {
        let mut files: Vec<PathBuf> = std::fs::read_dir(storage.join("logs"))
            .map(|d| d.filter_map(|e| e.ok().map(|e| e.path())).collect())
            .unwrap_or_default();
        files.sort();
        files.iter().filter_map(|f| std::fs::read_to_string(f).ok()).collect()
    }
}

/// MSI logs are UTF-16 on Windows; Wine writes them as the ANSI code page.
fn decode(bytes: &[u8]) -> String {
    if bytes.len() >= 2 && bytes[0] == 0xff && bytes[1] == 0xfe {
        let units: Vec<u16> = bytes[2..].chunks_exact(2).map(|c| u16::from_le_bytes([c[0], c[1]])).collect();
        return String::from_utf16_lossy(&units);
    }
    String::from_utf8_lossy(bytes).into_owned()
}

fn tail(text: &str) -> String {
    let lines: Vec<&str> = text.lines().collect();
    lines[lines.len().saturating_sub(60)..].join("\n")
}

impl Drop for Prefix {
    fn drop(&mut self) {
        let _ = self.command("wineserver").arg("-k").status();
    }
}
