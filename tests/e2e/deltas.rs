//! Delta imports on the real servers (issue 13, items 1–4 and 7–9): deletions where AD
//! keeps them, departures from the base, membership changes, OpenLDAP's watermark and
//! size limits. One test per item; each works on objects of its own (an OU below
//! `OU=Team #2` on Samba, an OU of its own or a private slapd on OpenLDAP) and asserts on
//! those only, since other tests write and delete concurrently.
//!
//! AD deltas run as a Domain Admin (`svc-connector`) unless a test says otherwise: a
//! delta must see tombstones, which AD shows only to administrators by default (item 1
//! is the test of an account that cannot).

use std::collections::HashMap;
use std::time::Duration;

use base64::Engine;
use serde_json::{json, Value};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

use crate::ad::admin_ldif;
use crate::ad_ops::{as_admin, online, TestOu};
use crate::harness::servers::{self, toml_escape, ServerEnv, StopOnDrop};
use crate::harness::{Connector, Sim};
use crate::ldap::import;

// === helpers ===

pub fn tag() -> u32 {
    std::process::id() % 100_000
}

/// `[directories.ad]` bound as the Domain Admin `svc-connector` with this `base_dn`.
pub fn admin_config(env: &ServerEnv, base_dn: &str, url: &str, extra: &str) -> String {
    format!(
        "[directories.ad]\nkind = \"active_directory\"\nurls = [\"{url}\"]\nbind_dn = \"{}\"\nbind_password = \"{}\"\nbase_dn = \"{}\"\nca_file = \"{}\"\n{extra}",
        env.get("AD_SERVICE_DN"),
        env.get("AD_SERVICE_PW"),
        toml_escape(base_dn),
        env.get("AD_CA"),
    )
}

pub async fn start(config: &str) -> (Sim, Connector) {
    let sim = Sim::start(true).await;
    let mut c = Connector::for_sim(&sim, "c1", config);
    online(&sim, &mut c).await;
    (sim, c)
}

fn add(env: &ServerEnv, dn: &str, lines: &str) {
    assert!(admin_ldif(env, &format!("dn: {dn}\nchangetype: add\n{lines}")), "cannot add {dn}");
}

fn add_ou(env: &ServerEnv, dn: &str) {
    add(env, dn, "objectClass: organizationalUnit\n");
}

/// A disabled user `CN={cn},{parent}` with sAMAccountName `sam`; its DN.
fn add_user(env: &ServerEnv, parent: &str, cn: &str, sam: &str) -> String {
    let dn = format!("CN={cn},{parent}");
    add(env, &dn, &format!("objectClass: user\nsAMAccountName: {sam}\nuserAccountControl: 514\n"));
    dn
}

pub fn delete(env: &ServerEnv, dn: &str) {
    let ok = as_admin(env, "ldapdelete").args(["-r", dn]).output().is_ok_and(|o| o.status.success());
    assert!(ok, "cannot delete {dn}");
}

pub fn modify(env: &ServerEnv, dn: &str, change: &str) {
    assert!(admin_ldif(env, &format!("dn: {dn}\nchangetype: modify\n{change}-\n")), "cannot modify {dn}");
}

/// objectGUID of an entry in its canonical string form (the record's `guid`).
pub fn guid(env: &ServerEnv, dn: &str) -> String {
    let out = as_admin(env, "ldapsearch")
        .args(["-LLL", "-o", "ldif-wrap=no", "-s", "base", "-b", dn, "objectGUID"])
        .output()
        .expect("ldapsearch");
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    let b64 = text.lines().find_map(|l| l.strip_prefix("objectGUID:: ")).unwrap_or_else(|| panic!("no GUID: {dn}"));
    let b = base64::engine::general_purpose::STANDARD.decode(b64.trim()).expect("base64");
    format!(
        "{:02x}{:02x}{:02x}{:02x}-{:02x}{:02x}-{:02x}{:02x}-{:02x}{:02x}-{:02x}{:02x}{:02x}{:02x}{:02x}{:02x}",
        b[3], b[2], b[1], b[0], b[5], b[4], b[7], b[6], b[8], b[9], b[10], b[11], b[12], b[13], b[14], b[15]
    )
}

/// Runs an import that must succeed; its result and records.
pub async fn import_ok(sim: &Sim, payload: Value) -> (Value, Vec<Value>) {
    let (view, records) = import(sim, "ad", payload).await;
    assert_eq!(view["result"]["status"], "succeeded", "{}", view["result"]);
    (view["result"]["result"].clone(), records)
}

pub fn token(result: &Value) -> String {
    result["delta_token"].as_str().expect("a delta token").to_owned()
}

/// The records of these GUIDs, by GUID; fails on one delivered twice.
pub fn by_guid<'a>(records: &'a [Value], guids: &[&String]) -> HashMap<String, &'a Value> {
    let mut out = HashMap::new();
    for r in records {
        let g = r["guid"].as_str().unwrap_or_default().to_owned();
        if guids.iter().any(|x| **x == g) {
            assert!(out.insert(g, r).is_none(), "delivered twice: {r}");
        }
    }
    out
}

// === items 1, 3, 4: deletions ===

/// Item 1: an ordinary account (the delegated one, as customers run it) cannot see
/// tombstones; Samba answers its show-deleted search with success and nothing. The delta
/// fails with `insufficient_access` naming the right to grant (so the portal keeps its
/// token and loses no deletion), and `check` warns.
#[tokio::test]
async fn item1_an_account_that_cannot_see_deletions_fails_the_delta_and_check_warns() {
    let env = servers::samba();
    let ou = TestOu::new(&env, "dl1");
    let victim = add_user(&env, &ou.dn, "Deleted One", &format!("dl1v{}", tag()));
    let (sim, c) = start(&servers::samba_delegated_directory("ad", &env)).await;
    let (first, _) = import_ok(&sim, json!({"base_dn": ou.dn})).await;
    delete(&env, &victim);
    let (view, records) =
        import(&sim, "ad", json!({"base_dn": ou.dn, "mode": "delta", "delta_token": token(&first)})).await;
    let r = &view["result"];
    assert_eq!(r["status"], "failed", "a delta that cannot see deletions succeeded: {r}");
    assert_eq!(r["error"]["code"], "insufficient_access", "{r}");
    let message = r["error"]["message"].as_str().unwrap_or_default();
    assert!(message.contains("Deleted Objects") && message.contains("List Contents"), "{message}");
    assert!(records.is_empty(), "records sent before the failure: {records:?}");
    let out = c.cli(&["check"]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.lines().any(|l| l.starts_with("WARN directory.ad.deleted_objects") && l.contains("List Contents")),
        "no check warning:\n{text}"
    );
}

/// Items 1 and 3: with the directory's `base_dn` an OU and the job's base an OU below it,
/// exactly the users deleted under the job's base arrive, as `"reason": "deleted"`: also
/// one whose parent OU was deleted after it; not a user deleted in a sibling OU, nor a
/// deleted computer; and `deleted` counts exactly those.
#[tokio::test]
async fn item1_3_exactly_the_users_deleted_under_the_base_arrive() {
    let env = servers::samba();
    let ou = TestOu::new(&env, "dl3");
    let (inside, outside, sub) =
        (format!("OU=In,{}", ou.dn), format!("OU=Out,{}", ou.dn), format!("OU=Sub,OU=In,{}", ou.dn));
    for dn in [&inside, &outside, &sub] {
        add_ou(&env, dn);
    }
    let t = tag();
    let gone = add_user(&env, &inside, "Gone In", &format!("dl3a{t}"));
    let kept = add_user(&env, &inside, "Kept In", &format!("dl3b{t}"));
    let in_sub = add_user(&env, &sub, "Gone With Sub", &format!("dl3c{t}"));
    let elsewhere = add_user(&env, &outside, "Gone Elsewhere", &format!("dl3d{t}"));
    let computer = format!("CN=DL3PC{t},{inside}");
    add(&env, &computer, &format!("objectClass: computer\nsAMAccountName: DL3PC{t}$\nuserAccountControl: 4096\n"));
    let guids: Vec<String> = [&gone, &kept, &in_sub, &elsewhere, &computer].iter().map(|d| guid(&env, d)).collect();
    let (sim, _c) = start(&admin_config(&env, &ou.dn, env.get("AD_LDAPS_URL"), "")).await;
    let (first, _) = import_ok(&sim, json!({"base_dn": inside})).await;
    for dn in [&gone, &elsewhere, &computer, &sub] {
        delete(&env, dn);
    }
    let (result, records) =
        import_ok(&sim, json!({"base_dn": inside, "mode": "delta", "delta_token": token(&first)})).await;
    let got = by_guid(&records, &guids.iter().collect::<Vec<_>>());
    for (i, what) in [(0, "the user deleted in the base"), (2, "the user deleted with its OU")] {
        let r = got.get(&guids[i]).unwrap_or_else(|| panic!("{what} did not arrive: {records:?}"));
        assert_eq!((r["deleted"].as_bool(), r["reason"].as_str()), (Some(true), Some("deleted")), "{what}: {r}");
        assert!(r.get("attributes").is_none(), "{r}");
    }
    for (i, what) in [(1, "the user still there"), (3, "the user deleted in another OU"), (4, "the deleted computer")] {
        assert!(!got.contains_key(&guids[i]), "{what} arrived as a change or deletion: {records:?}");
    }
    let deletions = records.iter().filter(|r| r["deleted"] == true).count();
    assert_eq!(result["deleted"], deletions, "{result}");
    assert_eq!(deletions, 2, "only this test writes under its OU: {records:?}");
    // A new host with the portal's token has no record of who was in scope, so it cannot
    // tell a user that moved out and was then deleted from one never in scope: it sends
    // every deleted user since the token (more, never fewer), still no computer.
    let (sim2, _c2) = start(&admin_config(&env, &ou.dn, env.get("AD_LDAPS_URL"), "")).await;
    let (_, records) =
        import_ok(&sim2, json!({"base_dn": inside, "mode": "delta", "delta_token": token(&first)})).await;
    let got = by_guid(&records, &guids.iter().collect::<Vec<_>>());
    for i in [0, 2, 3] {
        assert_eq!(got.get(&guids[i]).map(|r| r["reason"].clone()), Some(json!("deleted")), "{i}: {records:?}");
    }
    assert!(!got.contains_key(&guids[4]), "a computer: {records:?}");
}

/// A TCP proxy in front of Samba's plain LDAP port that answers as a DC whose
/// MaxPageSize is `cap`: past `cap` entries for one unpaged request it sends no more and
/// ends the search with sizeLimitExceeded (4), as Windows does. A request with the paged
/// results control (RFC 2696) passes: Windows answers it a page at a time.
struct PageCapProxy {
    port: u16,
}

impl PageCapProxy {
    async fn start(upstream: String, cap: usize) -> PageCapProxy {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("proxy listen");
        let port = listener.local_addr().expect("addr").port();
        tokio::spawn(async move {
            while let Ok((client, _)) = listener.accept().await {
                let Ok(server) = TcpStream::connect(&upstream).await else { continue };
                tokio::spawn(Self::connection(client, server, cap));
            }
        });
        PageCapProxy { port }
    }

    async fn connection(client: TcpStream, server: TcpStream, cap: usize) {
        let (mut cr, mut cw) = client.into_split();
        let (mut sr, mut sw) = server.into_split();
        // Message ids of paged requests, seen on their way to the DC.
        let paged: std::sync::Arc<std::sync::Mutex<std::collections::HashSet<Vec<u8>>>> = Default::default();
        let seen = paged.clone();
        let up = tokio::spawn(async move {
            let (mut pending, mut buf) = (Vec::<u8>::new(), [0u8; 16384]);
            loop {
                let n = match cr.read(&mut buf).await {
                    Ok(0) | Err(_) => break,
                    Ok(n) => n,
                };
                pending.extend_from_slice(&buf[..n]);
                while let Some((len, id, _)) = crate::harness::ber::message(&pending) {
                    if contains_bytes(&pending[..len], PAGED_RESULTS_OID) {
                        seen.lock().expect("paged ids").insert(id);
                    }
                    pending.drain(..len);
                }
                if sw.write_all(&buf[..n]).await.is_err() {
                    break;
                }
            }
        });
        let (mut pending, mut buf) = (Vec::<u8>::new(), [0u8; 16384]);
        let mut counts: HashMap<Vec<u8>, usize> = HashMap::new();
        loop {
            let n = match sr.read(&mut buf).await {
                Ok(0) | Err(_) => break,
                Ok(n) => n,
            };
            pending.extend_from_slice(&buf[..n]);
            let mut out = Vec::new();
            while let Some((len, id, op)) = crate::harness::ber::message(&pending) {
                if paged.lock().expect("paged ids").contains(&id) {
                    out.extend_from_slice(&pending[..len]);
                    pending.drain(..len);
                    continue;
                }
                let count = counts.entry(id.clone()).or_default();
                match op {
                    0x64 => {
                        *count += 1;
                        if *count <= cap {
                            out.extend_from_slice(&pending[..len]);
                        }
                    }
                    0x65 if *count > cap => out.extend(size_limit_done(&id)),
                    _ => out.extend_from_slice(&pending[..len]),
                }
                pending.drain(..len);
            }
            if cw.write_all(&out).await.is_err() {
                break;
            }
        }
        up.abort();
    }
}

/// The paged results control's OID as it stands in a request.
const PAGED_RESULTS_OID: &[u8] = b"1.2.840.113556.1.4.319";

fn contains_bytes(hay: &[u8], needle: &[u8]) -> bool {
    hay.windows(needle.len()).any(|w| w == needle)
}

/// A SearchResultDone with result code 4 for message `id` (its INTEGER content bytes).
fn size_limit_done(id: &[u8]) -> Vec<u8> {
    let text = b"Size limit exceeded";
    let mut done = vec![0x0a, 0x01, 0x04, 0x04, 0x00, 0x04, text.len() as u8];
    done.extend_from_slice(text);
    let mut op = vec![0x65, done.len() as u8];
    op.extend(done);
    let mut body = vec![0x02, id.len() as u8];
    body.extend_from_slice(id);
    body.extend(op);
    let mut msg = vec![0x30, body.len() as u8];
    msg.extend(body);
    msg
}

/// Item 4: more deletions than the DC returns to one search (its MaxPageSize, here 20
/// through a proxy that answers as such a DC) all arrive: the deleted-objects search is
/// paged like the main one.
#[tokio::test]
async fn item4_more_deletions_than_a_dc_page_all_arrive() {
    let env = servers::samba();
    let ou = TestOu::new(&env, "dl4");
    let t = tag();
    let users: Vec<String> =
        (0..30).map(|i| add_user(&env, &ou.dn, &format!("Paged {i}"), &format!("dl4{i}x{t}"))).collect();
    let guids: Vec<String> = users.iter().map(|d| guid(&env, d)).collect();
    let proxy = PageCapProxy::start(env.get("AD_URL").trim_start_matches("ldap://").to_owned(), 20).await;
    let url = format!("ldap://127.0.0.1:{}", proxy.port);
    let (sim, _c) = start(&admin_config(&env, env.get("AD_TEAM_OU_DN"), &url, "starttls = false\n")).await;
    let (first, _) = import_ok(&sim, json!({"base_dn": ou.dn, "page_size": 10})).await;
    for dn in &users {
        delete(&env, dn);
    }
    let (result, records) =
        import_ok(&sim, json!({"base_dn": ou.dn, "page_size": 10, "mode": "delta", "delta_token": token(&first)}))
            .await;
    let got = by_guid(&records, &guids.iter().collect::<Vec<_>>());
    assert_eq!(got.len(), 30, "deletions missing: {} of 30 arrived", got.len());
    assert!(got.values().all(|r| r["reason"] == "deleted"), "{records:?}");
    assert_eq!(result["deleted"], 30, "{result}");
}

// === item 7: membership changes ===

fn member_of(r: &Value) -> Vec<String> {
    r["attributes"]["memberOf"]
        .as_array()
        .map(|a| a.iter().filter_map(|v| v.as_str().map(str::to_owned)).collect())
        .unwrap_or_default()
}

/// Item 7: on Samba a membership change moves the group's uSNChanged, not the member's.
/// The members a group gained or lost since the token are sent again whole with their
/// current `memberOf` (the group outside the job's base, as groups often are); its other
/// members are not; the members of a deleted group are sent again too; and the next
/// delta compares with the memberships as they were then.
#[tokio::test]
async fn item7_members_gained_or_lost_are_sent_again_with_their_member_of() {
    let env = servers::samba();
    let ou = TestOu::new(&env, "dl7");
    let (people, groups) = (format!("OU=People,{}", ou.dn), format!("OU=Groups,{}", ou.dn));
    add_ou(&env, &people);
    add_ou(&env, &groups);
    let t = tag();
    let [joins, leaves, stays, other] = ["Joins", "Leaves", "Stays", "Other"]
        .map(|n| add_user(&env, &people, &format!("Member {n}"), &format!("dl7{}{t}", &n[..2])));
    let group = format!("CN=Group Seven,{groups}");
    let members: String = [&leaves, &stays].iter().map(|m| format!("member: {m}\n")).collect();
    add(&env, &group, &format!("objectClass: group\nsAMAccountName: dl7g{t}\n{members}"));
    let orphan = add_user(&env, &people, "Member Orphan", &format!("dl7Or{t}"));
    let doomed = format!("CN=Group Doomed,{groups}");
    add(&env, &doomed, &format!("objectClass: group\nsAMAccountName: dl7d{t}\nmember: {orphan}\n"));
    let ids: Vec<String> = [&joins, &leaves, &stays, &other, &orphan].iter().map(|d| guid(&env, d)).collect();
    let (sim, _c) = start(&admin_config(&env, &ou.dn, env.get("AD_LDAPS_URL"), "")).await;
    let job = |extra: Value| {
        let mut p = json!({"base_dn": people, "attributes": ["sAMAccountName", "memberOf"]});
        p.as_object_mut().unwrap().extend(extra.as_object().unwrap().clone());
        p
    };
    let (first, _) = import_ok(&sim, job(json!({}))).await;
    modify(&env, &group, &format!("add: member\nmember: {joins}\n-\ndelete: member\nmember: {leaves}\n"));
    delete(&env, &doomed);
    let (second, records) = import_ok(&sim, job(json!({"mode": "delta", "delta_token": token(&first)}))).await;
    let got = by_guid(&records, &ids.iter().collect::<Vec<_>>());
    let joined = got.get(&ids[0]).unwrap_or_else(|| panic!("the member who joined was not sent again: {records:?}"));
    assert!(member_of(joined).iter().any(|g| g.contains("Group Seven")), "{joined}");
    let left = got.get(&ids[1]).unwrap_or_else(|| panic!("the member who left was not sent again: {records:?}"));
    assert_eq!(left["deleted"], false, "{left}");
    assert!(!member_of(left).iter().any(|g| g.contains("Group Seven")), "{left}");
    assert!(!got.contains_key(&ids[2]), "an unchanged member of the group was sent again: {records:?}");
    assert!(!got.contains_key(&ids[3]), "a user outside the group was sent: {records:?}");
    let orphaned =
        got.get(&ids[4]).unwrap_or_else(|| panic!("the member of a deleted group was not sent again: {records:?}"));
    assert!(!member_of(orphaned).iter().any(|g| g.contains("Group Doomed")), "{orphaned}");
    // The next delta compares with the memberships after this one.
    modify(&env, &group, &format!("delete: member\nmember: {joins}\n"));
    let (_, records) = import_ok(&sim, job(json!({"mode": "delta", "delta_token": token(&second)}))).await;
    let got = by_guid(&records, &ids.iter().collect::<Vec<_>>());
    let rejoined = got.get(&ids[0]).unwrap_or_else(|| panic!("the member who left in turn was not sent: {records:?}"));
    assert!(!member_of(rejoined).iter().any(|g| g.contains("Group Seven")), "{rejoined}");
    assert_eq!(got.len(), 1, "only the member who changed: {records:?}");
}

// === item 2: departures ===

/// Item 2: a user moved out of the job's base since the token arrives as
/// `{"dn", "guid", "deleted": true, "reason": "moved_out"}`; a user changed outside the
/// base that never was in it does not. A new host with the old token (no record of who
/// was in scope) reports the departure too, conservatively.
#[tokio::test]
async fn item2_a_user_moved_out_of_the_base_arrives_as_moved_out() {
    let env = servers::samba();
    let ou = TestOu::new(&env, "dl2");
    let (inside, outside) = (format!("OU=In,{}", ou.dn), format!("OU=Out,{}", ou.dn));
    add_ou(&env, &inside);
    add_ou(&env, &outside);
    let t = tag();
    let mover = add_user(&env, &inside, "Mover", &format!("dl2m{t}"));
    let stayer = add_user(&env, &inside, "Stayer", &format!("dl2s{t}"));
    let outsider = add_user(&env, &outside, "Outsider", &format!("dl2o{t}"));
    let ids: Vec<String> = [&mover, &stayer, &outsider].iter().map(|d| guid(&env, d)).collect();
    let config = admin_config(&env, &ou.dn, env.get("AD_LDAPS_URL"), "");
    let (sim, _c) = start(&config).await;
    let (first, _) = import_ok(&sim, json!({"base_dn": inside})).await;
    let moved = format!("CN=Mover,{outside}");
    assert!(admin_ldif(
        &env,
        &format!("dn: {mover}\nchangetype: modrdn\nnewrdn: CN=Mover\ndeleteoldrdn: 1\nnewsuperior: {outside}\n")
    ));
    modify(&env, &outsider, "replace: description\ndescription: changed outside\n");
    let delta = json!({"base_dn": inside, "mode": "delta", "delta_token": token(&first)});
    let (result, records) = import_ok(&sim, delta.clone()).await;
    let got = by_guid(&records, &ids.iter().collect::<Vec<_>>());
    let r = got.get(&ids[0]).unwrap_or_else(|| panic!("the user who moved out did not arrive: {records:?}"));
    assert_eq!((r["deleted"].as_bool(), r["reason"].as_str()), (Some(true), Some("moved_out")), "{r}");
    assert!(crate::ad_ops::same_dn(r["dn"].as_str().unwrap_or_default(), &moved), "{r}");
    assert!(r.get("attributes").is_none(), "{r}");
    assert!(!got.contains_key(&ids[1]), "{records:?}");
    assert!(!got.contains_key(&ids[2]), "a user who never was in the base left it: {records:?}");
    assert_eq!(result["deleted"], records.iter().filter(|r| r["deleted"] == true).count(), "{result}");
    // A new host, the portal's old token: it cannot know who was in scope, so it reports
    // every user of the class that changed outside the base since.
    let (sim2, _c2) = start(&config).await;
    let (_, records) = import_ok(&sim2, delta).await;
    let got = by_guid(&records, &ids.iter().collect::<Vec<_>>());
    let r = got.get(&ids[0]).unwrap_or_else(|| panic!("a new host missed the departure: {records:?}"));
    assert_eq!(r["reason"], "moved_out", "{r}");
}

// === items 8, 9: OpenLDAP ===

/// An LDIF change run as the slapd's administrator, with the Relax Rules control (so a
/// change may carry `modifyTimestamp`, as replication does).
fn slapd_ldif(env: &ServerEnv, ldif: &str) {
    servers::slapd_modify(env, ldif, &["-e", "relax"]);
}

/// GeneralizedTime `ago` before now (what a directory whose clock is that far behind writes).
fn behind(ago: Duration) -> String {
    let t = std::time::SystemTime::now() - ago;
    let s = humantime::format_rfc3339_seconds(t).to_string();
    s.chars().filter(|c| c.is_ascii_digit()).collect::<String>() + "Z"
}

/// Removes an OpenLDAP subtree however the test ends.
struct SlapdTree(ServerEnv, String);

impl Drop for SlapdTree {
    fn drop(&mut self) {
        let _ = std::process::Command::new("ldapdelete")
            .args([
                "-x",
                "-r",
                "-H",
                self.0.get("SLAPD_URL"),
                "-D",
                self.0.get("SLAPD_ADMIN_DN"),
                "-w",
                self.0.get("SLAPD_ADMIN_PW"),
                &self.1,
            ])
            .output();
    }
}

/// Item 8: a directory whose clock is two hours behind the connector's (its entries'
/// `modifyTimestamp` say so): a change made after the import, by the directory's clock,
/// is in the next delta, and the token follows the directory's time, not ours.
#[tokio::test]
async fn item8_an_openldap_delta_follows_the_directorys_clock() {
    let env = servers::slapd();
    let ou = format!("ou=ic-dl8-{},{}", std::process::id(), env.get("SLAPD_BASE_DN"));
    let _tree = SlapdTree(env.clone(), ou.clone());
    let then = behind(Duration::from_secs(7200));
    let stamp = |ts: &str| format!("createTimestamp: {ts}\nmodifyTimestamp: {ts}\n");
    let mut ldif = format!("dn: {ou}\nchangetype: add\nobjectClass: organizationalUnit\n{}\n", stamp(&then));
    for uid in ["dl8a", "dl8b"] {
        ldif.push_str(&format!(
            "dn: uid={uid},{ou}\nchangetype: add\nobjectClass: inetOrgPerson\nuid: {uid}\ncn: {uid}\nsn: {uid}\n{}\n",
            stamp(&then)
        ));
    }
    slapd_ldif(&env, &ldif);
    let sim = Sim::start(false).await;
    let mut c = Connector::for_sim(&sim, "c1", &servers::slapd_directory("corp", &env, false));
    online(&sim, &mut c).await;
    let (view, records) = import(&sim, "corp", json!({"base_dn": ou})).await;
    assert_eq!(view["result"]["status"], "succeeded", "{}", view["result"]);
    assert_eq!(records.len(), 2, "{records:?}");
    let first = token(&view["result"]["result"]);
    // One minute later by the directory's clock.
    let later = behind(Duration::from_secs(7140));
    slapd_ldif(&env, &format!("dn: uid=dl8a,{ou}\nchangetype: modify\nreplace: description\ndescription: changed\n-\nreplace: modifyTimestamp\nmodifyTimestamp: {later}\n-\n"));
    let (view, records) = import(&sim, "corp", json!({"base_dn": ou, "mode": "delta", "delta_token": first})).await;
    assert_eq!(view["result"]["status"], "succeeded", "{}", view["result"]);
    let changed = records.iter().find(|r| r["attributes"]["uid"][0] == "dl8a");
    let changed = changed.unwrap_or_else(|| panic!("the change made after the import is missing: {records:?}"));
    assert_eq!(changed["attributes"]["description"][0], "changed");
    assert!(changed["attributes"].get("modifyTimestamp").is_none(), "not asked for: {changed}");
    let ts = first.strip_prefix("ldap-ts:").expect("an ldap-ts token").to_owned();
    assert!(ts <= then, "the token {first} is later than the directory's time {then}: it came from our clock");
}

/// Item 9: a slapd whose `olcSizeLimit` has no `size.prtotal` (and no `olcLimits` for the
/// service account) cuts a paged import at the limit: the import fails with
/// `insufficient_access` naming the limit and what to set, not `internal`; `check` warns.
#[tokio::test]
async fn item9_a_size_limited_paged_search_fails_clearly_and_check_warns() {
    let dir = tempfile::tempdir().unwrap();
    let slapd = dir.path().join("slapd");
    let env = servers::start_private_slapd(&slapd, 300);
    let _stop = StopOnDrop(slapd.clone());
    slapd_ldif(
        &env,
        "dn: olcDatabase={1}mdb,cn=config\nchangetype: modify\nreplace: olcSizeLimit\nolcSizeLimit: 50\n-\ndelete: olcLimits\n-\n\ndn: olcDatabase={-1}frontend,cn=config\nchangetype: modify\nreplace: olcSizeLimit\nolcSizeLimit: 50\n-\n",
    );
    servers::slapd_ctl("stop", &slapd);
    servers::start_private_slapd(&slapd, 300);
    let sim = Sim::start(false).await;
    let mut c = Connector::for_sim(&sim, "c1", &servers::slapd_directory("corp", &env, false));
    online(&sim, &mut c).await;
    let (view, _) = import(&sim, "corp", json!({"page_size": 20, "batch_size": 20})).await;
    let r = &view["result"];
    assert_eq!(r["status"], "failed", "{r}");
    assert_eq!(r["error"]["code"], "insufficient_access", "{r}");
    let message = r["error"]["message"].as_str().unwrap_or_default();
    assert!(message.contains("size limit") && message.contains("olcLimits"), "{message}");
    assert_eq!(r["error"]["details"]["ldap_result_code"], 4, "{r}");
    let out = c.cli(&["check"]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.lines().any(|l| l.starts_with("WARN directory.corp.size_limit") && l.contains("after 50 entries")),
        "no check warning:\n{text}"
    );
}

// === found by review ===

/// A filter on an attribute imports never export would reveal its value one guess at a
/// time (`(unixUserPassword=Un*)` matching or not): refused, in every spelling, before
/// any search; an import of `object: groups` is answered with groups only, an unknown
/// `object` refused; a delta token this connector never gave is refused, and a delta that
/// could not run as one says `"mode": "full"`.
#[tokio::test]
async fn review_filters_on_secrets_unknown_objects_and_unusable_tokens_are_refused() {
    let env = servers::samba();
    let ou = TestOu::new(&env, "rvfilter");
    let t = tag();
    add(
        &env,
        &format!("CN=Filter Secret,{}", ou.dn),
        &format!("objectClass: user\nsAMAccountName: icfs{t}\nunixUserPassword: UnixSecret-{t}\n"),
    );
    let (sim, _c) = start(&admin_config(&env, env.get("AD_BASE_DN"), env.get("AD_LDAPS_URL"), "")).await;
    for filter in [
        format!("(&(sAMAccountName=icfs{t})(unixUserPassword=UnixSe*))"),
        format!("(&(sAMAccountName=icfs{t})(userPassword=x*))"),
        format!("(&(sAMAccountName=icfs{t})(1.2.840.113556.1.4.1910=U*))"),
        "(msFVE-RecoveryPassword=1*)".to_owned(),
    ] {
        let (view, records) =
            import(&sim, "ad", json!({"base_dn": ou.dn, "filter": filter, "attributes": ["1.1"]})).await;
        assert_eq!(view["result"]["error"]["code"], "forbidden_by_policy", "{filter}: {}", view["result"]);
        assert!(records.is_empty(), "{filter}: {records:?}");
    }
    // The OU holds a user and no group: a group import answers with no user.
    let (view, records) = import(&sim, "ad", json!({"base_dn": ou.dn, "object": "groups"})).await;
    assert_eq!((view["result"]["status"].as_str(), records.len()), (Some("succeeded"), 0), "{records:?}");
    let (view, _) = import(&sim, "ad", json!({"base_dn": ou.dn, "object": "computers"})).await;
    assert_eq!(view["result"]["error"]["code"], "invalid_job", "{}", view["result"]);
    for bad in ["garbage", "ad-usn:x:notanumber", "ldap-ts:20200101000000Z"] {
        let (view, _) = import(&sim, "ad", json!({"base_dn": ou.dn, "mode": "delta", "delta_token": bad})).await;
        assert_eq!(view["result"]["error"]["code"], "invalid_job", "{bad}: {}", view["result"]);
    }
    let (full, _) = import_ok(&sim, json!({"base_dn": ou.dn})).await;
    assert_eq!(full["mode"], "full", "{full}");
    let other_dc = "ad-usn:00000000-0000-0000-0000-000000000000:1";
    let (result, _) = import_ok(&sim, json!({"base_dn": ou.dn, "mode": "delta", "delta_token": other_dc})).await;
    assert_eq!(result["mode"], "full", "a token of another DC ran a full import and must say so: {result}");
    let (result, _) = import_ok(&sim, json!({"base_dn": ou.dn, "mode": "delta", "delta_token": token(&full)})).await;
    assert_eq!(result["mode"], "delta", "{result}");
}

/// A user still under the base that stops matching the job's filter (the common
/// "enabled users only" filter, and a user disabled since the token) left the import's
/// scope: it arrives as `moved_out`, as a user moved out of the base does.
#[tokio::test]
async fn review_a_user_who_stops_matching_the_filter_leaves_the_scope() {
    let env = servers::samba();
    let ou = TestOu::new(&env, "rvunmatch");
    let t = tag();
    let dn = format!("CN=Unmatched,{}", ou.dn);
    add(&env, &dn, &format!("objectClass: user\nsAMAccountName: icum{t}\nuserAccountControl: 544\n"));
    let id = guid(&env, &dn);
    let (sim, _c) = start(&admin_config(&env, env.get("AD_BASE_DN"), env.get("AD_LDAPS_URL"), "")).await;
    let enabled = "(&(objectCategory=person)(objectClass=user)(!(userAccountControl:1.2.840.113556.1.4.803:=2)))";
    let (first, records) = import_ok(&sim, json!({"base_dn": ou.dn, "filter": enabled})).await;
    assert!(records.iter().any(|r| r["guid"] == id.as_str()), "{records:?}");
    modify(&env, &dn, "replace: userAccountControl\nuserAccountControl: 546\n");
    let (_, records) =
        import_ok(&sim, json!({"base_dn": ou.dn, "filter": enabled, "mode": "delta", "delta_token": token(&first)}))
            .await;
    let r = records.iter().find(|r| r["guid"] == id.as_str()).unwrap_or_else(|| panic!("not sent: {records:?}"));
    assert_eq!((r["deleted"].as_bool(), r["reason"].as_str()), (Some(true), Some("moved_out")), "{r}");
}
