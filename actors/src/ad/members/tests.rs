use std::sync::{Arc, Mutex};

use super::*;

fn refuses(
    bad: &'static str,
    log: Arc<Mutex<Vec<Vec<String>>>>,
) -> impl Fn(Vec<String>) -> std::future::Ready<Result<(), LdapFailure>> {
    move |batch: Vec<String>| {
        log.lock().unwrap().push(batch.clone());
        std::future::ready(if batch.iter().any(|m| m == bad) {
            Err(LdapFailure::Result { rc: 20, text: "exists".into() })
        } else {
            Ok(())
        })
    }
}

fn names(v: &[&str]) -> Vec<String> {
    v.iter().map(|s| s.to_string()).collect()
}

#[tokio::test]
async fn a_batch_the_directory_takes_is_one_write() {
    let log = Arc::default();
    let out = written_each(names(&["a", "b", "c"]), refuses("zz", Arc::clone(&log))).await;
    assert!(out.iter().all(Result::is_ok));
    assert_eq!(*log.lock().unwrap(), vec![names(&["a", "b", "c"])]);
}

#[tokio::test]
async fn a_refused_batch_is_retried_member_by_member_each_with_its_outcome() {
    let log = Arc::default();
    let out = written_each(names(&["a", "b", "c"]), refuses("b", Arc::clone(&log))).await;
    assert!(out[0].is_ok() && out[2].is_ok());
    assert_eq!(out[1].as_ref().err().and_then(LdapFailure::rc), Some(20));
    assert_eq!(*log.lock().unwrap(), vec![names(&["a", "b", "c"]), names(&["a"]), names(&["b"]), names(&["c"])]);
}

#[tokio::test]
async fn a_lone_member_is_written_once() {
    let log = Arc::default();
    let out = written_each(names(&["b"]), refuses("b", Arc::clone(&log))).await;
    assert_eq!(out.len(), 1);
    assert!(out[0].is_err());
    assert_eq!(log.lock().unwrap().len(), 1);
}
