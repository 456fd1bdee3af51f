//! The shedding decision (pure) and the queue's take with shedding on: old logins are
//! answered `timeout` through the outbox, take no slot, and are counted; nothing else is.

use std::time::Duration;

use serde_json::{json, Value};

use super::*;
use crate::protocol::Envelope;
use crate::queue::{DurableQueue, JobState, QueueSettings};

const T0: u64 = 1_795_000_000_000;
const AFTER: Duration = Duration::from_millis(500);

fn age(created_at_ms: u64, clock_uncertainty_ms: Option<u64>, received_ms: u64) -> LoginAge {
    LoginAge { created_at_ms, clock_uncertainty_ms, received_ms }
}

#[test]
fn a_login_older_than_the_threshold_is_shed_and_one_at_it_runs() {
    // Created at T0, stored here 100 ms later; the clocks agree to within 2 ms.
    let fresh = age(T0, Some(2), T0 + 100);
    assert_eq!(judge(AFTER, &fresh, T0 + 100), Verdict::Run);
    assert_eq!(judge(AFTER, &fresh, T0 + 502), Verdict::Run, "500 ms plus the 2 ms bound is not over");
    assert_eq!(judge(AFTER, &fresh, T0 + 503), Verdict::Shed { waited_ms: 503 });
}

#[test]
fn the_wait_at_the_portal_counts_through_created_at() {
    // Created 3 s before this connector stored it: the portal held it.
    let held = age(T0 - 3_000, Some(5), T0);
    assert_eq!(judge(AFTER, &held, T0 + 10), Verdict::Shed { waited_ms: 3_010 });
}

#[test]
fn an_uncertain_offset_is_added_to_the_threshold_never_counted_as_age() {
    // The offset may be 2 s off (a whole-second Date header, a slow round trip): a login
    // whose created_at says 2.4 s old may be 0.4 s old, so it runs.
    let skewed = age(T0 - 2_400, Some(2_000), T0);
    assert_eq!(judge(AFTER, &skewed, T0), Verdict::Run);
    assert_eq!(judge(AFTER, &skewed, T0 + 101), Verdict::Shed { waited_ms: 2_501 });
}

#[test]
fn without_a_measured_offset_only_the_wait_here_counts() {
    // created_at on an unknown clock: a day "old" means nothing; 600 ms here does.
    let unknown = age(T0 - 86_400_000, None, T0);
    assert_eq!(judge(AFTER, &unknown, T0 + 400), Verdict::Run);
    assert_eq!(judge(AFTER, &unknown, T0 + 600), Verdict::Shed { waited_ms: 600 });
}

#[test]
fn a_created_at_in_the_future_is_no_age() {
    let ahead = age(T0 + 60_000, Some(1), T0);
    assert_eq!(judge(AFTER, &ahead, T0 + 400), Verdict::Run);
    assert_eq!(judge(AFTER, &ahead, T0 + 501), Verdict::Shed { waited_ms: 501 }, "the wait here still counts");
}

#[test]
fn the_result_says_timeout_retryable_at_capacity() {
    let e = at_capacity(AFTER, 812);
    assert_eq!((e.code, e.retryable), (ErrorCode::Timeout, true));
    assert!(e.message.contains("at capacity") && e.message.contains("812 ms"), "{}", e.message);
    assert!(e.message.contains("shed_logins_after (500ms)"), "{}", e.message);
    assert_eq!(Value::Object(e.details), json!({"source": "connector", "reason": "at_capacity", "waited_ms": 812}));
}

// === the queue's take with shedding on ===

fn queue(dir: &std::path::Path, after: Option<Duration>) -> DurableQueue {
    let mut s = QueueSettings::new(dir.to_path_buf());
    s.cache_bytes = 8 << 20;
    s.shed_logins_after = after;
    DurableQueue::open(s).unwrap()
}

/// A job created at `created_ms` (server clock = local here), its offset measured to 3 ms.
fn job(id: &str, kind: &str, created_ms: u64) -> Envelope {
    let payload = match kind {
        "ldap.authenticate" => json!({"directory": "corp", "username": id, "password": "pw"}),
        _ => json!({"directory": "corp", "user": {"sam_account_name": id}}),
    };
    let raw = json!({"id": id, "type": kind, "created_at": crate::time::rfc3339(created_ms), "payload": payload});
    let mut env = Envelope::parse(&raw, created_ms).unwrap();
    env.clock_uncertainty_ms = Some(3);
    env
}

fn accept_ack(q: &mut DurableQueue, jobs: Vec<Envelope>, now: u64) {
    let ids: Vec<String> = jobs.iter().map(|j| j.id.clone()).collect();
    q.accept(jobs, now).unwrap();
    for id in ids {
        q.acknowledged(&id, now).unwrap();
    }
}

fn results(q: &mut DurableQueue) -> Vec<(String, Value)> {
    q.outbox(100)
        .unwrap()
        .into_iter()
        .map(|p| (p.item.job_id.clone(), serde_json::from_slice(&p.body).unwrap()))
        .collect()
}

#[test]
fn old_logins_are_answered_at_once_and_take_no_slot() {
    let dir = tempfile::tempdir().unwrap();
    let mut q = queue(dir.path(), Some(AFTER));
    let now = T0 + 10_000;
    let old = (0..3).map(|i| job(&format!("old-{i}"), "ldap.authenticate", now - 2_000 + i));
    let fresh = job("fresh", "ldap.authenticate", now - 100);
    accept_ack(&mut q, old.chain([fresh]).collect(), now);

    let run = q.take_runnable(now, 1).unwrap();
    assert_eq!(run.iter().map(|r| r.id.as_str()).collect::<Vec<_>>(), ["fresh"], "the old ones took no slot");
    assert_eq!(q.figures().logins_shed, 3);
    let out = results(&mut q);
    assert_eq!(out.len(), 3, "{out:?}");
    for (id, body) in &out {
        assert!(id.starts_with("old-"), "{id}");
        assert_eq!(body["status"], "failed");
        assert_eq!(body["started_at"], Value::Null, "never started: {body}");
        let e = &body["error"];
        assert_eq!((e["code"].as_str(), e["retryable"].as_bool()), (Some("timeout"), Some(true)), "{body}");
        assert_eq!(e["details"]["reason"], "at_capacity");
        assert!(e["details"]["waited_ms"].as_u64().is_some_and(|w| w >= 1_998), "{body}");
        assert_eq!(q.get(id).unwrap().unwrap().state, JobState::AwaitingDelivery);
    }
}

#[test]
fn only_logins_are_shed_and_only_when_configured() {
    let dir = tempfile::tempdir().unwrap();
    let mut q = queue(dir.path(), Some(AFTER));
    let now = T0 + 10_000;
    accept_ack(&mut q, vec![job("enable", "ad.enable_user", now - 5_000)], now);
    assert_eq!(q.take_runnable(now, 4).unwrap().len(), 1, "an old job of another type runs");
    assert_eq!(q.figures().logins_shed, 0);

    let dir = tempfile::tempdir().unwrap();
    let mut off = queue(dir.path(), None);
    accept_ack(&mut off, vec![job("login", "ldap.authenticate", now - 5_000)], now);
    assert_eq!(off.take_runnable(now, 4).unwrap().len(), 1, "off: an old login runs");
    assert_eq!(off.figures().logins_shed, 0);
}

#[test]
fn a_shed_login_is_judged_again_after_a_crash_and_never_run_late() {
    let dir = tempfile::tempdir().unwrap();
    let now = T0 + 10_000;
    {
        let mut q = queue(dir.path(), Some(AFTER));
        accept_ack(&mut q, vec![job("old", "ldap.authenticate", now - 2_000)], now);
        q.flush_deferred().unwrap();
        assert!(q.take_runnable(now, 1).unwrap().is_empty());
        // Dropped without a flush: the shed (deferred) may be lost, as in a crash.
    }
    let mut q = queue(dir.path(), Some(AFTER));
    assert!(q.take_runnable(now + 1, 1).unwrap().is_empty(), "still too old: not run");
    let out = results(&mut q);
    assert_eq!(out.len(), 1, "one result whatever the crash lost: {out:?}");
    assert_eq!(out[0].1["error"]["details"]["reason"], "at_capacity");
}
