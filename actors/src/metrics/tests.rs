use super::*;
use serde_json::json;

#[test]
fn a_summary_names_the_target_and_never_a_password() {
    let payload = json!({"directory": "corp", "user": {"sam_account_name": "alice"}, "new_password": "S3cret!",
        "old_password": "0ld", "password": "pw", "group": {"name": "Staff"}});
    let started = JobStarted::new("j1", "ad.change_password", payload.as_object().unwrap());
    assert_eq!(started.target, "corp: alice → Staff");
    let m = Metrics::default();
    m.job_finished(&started, &Ok(json!({})), Duration::from_millis(30));
    let text = format!("{:?}", m.snapshot());
    for secret in ["S3cret!", "0ld", "\"pw\""] {
        assert!(!text.contains(secret), "{text}");
    }
    let s = m.snapshot();
    assert_eq!(s.jobs[&("ad.change_password".to_owned(), "succeeded")], 1);
    assert_eq!(s.durations["ad.change_password"].buckets[3], 1);
}
