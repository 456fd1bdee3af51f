//! Group imports (`"object": "groups"`, PROTOCOL.md §3, issue #18): records with GUID,
//! objectSid, decoded scope and kind and every member (ranges followed); deltas with the
//! changed group sent whole, the deleted and the moved-out; and OpenLDAP groups.

use serde_json::{json, Value};

use crate::ad_ops::{same_dn, TestOu};
use crate::deltas::{admin_config, by_guid, delete, guid, import_ok, modify, start, tag, token};
use crate::harness::servers;

#[tokio::test]
async fn an_ad_group_record_has_its_scope_kind_sid_and_every_member() {
    let env = servers::samba();
    // svc-readonly: group imports need no more than an ordinary domain user.
    let (sim, _c) = start(&servers::samba_reader_directory("ad", &env)).await;
    let big = env.get("AD_BIG_GROUP_DN");
    let payload = json!({"object": "groups", "base_dn": env.get("AD_STAFF_DN"), "filter": "(cn=Big Group)"});
    let (result, records) = import_ok(&sim, payload).await;
    assert_eq!((result["total"].as_u64(), records.len()), (Some(1), 1), "{result}");
    let r = &records[0];
    assert!(same_dn(r["dn"].as_str().unwrap_or_default(), big), "{r}");
    assert_eq!((r["group_scope"].as_str(), r["group_kind"].as_str()), (Some("global"), Some("security")), "{r}");
    assert!(r["attributes"]["objectSid"][0].as_str().is_some_and(|s| s.starts_with("S-1-5-21-")), "{r}");
    assert_eq!(r["guid"].as_str(), Some(guid(&env, big).as_str()));
    let members = r["attributes"]["member"].as_array().map_or(0, Vec::len);
    let want: usize = env.get("AD_BIG_GROUP_MEMBERS").parse().expect("a number");
    assert_eq!(members, want, "every member, past MaxValRange");
    assert!(r.get("password_expires_at").is_none(), "no user fields on a group: {r}");
    // A groups import's filter selects among groups: a user never comes as a group.
    let user = env.get("AD_ESC_COMMA_USER");
    let team = env.get("AD_TEAM_OU_DN");
    let payload = json!({"object": "groups", "base_dn": team, "filter": format!("(sAMAccountName={user})")});
    let (_, records) = import_ok(&sim, payload).await;
    assert!(records.is_empty(), "a user imported as a group: {records:?}");
}

/// Bound as the Domain Admin: the delta reads Deleted Objects, which the delegated
/// account may not (the users' delta tests say so).
#[tokio::test]
async fn an_ad_group_delta_sends_the_changed_group_whole_the_deleted_and_the_moved_out() {
    let env = servers::samba();
    let ou = TestOu::new(&env, "gdl");
    let (inside, outside) = (format!("OU=In,{}", ou.dn), format!("OU=Out,{}", ou.dn));
    for dn in [&inside, &outside] {
        assert!(crate::ad::admin_ldif(&env, &format!("dn: {dn}\nchangetype: add\nobjectClass: organizationalUnit\n")));
    }
    let t = tag();
    let group = |cn: &str| {
        let dn = format!("CN={cn},{inside}");
        let ldif =
            format!("dn: {dn}\nchangetype: add\nobjectClass: group\nsAMAccountName: gdl-{cn}-{t}\ngroupType: 8\n");
        assert!(crate::ad::admin_ldif(&env, &ldif), "cannot add {dn}");
        dn
    };
    let (changed, gone, mover, still) = (group("Changed"), group("Gone"), group("Mover"), group("Still"));
    let ids: Vec<String> = [&changed, &gone, &mover, &still].iter().map(|d| guid(&env, d)).collect();
    let (sim, _c) = start(&admin_config(&env, &ou.dn, env.get("AD_LDAPS_URL"), "")).await;
    let (first, records) = import_ok(&sim, json!({"object": "groups", "base_dn": inside})).await;
    assert_eq!(records.len(), 4, "{records:?}");
    let universal = records.iter().all(|r| r["group_scope"] == "universal" && r["group_kind"] == "distribution");
    assert!(universal, "groupType 8: {records:?}");

    let member = env.get("AD_TEAM_USER_DN");
    modify(&env, &changed, &format!("add: member\nmember: {member}\n"));
    delete(&env, &gone);
    let ldif = format!("dn: {mover}\nchangetype: modrdn\nnewrdn: CN=Mover\ndeleteoldrdn: 1\nnewsuperior: {outside}\n");
    assert!(crate::ad::admin_ldif(&env, &ldif));
    let delta = json!({"object": "groups", "base_dn": inside, "mode": "delta", "delta_token": token(&first)});
    let (result, records) = import_ok(&sim, delta).await;
    let got = by_guid(&records, &ids.iter().collect::<Vec<_>>());
    let c = got.get(&ids[0]).unwrap_or_else(|| panic!("the changed group did not arrive: {records:?}"));
    let members: Vec<&str> =
        c["attributes"]["member"].as_array().map_or(vec![], |m| m.iter().filter_map(Value::as_str).collect());
    assert!(members.iter().any(|m| same_dn(m, member)), "the new member: {c}");
    let g = got.get(&ids[1]).unwrap_or_else(|| panic!("the deleted group did not arrive: {records:?}"));
    assert_eq!((g["deleted"].as_bool(), g["reason"].as_str()), (Some(true), Some("deleted")), "{g}");
    let m = got.get(&ids[2]).unwrap_or_else(|| panic!("the moved group did not arrive: {records:?}"));
    assert_eq!((m["deleted"].as_bool(), m["reason"].as_str()), (Some(true), Some("moved_out")), "{m}");
    assert!(!got.contains_key(&ids[3]), "an unchanged group was sent: {records:?}");
    assert_eq!(result["deleted"], 2, "{result}");
}

#[tokio::test]
async fn openldap_groups_import_with_their_members_and_no_ad_fields() {
    let env = servers::slapd();
    let sim = crate::harness::Sim::start(true).await;
    let _c = crate::harness::Connector::for_sim(&sim, "c1", &servers::slapd_directory("corp", &env, false));
    sim.wait_online(std::time::Duration::from_secs(60)).await;
    let big = env.get("SLAPD_BIG_GROUP_DN");
    let payload = json!({"object": "groups", "base_dn": env.get("SLAPD_GROUPS_DN")});
    let (view, records) = crate::ldap::import(&sim, "corp", payload).await;
    assert_eq!(view["result"]["status"], "succeeded", "{view}");
    assert!(!records.is_empty());
    for r in &records {
        assert!(r["guid"].as_str().is_some_and(|g| g.len() == 36), "{r}");
        assert_eq!((&r["group_scope"], &r["group_kind"]), (&Value::Null, &Value::Null), "{r}");
    }
    let all = records.iter().find(|r| r["dn"] == big).unwrap_or_else(|| panic!("{big} not imported"));
    let n = all["attributes"]["member"].as_array().map_or(0, Vec::len)
        + all["attributes"]["uniqueMember"].as_array().map_or(0, Vec::len);
    assert!(n > 1000, "the big group's members: {n}");
}
