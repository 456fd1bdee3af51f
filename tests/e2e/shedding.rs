//! Login shedding (issue #17, overload; `[connector] shed_logins_after`): a login already
//! older than the threshold when its turn to run comes is answered `timeout`
//! (`at_capacity`, retryable) without a bind reaching slapd; fresh ones run; the
//! heartbeat, `/metrics`, `/api/status` and the status page count the shed ones; and a
//! portal clock 10 s behind sheds nothing.
//!
//! The old logins are old because the portal says so: the simulator sends a spec's
//! `created_at` as given, here 5 s in the past. No timed assertion: 5 s against 500 ms.

use std::time::Duration;

use serde_json::{json, Value};

use crate::harness::servers::{self, ServerEnv};
use crate::harness::{eventually, logged_ui_url, Connector, Sim};

const LIMIT: Duration = Duration::from_secs(60);

/// A user of this test on the shared slapd, in an OU of its own removed when dropped.
struct TestUser {
    env: ServerEnv,
    uid: String,
    dn: String,
    _ou: servers::SlapdOu,
}

impl TestUser {
    fn add(env: &ServerEnv, password: &str) -> TestUser {
        let uid = format!("shed{}", std::process::id());
        let ou = servers::SlapdOu::new(env, "shed");
        let dn = format!("uid={uid},{}", ou.dn);
        let ldif = format!(
            "dn: {dn}\nchangetype: add\nobjectClass: inetOrgPerson\nuid: {uid}\ncn: {uid}\nsn: Test\nuserPassword: {password}\n"
        );
        servers::slapd_modify(env, &ldif, &[]);
        TestUser { env: env.clone(), uid, dn, _ou: ou }
    }

    /// An operational attribute of the user as the admin reads it.
    fn read(&self, attr: &str) -> Option<String> {
        let out = std::process::Command::new("ldapsearch")
            .args(["-LLL", "-x", "-H", self.env.get("SLAPD_URL"), "-D", self.env.get("SLAPD_ADMIN_DN"), "-w"])
            .args([self.env.get("SLAPD_ADMIN_PW"), "-s", "base", "-b", &self.dn, attr])
            .output()
            .expect("ldapsearch");
        let text = String::from_utf8_lossy(&out.stdout).into_owned();
        text.lines().find_map(|l| l.strip_prefix(&format!("{attr}: ")).map(str::to_owned))
    }
}

/// A login spec; `created_ms`: the `created_at` the portal gives it (none: the simulator's).
fn login(user: &str, password: &str, created_ms: Option<u64>) -> Value {
    let mut spec =
        json!({"type": "ldap.authenticate", "payload": {"directory": "corp", "username": user, "password": password}});
    if let Some(ms) = created_ms {
        spec["created_at"] = json!(connector_actors::time::rfc3339(ms));
    }
    spec
}

fn config(env: &ServerEnv) -> String {
    format!("[connector]\nshed_logins_after = \"500ms\"\n\n{}", servers::slapd_directory("corp", env, false))
}

async fn run_all(sim: &Sim, specs: Vec<Value>) -> Vec<Value> {
    let ids = sim.submit(json!(specs)).await;
    sim.wait_done(&ids, LIMIT).await.into_iter().map(|v| v["result"].clone()).collect()
}

/// The one number a Prometheus text line `name value` gives.
fn metric(text: &str, name: &str) -> Option<u64> {
    text.lines().find_map(|l| l.strip_prefix(name)?.strip_prefix(' ')?.trim().parse().ok())
}

#[tokio::test]
async fn old_logins_are_answered_at_capacity_without_a_bind_and_fresh_ones_run() {
    let env = servers::slapd();
    let password = "Shed-Passw0rd-1";
    let user = TestUser::add(&env, password);
    let sim = Sim::start_with(true, &["--heartbeat-interval-s", "1"]).await;
    let c = Connector::for_sim(&sim, "c1", &config(&env));
    sim.wait_online(LIMIT).await;

    // Four logins created 5 s ago, with a wrong password: had any been run, its bind would
    // have left pwdFailureTime on the user, and three would have locked it (ppolicy).
    let five_s_ago = connector_actors::time::now_ms() - 5_000;
    let old = run_all(&sim, (0..4).map(|_| login(&user.uid, "wrong-password", Some(five_s_ago))).collect()).await;
    for r in &old {
        assert_eq!(r["status"], "failed", "{r}");
        let e = &r["error"];
        assert_eq!((e["code"].as_str(), e["retryable"].as_bool()), (Some("timeout"), Some(true)), "{r}");
        assert_eq!(e["details"]["source"], "connector", "{r}");
        assert_eq!(e["details"]["reason"], "at_capacity", "{r}");
        assert!(e["details"]["waited_ms"].as_u64().is_some_and(|w| w >= 4_900), "{r}");
        let message = e["message"].as_str().unwrap_or_default();
        assert!(message.contains("at capacity") && message.contains("shed_logins_after (500ms)"), "{r}");
        assert_eq!(r["started_at"], Value::Null, "never started: {r}");
    }
    assert_eq!(user.read("pwdFailureTime"), None, "a bind reached slapd");
    assert_eq!(user.read("pwdAccountLockedTime"), None, "binds reached slapd and locked the user");

    // Fresh logins run: one created just now by the portal, one without created_at.
    let now = connector_actors::time::now_ms();
    let fresh = run_all(&sim, vec![login(&user.uid, password, Some(now)), login(&user.uid, password, None)]).await;
    for r in &fresh {
        assert_eq!(
            (r["status"].as_str(), r["result"]["authenticated"].as_bool()),
            (Some("succeeded"), Some(true)),
            "{r}"
        );
    }

    // Counted: heartbeat, /metrics, /api/status, the page.
    let shed = eventually(LIMIT, "a heartbeat counting the shed logins", || async {
        let s = sim.summary().await;
        s["connectors"][0]["queue"]["logins_shed"].as_u64().filter(|n| *n == 4)
    })
    .await;
    assert_eq!(shed, 4);
    let ui = logged_ui_url(|| c.log_text()).await.trim_end_matches('/').to_owned();
    let text = reqwest::get(format!("{ui}/metrics")).await.expect("metrics").text().await.expect("text");
    assert_eq!(metric(&text, "ic_logins_shed_total"), Some(4), "{text}");
    let status: Value = reqwest::get(format!("{ui}/api/status")).await.expect("status").json().await.expect("json");
    assert_eq!(status["queue"]["logins_shed"], 4, "{status}");
    let page = reqwest::get(format!("{ui}/")).await.expect("page").text().await.expect("html");
    assert!(page.contains("id=\"q-shed\">4<"), "the page's shed figure");
}

#[tokio::test]
async fn a_portal_clock_ten_seconds_behind_sheds_nothing() {
    let env = servers::slapd();
    let (user, password) = (env.get("SLAPD_USER_OK"), env.get("SLAPD_USER_OK_PW"));
    // The simulator stamps each job with its own clock, 10 s behind: on the local clock
    // they look 10 s old (past the threshold, well within a login's 30 s deadline) until
    // the measured offset moves them.
    let sim = Sim::start_with(false, &["--clock-skew-s", "-10", "--heartbeat-interval-s", "1"]).await;
    let c = Connector::for_sim(&sim, "c1", &config(&env));
    sim.wait_online(LIMIT).await;
    let results = run_all(&sim, (0..5).map(|_| login(user, password, None)).collect()).await;
    for r in &results {
        assert_eq!(
            (r["status"].as_str(), r["result"]["authenticated"].as_bool()),
            (Some("succeeded"), Some(true)),
            "{r}"
        );
    }
    let ui = logged_ui_url(|| c.log_text()).await.trim_end_matches('/').to_owned();
    let text = reqwest::get(format!("{ui}/metrics")).await.expect("metrics").text().await.expect("text");
    assert_eq!(metric(&text, "ic_logins_shed_total"), Some(0), "{text}");
}
