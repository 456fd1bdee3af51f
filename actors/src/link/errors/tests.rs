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
