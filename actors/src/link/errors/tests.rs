use super::*;

#[test]
fn statuses_map_to_the_protocol_behaviour() {
    let r = |code: u16| LinkError::from_status(StatusCode::from_u16(code).unwrap(), None, String::new()).recovery();
    assert_eq!(r(400), Recovery::GiveUp);
    assert_eq!(r(401), Recovery::Reauthenticate);
    assert_eq!(r(403), Recovery::Disabled);
    assert_eq!((r(404), r(409)), (Recovery::GiveUp, Recovery::GiveUp));
    assert_eq!(
        (r(429), r(503), r(500), r(502)),
        (Recovery::Transient, Recovery::Transient, Recovery::Transient, Recovery::Transient)
    );
}

#[test]
fn retry_after_is_a_floor_and_backoff_is_capped() {
    let e = LinkError::Overloaded { status: 429, retry_after: Some(Duration::from_secs(7)) };
    for attempt in 0..20 {
        assert!(wait_before_retry(&e, attempt) >= Duration::from_secs(7));
        assert!(backoff(attempt, Duration::from_secs(60)) <= Duration::from_secs(60));
    }
}

#[test]
fn a_redirect_is_kept_and_retried_and_names_where_it_pointed() {
    let e = LinkError::Redirected { status: 302, location: "https://login.example.test/sso".into() };
    assert_eq!(e.recovery(), Recovery::Transient, "not delivered: retried");
    assert_eq!(e.metric_kind(), "302");
    let text = e.to_string();
    assert!(text.contains("https://login.example.test/sso") && text.contains("server.host"), "{text}");
}

#[test]
fn http_dates_are_read_in_the_three_forms_rfc_9110_names() {
    use crate::link::client::httpdate_ms;
    assert_eq!(httpdate_ms("Sun, 06 Nov 1994 08:49:37 GMT"), Some(784_111_777_000));
    // The obsolete forms recipients must still read (RFC 9110 §5.6.7).
    assert_eq!(httpdate_ms("Sunday, 06-Nov-94 08:49:37 GMT"), Some(784_111_777_000));
    assert_eq!(httpdate_ms("Sun Nov  6 08:49:37 1994"), Some(784_111_777_000));
    assert_eq!(httpdate_ms("Sun, 06 Nov 1994 08:49:37 CET"), None);
    assert_eq!(httpdate_ms("Sun, 06 Foo 1994 08:49:37 GMT"), None);
    assert_eq!(httpdate_ms(""), None);
}

#[test]
fn an_absurd_retry_after_waits_ten_minutes_at_most() {
    let retry_after = crate::protocol::bounds::retry_after("1000000000000");
    let e = LinkError::Overloaded { status: 503, retry_after };
    for attempt in [0, 5, 40] {
        assert_eq!(wait_before_retry(&e, attempt), Duration::from_secs(600));
    }
}
