//! DNS SRV records on the test DC's own DNS (`samba.sh start --dns-kdc`) and TCP relays
//! to the DC on other loopback addresses, standing for more DCs: SRV targets
//! `dc2`/`dc3.example.test` (names the DC's certificate holds) and any other name.

use std::net::SocketAddr;
use std::process::Command;
use std::sync::{Arc, Mutex};

use tokio::net::{TcpSocket, TcpStream};
use tokio::task::JoinHandle;

use serde_json::Value;

use super::eventually;
use super::servers::{self, ServerEnv};

/// A TCP relay on `listen` to the DC; `stop` closes the listener and every flow (the DC
/// gone: connections reset, new ones refused), `start` opens it again.
pub struct Relay {
    listen: SocketAddr,
    target: SocketAddr,
    tasks: Arc<Mutex<Vec<JoinHandle<()>>>>,
}

impl Relay {
    pub async fn start(listen: SocketAddr, target: SocketAddr) -> Relay {
        let relay = Relay { listen, target, tasks: Arc::new(Mutex::new(Vec::new())) };
        relay.open().await;
        relay
    }

    pub async fn open(&self) {
        let socket = TcpSocket::new_v4().expect("relay socket");
        socket.set_reuseaddr(true).expect("SO_REUSEADDR");
        socket.bind(self.listen).unwrap_or_else(|e| panic!("relay bind {}: {e}", self.listen));
        let listener = socket.listen(64).expect("relay listen");
        let (target, tasks) = (self.target, self.tasks.clone());
        let accept = tokio::spawn(async move {
            while let Ok((client, _)) = listener.accept().await {
                let Ok(server) = TcpStream::connect(target).await else { continue };
                let flow = tokio::spawn(async move {
                    let (mut c, mut s) = (client, server);
                    let _ = tokio::io::copy_bidirectional(&mut c, &mut s).await;
                });
                tasks.lock().expect("relay tasks").push(flow);
            }
        });
        self.tasks.lock().expect("relay tasks").push(accept);
    }

    pub fn stop(&self) {
        for t in self.tasks.lock().expect("relay tasks").drain(..) {
            t.abort();
        }
    }
}

impl Drop for Relay {
    fn drop(&mut self) {
        self.stop();
    }
}

/// `samba.sh dns DIR add|delete NAME TYPE DATA` on the test DC; `Err` with its message.
pub fn dns(env: &ServerEnv, op: &str, name: &str, kind: &str, data: &str) -> Result<(), String> {
    let out = Command::new("bash")
        .arg(servers::script("samba.sh"))
        .args(["dns", env.get("AD_DIR"), op, name, kind, data])
        .output()
        .expect("run samba.sh dns");
    if out.status.success() {
        Ok(())
    } else {
        Err(format!("samba.sh dns {op} {name} {kind} {data}: {}", String::from_utf8_lossy(&out.stderr)))
    }
}

/// DNS records a test adds, deleted again when it ends (even by a panic). A record
/// left by a test killed midway is replaced: `add` deletes the same record first.
pub struct Records<'a> {
    env: &'a ServerEnv,
    added: Vec<(String, String, String)>,
}

impl Records<'_> {
    pub fn new(env: &ServerEnv) -> Records<'_> {
        Records { env, added: Vec::new() }
    }

    /// `name` relative to the zone `example.test`; `kind` `A` or `SRV`.
    pub fn add(&mut self, name: &str, kind: &str, data: &str) {
        let _ = dns(self.env, "delete", name, kind, data);
        dns(self.env, "add", name, kind, data).unwrap_or_else(|e| panic!("{e}"));
        self.added.push((name.to_owned(), kind.to_owned(), data.to_owned()));
    }
}

impl Drop for Records<'_> {
    fn drop(&mut self) {
        for (name, kind, data) in &self.added {
            let _ = dns(self.env, "delete", name, kind, data);
        }
    }
}

/// Loopback addresses of the relays that stand for more DCs: apart from 127.0.0.x,
/// where developers run second DCs (`samba.sh --ip`).
pub const DC2_IP: &str = "127.0.20.2";
pub const DC3_IP: &str = "127.0.20.3";
pub const ROGUE_IP: &str = "127.0.20.5";

/// `ip:389` as a socket address.
pub fn at_389(ip: &str) -> SocketAddr {
    SocketAddr::new(ip.parse().expect("an IPv4 address"), 389)
}

/// The DC's LDAP address (`AD_IP:389`), where relays forward to.
pub fn dc_ldap(env: &ServerEnv) -> SocketAddr {
    format!("{}:389", env.get("AD_IP")).parse().expect("AD_IP is an IPv4 address")
}

/// Held by a test while it owns the `dc2`/`dc3` A records and their relays (tests of one
/// binary run in parallel).
pub static DC_NAMES: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

/// The server `/api/status` says directory `ad` is on.
pub async fn server_in_use(ui: &str) -> String {
    let status: Value =
        reqwest::get(format!("{ui}/api/status")).await.expect("GET /api/status").json().await.expect("status JSON");
    let dirs = status["directories"].as_array().cloned().unwrap_or_default();
    dirs.iter().find(|d| d["name"] == "ad").and_then(|d| d["url"].as_str()).unwrap_or_default().to_owned()
}

pub async fn on_server(ui: &str, host: &str) {
    eventually(std::time::Duration::from_secs(60), &format!("the pool on {host}"), || async {
        server_in_use(ui).await.contains(host).then_some(())
    })
    .await;
}
