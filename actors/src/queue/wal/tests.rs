//! The log's chain at open: what counts after a checkpoint, a restart at offset 0, a torn
//! or corrupt record, and a log of another database; and the sled store replaying it.

use super::*;
use crate::queue::store::{SledStore, Store, WriteBatch, WAL_FILE};

fn put(k: &str, v: &str) -> Write {
    Write::Put(k.as_bytes().to_vec(), v.as_bytes().to_vec())
}

fn open(path: &Path, checkpointed: u64) -> (Wal, Vec<Vec<Write>>) {
    Wal::open(path, checkpointed).unwrap()
}

#[test]
fn records_after_the_checkpoint_come_back_in_order_and_numbering_goes_on_after_them() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join(WAL_FILE);
    let (mut wal, none) = open(&path, 0);
    assert!(none.is_empty());
    wal.append(&[put("a", "1"), Write::Delete(b"b".to_vec())]).unwrap();
    wal.append(&[put("a", "2")]).unwrap();
    wal.append(&[]).unwrap();
    drop(wal);
    let (wal, records) = open(&path, 0);
    assert_eq!(records, vec![vec![put("a", "1"), Write::Delete(b"b".to_vec())], vec![put("a", "2")], vec![]]);
    assert_eq!(wal.last_seq(), 3);
    // Checkpointed up to 3: nothing to replay, the next record is 4.
    let (wal, records) = open(&path, 3);
    assert!(records.is_empty());
    assert_eq!(wal.last_seq(), 3);
}

#[test]
fn after_a_restart_the_chain_is_the_new_records_and_the_old_ones_behind_them_do_not_count() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join(WAL_FILE);
    let (mut wal, _) = open(&path, 0);
    for i in 0..5 {
        wal.append(&[put("old", &format!("{i}-{}", "x".repeat(100)))]).unwrap();
    }
    // Checkpointed through 5; two short records go over the first old one.
    wal.restart();
    wal.append(&[put("new", "6")]).unwrap();
    wal.append(&[put("new", "7")]).unwrap();
    drop(wal);
    let (wal, records) = open(&path, 5);
    assert_eq!(records, vec![vec![put("new", "6")], vec![put("new", "7")]]);
    assert_eq!(wal.last_seq(), 7);
    // Nothing written after the restart: the old records are all at or below the mark.
    let (mut wal, _) = open(&path, 7);
    wal.restart();
    drop(wal);
    assert!(open(&path, 7).1.is_empty());
}

#[test]
fn the_chain_ends_at_a_torn_or_corrupt_record() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join(WAL_FILE);
    let (mut wal, _) = open(&path, 0);
    for i in 1..=3 {
        wal.append(&[put("k", &i.to_string())]).unwrap();
    }
    drop(wal);
    let whole = std::fs::read(&path).unwrap();
    let third = whole.len() - (whole.len() / 3);
    // Torn: the third record's last byte is missing.
    std::fs::write(&path, &whole[..whole.len() - 1]).unwrap();
    assert_eq!(open(&path, 0).1.len(), 2);
    // Corrupt: one flipped bit in the second record's body; the third is not reached.
    let mut bad = whole.clone();
    bad[third - 2] ^= 0x10;
    std::fs::write(&path, &bad).unwrap();
    assert_eq!(open(&path, 0).1.len(), 1);
    // A header without its magic (a record whose sync failed) ends the chain too.
    let mut unmarked = whole;
    unmarked[..4].copy_from_slice(&[0; 4]);
    std::fs::write(&path, &unmarked).unwrap();
    assert!(open(&path, 0).1.is_empty());
}

#[test]
fn a_log_that_starts_beyond_the_databases_mark_is_refused_with_both_numbers() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join(WAL_FILE);
    let (mut wal, _) = open(&path, 40);
    wal.append(&[put("k", "v")]).unwrap();
    drop(wal);
    let Err(e) = Wal::open(&path, 0) else { panic!("opened another queue's log") };
    let text = e.to_string();
    assert!(text.contains("number 41") && text.contains("up to 0") && text.contains("move queue.wal aside"), "{text}");
}

fn batch(writes: Vec<Write>) -> WriteBatch {
    WriteBatch { writes }
}

#[test]
fn the_sled_store_replays_what_it_logged_but_never_applied_and_never_undoes_a_later_checkpoint() {
    let dir = tempfile::tempdir().unwrap();
    let store = SledStore::open(dir.path(), 8 << 20).unwrap();
    store.log(&[put("a", "1"), put("b", "1")]).unwrap();
    store.checkpoint(batch(vec![put("a", "1"), put("b", "1")])).unwrap();
    // After the checkpoint: a is rewritten and c added, logged only (the engine lacks them).
    store.log(&[put("a", "2")]).unwrap();
    store.log(&[put("c", "3"), Write::Delete(b"b".to_vec())]).unwrap();
    assert_eq!(store.get(b"a").unwrap(), Some(b"1".to_vec()), "a log record is not read back before a checkpoint");
    drop(store);
    let store = SledStore::open(dir.path(), 8 << 20).unwrap();
    assert_eq!(store.get(b"a").unwrap(), Some(b"2".to_vec()));
    assert_eq!(store.get(b"b").unwrap(), None);
    assert_eq!(store.get(b"c").unwrap(), Some(b"3".to_vec()));
    assert_eq!(std::fs::metadata(dir.path().join(WAL_FILE)).unwrap().len(), 0, "replayed, then emptied");
    // A later value checkpointed and a shorter record over the start: reopening keeps both.
    store.log(&[put("a", "4")]).unwrap();
    store.checkpoint(batch(vec![put("a", "4")])).unwrap();
    store.log(&[put("d", "5")]).unwrap();
    drop(store);
    let store = SledStore::open(dir.path(), 8 << 20).unwrap();
    assert_eq!(store.get(b"a").unwrap(), Some(b"4".to_vec()), "a checkpointed record is not replayed over it");
    assert_eq!(store.get(b"d").unwrap(), Some(b"5".to_vec()));
}

#[test]
fn a_reopen_after_a_failure_replays_the_log_into_the_engine() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = SledStore::open(dir.path(), 8 << 20).unwrap();
    store.log(&[put("a", "1")]).unwrap();
    store.reopen().unwrap();
    assert_eq!(store.get(b"a").unwrap(), Some(b"1".to_vec()));
}
