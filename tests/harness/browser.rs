//! Headless Chromium (Debian's `chromium` package, installed by scripts/test.sh) driven
//! over the DevTools protocol on a pipe (`--remote-debugging-pipe`: fd 3 in, fd 4 out,
//! messages separated by NUL). No port, no extra crate. Chromium runs as root here, so
//! `--no-sandbox`; the background-networking flags keep it from reaching the internet.
//! A missing browser fails the test loudly.

use std::io::{BufRead, BufReader, Write};
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::os::unix::process::CommandExt;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use base64::Engine;
use serde_json::{json, Value};

pub struct Browser {
    child: Child,
    to: std::fs::File,
    from: mpsc::Receiver<Value>,
    next_id: u64,
    session: String,
    _profile: tempfile::TempDir,
}

fn pipe() -> (OwnedFd, OwnedFd) {
    let mut fds = [0; 2];
    // Close-on-exec, so no other child process of the test run inherits them.
    assert_eq!(unsafe { libc::pipe2(fds.as_mut_ptr(), libc::O_CLOEXEC) }, 0, "pipe");
    unsafe { (OwnedFd::from_raw_fd(fds[0]), OwnedFd::from_raw_fd(fds[1])) }
}

pub fn chromium() -> &'static str {
    for path in ["/usr/bin/chromium", "/usr/bin/chromium-browser"] {
        if std::path::Path::new(path).exists() {
            return path;
        }
    }
    panic!("chromium is not installed: scripts/test.sh installs it (apt-get install chromium)");
}

impl Browser {
    /// Starts Chromium on `url` with a fresh profile and attaches to its page.
    pub fn open(url: &str, width: u32, height: u32) -> Browser {
        let profile = tempfile::tempdir().expect("profile dir");
        let (cmd_read, cmd_write) = pipe(); // we write commands, Chromium reads fd 3
        let (ev_read, ev_write) = pipe(); // Chromium writes fd 4, we read
        let (r3, w4) = (cmd_read.as_raw_fd(), ev_write.as_raw_fd());
        let mut cmd = Command::new(chromium());
        cmd.args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--disable-dev-shm-usage",
            "--remote-debugging-pipe",
            &format!("--window-size={width},{height}"),
        ])
        .arg(format!("--user-data-dir={}", profile.path().display()))
        .arg(url)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null());
        unsafe {
            cmd.pre_exec(move || {
                // Move both out of the way first, in case either is 3 or 4 already.
                let (r, w) = (libc::fcntl(r3, libc::F_DUPFD, 10), libc::fcntl(w4, libc::F_DUPFD, 10));
                if r < 0 || w < 0 || libc::dup2(r, 3) < 0 || libc::dup2(w, 4) < 0 {
                    return Err(std::io::Error::last_os_error());
                }
                libc::close(r);
                libc::close(w);
                Ok(())
            });
        }
        let child = cmd.spawn().expect("start chromium");
        drop(cmd_read);
        drop(ev_write);
        let (tx, rx) = mpsc::channel();
        let reader = std::fs::File::from(ev_read);
        std::thread::spawn(move || {
            let mut r = BufReader::new(reader);
            loop {
                let mut buf = Vec::new();
                match r.read_until(0, &mut buf) {
                    Ok(0) | Err(_) => return,
                    Ok(_) => {
                        buf.pop();
                        if let Ok(v) = serde_json::from_slice::<Value>(&buf) {
                            if tx.send(v).is_err() {
                                return;
                            }
                        }
                    }
                }
            }
        });
        let mut b = Browser {
            child,
            to: std::fs::File::from(cmd_write),
            from: rx,
            next_id: 0,
            session: String::new(),
            _profile: profile,
        };
        let start = std::time::Instant::now();
        let target = loop {
            let targets = b.call("Target.getTargets", json!({}), None);
            let page = targets["targetInfos"]
                .as_array()
                .and_then(|l| {
                    l.iter().find(|t| t["type"] == "page" && t["url"].as_str().is_some_and(|u| u.starts_with(url)))
                })
                .and_then(|t| t["targetId"].as_str().map(str::to_owned));
            if let Some(p) = page {
                break p;
            }
            assert!(start.elapsed() < Duration::from_secs(30), "chromium never opened {url}: {targets}");
            std::thread::sleep(Duration::from_millis(100));
        };
        let attached = b.call("Target.attachToTarget", json!({"targetId": target, "flatten": true}), None);
        b.session = attached["sessionId"].as_str().expect("sessionId").to_owned();
        b
    }

    /// One DevTools call; returns its `result` (panics on an error or after 30 s).
    pub fn call(&mut self, method: &str, params: Value, session: Option<&str>) -> Value {
        self.next_id += 1;
        let id = self.next_id;
        let mut msg = json!({"id": id, "method": method, "params": params});
        if let Some(s) = session {
            msg["sessionId"] = json!(s);
        }
        let mut bytes = serde_json::to_vec(&msg).expect("json");
        bytes.push(0);
        self.to.write_all(&bytes).expect("write to chromium");
        loop {
            let v = self.from.recv_timeout(Duration::from_secs(30)).expect("chromium answered nothing within 30 s");
            if v["id"] == id {
                assert!(v.get("error").is_none(), "{method}: {v}");
                return v["result"].clone();
            }
        }
    }

    /// Evaluates a JavaScript expression in the page; returns its value.
    pub fn eval(&mut self, expression: &str) -> Value {
        let session = self.session.clone();
        let r = self.call("Runtime.evaluate", json!({"expression": expression, "returnByValue": true}), Some(&session));
        r["result"]["value"].clone()
    }

    /// Waits until `expression` is truthy in the page (or panics with `what`).
    pub fn wait_for(&mut self, expression: &str, limit: Duration, what: &str) {
        let start = std::time::Instant::now();
        while self.eval(expression) != json!(true) {
            assert!(start.elapsed() < limit, "timed out after {limit:?} waiting in the page for: {what}");
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// The page as PNG.
    pub fn screenshot(&mut self) -> Vec<u8> {
        let session = self.session.clone();
        let r = self.call("Page.captureScreenshot", json!({"format": "png"}), Some(&session));
        base64::engine::general_purpose::STANDARD.decode(r["data"].as_str().expect("png data")).expect("base64 png")
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
