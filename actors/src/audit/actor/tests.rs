use super::*;
use crate::audit::{verify, AppendAudit, AuditEntry, Change};

fn entry(n: usize) -> AuditEntry {
    AuditEntry {
        ts: "2026-12-01T10:00:00Z".into(),
        job_id: format!("j-{n}"),
        operation: "ad.create_user".into(),
        target_dn: format!("CN=u{n},DC=x"),
        target_guid: None,
        changes: vec![Change { attribute: "member".into(), before: "absent".into(), after: "present".into() }],
        outcome: "intent".into(),
    }
}

/// How many group writes the actor made (each is one `fdatasync`).
#[derive(Message)]
#[rtype(result = "u64")]
struct Writes;

impl Handler<Writes> for AuditActor {
    type Result = u64;
    fn handle(&mut self, _: Writes, _: &mut Context<Self>) -> u64 {
        self.writes
    }
}

/// Makes the next group's write fail: the journal's handle becomes `/dev/full` (ENOSPC).
#[derive(Message)]
#[rtype(result = "()")]
struct FillDisk;

impl Handler<FillDisk> for AuditActor {
    type Result = ();
    fn handle(&mut self, _: FillDisk, _: &mut Context<Self>) {
        self.file = std::fs::OpenOptions::new().write(true).open("/dev/full").ok();
    }
}

async fn append_all(audit: &Addr<AuditActor>, from: usize, n: usize) -> Vec<Result<(), AuditError>> {
    let sends = (from..from + n).map(|i| audit.send(AppendAudit { entry: entry(i) }));
    futures_util::future::join_all(sends).await.into_iter().map(|r| r.expect("audit actor")).collect()
}

#[actix::test]
async fn appends_that_arrive_together_share_one_write_and_sync_and_chain_in_order() {
    let dir = tempfile::tempdir().unwrap();
    let audit = AuditActor::open(dir.path()).start();
    let results = append_all(&audit, 0, 40).await;
    assert!(results.iter().all(Result::is_ok), "{results:?}");
    let writes = audit.send(Writes).await.unwrap();
    assert!(writes < 40, "40 appends sent together took {writes} writes: one sync each, not grouped");
    let v = verify(&dir.path().join(FILE_NAME)).unwrap();
    assert_eq!((v.lines, v.torn_tail), (40, 0));
    let text = std::fs::read_to_string(dir.path().join(FILE_NAME)).unwrap();
    let jobs: Vec<String> = text
        .lines()
        .map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap()["job_id"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(jobs, (0..40).map(|i| format!("j-{i}")).collect::<Vec<_>>(), "lines in the order sent");
}

#[actix::test]
async fn a_failed_group_write_answers_every_member_with_the_error_and_leaves_the_chain_whole() {
    let dir = tempfile::tempdir().unwrap();
    let audit = AuditActor::open(dir.path()).start();
    assert!(append_all(&audit, 0, 3).await.iter().all(Result::is_ok));
    audit.send(FillDisk).await.unwrap();
    let failed = append_all(&audit, 3, 10).await;
    assert!(failed.iter().all(|r| matches!(r, Err(AuditError::Io { .. }))), "{failed:?}");
    assert!(failed.iter().any(|r| r.as_ref().is_err_and(|e| e.to_string().contains("No space left"))), "{failed:?}");
    // The journal reopens at the next append and goes on from the last synced line.
    assert!(append_all(&audit, 13, 2).await.iter().all(Result::is_ok));
    let v = verify(&dir.path().join(FILE_NAME)).unwrap();
    assert_eq!((v.lines, v.torn_tail), (5, 0), "3 before, none of the failed group, 2 after");
}
