//! LDAP jobs against the real Samba AD domain controller of this test run: every AD
//! login reason (data codes 52e, 533, 701, 773, 775), an import checked against the
//! generator's manifest (GUIDs, SIDs, `enabled`, binary photos, ranged members), and a
//! delta import that reports changed and deleted users.

use std::collections::HashMap;
use std::io::Write;
use std::process::{Command, Stdio};
use std::time::Duration;

use serde_json::{json, Value};

use crate::harness::servers::{self, ServerEnv};
use crate::harness::{Connector, Sim};
use crate::ldap::{import, login};

const LIMIT: Duration = Duration::from_secs(60);

/// Logins and imports need no more than an ordinary domain user (`svc-readonly`).
async fn setup(env: &ServerEnv) -> (Sim, Connector) {
    setup_with(&servers::samba_reader_directory("ad", env)).await
}

async fn setup_with(config: &str) -> (Sim, Connector) {
    let sim = Sim::start(true).await;
    let c = Connector::for_sim(&sim, "c1", config);
    sim.wait_online(LIMIT).await;
    (sim, c)
}

/// Runs an LDIF change as the domain administrator over LDAPS.
pub fn admin_ldif(env: &ServerEnv, ldif: &str) -> bool {
    let mut child = Command::new("ldapmodify")
        .args(["-x", "-H", env.get("AD_LDAPS_URL"), "-D", env.get("AD_ADMIN_DN"), "-w", env.get("AD_ADMIN_PW")])
        .env("LDAPTLS_CACERT", env.get("AD_CA"))
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("ldapmodify");
    child.stdin.take().expect("stdin").write_all(ldif.as_bytes()).expect("write ldif");
    child.wait().expect("ldapmodify").success()
}

fn fixture_dn(env: &ServerEnv, sam: &str) -> String {
    format!("CN={sam},{}", env.get("AD_FIXTURES_DN"))
}

#[tokio::test]
async fn every_login_reason_against_samba_ad() {
    let env = servers::samba();
    let (sim, _c) = setup(&env).await;
    let pw = env.get("AD_FIXTURE_PW");
    let ok = login(&sim, "ad", env.get("AD_USER_OK"), pw).await;
    assert_eq!(ok["authenticated"], true, "{ok}");
    assert!(ok["user"]["guid"].as_str().is_some_and(|g| g.len() == 36), "{ok}");
    assert_eq!(ok["user"]["attributes"]["sAMAccountName"][0], env.get("AD_USER_OK"));
    let upn = format!("{}@{}", env.get("AD_USER_OK"), env.get("AD_UPN_SUFFIX"));
    assert_eq!(login(&sim, "ad", &upn, pw).await["authenticated"], true, "login by userPrincipalName");
    let cases = [
        (env.get("AD_USER_OK"), "wrong-password", "invalid_credentials"),
        ("no-such-user", pw, "user_not_found"),
        (env.get("AD_USER_DISABLED"), pw, "account_disabled"),
        (env.get("AD_USER_MUST_CHANGE"), pw, "password_must_change"),
        (env.get("AD_USER_EXPIRED"), pw, "account_expired"),
    ];
    for (user, password, reason) in cases {
        let r = login(&sim, "ad", user, password).await;
        assert_eq!((r["authenticated"].as_bool(), r["reason"].as_str()), (Some(false), Some(reason)), "{user}: {r}");
    }
    let victim = env.get("AD_USER_LOCKOUT");
    let unlock =
        format!("dn: {}\nchangetype: modify\nreplace: lockoutTime\nlockoutTime: 0\n", fixture_dn(&env, victim));
    assert!(admin_ldif(&env, &unlock));
    for _ in 0..3 {
        login(&sim, "ad", victim, "not-the-password").await;
    }
    let r = login(&sim, "ad", victim, pw).await;
    assert_eq!(r["reason"], "account_locked", "{r}");
    assert!(admin_ldif(&env, &unlock));
    assert_eq!(login(&sim, "ad", victim, pw).await["authenticated"], true);
}

fn samba_manifest(env: &ServerEnv) -> Vec<Value> {
    std::fs::read_to_string(env.get("AD_MANIFEST"))
        .expect("samba manifest")
        .lines()
        .filter_map(|l| serde_json::from_str(l).ok())
        .collect()
}

#[tokio::test]
async fn an_ad_import_matches_the_manifest_with_guids_sids_and_enabled() {
    let env = servers::samba();
    let (sim, _c) = setup(&env).await;
    let (view, records) = import(&sim, "ad", json!({"base_dn": env.get("AD_STAFF_DN"), "page_size": 300})).await;
    assert_eq!(view["result"]["status"], "succeeded", "{}", view["result"]);
    let users: u64 = env.get("AD_USERS").parse().unwrap();
    let mut by_sam: HashMap<String, &Value> = HashMap::new();
    for r in &records {
        let sam = r["attributes"]["sAMAccountName"][0].as_str().unwrap_or_default().to_owned();
        assert!(by_sam.insert(sam, r).is_none(), "delivered twice: {}", r["dn"]);
        assert!(r["guid"].as_str().is_some_and(|g| g.len() == 36));
        assert!(r["attributes"]["objectSid"][0].as_str().is_some_and(|s| s.starts_with("S-1-5-21-")));
        assert!(r["enabled"].is_boolean());
        assert!(r["attributes"].get("unicodePwd").is_none());
    }
    assert_eq!(records.len() as u64, users, "OU=Staff holds exactly {users} users");
    let mut compared = 0;
    for m in samba_manifest(&env).iter().filter(|m| m["sAMAccountName"].is_string()) {
        let Some(r) = by_sam.get(m["sAMAccountName"].as_str().unwrap()) else { continue };
        let attrs = m["attrs"].as_object().expect("a manifest line has `attrs`");
        assert!(!attrs.is_empty(), "{m}");
        for (attr, values) in attrs {
            if ["manager", "member", "unicodePwd"].contains(&attr.as_str()) {
                continue;
            }
            let mut want: Vec<String> =
                values.as_array().unwrap().iter().map(|v| v.as_str().unwrap_or_default().to_owned()).collect();
            let mut got: Vec<String> = r["attributes"][attr]
                .as_array()
                .map(|a| a.iter().map(|v| v.as_str().unwrap_or_default().to_owned()).collect())
                .unwrap_or_default();
            if attr == "userAccountControl" {
                let uac: u32 = want[0].parse().unwrap();
                assert_eq!(r["enabled"], uac & 2 == 0, "{}: enabled", r["dn"]);
            }
            want.sort();
            got.sort();
            assert_eq!(want, got, "{}: {attr}", r["dn"]);
        }
        compared += 1;
    }
    assert!(compared as u64 >= users, "compared only {compared} entries with the manifest");
    assert!(records.iter().any(|r| r["binary_attributes"]["thumbnailPhoto"][0].is_string()), "no photo delivered");
    assert_eq!(sim.violations().await, 0);
}

#[tokio::test]
async fn ranged_member_values_are_followed_to_the_end() {
    let env = servers::samba();
    let (sim, _c) = setup(&env).await;
    let group = env.get("AD_BIG_GROUP_DN");
    let cn = group.split(',').next().unwrap().trim_start_matches("CN=");
    let payload =
        json!({"filter": format!("(&(objectClass=group)(cn={cn}))"), "attributes": ["cn", "member;range=0-499"]});
    let (view, records) = import(&sim, "ad", payload).await;
    assert_eq!(view["result"]["status"], "succeeded", "{}", view["result"]);
    assert_eq!(records.len(), 1);
    let members = records[0]["attributes"]["member"].as_array().expect("member merged from ranges");
    let want: usize = env.get("AD_BIG_GROUP_MEMBERS").parse().unwrap();
    assert_eq!(members.len(), want, "ranged retrieval stopped early");
    let unique: std::collections::HashSet<_> = members.iter().collect();
    assert_eq!(unique.len(), want);
}

#[tokio::test]
async fn a_delta_import_reports_changed_and_deleted_users() {
    let env = servers::samba();
    // A Domain Admin: deletions are seen in CN=Deleted Objects, which AD shows only to
    // administrators (an ordinary account's show-deleted search there answers nothing).
    let (sim, _c) = setup_with(&servers::samba_directory("ad", &env)).await;
    let ou = env.get("AD_STAFF_DN");
    let (first, _) = import(&sim, "ad", json!({"base_dn": ou})).await;
    let token = first["result"]["result"]["delta_token"].as_str().unwrap().to_owned();
    assert!(token.starts_with("ad-usn:"), "{token}");
    let suffix = std::process::id();
    let victim = format!("CN=delta-victim-{suffix},{ou}");
    let changed = format!("CN=delta-changed-{suffix},{ou}");
    // Removed however the test ends: OU=Staff is counted exactly by the manifest test.
    struct Cleanup<'a>(&'a ServerEnv, Vec<String>);
    impl Drop for Cleanup<'_> {
        fn drop(&mut self) {
            for dn in &self.1 {
                let _ = admin_ldif(self.0, &format!("dn: {dn}\nchangetype: delete\n"));
            }
        }
    }
    let _cleanup = Cleanup(&env, vec![changed.clone(), victim.clone()]);
    for dn in [&victim, &changed] {
        let sam = dn.split(',').next().unwrap().trim_start_matches("CN=").chars().take(20).collect::<String>();
        let add = format!("dn: {dn}\nchangetype: add\nobjectClass: user\nsAMAccountName: {sam}\n");
        assert!(admin_ldif(&env, &add), "cannot add {dn}");
    }
    let (mid, _) = import(&sim, "ad", json!({"base_dn": ou, "mode": "delta", "delta_token": token})).await;
    let token2 = mid["result"]["result"]["delta_token"].as_str().unwrap().to_owned();
    assert!(admin_ldif(
        &env,
        &format!("dn: {changed}\nchangetype: modify\nreplace: description\ndescription: changed\n")
    ));
    assert!(admin_ldif(&env, &format!("dn: {victim}\nchangetype: delete\n")));
    let (delta, records) = import(&sim, "ad", json!({"base_dn": ou, "mode": "delta", "delta_token": token2})).await;
    assert_eq!(delta["result"]["status"], "succeeded", "{}", delta["result"]);
    let changed_rec = records.iter().find(|r| r["dn"].as_str().is_some_and(|d| d.contains("delta-changed")));
    assert_eq!(changed_rec.expect("the changed user is in the delta")["attributes"]["description"][0], "changed");
    let deleted: Vec<&Value> = records.iter().filter(|r| r["deleted"] == true).collect();
    assert_eq!(deleted.len(), 1, "{records:?}");
    assert!(deleted[0]["guid"].as_str().is_some_and(|g| g.len() == 36));
    assert_eq!(delta["result"]["result"]["deleted"], 1);
    // Other tests write under the same OU meanwhile, so their changes may be in the delta
    // too: what must not be is the OU again.
    let full = first["result"]["result"]["total"].as_u64().unwrap_or(0) as usize;
    assert!(records.len() < full / 10, "a delta should not resend the whole OU: {} of {full} records", records.len());
}

/// Secret-bearing attributes never leave: a user holding `unixUserPassword` (confidential
/// in AD's schema) and `userPassword` is imported by a Domain Admin (who may read both)
/// with `*` and with an explicit list; neither value is in a record or anywhere in the
/// portal's copy, and the result names what it withheld. (A Domain Admin, because an
/// ordinary account is not even given a confidential attribute: it could not show the
/// fault.)
#[tokio::test]
async fn an_import_never_exports_a_secret_attribute() {
    let env = servers::samba();
    let pid = std::process::id();
    let ou = format!("OU=ic-secrets-{pid},{}", env.get("AD_TEAM_OU_DN"));
    let dn = format!("CN=Secret Holder,{ou}");
    let (unix_pw, user_pw) = (format!("Unix-Zebra-{pid}"), format!("User-Zebra-{pid}"));
    struct Gone(ServerEnv, String);
    impl Drop for Gone {
        fn drop(&mut self) {
            let _ = Command::new("ldapdelete")
                .args(["-r", "-x", "-H", self.0.get("AD_LDAPS_URL"), "-D", self.0.get("AD_ADMIN_DN")])
                .args(["-w", self.0.get("AD_ADMIN_PW"), &self.1])
                .env("LDAPTLS_CACERT", self.0.get("AD_CA"))
                .output();
        }
    }
    let _gone = Gone(env.clone(), ou.clone());
    assert!(admin_ldif(&env, &format!("dn: {ou}\nchangetype: add\nobjectClass: organizationalUnit\n")));
    assert!(admin_ldif(
        &env,
        &format!(
            "dn: {dn}\nchangetype: add\nobjectClass: user\nsAMAccountName: icsec{}\nunixUserPassword: {unix_pw}\nuserPassword: {user_pw}\ndescription: badge-{pid}\n",
            pid % 100_000
        )
    ));
    // The directory's own deny list is withheld like a secret.
    let config = servers::samba_directory("ad", &env) + "withhold_attributes = [\"description\"]\n";
    let (sim, _c) = setup_with(&config).await;
    let lists =
        [json!(["*"]), json!(["cn", "description", "unixUserPassword", "userPassword;binary", "sambaNTPassword"])];
    for attributes in lists {
        let (view, records) = import(&sim, "ad", json!({"base_dn": ou, "attributes": attributes})).await;
        let result = &view["result"];
        assert_eq!(result["status"], "succeeded", "{result}");
        assert_eq!(records.len(), 1, "{records:?}");
        let everything = format!("{records:?}{result}");
        assert!(!everything.contains(&unix_pw) && !everything.contains(&user_pw), "a secret left: {everything}");
        assert!(records[0]["attributes"].get("unixUserPassword").is_none(), "{}", records[0]);
        let withheld = result["result"]["withheld"].as_array().cloned().unwrap_or_default();
        assert!(withheld.iter().any(|w| w == "unixUserPassword"), "withheld {withheld:?} for {attributes}");
        assert!(!everything.contains(&format!("badge-{pid}")), "the deny list's attribute left: {everything}");
    }
}
