use std::time::{Duration, Instant};

use super::{LoginShield, Verdict};
use crate::directory::LoginSettings;

fn shield(limit: u32, window_s: u64) -> LoginShield {
    LoginShield::new(&LoginSettings {
        failure_limit: limit,
        failure_window: Duration::from_secs(window_s),
        ..LoginSettings::default()
    })
}

#[test]
fn the_limit_th_failure_within_the_window_refuses_the_next_bind() {
    let s = shield(3, 60);
    let t0 = Instant::now();
    for i in 0..2 {
        s.failed("CN=Jo,DC=x", t0 + Duration::from_secs(i));
        assert_eq!(s.verdict("CN=Jo,DC=x", t0 + Duration::from_secs(i)), Verdict::Bind);
    }
    s.failed("cn=jo,dc=x", t0 + Duration::from_secs(2));
    let v = s.verdict("CN=JO,DC=X", t0 + Duration::from_secs(3));
    assert_eq!(v, Verdict::Refuse { retry_after: Duration::from_secs(59) }, "counted per DN, case-folded");
    assert_eq!(s.verdict("CN=Other,DC=x", t0), Verdict::Bind, "another account is not affected");
}

#[test]
fn the_account_opens_again_a_window_after_its_last_failure_and_a_success_clears_it() {
    let s = shield(2, 60);
    let t0 = Instant::now();
    s.failed("cn=a", t0);
    s.failed("cn=a", t0 + Duration::from_secs(10));
    assert!(matches!(s.verdict("cn=a", t0 + Duration::from_secs(69)), Verdict::Refuse { .. }));
    assert_eq!(s.verdict("cn=a", t0 + Duration::from_secs(70)), Verdict::Bind);
    assert_eq!(s.failed("cn=a", t0 + Duration::from_secs(71)), 1, "a failure after the window starts again");
    s.succeeded("cn=a");
    assert_eq!(s.remembered(), 0);
}

#[test]
fn a_limit_of_zero_turns_the_shield_off() {
    let s = shield(0, 60);
    let t0 = Instant::now();
    for _ in 0..100 {
        s.failed("cn=a", t0);
    }
    assert_eq!(s.verdict("cn=a", t0), Verdict::Bind);
    assert_eq!(s.remembered(), 0);
}
