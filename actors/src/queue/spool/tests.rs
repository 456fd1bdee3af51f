use super::*;

#[test]
fn only_committed_digests_are_read_and_uncommitted_ones_are_overwritten() {
    let dir = tempfile::tempdir().unwrap();
    let s = Spool::open(dir.path()).unwrap();
    let len = s.append_seen("j/1", 0, &[1; 32]).unwrap();
    // A store that crashed before its commit appended these: never read...
    s.append_seen("j/1", len, &[9; 16]).unwrap();
    assert_eq!(s.read_seen("j/1", len).unwrap(), vec![1; 32]);
    // ...and the next store writes over them.
    let len2 = s.append_seen("j/1", len, &[2; 16]).unwrap();
    let mut want = vec![1; 32];
    want.extend([2; 16]);
    assert_eq!(s.read_seen("j/1", len2).unwrap(), want);
}

#[test]
fn tidy_removes_unknown_jobs_and_delivered_bodies() {
    let dir = tempfile::tempdir().unwrap();
    let s = Spool::open(dir.path()).unwrap();
    for seq in 0..3 {
        s.write_body("keep", seq, b"{}").unwrap();
        s.write_body("gone", seq, b"{}").unwrap();
    }
    s.tidy(|id| (id == "keep").then_some(2)).unwrap();
    assert_eq!(s.read_body("keep", 1).unwrap(), None);
    assert_eq!(s.read_body("keep", 2).unwrap(), Some(b"{}".to_vec()));
    assert_eq!(s.read_body("gone", 2).unwrap(), None);
}
