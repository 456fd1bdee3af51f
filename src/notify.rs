//! Tells the service manager what the process is doing, so `systemctl status` shows the
//! truth (`Type=notify` in packaging/linux/integration-connector.service).
//!
//! The protocol is sd_notify(3)'s: one datagram of `KEY=VALUE` lines to the Unix socket
//! named by `NOTIFY_SOCKET` (a path, or a Linux abstract name written `@name`).
//! - `READY=1` once every actor runs (not once the portal answers: a portal that is down
//!   is a state to show, not a failed start);
//! - `STATUS=…` whenever the portal link changes (online, unauthorized, unreachable…) and
//!   every few seconds of a drain;
//! - `WATCHDOG=1` every half `WATCHDOG_USEC` while the async runtime turns;
//! - `STOPPING=1` with `EXTEND_TIMEOUT_USEC` when the drain starts, so systemd's stop
//!   timeout is at least `drain_grace` + [`STOP_MARGIN`] whatever the config says.
//!
//! As a Windows service the same calls reach the SCM through a [`StatusSink`]
//! (`src/service/`): READY → RUNNING, STOPPING and every drain STATUS → STOP_PENDING
//! with a wait hint of `drain_grace` + [`STOP_MARGIN`] and a new checkpoint.
//!
//! Without `NOTIFY_SOCKET` or a sink every call is a no-op. A failed send is logged once and never
//! stops the service. Sends never block: the socket is non-blocking and a full queue
//! drops the message.

use std::ffi::OsString;
use std::io;
#[cfg(unix)]
use std::os::unix::net::UnixDatagram;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use connector_actors::link::{Connection, LinkState};
use tokio::sync::watch;

/// Time after the drain grace for the last results, the queue flush and the exit.
/// The unit's `TimeoutStopSec=45s` is the default `drain_grace` (30 s) plus this.
pub const STOP_MARGIN: Duration = Duration::from_secs(15);

/// Where the service manager listens; `None` when not started by one.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Target {
    Path(PathBuf),
    /// A Linux abstract socket name (without the leading `@`).
    Abstract(Vec<u8>),
}

/// A service manager told by calls instead of the socket: the Windows SCM.
pub trait StatusSink: Send + Sync + std::fmt::Debug {
    /// The service runs (READY).
    fn running(&self);
    /// A stop is under way and needs up to `wait` more; each call is progress.
    fn stop_pending(&self, wait: Duration);
}

/// A handle on the service manager's notification socket. Cheap to clone.
#[derive(Clone, Debug)]
pub struct Notifier {
    target: Option<Target>,
    sink: Option<Arc<dyn StatusSink>>,
    /// `drain_grace` + [`STOP_MARGIN`] once the drain started: the sink's wait hint.
    stop_wait: Arc<std::sync::Mutex<Duration>>,
    watchdog: Option<Duration>,
    /// Set after the first failed send, so a missing socket is logged once.
    warned: Arc<AtomicBool>,
    /// Set by [`Notifier::stopping`]: link changes no longer overwrite the drain's STATUS.
    stopping: Arc<AtomicBool>,
}

impl Notifier {
    /// From this process's environment (`NOTIFY_SOCKET`, `WATCHDOG_USEC`, `WATCHDOG_PID`).
    pub fn from_env() -> Notifier {
        Notifier::from_vars(
            std::env::var_os("NOTIFY_SOCKET"),
            std::env::var("WATCHDOG_USEC").ok(),
            std::env::var("WATCHDOG_PID").ok(),
            std::process::id(),
        )
    }

    /// From explicit values, as sd_notify(3) reads them: the watchdog applies only when
    /// `WATCHDOG_PID` is absent or names `own_pid`.
    pub fn from_vars(
        socket: Option<OsString>,
        watchdog_usec: Option<String>,
        watchdog_pid: Option<String>,
        own_pid: u32,
    ) -> Notifier {
        let target = socket.filter(|s| !s.is_empty()).map(|s| {
            let bytes = os_bytes(&s);
            match bytes.strip_prefix(b"@") {
                Some(name) => Target::Abstract(name.to_vec()),
                None => Target::Path(PathBuf::from(s)),
            }
        });
        let for_us = match watchdog_pid {
            None => true,
            Some(p) => p.trim().parse::<u32>().ok() == Some(own_pid),
        };
        let watchdog = watchdog_usec
            .and_then(|u| u.trim().parse::<u64>().ok())
            .filter(|&u| u > 0 && for_us && target.is_some())
            .map(Duration::from_micros);
        Notifier { target, watchdog, ..Notifier::disabled() }
    }

    /// A notifier that sends nothing.
    pub fn disabled() -> Notifier {
        Notifier {
            target: None,
            sink: None,
            stop_wait: Arc::default(),
            watchdog: None,
            warned: Arc::default(),
            stopping: Arc::default(),
        }
    }

    /// Tells `sink` too (the Windows SCM).
    pub fn with_sink(mut self, sink: Arc<dyn StatusSink>) -> Notifier {
        self.sink = Some(sink);
        self
    }

    pub fn is_enabled(&self) -> bool {
        self.target.is_some() || self.sink.is_some()
    }

    /// How often to send `WATCHDOG=1`: half the service manager's timeout.
    pub fn watchdog_interval(&self) -> Option<Duration> {
        self.watchdog.map(|w| w / 2)
    }

    pub fn ready(&self, status: &str) {
        if let Some(sink) = &self.sink {
            sink.running();
        }
        self.send(&format!("READY=1\nSTATUS={}\nMAINPID={}", one_line(status), std::process::id()));
    }

    pub fn status(&self, status: &str) {
        if let (Some(sink), true) = (&self.sink, self.stopping.load(Ordering::Relaxed)) {
            sink.stop_pending(self.stop_wait.lock().map(|w| *w).unwrap_or(STOP_MARGIN));
        }
        self.send(&format!("STATUS={}", one_line(status)));
    }

    pub fn watchdog(&self) {
        self.send("WATCHDOG=1");
    }

    /// The drain starts: stop must be allowed `drain_grace` + [`STOP_MARGIN`].
    pub fn stopping(&self, drain_grace: Duration) {
        self.stopping.store(true, Ordering::Relaxed);
        let wait = drain_grace + STOP_MARGIN;
        if let Ok(mut w) = self.stop_wait.lock() {
            *w = wait;
        }
        if let Some(sink) = &self.sink {
            sink.stop_pending(wait);
        }
        let usec = wait.as_micros();
        self.send(&format!(
            "STOPPING=1\nSTATUS=draining: running jobs get {drain_grace:?} to finish\nEXTEND_TIMEOUT_USEC={usec}"
        ));
    }

    fn send(&self, message: &str) {
        let Some(target) = &self.target else { return };
        if let Err(e) = send_to(target, message.as_bytes()) {
            if !self.warned.swap(true, Ordering::Relaxed) {
                tracing::warn!(error = %e, "cannot notify the service manager (NOTIFY_SOCKET); the service runs on");
            }
        }
    }
}

#[cfg(unix)]
fn os_bytes(s: &OsString) -> Vec<u8> {
    std::os::unix::ffi::OsStrExt::as_bytes(s.as_os_str()).to_vec()
}

#[cfg(not(unix))]
fn os_bytes(s: &OsString) -> Vec<u8> {
    s.to_string_lossy().as_bytes().to_vec()
}

/// sd_notify exists on Unix only; elsewhere a set `NOTIFY_SOCKET` is reported once.
#[cfg(not(unix))]
fn send_to(_: &Target, _: &[u8]) -> io::Result<usize> {
    Err(io::Error::new(io::ErrorKind::Unsupported, "NOTIFY_SOCKET is a Unix socket"))
}

#[cfg(unix)]
fn send_to(target: &Target, message: &[u8]) -> io::Result<usize> {
    let socket = UnixDatagram::unbound()?;
    socket.set_nonblocking(true)?;
    match target {
        Target::Path(path) => socket.send_to(message, path),
        Target::Abstract(name) => send_abstract(&socket, name, message),
    }
}

#[cfg(any(target_os = "linux", target_os = "android"))]
fn send_abstract(socket: &UnixDatagram, name: &[u8], message: &[u8]) -> io::Result<usize> {
    use std::os::linux::net::SocketAddrExt;
    let addr = std::os::unix::net::SocketAddr::from_abstract_name(name)?;
    socket.send_to_addr(message, &addr)
}

#[cfg(all(unix, not(any(target_os = "linux", target_os = "android"))))]
fn send_abstract(_: &UnixDatagram, _: &[u8], _: &[u8]) -> io::Result<usize> {
    Err(io::Error::new(io::ErrorKind::Unsupported, "abstract sockets exist only on Linux"))
}

/// STATUS is one line: newlines would start a new `KEY=VALUE`.
fn one_line(s: &str) -> String {
    s.replace(['\n', '\r'], " ")
}

/// The STATUS text for a link state, e.g. `online as connector 6f1c… (portal https://…)`.
pub fn link_status(state: &LinkState, server: &str) -> String {
    let why = state.reason.as_deref().map(|r| format!(": {r}")).unwrap_or_default();
    match state.connection {
        Connection::Online => format!(
            "online as connector {} (portal {server})",
            state.connector_id.as_deref().unwrap_or("(registering)")
        ),
        Connection::Connecting => format!("connecting to {server}{why}"),
        other => format!("{} (portal {server}){why}", other.as_str()),
    }
}

/// Sends READY, then a STATUS line at every link change and the watchdog pings, until
/// the runtime stops. Call once the actors run, inside the tokio runtime.
pub fn announce_ready(notifier: &Notifier, mut link: watch::Receiver<LinkState>, server: String) {
    let first = link_status(&link.borrow_and_update(), &server);
    notifier.ready(&first);
    if !notifier.is_enabled() {
        return;
    }
    let n = notifier.clone();
    tokio::spawn(async move {
        let mut last = first;
        while link.changed().await.is_ok() && !n.stopping.load(Ordering::Relaxed) {
            let text = link_status(&link.borrow_and_update(), &server);
            if text != last {
                n.status(&text);
                last = text;
            }
        }
    });
    if let Some(every) = notifier.watchdog_interval() {
        let n = notifier.clone();
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(every);
            loop {
                tick.tick().await;
                n.watchdog();
            }
        });
    }
}

#[cfg(all(test, unix))]
mod tests {
    use super::*;

    fn listener() -> (tempfile::TempDir, UnixDatagram, PathBuf) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("notify.sock");
        let sock = UnixDatagram::bind(&path).unwrap();
        sock.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
        (dir, sock, path)
    }

    fn recv(sock: &UnixDatagram) -> String {
        let mut buf = [0u8; 4096];
        let n = sock.recv(&mut buf).unwrap();
        String::from_utf8_lossy(&buf[..n]).into_owned()
    }

    #[test]
    fn ready_status_watchdog_and_stopping_reach_a_path_socket() {
        let (_dir, sock, path) = listener();
        let n = Notifier::from_vars(Some(path.into()), Some("20000000".into()), None, 1);
        assert_eq!(n.watchdog_interval(), Some(Duration::from_secs(10)));
        n.ready("connecting\nto x");
        let ready = recv(&sock);
        assert!(ready.starts_with("READY=1\nSTATUS=connecting to x\nMAINPID="), "{ready}");
        n.status("online");
        assert_eq!(recv(&sock), "STATUS=online");
        n.watchdog();
        assert_eq!(recv(&sock), "WATCHDOG=1");
        n.stopping(Duration::from_secs(30));
        let stop = recv(&sock);
        assert!(stop.starts_with("STOPPING=1\n"), "{stop}");
        assert!(stop.ends_with("\nEXTEND_TIMEOUT_USEC=45000000"), "{stop}");
    }

    #[cfg(target_os = "linux")]
    #[test]
    fn an_abstract_socket_is_reached_too() {
        use std::os::linux::net::SocketAddrExt;
        let name = format!("ic-notify-test-{}", std::process::id());
        let addr = std::os::unix::net::SocketAddr::from_abstract_name(name.as_bytes()).unwrap();
        let sock = UnixDatagram::bind_addr(&addr).unwrap();
        sock.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
        Notifier::from_vars(Some(format!("@{name}").into()), None, None, 1).watchdog();
        assert_eq!(recv(&sock), "WATCHDOG=1");
    }

    #[test]
    fn the_watchdog_is_for_the_named_pid_only_and_nothing_is_sent_without_a_socket() {
        let some = || Some(OsString::from("/nonexistent/sock"));
        assert_eq!(Notifier::from_vars(some(), Some("1000".into()), Some("7".into()), 8).watchdog_interval(), None);
        assert!(Notifier::from_vars(some(), Some("1000".into()), Some("8".into()), 8).watchdog_interval().is_some());
        assert_eq!(Notifier::from_vars(some(), Some("junk".into()), None, 8).watchdog_interval(), None);
        let none = Notifier::from_vars(None, Some("1000".into()), None, 8);
        assert!(!none.is_enabled());
        assert_eq!(none.watchdog_interval(), None);
        none.ready("nobody listens");
        // A socket that does not exist: logged once, never a panic or an error.
        let gone = Notifier::from_vars(some(), None, None, 8);
        gone.ready("x");
        gone.status("y");
        assert!(gone.warned.load(Ordering::Relaxed));
    }

    #[tokio::test]
    async fn every_link_change_becomes_a_status_line() {
        let (_dir, sock, path) = listener();
        let n = Notifier::from_vars(Some(path.into()), None, None, 1);
        let (tx, rx) = connector_actors::link::channel();
        announce_ready(&n, rx, "http://127.0.0.1:1".into());
        assert!(recv(&sock).contains("STATUS=connecting to http://127.0.0.1:1"));
        tx.send_modify(|s| {
            s.connection = Connection::Online;
            s.connector_id = Some("c-1".into());
        });
        // A change that does not change the text (a heartbeat) sends nothing.
        tx.send_modify(|s| s.last_heartbeat_ms = Some(1));
        let (sock, online) = tokio::task::spawn_blocking(move || {
            let line = recv(&sock);
            (sock, line)
        })
        .await
        .unwrap();
        assert_eq!(online, "STATUS=online as connector c-1 (portal http://127.0.0.1:1)");
        // Once the drain starts, link changes no longer overwrite its STATUS.
        n.stopping(Duration::from_secs(1));
        assert!(recv(&sock).starts_with("STOPPING=1\n"));
        tx.send_modify(|s| s.connection = Connection::Unreachable);
        tokio::time::sleep(Duration::from_millis(100)).await;
        sock.set_nonblocking(true).unwrap();
        let mut buf = [0u8; 256];
        assert!(sock.recv(&mut buf).is_err(), "nothing after STOPPING");
        let mut state = LinkState { connection: Connection::Unauthorized, ..LinkState::default() };
        state.reason = Some("401 from the portal".into());
        assert_eq!(link_status(&state, "p"), "unauthorized (portal p): 401 from the portal");
    }
}
