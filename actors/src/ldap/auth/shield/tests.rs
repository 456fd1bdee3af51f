use std::time::{Duration, Instant};

use super::{Admission, LoginShield};
use crate::ldap::auth::dc_failures::DirectoryCount;

const NONE: DirectoryCount = DirectoryCount { failures: 0, locks_at: 0 };
use crate::directory::LoginSettings;

fn shield(limit: u32, window_s: u64) -> LoginShield {
    LoginShield::new(&LoginSettings {
        failure_limit: limit,
        failure_window: Duration::from_secs(window_s),
        ..LoginSettings::default()
    })
}

/// One whole login at `at`: admitted, then failed with a wrong password.
async fn fail(s: &LoginShield, dn: &str, at: Instant) {
    match s.admit(dn, NONE, || at).await {
        Admission::Bind(a) => {
            a.failed(at);
        }
        Admission::Refuse { .. } => panic!("{dn} refused at a failure"),
    }
}

async fn refused(s: &LoginShield, dn: &str, at: Instant) -> Option<Duration> {
    match s.admit(dn, NONE, || at).await {
        Admission::Bind(_) => None,
        Admission::Refuse { retry_after } => Some(retry_after),
    }
}

#[tokio::test]
async fn the_limit_th_failure_within_the_window_refuses_the_next_bind() {
    let s = shield(3, 60);
    let t0 = Instant::now();
    for i in 0..2 {
        fail(&s, "CN=Jo,DC=x", t0 + Duration::from_secs(i)).await;
        assert_eq!(refused(&s, "CN=Jo,DC=x", t0 + Duration::from_secs(i)).await, None);
    }
    fail(&s, "cn=jo,dc=x", t0 + Duration::from_secs(2)).await;
    let v = refused(&s, "CN=JO,DC=X", t0 + Duration::from_secs(3)).await;
    assert_eq!(v, Some(Duration::from_secs(59)), "counted per DN, case-folded");
    assert_eq!(refused(&s, "CN=Other,DC=x", t0).await, None, "another account is not affected");
}

#[tokio::test]
async fn the_account_opens_again_a_window_after_its_last_failure_and_a_success_clears_it() {
    let s = shield(2, 60);
    let t0 = Instant::now();
    fail(&s, "cn=a", t0).await;
    fail(&s, "cn=a", t0 + Duration::from_secs(10)).await;
    assert!(refused(&s, "cn=a", t0 + Duration::from_secs(69)).await.is_some());
    let Admission::Bind(a) = s.admit("cn=a", NONE, || t0 + Duration::from_secs(70)).await else {
        panic!("still refused")
    };
    assert_eq!(a.failed(t0 + Duration::from_secs(71)), 1, "a failure after the window starts again");
    let Admission::Bind(a) = s.admit("cn=a", NONE, || t0 + Duration::from_secs(72)).await else {
        panic!("refused at 1")
    };
    a.succeeded();
    assert_eq!(s.remembered(), 0);
}

#[tokio::test]
async fn a_limit_of_zero_turns_the_shield_off() {
    let s = shield(0, 60);
    let t0 = Instant::now();
    for _ in 0..100 {
        fail(&s, "cn=a", t0).await;
    }
    assert_eq!(refused(&s, "cn=a", t0).await, None);
    assert_eq!(s.remembered(), 0);
}

/// Binds in flight count as possible failures: with a limit of 2, a third login of the
/// account waits until one of two binds on their way is answered, and is refused when
/// both were wrong passwords.
#[tokio::test]
async fn logins_at_once_never_send_more_wrong_passwords_than_the_limit() {
    let s = shield(2, 60);
    let t0 = Instant::now();
    let (Admission::Bind(a), Admission::Bind(b)) =
        (s.admit("cn=a", NONE, || t0).await, s.admit("cn=a", NONE, || t0).await)
    else {
        panic!("the first two are admitted")
    };
    let third = s.admit("cn=a", NONE, || t0);
    tokio::pin!(third);
    assert!(tokio::time::timeout(Duration::from_millis(50), &mut third).await.is_err(), "the third waits");
    a.failed(t0);
    assert!(tokio::time::timeout(Duration::from_millis(50), &mut third).await.is_err(), "one place is still taken");
    b.failed(t0);
    let third = tokio::time::timeout(Duration::from_secs(1), third).await.expect("answered");
    assert!(matches!(third, Admission::Refuse { .. }), "two wrong passwords: refused");
}

/// A bind answered otherwise (an error, a disabled account) gives its place back uncounted,
/// and a success lets the waiting logins through.
#[tokio::test]
async fn a_dropped_or_successful_attempt_frees_its_place() {
    let s = shield(1, 60);
    let t0 = Instant::now();
    let Admission::Bind(a) = s.admit("cn=a", NONE, || t0).await else { panic!("admitted") };
    drop(a);
    assert_eq!(s.remembered(), 0, "nothing counted");
    let Admission::Bind(a) = s.admit("cn=a", NONE, || t0).await else { panic!("admitted again") };
    let waiting = s.admit("cn=a", NONE, || t0);
    tokio::pin!(waiting);
    assert!(tokio::time::timeout(Duration::from_millis(50), &mut waiting).await.is_err(), "limit 1: one at a time");
    a.succeeded();
    let next = tokio::time::timeout(Duration::from_secs(1), waiting).await.expect("answered");
    assert!(matches!(next, Admission::Bind(_)), "after a success the next may bind");
}

/// A login in flight takes no place among the remembered failures: logins that succeed
/// never push out the count of an account under attack.
#[tokio::test]
async fn logins_in_flight_and_successes_leave_the_remembered_failures_alone() {
    let s = shield(5, 60);
    let t0 = Instant::now();
    fail(&s, "cn=victim", t0).await;
    let Admission::Bind(a) = s.admit("cn=other", NONE, || t0).await else { panic!("admitted") };
    assert_eq!(s.remembered(), 1, "a login in flight is not a remembered failure");
    a.succeeded();
    assert_eq!(s.remembered(), 1, "the victim's count stays");
}

/// What the directory already counts (a typo at a workstation) counts too: no bind is
/// sent that could bring it to the directory's threshold, however the shield counts.
#[tokio::test]
async fn no_bind_may_bring_the_directory_s_own_count_to_its_threshold() {
    let s = shield(5, 60);
    let t0 = Instant::now();
    let dc = |failures| DirectoryCount { failures, locks_at: 3 };
    assert!(matches!(s.admit("cn=a", dc(2), || t0).await, Admission::Refuse { .. }), "one more would lock");
    let Admission::Bind(a) = s.admit("cn=a", dc(1), || t0).await else { panic!("one counted: one more may bind") };
    let waiting = s.admit("cn=a", dc(1), || t0);
    tokio::pin!(waiting);
    assert!(tokio::time::timeout(Duration::from_millis(50), &mut waiting).await.is_err(), "1 + 1 in flight: waits");
    drop(a);
    let next = tokio::time::timeout(Duration::from_secs(1), waiting).await.expect("answered");
    assert!(matches!(next, Admission::Bind(_)), "the bind in flight was no failure");
}
