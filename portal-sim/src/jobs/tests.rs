//! Lease, ack, result and records rules of the job book, without HTTP.

use std::time::{Duration, Instant};

use serde_json::{json, Value};

use super::{JobState, Jobs, NewJob, WireForm};
use crate::error::ApiError;
use crate::model::RecordsBatch;
use crate::violations::{ViolationKind, Violations};

fn spec(id: &str, lease_s: u64) -> NewJob {
    NewJob {
        id: Some(id.to_owned()),
        job_type: "ad.create_user".to_owned(),
        wire: json!({"type": "ad.create_user", "payload": {"directory": "corp"}}),
        form: WireForm::Spec,
        lease_s,
    }
}

fn book(ids: &[&str]) -> Jobs {
    let mut jobs = Jobs::default();
    let new = ids.iter().map(|id| spec(id, 60)).collect();
    jobs.enqueue(new).expect("enqueue");
    jobs
}

fn ids(offered: &[Value]) -> Vec<&str> {
    offered.iter().filter_map(|j| j["id"].as_str()).collect()
}

fn batch(seq: u64, guids: &[&str], last: bool) -> RecordsBatch {
    let records = guids.iter().map(|g| raw(json!({"dn": format!("CN={g}"), "guid": g}))).collect();
    RecordsBatch { seq, records, last }
}

fn raw(v: Value) -> Box<serde_json::value::RawValue> {
    serde_json::value::to_raw_value(&v).expect("raw record")
}

/// A book where connector "a" holds an acked job "j".
fn acked() -> (Jobs, Instant) {
    let mut jobs = book(&["j"]);
    let now = Instant::now();
    jobs.offer("a", 1, now, None);
    jobs.ack("a", "j", now).expect("ack");
    (jobs, now)
}

#[test]
fn offer_respects_max_and_order_and_adds_lease_and_attempt() {
    let mut jobs = book(&["1", "2", "3"]);
    let now = Instant::now();
    let first = jobs.offer("a", 2, now, None);
    assert_eq!(ids(&first), ["1", "2"]);
    assert_eq!(first[0]["lease_s"], 60);
    assert_eq!(first[0]["attempt"], 1);
    assert_eq!(first[0]["payload"]["directory"], "corp");
    assert_eq!(ids(&jobs.offer("b", 5, now, None)), ["3"]);
    assert!(jobs.offer("b", 5, now, None).is_empty());
}

#[test]
fn expired_lease_is_offered_again_to_anyone_in_its_old_place() {
    let mut jobs = book(&["1", "2"]);
    let now = Instant::now();
    jobs.offer("a", 1, now, Some(5));
    let later = now + Duration::from_secs(6);
    let again = jobs.offer("b", 5, later, None);
    assert_eq!(ids(&again), ["1", "2"]);
    assert_eq!(again[0]["attempt"], 2);
    assert_eq!(jobs.ack("a", "1", later).map_err(|e| e.code()), Err("conflict"));
    jobs.ack("b", "1", later).expect("new lessee acks");
}

#[test]
fn ack_rules() {
    let mut jobs = book(&["j", "k"]);
    let now = Instant::now();
    assert!(matches!(jobs.ack("a", "j", now), Err(ApiError::Conflict(_))), "never offered");
    jobs.offer("a", 1, now, None);
    assert!(matches!(jobs.ack("b", "j", now), Err(ApiError::Conflict(_))));
    jobs.ack("a", "j", now).expect("owner acks");
    jobs.ack("a", "j", now).expect("repeat ack by the owner");
    assert!(matches!(jobs.ack("a", "nope", now), Err(ApiError::NotFound(_))));
    // An acked job is never re-offered, however long it runs.
    assert_eq!(ids(&jobs.offer("b", 5, now + Duration::from_secs(600), None)), ["k"]);
    assert_eq!(jobs.get("j").map(|j| j.acks), Some(4), "every ack request counts");
}

#[test]
fn late_ack_counts_while_nobody_else_took_the_job() {
    let mut jobs = book(&["j"]);
    let now = Instant::now();
    jobs.offer("a", 1, now, Some(1));
    let later = now + Duration::from_secs(5);
    jobs.ack("a", "j", later).expect("late ack");
    assert!(jobs.offer("b", 5, later, None).is_empty());
}

#[test]
fn result_first_kept_identical_repeat_fine_different_one_conflicts() {
    let (mut jobs, _) = acked();
    let mut v = Violations::default();
    let ok = json!({"status": "succeeded", "result": {"dn": "x"}});
    jobs.post_result(&mut v, "a", "j", ok.clone()).expect("first");
    jobs.post_result(&mut v, "a", "j", ok.clone()).expect("identical repeat");
    let other = json!({"status": "failed", "result": null});
    assert!(matches!(jobs.post_result(&mut v, "a", "j", other), Err(ApiError::Conflict(_))));
    assert_eq!(v.count(ViolationKind::SecondDifferentResult), 1);
    let job = jobs.get("j").expect("job");
    assert_eq!(job.result, Some(ok));
    assert_eq!(job.result_posts, 3);
    assert!(matches!(job.state, JobState::Done { .. }));
}

#[test]
fn result_from_a_connector_that_never_acked_is_a_violation() {
    let mut jobs = book(&["j", "k"]);
    let mut v = Violations::default();
    let now = Instant::now();
    jobs.offer("a", 2, now, None);
    jobs.ack("a", "j", now).expect("ack");
    let body = json!({"status": "succeeded"});
    let leased_only = jobs.post_result(&mut v, "a", "k", body.clone());
    assert!(matches!(leased_only, Err(ApiError::Conflict(_))));
    let other = jobs.post_result(&mut v, "b", "j", body.clone());
    assert!(matches!(other, Err(ApiError::Conflict(_))));
    assert_eq!(v.count(ViolationKind::ResultWithoutAck), 2);
    let unknown = jobs.post_result(&mut v, "a", "zz", body);
    assert!(matches!(unknown, Err(ApiError::NotFound(_))));
}

#[test]
fn records_store_each_seq_once_and_check_gaps_and_repeats() {
    let (mut jobs, _) = acked();
    let mut v = Violations::default();
    jobs.post_records(&mut v, "a", "j", batch(0, &["g1", "g2"], false), 1000).expect("seq 0");
    jobs.post_records(&mut v, "a", "j", batch(0, &["g1", "g2"], false), 1000).expect("same repeat");
    assert_eq!(v.total(), 0);
    jobs.post_records(&mut v, "a", "j", batch(0, &["g9"], false), 1000).expect("repeat is ignored");
    assert_eq!(v.count(ViolationKind::RepeatSeqDiffers), 1);
    let gap = jobs.post_records(&mut v, "a", "j", batch(2, &["g3"], false), 1000);
    assert!(matches!(gap, Err(ApiError::BadRequest(_))));
    assert_eq!(v.count(ViolationKind::SeqGap), 1);
    jobs.post_records(&mut v, "a", "j", batch(1, &["g3", "g1"], true), 1000).expect("seq 1");
    assert_eq!(v.count(ViolationKind::RecordDeliveredTwice), 1);
    let after = jobs.post_records(&mut v, "a", "j", batch(2, &["g4"], false), 1000);
    assert!(matches!(after, Err(ApiError::Conflict(_))));
    let job = jobs.get("j").expect("job");
    assert_eq!(job.records.batches().len(), 2);
    assert_eq!(job.records.count(), 4);
}

#[test]
fn entries_without_guid_are_keyed_by_dn() {
    let (mut jobs, _) = acked();
    let mut v = Violations::default();
    let one = |seq| RecordsBatch { seq, records: vec![raw(json!({"dn": "CN=x", "guid": null}))], last: false };
    jobs.post_records(&mut v, "a", "j", one(0), 1000).expect("seq 0");
    jobs.post_records(&mut v, "a", "j", one(1), 1000).expect("seq 1");
    assert_eq!(v.count(ViolationKind::RecordDeliveredTwice), 1);
}

#[test]
fn records_limits_and_ownership() {
    let (mut jobs, _) = acked();
    let mut v = Violations::default();
    let guids: Vec<String> = (0..1001).map(|i| format!("g{i}")).collect();
    let refs: Vec<&str> = guids.iter().map(String::as_str).collect();
    let big = jobs.post_records(&mut v, "a", "j", batch(0, &refs, false), 1000);
    assert!(matches!(big, Err(ApiError::TooLarge(_))));
    let other = jobs.post_records(&mut v, "b", "j", batch(0, &["g"], false), 1000);
    assert!(matches!(other, Err(ApiError::Conflict(_))));
    assert_eq!(v.count(ViolationKind::RecordsWithoutAck), 1);
    let unknown = jobs.post_records(&mut v, "a", "zz", batch(0, &["g"], false), 1000);
    assert!(matches!(unknown, Err(ApiError::NotFound(_))));
}

#[test]
fn cancel_queued_or_leased_makes_ack_404_and_acked_notifies_owner() {
    let mut jobs = book(&["q", "l", "a"]);
    let now = Instant::now();
    let q = jobs.cancel("q").expect("cancel queued");
    assert_eq!((q.state, q.notify), ("cancelled", None));
    let offered = jobs.offer("c", 2, now, None);
    assert_eq!(ids(&offered), ["l", "a"]);
    jobs.ack("c", "a", now).expect("ack");
    let l = jobs.cancel("l").expect("cancel leased");
    assert_eq!((l.state, l.notify.as_deref()), ("cancelled", Some("c")));
    assert!(matches!(jobs.ack("c", "l", now), Err(ApiError::NotFound(_))));
    assert!(!jobs.cancel_settled("l", now), "lease of the cancelled job still runs");
    assert!(jobs.cancel_settled("l", now + Duration::from_secs(61)));
    let a = jobs.cancel("a").expect("cancel acked");
    assert_eq!((a.state, a.notify.as_deref()), ("acked", Some("c")));
    assert!(!jobs.cancel_settled("a", now));
    let mut v = Violations::default();
    let cancelled = json!({"status": "failed", "error": {"code": "cancelled"}});
    jobs.post_result(&mut v, "c", "a", cancelled).expect("result");
    assert!(jobs.cancel_settled("a", now));
}

#[test]
fn raw_jobs_go_out_verbatim_and_duplicate_ids_are_refused() {
    let mut jobs = Jobs::default();
    let raw = NewJob { id: None, job_type: String::new(), wire: json!([1, 2]), form: WireForm::Raw, lease_s: 60 };
    let ids = jobs.enqueue(vec![raw]).expect("enqueue");
    assert_eq!(ids, ["j-1"]);
    assert_eq!(jobs.offer("a", 1, Instant::now(), None), [json!([1, 2])]);
    let dup = jobs.enqueue(vec![spec("j-1", 60)]);
    assert!(matches!(dup, Err(ApiError::Conflict(_))));
    let twice = jobs.enqueue(vec![spec("x", 60), spec("x", 60)]);
    assert!(matches!(twice, Err(ApiError::Conflict(_))));
    assert_eq!(jobs.len(), 1);
}
