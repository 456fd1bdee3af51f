//! Token and connector checks, heartbeats and commands, without HTTP.

use std::path::Path;
use std::time::{Duration, Instant};

use serde_json::json;

use super::{Config, Identity, State};
use crate::error::ApiError;
use crate::jobs::{NewJob, WireForm};
use crate::logs::Logs;
use crate::model::{Command, HeartbeatRequest, RegisterRequest};
use crate::violations::ViolationKind;

fn state() -> State {
    let config = Config {
        token: "tok".to_owned(),
        lease_s: 60,
        heartbeat_interval_s: 30,
        poll_timeout_s: 25,
        max_body_bytes: 1024,
        max_upload_bytes: 1024,
        max_records: 1000,
        clock_skew_s: 0,
    };
    State::new(config, Logs::new(Path::new("/nonexistent")))
}

fn register(state: &mut State, id: Option<&str>) -> String {
    let req =
        RegisterRequest { connector_id: id.map(str::to_owned), name: "ic".to_owned(), ..RegisterRequest::default() };
    state.register(req).expect("register").connector_id
}

fn beat(state: &mut State, id: &str, now: Instant) -> Result<Vec<Command>, ApiError> {
    let req = HeartbeatRequest { status: "online".to_owned(), ..HeartbeatRequest::default() };
    state.heartbeat(id, req, now).map(|r| r.commands)
}

#[test]
fn tokens_and_connector_ids_are_checked_and_counted() {
    let mut s = state();
    let id = register(&mut s, None);
    let missing = s.authorize(None, Some(&id), Identity::Connector);
    assert!(matches!(missing, Err(ApiError::Unauthorized(_))));
    let wrong = s.authorize(Some("Basic nope"), Some(&id), Identity::Connector);
    assert!(matches!(wrong, Err(ApiError::Unauthorized(_))));
    let no_id = s.authorize(Some("Basic tok"), None, Identity::Connector);
    assert!(matches!(no_id, Err(ApiError::BadRequest(_))));
    let unknown = s.authorize(Some("Basic tok"), Some("zz"), Identity::Connector);
    assert!(matches!(unknown, Err(ApiError::Unauthorized(_))));
    assert_eq!(s.violations.count(ViolationKind::MissingToken), 1);
    assert_eq!(s.violations.count(ViolationKind::WrongToken), 1);
    assert_eq!(s.violations.count(ViolationKind::MissingConnectorId), 1);
    let ok = s.authorize(Some("Basic tok"), Some(&id), Identity::Connector);
    assert_eq!(ok.ok().flatten(), Some(id.clone()));
    s.config.token = "new".to_owned();
    let revoked = s.authorize(Some("Basic tok"), Some(&id), Identity::Connector);
    assert!(matches!(revoked, Err(ApiError::Unauthorized(_))));
}

#[test]
fn registration_keeps_a_given_id_and_archiving_forbids() {
    let mut s = state();
    let id = register(&mut s, None);
    assert_eq!(register(&mut s, Some(&id)), id);
    assert_eq!(register(&mut s, Some("chosen")), "chosen");
    s.connectors.find_mut(&id).expect("connector").archived = true;
    let refused = s.authorize(Some("Basic tok"), Some(&id), Identity::Connector);
    assert!(matches!(refused, Err(ApiError::Forbidden(_))));
    let hb = s.authorize(Some("Basic tok"), Some(&id), Identity::AnyConnector);
    assert!(hb.is_ok(), "heartbeats pass the check and are recorded");
    let now = Instant::now();
    assert!(matches!(beat(&mut s, &id, now), Err(ApiError::Forbidden(_))));
    let connector = s.connectors.get(&id).expect("connector");
    assert!(connector.online(30, now), "the archived heartbeat was recorded");
    assert!(!connector.online(30, now + Duration::from_secs(61)));
}

#[test]
fn commands_repeat_until_done() {
    let mut s = state();
    let id = register(&mut s, None);
    let now = Instant::now();
    let job = NewJob {
        id: Some("j".to_owned()),
        job_type: "t".to_owned(),
        wire: json!({}),
        form: WireForm::Spec,
        lease_s: 60,
    };
    s.jobs.enqueue(vec![job]).expect("enqueue");
    s.jobs.offer(&id, 1, now, None);
    s.jobs.ack(&id, "j", now).expect("ack");
    let (outcome, cancel_id) = s.cancel_job("j").expect("cancel");
    assert_eq!(outcome.state, "acked");
    let (_, again) = s.cancel_job("j").expect("cancel twice");
    assert_eq!(cancel_id, again, "one command per job");
    let rid = s.next_id("lr");
    let r = rid.clone();
    s.push_command(&id, |cid| Command::UploadLogs { id: cid, request_id: r, since: None, until: None })
        .expect("upload command");
    s.logs.add_request(rid.clone(), id.clone());
    let sid = s.next_id("ls");
    s.push_command(&id, |cid| Command::StreamLogs {
        id: cid,
        request_id: sid,
        duration_s: 10,
        level: "info".to_owned(),
    })
    .expect("stream command");
    assert_eq!(beat(&mut s, &id, now).expect("hb").len(), 3);
    assert_eq!(beat(&mut s, &id, now).expect("hb").len(), 3, "repeated");
    s.logs.mark_received(&rid, 10);
    let mut v = crate::violations::Violations::default();
    s.jobs.post_result(&mut v, &id, "j", json!({"status": "failed"})).expect("result");
    let left = beat(&mut s, &id, now + Duration::from_secs(5)).expect("hb");
    assert!(matches!(left.as_slice(), [Command::StreamLogs { .. }]));
    assert!(beat(&mut s, &id, now + Duration::from_secs(10)).expect("hb").is_empty());
}
