//! `[directories.NAME]` keys of the login path: the lockout shield and group reading.

use std::time::Duration;

use connector_actors::directory::{LoginSettings, MemberAttribute};

use super::raw::RawDirectory;
use super::validate::Validator;

impl Validator<'_, '_> {
    /// The login keys of one directory; out-of-range values are reported by key and the
    /// default is used so every other problem is reported in the same run.
    pub(super) fn login(&mut self, d: &RawDirectory, key: &dyn Fn(&str) -> String) -> LoginSettings {
        let defaults = LoginSettings::default();
        let failure_limit =
            self.int(&d.login_failure_limit, &key("login_failure_limit"), 0..=1000, i64::from(defaults.failure_limit));
        let failure_window =
            self.duration(&d.login_failure_window, &key("login_failure_window"), defaults.failure_window);
        if failure_window < Duration::from_secs(1) || failure_window > Duration::from_secs(24 * 3600) {
            let at = d.login_failure_window.as_ref().map(|s| s.span());
            self.c.at(at, &key("login_failure_window"), "must lie between 1s and 24h");
        }
        let group_base_dn = d.group_base_dn.as_ref().map(|v| {
            self.dn(v, &key("group_base_dn"));
            v.get_ref().clone()
        });
        let default_password_policy_dn = d.default_password_policy_dn.as_ref().map(|v| {
            self.dn(v, &key("default_password_policy_dn"));
            v.get_ref().clone()
        });
        let mut member_attributes = Vec::new();
        for name in d.group_member_attributes.as_ref().map(|v| v.get_ref().clone()).unwrap_or_default() {
            match MemberAttribute::parse(name.trim()) {
                Some(a) if !member_attributes.contains(&a) => member_attributes.push(a),
                Some(_) => {}
                None => {
                    let at = d.group_member_attributes.as_ref().map(|s| s.span());
                    let msg = format!("\"{name}\" is not member, uniqueMember or memberUid");
                    self.c.at(at, &key("group_member_attributes"), msg);
                }
            }
        }
        if member_attributes.is_empty() {
            member_attributes = defaults.member_attributes.clone();
        }
        let nesting =
            self.int(&d.group_nesting_limit, &key("group_nesting_limit"), 1..=64, i64::from(defaults.nesting_limit));
        let limit = self.int(&d.group_limit, &key("group_limit"), 1..=100_000, defaults.group_limit as i64);
        LoginSettings {
            failure_limit: failure_limit as u32,
            failure_window,
            group_base_dn,
            default_password_policy_dn,
            member_attributes,
            nesting_limit: nesting as u32,
            group_limit: limit as usize,
        }
    }
}
