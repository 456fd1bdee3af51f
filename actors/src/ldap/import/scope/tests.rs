use super::*;

fn k(b: u8) -> Key {
    [b; 16]
}

fn rec(g: Key, m: Key) -> Vec<u8> {
    [g, m].concat()
}

#[test]
fn a_full_build_answers_who_was_in_scope_and_in_which_group() {
    let dir = tempfile::tempdir().unwrap();
    let store = ScopeStore::new(dir.path().to_path_buf());
    let group = dn_key(&Dn::parse("CN=G,OU=x,DC=a").unwrap());
    let mut records = rec(IN_SCOPE, k(3));
    records.extend(rec(IN_SCOPE, k(1)));
    records.extend(rec(group, k(3)));
    store.append("job", &records).unwrap();
    store.append("job", &rec(group, k(1))).unwrap();
    store.append("job", &rec(group, k(1))).unwrap(); // a crash's repeat
    store.build("job", "s", None, "t1").unwrap();
    let f = store.open("s", "t1").unwrap().unwrap();
    assert!(f.contains(&k(1)).unwrap() && f.contains(&k(3)).unwrap());
    assert!(!f.contains(&k(2)).unwrap());
    assert_eq!(f.members_of(&group).unwrap(), vec![k(1), k(3)]);
    let same = dn_key(&Dn::parse("cn=g, ou=X,dc=A").unwrap());
    assert_eq!(same, group, "keys compare DNs as Dn does");
    assert!(!dir.path().join("jobs").join(format!("{}.pairs", hex(b"job"))).exists());
}

#[test]
fn a_delta_replaces_the_members_it_touched_and_drops_those_that_left() {
    let dir = tempfile::tempdir().unwrap();
    let store = ScopeStore::new(dir.path().to_path_buf());
    let (g, h) = (k(0x10), k(0x20));
    let mut full = Vec::new();
    for m in [1, 2, 3] {
        full.extend(rec(IN_SCOPE, k(m)));
        full.extend(rec(g, k(m)));
    }
    store.append("full", &full).unwrap();
    store.build("full", "s", None, "t1").unwrap();
    // member 1 left G for H, member 2 left the scope, member 4 arrived
    let mut delta = rec(IN_SCOPE, k(1));
    delta.extend(rec(h, k(1)));
    delta.extend(rec(LEFT, k(2)));
    delta.extend(rec(IN_SCOPE, k(4)));
    store.append("delta", &delta).unwrap();
    store.build("delta", "s", Some("t1"), "t2").unwrap();
    let f = store.open("s", "t2").unwrap().unwrap();
    assert_eq!(f.members_of(&g).unwrap(), vec![k(3)]);
    assert_eq!(f.members_of(&h).unwrap(), vec![k(1)]);
    assert!(!f.contains(&k(2)).unwrap());
    assert!(f.contains(&k(4)).unwrap() && f.contains(&k(1)).unwrap());
    assert!(f.members_of(&LEFT).unwrap().is_empty());
    assert!(store.open("s", "t1").unwrap().is_some(), "older tokens stay for a retried delta");
}

#[test]
fn runs_larger_than_memory_are_merged_in_order() {
    let dir = tempfile::tempdir().unwrap();
    let store = ScopeStore::new(dir.path().to_path_buf());
    let mut records = Vec::new();
    for i in (0..(RUN as u32 + 500)).rev() {
        let mut m = [0u8; 16];
        m[..4].copy_from_slice(&i.to_be_bytes());
        records.extend(rec(IN_SCOPE, m));
    }
    store.append("big", &records).unwrap();
    store.build("big", "s", None, "t").unwrap();
    let f = store.open("s", "t").unwrap().unwrap();
    let mut probe = [0u8; 16];
    probe[..4].copy_from_slice(&(RUN as u32 + 17).to_be_bytes());
    assert!(f.contains(&probe).unwrap());
    assert_eq!(f.members_of(&IN_SCOPE).unwrap().len(), RUN + 500);
}

#[test]
fn a_torn_record_left_by_a_crash_is_cut_off_before_the_next_append() {
    let dir = tempfile::tempdir().unwrap();
    let store = ScopeStore::new(dir.path().to_path_buf());
    store.append("job", &rec(IN_SCOPE, k(1))).unwrap();
    // A crash or a full disk during the next append: 20 of its 32 bytes reached the file.
    let pairs = dir.path().join("jobs").join(format!("{}.pairs", hex(b"job")));
    let mut torn = std::fs::read(&pairs).unwrap();
    torn.extend_from_slice(&rec(IN_SCOPE, k(9))[..20]);
    std::fs::write(&pairs, torn).unwrap();
    // The resumed import appends again; every record stays aligned.
    store.append("job", &rec(IN_SCOPE, k(2))).unwrap();
    assert_eq!(std::fs::metadata(&pairs).unwrap().len(), 64);
    store.build("job", "s", None, "t1").unwrap();
    let f = store.open("s", "t1").unwrap().unwrap();
    assert!(f.contains(&k(1)).unwrap() && f.contains(&k(2)).unwrap());
    assert!(!f.contains(&k(9)).unwrap(), "the torn record is not read");
}

#[test]
fn memberships_are_stored_as_the_bool_they_were() {
    // Plans stored by a connector before the enum hold `"memberships": true`.
    assert_eq!(serde_json::to_string(&Memberships::Tracked).ok().as_deref(), Some("true"));
    assert_eq!(serde_json::from_str::<Memberships>("false").ok(), Some(Memberships::Untracked));
}
