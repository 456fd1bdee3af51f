//! Faults of DNS-discovered directories (issue #20): the domain controller the pool is on
//! goes away, DNS names another, and the first one comes back. Against the real Samba
//! DC's own DNS (`samba.sh start --dns-kdc`): SRV records are added with `samba-tool dns
//! add` under a name of this run's own (`_ldap._tcp.dc._msdcs.fo<pid>.example.test`), for
//! targets `dc2`/`dc3.example.test` (names the DC's certificate holds) at 127.0.0.3 and
//! 127.0.0.4, where TCP relays to the DC can be stopped and started.

use std::net::SocketAddr;
use std::process::Command;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde_json::{json, Value};
use tokio::net::{TcpSocket, TcpStream};
use tokio::task::JoinHandle;

use super::suite::{Scenario, Tally};
use crate::harness::servers::{self, ServerEnv};
use crate::harness::{eventually, logged_ui_url, Connector, Sim};

const LIMIT: Duration = Duration::from_secs(60);

pub fn scenarios() -> Vec<Scenario> {
    vec![Scenario::new(
        "dns: a DC that goes away is replaced through DNS without a restart, and the pool fails back when it returns",
        replaced_then_failback,
    )]
}

/// A TCP relay on `listen` to the DC; `stop` closes the listener and every flow (the DC
/// gone: connections reset, new ones refused), `start` opens it again.
struct Relay {
    listen: SocketAddr,
    target: SocketAddr,
    tasks: Arc<Mutex<Vec<JoinHandle<()>>>>,
}

impl Relay {
    async fn start(listen: SocketAddr, target: SocketAddr) -> Relay {
        let relay = Relay { listen, target, tasks: Arc::new(Mutex::new(Vec::new())) };
        relay.open().await;
        relay
    }

    async fn open(&self) {
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

    fn stop(&self) {
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
fn dns(env: &ServerEnv, op: &str, name: &str, kind: &str, data: &str) -> Result<(), String> {
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

/// An A record that may already be there from an earlier run.
fn ensure_a(env: &ServerEnv, host: &str, ip: &str) {
    if let Err(e) = dns(env, "add", host, "A", ip) {
        assert!(e.contains("already exists"), "{e}");
    }
}

/// Deletes the SRV records this run added, even when the scenario panics.
struct SrvRecords<'a> {
    env: &'a ServerEnv,
    added: Vec<(String, String)>,
}

impl SrvRecords<'_> {
    fn add(&mut self, name: &str, data: &str) {
        dns(self.env, "add", name, "SRV", data).unwrap_or_else(|e| panic!("{e}"));
        self.added.push((name.to_owned(), data.to_owned()));
    }
}

impl Drop for SrvRecords<'_> {
    fn drop(&mut self) {
        for (name, data) in &self.added {
            let _ = dns(self.env, "delete", name, "SRV", data);
        }
    }
}

async fn login(sim: &Sim, user: &str, password: &str) -> (String, Value) {
    let ids = sim
        .submit(json!([{"type": "ldap.authenticate",
            "payload": {"directory": "ad", "username": user, "password": password}}]))
        .await;
    let view = sim.wait_done(&ids, LIMIT).await.remove(0);
    (ids[0].clone(), view["result"].clone())
}

/// The server `/api/status` says directory `ad` is on.
async fn server_in_use(ui: &str) -> String {
    let status: Value =
        reqwest::get(format!("{ui}/api/status")).await.expect("GET /api/status").json().await.expect("status JSON");
    let dirs = status["directories"].as_array().cloned().unwrap_or_default();
    dirs.iter().find(|d| d["name"] == "ad").and_then(|d| d["url"].as_str()).unwrap_or_default().to_owned()
}

async fn on_server(ui: &str, host: &str) {
    eventually(LIMIT, &format!("the pool on {host}"), || async {
        server_in_use(ui).await.contains(host).then_some(())
    })
    .await;
}

async fn replaced_then_failback() -> Tally {
    let env = servers::samba();
    let dns_server = servers::samba_dns_server(&env).to_owned();
    let dc: SocketAddr = format!("{}:389", env.get("AD_IP")).parse().expect("AD_IP");
    ensure_a(&env, "dc2", "127.0.0.3");
    ensure_a(&env, "dc3", "127.0.0.4");
    let label = format!("fo{}", std::process::id());
    let srv = format!("_ldap._tcp.dc._msdcs.{label}");
    let mut records = SrvRecords { env: &env, added: Vec::new() };
    records.add(&srv, "dc2.example.test 389 0 100");
    let dc2 = Relay::start("127.0.0.3:389".parse().expect("addr"), dc).await;
    let _dc3 = Relay::start("127.0.0.4:389".parse().expect("addr"), dc).await;

    let config = format!(
        "[directories.ad]\nkind = \"active_directory\"\ndomain = \"{label}.example.test\"\ndns_servers = [\"{dns_server}\"]\n\
         failback_after = \"1s\"\nbind_dn = \"{}\"\nbind_password = \"{}\"\nbase_dn = \"{}\"\nca_file = \"{}\"\n",
        env.get("AD_READONLY_DN"),
        env.get("AD_READONLY_PW"),
        env.get("AD_BASE_DN"),
        env.get("AD_CA"),
    );
    let sim = Sim::start(true).await;
    let c = Connector::for_sim(&sim, "c1", &config);
    sim.wait_online(LIMIT).await;
    let ui = logged_ui_url(|| c.log_text()).await.trim_end_matches('/').to_owned();
    let (user, pw) = (env.get("AD_USER_OK"), env.get("AD_FIXTURE_PW"));
    let (mut sent, mut results) = (Vec::new(), Vec::new());
    let mut run = |(id, r): (String, Value), what: &str| {
        assert_eq!(r["status"], "succeeded", "{what}: {r}");
        assert_eq!(r["result"]["authenticated"], true, "{what}: {r}");
        sent.push(id.clone());
        results.push(id);
    };

    run(login(&sim, user, pw).await, "login through dc2, the only SRV target");
    on_server(&ui, "dc2.example.test").await;

    // dc2 goes away; DNS now names dc3 (a DC replaced), with a worse priority
    dc2.stop();
    records.add(&srv, "dc3.example.test 389 10 100");
    tokio::time::sleep(Duration::from_millis(500)).await;
    run(login(&sim, user, pw).await, "login once dc2 is gone and DNS names dc3");
    on_server(&ui, "dc3.example.test").await;

    // dc2 is back: once it has answered for failback_after the pool returns to it
    dc2.open().await;
    on_server(&ui, "dc2.example.test").await;
    run(login(&sim, user, pw).await, "login after the fail-back to dc2");
    assert!(c.log_text().contains("fail-back"), "the fail-back is logged");
    Tally::from_results(&sent, &results)
}
