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
    let v = verify(&path).unwrap();
    assert_eq!((v.lines, v.last_hash, v.torn_tail), (3, prev, 0));
    let text = std::fs::read_to_string(&path).unwrap();
    std::fs::write(&path, text.replacen("514", "512", 1)).unwrap();
    assert!(matches!(verify(&path), Err(AuditError::Broken { line: 1, .. })));
    let lines: Vec<&str> = text.lines().collect();
    std::fs::write(&path, format!("{}\n{}\n", lines[0], lines[2])).unwrap();
    assert!(matches!(verify(&path), Err(AuditError::Broken { line: 2, .. })));
}

fn journal_of(n: u32) -> (tempfile::TempDir, std::path::PathBuf, String) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join(FILE_NAME);
    let mut f = std::fs::OpenOptions::new().create(true).append(true).open(&path).unwrap();
    let mut prev = GENESIS.to_owned();
    for i in 0..n {
        prev = append(&mut f, &prev, entry(i)).unwrap();
    }
    (dir, path, prev)
}

#[test]
fn a_torn_tail_is_counted_not_broken_and_moved_aside() {
    // Each kind of tail a crash or a full disk leaves: part of a line, zeros from an
    // extended but unwritten block, a lone brace.
    for tail in [&b"{\"ts\":\"2026-11-27T10:00:0"[..], &[0u8; 512][..], &b"{"[..]] {
        let (_dir, path, last) = journal_of(3);
        let whole = std::fs::read(&path).unwrap();
        let mut torn = whole.clone();
        torn.extend_from_slice(tail);
        std::fs::write(&path, &torn).unwrap();
        let v = verify(&path).unwrap();
        assert_eq!((v.lines, v.last_hash.as_str(), v.torn_tail), (3, last.as_str(), tail.len() as u64));

        let r = crate::audit::recover(&path, 42).unwrap();
        let aside = r.torn_aside.clone().unwrap();
        assert_eq!(std::fs::read(&aside).unwrap(), tail, "the torn bytes are kept aside");
        assert_eq!(std::fs::read(&path).unwrap(), whole, "the journal ends at its last whole line");
        assert!(r.notice().unwrap().contains("after line 3"));
        // The next line links to the last whole one.
        let mut f = std::fs::OpenOptions::new().append(true).open(&path).unwrap();
        append(&mut f, &r.verified.last_hash, entry(9)).unwrap();
        assert_eq!(verify(&path).unwrap().lines, 4);
    }
}

#[test]
fn a_broken_whole_line_is_still_an_error_after_recovery() {
    let (_dir, path, _) = journal_of(2);
    let mut text = std::fs::read_to_string(&path).unwrap();
    text.push_str("not json\n");
    std::fs::write(&path, text).unwrap();
    assert!(matches!(crate::audit::recover(&path, 1), Err(AuditError::Broken { line: 3, .. })));
}
