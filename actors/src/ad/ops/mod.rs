//! One file per AD operation family.

pub mod create;
pub mod create_group;
pub mod delete;
pub mod delete_group;
pub mod flags;
pub mod membership;
pub mod move_user;
pub mod passwords;
pub mod update;

use std::collections::HashSet;

use ldap3::Mod;

pub fn one(value: impl Into<Vec<u8>>) -> HashSet<Vec<u8>> {
    HashSet::from([value.into()])
}

pub fn replace(attr: &str, value: impl Into<Vec<u8>>) -> Mod<Vec<u8>> {
    Mod::Replace(attr.as_bytes().to_vec(), one(value))
}
