use super::*;

fn entry(n: u32) -> AuditEntry {
    AuditEntry {
        ts: "2026-11-27T10:00:00Z".into(),
        job_id: format!("j-{n}"),
        operation: "ad.disable_user".into(),
        target_dn: "CN=a,DC=x".into(),
        target_guid: None,
        changes: vec![Change { attribute: "userAccountControl".into(), before: "512".into(), after: "514".into() }],
        outcome: "succeeded".into(),
    }
}

#[test]
fn the_chain_verifies_and_breaks_on_any_edit() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join(FILE_NAME);
    let mut f = std::fs::OpenOptions::new().create(true).append(true).open(&path).unwrap();
    let mut prev = GENESIS.to_owned();
    for n in 0..3 {
        prev = append(&mut f, &prev, entry(n)).unwrap();
    }
    assert_eq!(verify(&path).unwrap(), (3, prev));
    let text = std::fs::read_to_string(&path).unwrap();
    std::fs::write(&path, text.replacen("514", "512", 1)).unwrap();
    assert!(matches!(verify(&path), Err(AuditError::Broken { line: 1, .. })));
    let lines: Vec<&str> = text.lines().collect();
    std::fs::write(&path, format!("{}\n{}\n", lines[0], lines[2])).unwrap();
    assert!(matches!(verify(&path), Err(AuditError::Broken { line: 2, .. })));
}
