use super::super::versions::tests::record;
use super::*;

fn keytab_at(path: &std::path::Path, kvno: u8) {
    let mut kt = vec![5, 2];
    kt.extend(record(&["svc"], "EXAMPLE.TEST", kvno, None));
    std::fs::write(path, kt).unwrap();
}

fn bind(path: &std::path::Path, cache: &str) -> KeytabBind {
    KeytabBind {
        keytab: format!("FILE:{}", path.display()),
        principal: "svc@EXAMPLE.TEST".into(),
        spn_host: None,
        ccache: format!("MEMORY:test-{cache}"),
        key_versions: vec![],
    }
}

#[test]
fn a_keytab_without_the_account_s_key_version_is_behind_until_exported_again() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("svc.keytab");
    keytab_at(&file, 2);
    let k = bind(&file, "version");
    assert_eq!(behind(&k), None, "nothing known yet");
    account_version_read(&k, 2);
    assert_eq!(behind(&k), None);
    account_version_read(&k, 3);
    let why = behind(&k).unwrap();
    assert!(why.contains("holds key version 2 of svc@EXAMPLE.TEST, but the account is at 3"), "{why}");
    keytab_at(&file, 3);
    assert_eq!(behind(&k), None, "the new keytab is read at once");

    // A newer version than the account reports (`ktutil -k 7`, a DC not yet
    // replicated): the KDC does not compare versions, so the keytab works and is offered.
    let newer = dir.path().join("newer.keytab");
    keytab_at(&newer, 7);
    let k = bind(&newer, "newer");
    account_version_read(&k, 4);
    assert_eq!(behind(&k), None);
}

#[test]
fn a_key_the_kdc_refused_is_not_offered_again_until_the_file_changes() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("svc.keytab");
    keytab_at(&file, 2);
    let k = bind(&file, "refused");
    // The KDC unreachable is no refusal of the key.
    acquisition_failed(&k, (-1_765_328_228i32) as u32, "Cannot contact any KDC");
    assert_eq!(behind(&k), None);
    acquisition_failed(&k, CLIENT_REVOKED as u32, "Client's credentials have been revoked");
    assert_eq!(behind(&k), None, "a locked or disabled account says nothing of the key");
    acquisition_failed(&k, PREAUTH_FAILED as u32, "Preauthentication failed");
    let why = behind(&k).unwrap();
    assert!(why.contains("the KDC refused the key") && why.contains("Preauthentication failed"), "{why}");
    let mut longer = std::fs::read(&file).unwrap();
    longer.extend(record(&["svc"], "EXAMPLE.TEST", 3, None));
    std::fs::write(&file, longer).unwrap();
    assert_eq!(behind(&k), None, "a changed file is offered again");
}

/// What another process (`check`, the service before a restart) left in the store.
struct Shared(Mutex<Vec<Refusal>>);

impl RefusalStore for std::sync::Arc<Shared> {
    fn load(&self) -> Result<Vec<Refusal>, String> {
        self.0.lock().map(|v| v.clone()).map_err(|e| e.to_string())
    }
    fn update(&self, change: &mut dyn FnMut(&mut Vec<Refusal>)) -> Result<(), String> {
        change(&mut *self.0.lock().map_err(|e| e.to_string())?);
        Ok(())
    }
}

#[test]
fn a_refusal_another_process_kept_is_honoured_and_one_made_here_is_kept() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("svc.keytab");
    keytab_at(&file, 2);
    let shared = std::sync::Arc::new(Shared(Mutex::new(Vec::new())));
    keep_refusals_in(Box::new(shared.clone()));
    let (len, modified_ns) = file_state(file.to_str().unwrap()).unwrap();
    let earlier = Refusal {
        keytab: std::fs::canonicalize(&file).unwrap().display().to_string(),
        principal: "svc@EXAMPLE.TEST".into(),
        len,
        modified_ns,
        why: "the KDC refused the key of svc@EXAMPLE.TEST (Preauthentication failed)".into(),
        file_id: None,
    };
    shared.0.lock().unwrap().push(earlier);
    let k = bind(&file, "kept-elsewhere");
    let why = behind(&k).unwrap();
    assert!(why.contains("the KDC refused the key of svc@EXAMPLE.TEST"), "{why}");

    let other = dir.path().join("other.keytab");
    keytab_at(&other, 5);
    acquisition_failed(&bind(&other, "kept-here"), PREAUTH_FAILED as u32, "Preauthentication failed");
    let kept = shared.load().unwrap();
    assert_eq!(kept.len(), 2, "{kept:?}");
    assert!(kept.iter().any(|r| r.keytab.ends_with("other.keytab") && r.why.contains("Preauthentication")));

    // A version read that finds the keytab behind is kept too: `check` must not offer it.
    let third = dir.path().join("third.keytab");
    keytab_at(&third, 4);
    account_version_read(&bind(&third, "version-kept"), 5);
    let kept = shared.load().unwrap();
    let found = kept.iter().any(|r| r.keytab.ends_with("third.keytab") && r.why.contains("the account is at 5"));
    assert!(found, "{kept:?}");

    // The same file through a symbolic link is the same file.
    let link = dir.path().join("link.keytab");
    std::os::unix::fs::symlink(&other, &link).unwrap();
    assert!(behind(&bind(&link, "through-a-link")).is_some(), "offered again through another path");
    let hard = dir.path().join("hard.keytab");
    std::fs::hard_link(&other, &hard).unwrap();
    assert!(behind(&bind(&hard, "through-a-hard-link")).is_some(), "offered again through a hard link");
}
