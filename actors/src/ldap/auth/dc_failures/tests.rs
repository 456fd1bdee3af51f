use std::time::{Duration, SystemTime, UNIX_EPOCH};

use super::{count, Lockout, FILETIME_UNIX_EPOCH};
use crate::directory::DirectoryKind;
use crate::ldap::entry::RawEntry;

fn entry(attrs: &[(&str, &[String])]) -> RawEntry {
    RawEntry {
        dn: "CN=u".into(),
        attributes: attrs
            .iter()
            .map(|(n, v)| ((*n).to_owned(), v.iter().map(|s| s.as_bytes().to_vec()).collect()))
            .collect(),
    }
}

fn ad_user(count: &str, at: SystemTime) -> RawEntry {
    let ft = at.duration_since(UNIX_EPOCH).map_or(0, |d| d.as_nanos() / 100) as u64 + FILETIME_UNIX_EPOCH;
    entry(&[("badPwdCount", &[count.to_owned()]), ("badPasswordTime", &[ft.to_string()])])
}

#[test]
fn ad_counts_within_the_observation_window_only() {
    let now = SystemTime::now();
    let l = Lockout { threshold: 3, window: Some(Duration::from_secs(1800)) };
    let n = |e: &RawEntry| count(DirectoryKind::ActiveDirectory, e, l, now).failures;
    assert_eq!(n(&ad_user("2", now - Duration::from_secs(60))), 2);
    assert_eq!(n(&ad_user("2", now - Duration::from_secs(1800))), 0, "the DC starts again");
    assert_eq!(n(&entry(&[("badPwdCount", &["1".to_owned()])])), 0, "no badPasswordTime: never failed");
    assert_eq!(count(DirectoryKind::ActiveDirectory, &ad_user("1", now), l, now).locks_at, 3);
}

#[test]
fn ppolicy_counts_the_failure_times_within_the_interval_or_all() {
    let now = UNIX_EPOCH + Duration::from_secs(1_796_257_800); // 2026-12-03T00:30:00Z
    let times = ["20261119090000Z".to_owned(), "20261203002100.123456Z".to_owned(), "20261203002600Z".to_owned()];
    let user = entry(&[("pwdFailureTime", &times)]);
    let all = Lockout { threshold: 3, window: None };
    assert_eq!(count(DirectoryKind::Ldap, &user, all, now).failures, 3, "interval 0: every failure counts");
    let ten_min = Lockout { threshold: 3, window: Some(Duration::from_secs(600)) };
    assert_eq!(count(DirectoryKind::Ldap, &user, ten_min, now).failures, 2);
}
