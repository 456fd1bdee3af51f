//! LDAP jobs against the real OpenLDAP server of this test run: every login reason,
//! filter injection, import correctness on the nasty data set, kill -9 mid-import, and
//! a directory restarted mid-import.

use std::collections::HashMap;
use std::time::Duration;

use rand::Rng;
use serde_json::{json, Value};

use crate::harness::servers::{self, ServerEnv};
use crate::harness::{Connector, Sim};

const LIMIT: Duration = Duration::from_secs(60);

pub async fn login(sim: &Sim, dir: &str, user: &str, password: &str) -> Value {
    let ids = sim
        .submit(json!([{"type": "ldap.authenticate", "payload": {"directory": dir, "username": user, "password": password}}]))
        .await;
    let views = sim.wait_done(&ids, LIMIT).await;
    assert_eq!(views[0]["result"]["status"], "succeeded", "login job failed: {}", views[0]["result"]);
    views[0]["result"]["result"].clone()
}

async fn setup(env: &ServerEnv, ldaps: bool) -> (Sim, Connector) {
    let sim = Sim::start(true).await;
    let c = Connector::for_sim(&sim, "c1", &servers::slapd_directory("corp", env, ldaps));
    sim.wait_online(LIMIT).await;
    (sim, c)
}

/// Clears a lockout with the admin account, so the lockout test can run again.
fn unlock(env: &ServerEnv, uid: &str) {
    let dn = format!("uid={uid},{}", env.get("SLAPD_PEOPLE_DN"));
    let ldif = format!("dn: {dn}\nchangetype: modify\ndelete: pwdAccountLockedTime\n");
    let mut child = std::process::Command::new("ldapmodify")
        .args(["-x", "-H", env.get("SLAPD_URL"), "-D", env.get("SLAPD_ADMIN_DN"), "-w", env.get("SLAPD_ADMIN_PW")])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("ldapmodify");
    use std::io::Write;
    child.stdin.take().expect("stdin").write_all(ldif.as_bytes()).expect("write");
    let _ = child.wait(); // no attribute to delete (not locked) is fine
}

#[tokio::test]
async fn every_login_reason_against_openldap() {
    let env = servers::slapd();
    let (sim, _c) = setup(&env, false).await;
    let pw = env.get("SLAPD_FIXTURE_PW");
    let ok = login(&sim, "corp", env.get("SLAPD_USER_OK"), env.get("SLAPD_USER_OK_PW")).await;
    assert_eq!(ok["authenticated"], true, "{ok}");
    assert!(ok["user"]["dn"].as_str().unwrap().contains(env.get("SLAPD_USER_OK")));
    assert!(ok["user"]["guid"].as_str().is_some_and(|g| g.len() == 36));
    let cases = [
        (env.get("SLAPD_USER_OK"), "wrong-password", "invalid_credentials"),
        (env.get("SLAPD_USER_OK"), "", "invalid_credentials"),
        ("no-such-user-anywhere", "x", "user_not_found"),
        (env.get("SLAPD_USER_LOCKED"), pw, "account_locked"),
        (env.get("SLAPD_USER_EXPIRED"), pw, "password_expired"),
        (env.get("SLAPD_USER_MUST_CHANGE"), pw, "password_must_change"),
    ];
    for (user, password, reason) in cases {
        let r = login(&sim, "corp", user, password).await;
        assert_eq!((r["authenticated"].as_bool(), r["reason"].as_str()), (Some(false), Some(reason)), "{user}: {r}");
    }
    let victim = env.get("SLAPD_USER_LOCKOUT");
    unlock(&env, victim);
    for _ in 0..3 {
        login(&sim, "corp", victim, "not-the-password").await;
    }
    let r = login(&sim, "corp", victim, pw).await;
    assert_eq!(r["reason"], "account_locked", "{r}");
    unlock(&env, victim);
    assert_eq!(login(&sim, "corp", victim, pw).await["authenticated"], true);
}

#[tokio::test]
async fn filter_injection_usernames_fail_safely() {
    let env = servers::slapd();
    let (sim, _c) = setup(&env, true).await;
    let long = "a".repeat(5000);
    for user in ["*", "*)(uid=*", "\u{0}", "admin*", ")(|(uid=*", long.as_str(), "\\"] {
        let r = login(&sim, "corp", user, "anything").await;
        assert_eq!(r["authenticated"], false, "{user:?}: {r}");
        assert_eq!(r["reason"], "user_not_found", "{user:?}: {r}");
    }
    assert_eq!(sim.violations().await, 0);
}

/// Reads the generator's manifest: DN → (attributes, binary attributes).
fn manifest(env: &ServerEnv) -> Vec<Value> {
    let text = std::fs::read_to_string(env.get("SLAPD_MANIFEST")).expect("manifest");
    text.lines().filter(|l| !l.trim().is_empty()).map(|l| serde_json::from_str(l).expect("manifest line")).collect()
}

/// A DN in a canonical form for comparison: attribute types lower-cased, values
/// unescaped (RFC 4514 `\xx` and `\c`) to bytes, written as hex.
fn canonical_dn(dn: &str) -> String {
    let bytes = dn.as_bytes();
    let (mut rdns, mut ty, mut val) = (Vec::new(), Vec::<u8>::new(), Vec::<u8>::new());
    let mut in_value = false;
    let mut i = 0;
    let hex = |c: u8| (c as char).to_digit(16);
    while i < bytes.len() {
        let c = bytes[i];
        match c {
            b'\\' => {
                let (a, b) = (bytes.get(i + 1).copied(), bytes.get(i + 2).copied());
                match (a.and_then(hex), b.and_then(hex)) {
                    (Some(h), Some(l)) => {
                        val.push((h * 16 + l) as u8);
                        i += 3;
                    }
                    _ => {
                        val.extend(a);
                        i += 2;
                    }
                }
                continue;
            }
            b'=' if !in_value => in_value = true,
            b',' | b'+' => {
                let t = String::from_utf8_lossy(&ty).trim().to_lowercase();
                let v: String = val.iter().map(|b| format!("{b:02x}")).collect();
                rdns.push(format!("{t}={v}"));
                ty.clear();
                val.clear();
                in_value = false;
            }
            _ if in_value => val.push(c),
            _ => ty.push(c),
        }
        i += 1;
    }
    let t = String::from_utf8_lossy(&ty).trim().to_lowercase();
    let v: String = val.iter().map(|b| format!("{b:02x}")).collect();
    rdns.push(format!("{t}={v}"));
    rdns.join(",")
}

#[test]
fn canonical_dns_ignore_escaping_style() {
    assert_eq!(canonical_dn("cn=A\\2C B,ou=x"), canonical_dn("CN=A\\, B,OU=x"));
    assert_eq!(canonical_dn("cn=Fran\\C3\\A7ois=O,dc=x"), canonical_dn("cn=François\\3DO,dc=x"));
    assert_ne!(canonical_dn("cn=a,dc=x"), canonical_dn("cn=b,dc=x"));
}

pub async fn import(sim: &Sim, dir: &str, payload: Value) -> (Value, Vec<Value>) {
    let mut p = json!({"directory": dir, "mode": "full"});
    if let (Some(o), Some(extra)) = (p.as_object_mut(), payload.as_object()) {
        o.extend(extra.clone());
    }
    let ids = sim.submit(json!([{"type": "ldap.import", "payload": p}])).await;
    let views = sim.wait_done(&ids, Duration::from_secs(300)).await;
    let records = sim.get(&format!("/admin/jobs/{}/records", ids[0])).await;
    (views[0].clone(), records["records"].as_array().cloned().unwrap_or_default())
}

#[tokio::test]
async fn a_full_import_delivers_every_entry_once_with_exact_values() {
    let env = servers::slapd();
    let (sim, _c) = setup(&env, false).await;
    let (view, records) = import(
        &sim,
        "corp",
        json!({"filter": "(|(objectClass=inetOrgPerson)(objectClass=groupOfNames))", "batch_size": 250}),
    )
    .await;
    assert_eq!(view["result"]["status"], "succeeded", "{}", view["result"]);
    let expected = manifest(&env);
    let by_dn: HashMap<String, &Value> = records.iter().map(|r| (canonical_dn(r["dn"].as_str().unwrap()), r)).collect();
    assert_eq!(by_dn.len(), records.len(), "an entry was delivered twice");
    let mut checked = 0;
    for m in &expected {
        let dn = canonical_dn(m["dn"].as_str().unwrap());
        let r = by_dn.get(&dn).unwrap_or_else(|| panic!("entry {} missing from the import", m["dn"]));
        for (attr, values) in m["attributes"].as_object().unwrap() {
            let got =
                r["attributes"].as_object().unwrap().iter().find(|(k, _)| k.eq_ignore_ascii_case(attr)).map(|(_, v)| v);
            let mut want: Vec<&Value> = values.as_array().unwrap().iter().collect();
            let mut got: Vec<&Value> =
                got.unwrap_or_else(|| panic!("{dn}: {attr} missing")).as_array().unwrap().iter().collect();
            if attr.eq_ignore_ascii_case("member") || attr.eq_ignore_ascii_case("manager") {
                continue; // DN-valued: the server normalizes them
            }
            want.sort_by_key(|v| v.to_string());
            got.sort_by_key(|v| v.to_string());
            assert_eq!(want, got, "{dn}: values of {attr}");
        }
        for (attr, values) in m["binary"].as_object().into_iter().flatten() {
            let got = &r["binary_attributes"][attr];
            assert_eq!(got, values, "{dn}: binary {attr}");
        }
        assert!(r["guid"].as_str().is_some(), "{dn}: no guid");
        assert!(r["attributes"].get("userPassword").is_none());
        checked += 1;
    }
    assert_eq!(view["result"]["result"]["total"].as_u64(), Some(records.len() as u64));
    assert!(view["result"]["result"]["delta_token"].as_str().unwrap().starts_with("ldap-ts:"));
    assert_eq!(sim.violations().await, 0);
    eprintln!("import checked {checked} entries against the generator's manifest");
}

#[tokio::test]
async fn kill_9_at_random_points_of_an_import_delivers_every_entry_exactly_once() {
    let env = servers::slapd();
    let sim = Sim::start(false).await;
    // The kills are the test's, not the job's: a resumed import re-reads what it already
    // stored before it stores anything new, and must not be taken for a crash loop.
    let config = format!("[connector]\nmax_attempts = 100\n\n{}", servers::slapd_directory("corp", &env, false));
    let mut c = Connector::for_sim(&sim, "c1", &config);
    sim.wait_online(LIMIT).await;
    let ids = sim
        .submit(json!([{"type": "ldap.import", "payload": {"directory": "corp", "mode": "full", "batch_size": 500}}]))
        .await;
    let mut rng = rand::thread_rng();
    for _ in 0..6 {
        tokio::time::sleep(Duration::from_millis(rng.gen_range(300..1500))).await;
        c.kill9();
        c.restart();
    }
    let views = sim.wait_done(&ids, Duration::from_secs(300)).await;
    assert_eq!(views[0]["result"]["status"], "succeeded", "{}", views[0]["result"]);
    let records = sim.get(&format!("/admin/jobs/{}/records", ids[0])).await;
    let list = records["records"].as_array().unwrap();
    let users: u64 = env.get("SLAPD_USERS").parse().unwrap();
    let mut seen = std::collections::HashSet::new();
    for r in list {
        assert!(seen.insert(r["guid"].as_str().unwrap().to_owned()), "delivered twice: {}", r["dn"]);
    }
    assert!(list.len() as u64 >= users, "{} records for {users} users", list.len());
    assert_eq!(views[0]["result"]["result"]["total"].as_u64(), Some(list.len() as u64));
    assert_eq!(sim.violations().await, 0, "{}", sim.log());
}

#[tokio::test]
async fn an_import_survives_the_directory_restarting_under_it() {
    let dir = tempfile::tempdir().unwrap();
    let env = servers::start_private_slapd(&dir.path().join("slapd"), 20_000);
    let _stop = servers::StopOnDrop(dir.path().join("slapd"));
    let sim = Sim::start(false).await;
    let _c = Connector::for_sim(&sim, "c1", &servers::slapd_directory("corp", &env, false));
    sim.wait_online(LIMIT).await;
    let ids = sim.submit(json!([{"type": "ldap.import", "payload": {"directory": "corp", "mode": "full", "page_size": 200, "batch_size": 200}}])).await;
    crate::harness::eventually(LIMIT, "import under way", || async {
        (sim.job(&ids[0]).await["records_batches"].as_u64()? >= 3).then_some(())
    })
    .await;
    servers::slapd_ctl("stop", &dir.path().join("slapd"));
    tokio::time::sleep(Duration::from_secs(2)).await;
    servers::start_private_slapd(&dir.path().join("slapd"), 20_000);
    let views = sim.wait_done(&ids, Duration::from_secs(300)).await;
    assert_eq!(views[0]["result"]["status"], "succeeded", "{}", views[0]["result"]);
    let records = sim.get(&format!("/admin/jobs/{}/records", ids[0])).await;
    let list = records["records"].as_array().unwrap();
    let unique: std::collections::HashSet<_> = list.iter().map(|r| r["guid"].as_str().unwrap().to_owned()).collect();
    assert_eq!(unique.len(), list.len(), "an entry was delivered twice");
    assert!(list.len() >= 20_000, "{} records", list.len());
    assert_eq!(sim.violations().await, 0, "{}", sim.log());
}

/// `pool_size` in the connector's latest heartbeat at the simulator, when it is reachable
/// (`Some(None)`: the heartbeat says unreachable).
async fn reported_pool(sim: &Sim, connector_id: &str) -> Option<Option<u64>> {
    let detail = sim.get(&format!("/admin/connectors/{connector_id}")).await.to_string();
    let size = detail.split("\"pool_size\":").nth(1)?.split([',', '}']).next()?.parse().ok()?;
    Some(detail.contains("\"reachable\":true").then_some(size))
}

/// A process stopped with SIGSTOP until this is dropped (then SIGCONT, even on a panic).
struct Stopped(i32);

impl Stopped {
    fn new(pid: i32) -> Stopped {
        assert_eq!(unsafe { libc::kill(pid, libc::SIGSTOP) }, 0, "cannot stop {pid}");
        Stopped(pid)
    }
}

impl Drop for Stopped {
    fn drop(&mut self) {
        unsafe { libc::kill(self.0, libc::SIGCONT) };
    }
}

#[tokio::test]
async fn a_pooled_connection_to_a_directory_that_stops_answering_is_dropped_then_replaced() {
    let dir = tempfile::tempdir().unwrap();
    let slapd = dir.path().join("slapd");
    let env = servers::start_private_slapd(&slapd, 100);
    let _stop = servers::StopOnDrop(slapd.clone());
    let sim = Sim::start_with(false, &["--heartbeat-interval-s", "1"]).await;
    let table = servers::slapd_directory("corp", &env, false) + "operation_timeout = \"2s\"\n";
    let _c = Connector::for_sim(&sim, "c1", &table);
    let id = sim.wait_online(LIMIT).await["connector_id"].as_str().unwrap().to_owned();
    crate::harness::eventually(LIMIT, "one pooled connection", || async {
        (reported_pool(&sim, &id).await? == Some(1)).then_some(())
    })
    .await;
    // SIGSTOP: the TCP connection stays open and nothing answers (a hung DC, or a flow a
    // firewall dropped without a reset).
    let stopped = Stopped::new(env.get("SLAPD_PID").parse().unwrap());
    crate::harness::eventually(Duration::from_secs(40), "the silent connection dropped", || async {
        (reported_pool(&sim, &id).await?.unwrap_or(0) == 0).then_some(())
    })
    .await;
    drop(stopped);
    let r = login(&sim, "corp", env.get("SLAPD_USER_OK"), env.get("SLAPD_USER_OK_PW")).await;
    assert_eq!(r["authenticated"], true, "{r}");
}

#[tokio::test]
async fn a_dead_first_url_fails_over_to_the_next() {
    let env = servers::slapd();
    let sim = Sim::start(false).await;
    let dead = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let table = servers::slapd_directory("corp", &env, false)
        .replace("urls = [\"", &format!("urls = [\"ldap://127.0.0.1:{dead}\", \""));
    assert!(table.contains(&format!(":{dead}\", \"ldap://")), "{table}");
    let _c = Connector::for_sim(&sim, "c1", &table);
    sim.wait_online(LIMIT).await;
    let r = login(&sim, "corp", env.get("SLAPD_USER_OK"), env.get("SLAPD_USER_OK_PW")).await;
    assert_eq!(r["authenticated"], true, "{r}");
}

#[tokio::test]
async fn a_cancelled_import_stops_with_cancelled() {
    let env = servers::slapd();
    let sim = Sim::start_with(false, &["--heartbeat-interval-s", "1"]).await;
    let _c = Connector::for_sim(&sim, "c1", &servers::slapd_directory("corp", &env, false));
    sim.wait_online(LIMIT).await;
    let ids = sim
        .submit(json!([{"type": "ldap.import", "payload": {"directory": "corp", "mode": "full", "page_size": 50, "batch_size": 50}}]))
        .await;
    crate::harness::eventually(LIMIT, "import under way", || async {
        (sim.job(&ids[0]).await["records_batches"].as_u64()? >= 2).then_some(())
    })
    .await;
    sim.post(&format!("/admin/jobs/{}/cancel", ids[0]), json!({})).await;
    let views = sim.wait_done(&ids, LIMIT).await;
    assert_eq!(views[0]["result"]["error"]["code"], "cancelled", "{}", views[0]["result"]);
    let users: u64 = env.get("SLAPD_USERS").parse().unwrap();
    assert!(views[0]["records_count"].as_u64().unwrap() < users, "the import ran to the end");
}

#[tokio::test]
async fn the_heartbeat_reports_the_directory_pool() {
    let env = servers::slapd();
    let sim = Sim::start_with(false, &["--heartbeat-interval-s", "1"]).await;
    let _c = Connector::for_sim(&sim, "c1", &servers::slapd_directory("corp", &env, false));
    let online = sim.wait_online(LIMIT).await;
    let id = online["connector_id"].as_str().unwrap().to_owned();
    let detail = crate::harness::eventually(LIMIT, "a heartbeat with the directory", || async {
        let d = sim.get(&format!("/admin/connectors/{id}")).await;
        let text = d.to_string();
        (text.contains("\"pool_size\":1") && text.contains("\"reachable\":true")).then_some(d)
    })
    .await;
    assert!(detail.to_string().contains("ldap_pool:corp"), "{detail}");
}

#[tokio::test]
async fn batches_the_server_finds_too_large_are_halved_and_every_entry_arrives_once() {
    let env = servers::slapd();
    let sim = Sim::start(false).await;
    sim.post("/admin/limits", json!({"max_body_bytes": 40_000})).await;
    let _c = Connector::for_sim(&sim, "c1", &servers::slapd_directory("corp", &env, false));
    sim.wait_online(LIMIT).await;
    let filter = "(&(objectClass=inetOrgPerson)(uid=*11))";
    let (view, records) = import(&sim, "corp", json!({"filter": filter, "batch_size": 1000})).await;
    assert_eq!(view["result"]["status"], "succeeded", "{}", view["result"]);
    let batches = sim.get(&format!("/admin/jobs/{}/records", view["id"].as_str().unwrap())).await;
    let counts: Vec<u64> =
        batches["batches"].as_array().unwrap().iter().map(|b| b["count"].as_u64().unwrap()).collect();
    assert!(counts.len() > 1 && counts.iter().all(|c| *c < 1000), "no batch was halved: {counts:?}");
    let unique: std::collections::HashSet<_> = records.iter().map(|r| r["guid"].as_str().unwrap().to_owned()).collect();
    assert_eq!(unique.len(), records.len(), "an entry arrived twice");
    assert_eq!(view["result"]["result"]["total"].as_u64(), Some(records.len() as u64));
    assert!(records.len() >= 50, "the filter matched only {} users", records.len());
    assert_eq!(sim.violations().await, 0, "{}", sim.log());
}
