//! Building the protocol's `Record` (PROTOCOL.md §2.6) from a raw entry: objectGUID and
//! entryUUID as `guid`, objectSid as `S-1-…`, binary values base64, `enabled` from
//! userAccountControl, secret-bearing attributes never exported (`withheld.rs`).
//!
//! Each attribute appears once, under its plain name, with every value (§2.6): ranged
//! parts (`member;range=0-1499`, and the empty `member` a Windows DC sends beside them)
//! are merged here whatever the caller did ([`RawEntry::merged`], [MS-ADTS]
//! 3.1.1.3.1.3.3); following the ranges to their end is the caller's
//! ([`RawEntry::complete_ranges`]).

use base64::Engine;
use serde_json::{json, Map, Value};

use super::entry::{Merged, RawEntry};
use super::withheld::Withholding;
use crate::ad::group_type::GroupType;
use crate::ad::uac::ACCOUNTDISABLE;
use crate::directory::DirectoryKind;
use crate::ldap::auth::expiry::Expiry;

/// Attributes whose values are binary even when they happen to be valid UTF-8.
const BINARY: [&str; 8] = [
    "objectguid",
    "jpegphoto",
    "thumbnailphoto",
    "usercertificate",
    "usercertificate;binary",
    "msexchmailboxguid",
    "mS-DS-ConsistencyGuid",
    "objectsid",
];

/// objectGUID bytes → canonical string (the first three fields are little-endian).
pub fn guid_string(b: &[u8]) -> Option<String> {
    if b.len() != 16 {
        return None;
    }
    Some(format!(
        "{:02x}{:02x}{:02x}{:02x}-{:02x}{:02x}-{:02x}{:02x}-{:02x}{:02x}-{:02x}{:02x}{:02x}{:02x}{:02x}{:02x}",
        b[3], b[2], b[1], b[0], b[5], b[4], b[7], b[6], b[8], b[9], b[10], b[11], b[12], b[13], b[14], b[15]
    ))
}

/// The canonical GUID string back to objectGUID bytes (for `(objectGUID=\xx…)` searches).
pub fn guid_bytes(s: &str) -> Option<[u8; 16]> {
    let hex: String = s.chars().filter(|c| *c != '-').collect();
    if hex.len() != 32 {
        return None;
    }
    let mut raw = [0u8; 16];
    for (i, byte) in raw.iter_mut().enumerate() {
        *byte = u8::from_str_radix(hex.get(i * 2..i * 2 + 2)?, 16).ok()?;
    }
    let order = [3, 2, 1, 0, 5, 4, 7, 6, 8, 9, 10, 11, 12, 13, 14, 15];
    let mut out = [0u8; 16];
    for (i, &j) in order.iter().enumerate() {
        out[i] = raw[j];
    }
    Some(out)
}

/// objectSid bytes → `S-1-5-21-…`.
pub fn sid_string(b: &[u8]) -> Option<String> {
    let revision = *b.first()?;
    let count = *b.get(1)? as usize;
    let authority = b.get(2..8)?.iter().fold(0u64, |acc, x| (acc << 8) | *x as u64);
    let mut s = format!("S-{revision}-{authority}");
    for i in 0..count {
        let sub = b.get(8 + i * 4..12 + i * 4)?;
        s.push_str(&format!("-{}", u32::from_le_bytes([sub[0], sub[1], sub[2], sub[3]])));
    }
    Some(s)
}

pub fn entry_guid(kind: DirectoryKind, entry: &RawEntry) -> Option<String> {
    match kind {
        DirectoryKind::ActiveDirectory => entry.first("objectGUID").and_then(guid_string),
        DirectoryKind::Ldap => entry.first_text("entryUUID").map(str::to_owned),
    }
}

/// The record of an entry as JSON text, written straight from the entry's bytes (the
/// import's hot path: no intermediate `Value`, each attribute classified once). Same
/// content as [`build`]. Withholds the fixed lists only: an import uses [`to_json_with`].
pub fn to_json(kind: DirectoryKind, entry: &RawEntry) -> String {
    to_json_with(kind, entry, &mut Withholding::default())
}

/// [`to_json`], withholding what `withholding` says and noting there each attribute it
/// dropped.
pub fn to_json_with(kind: DirectoryKind, entry: &RawEntry, withholding: &mut Withholding) -> String {
    record_json(kind, entry, withholding, Extra::None)
}

/// What a record carries beyond its entry's attributes.
#[derive(Debug, Clone, Copy)]
pub enum Extra<'a> {
    None,
    /// A user: `password_expires_at` and `account_expires_at` (PROTOCOL.md §3).
    User(&'a Expiry),
    /// A group: `group_scope` and `group_kind` decoded from AD's `groupType` (null
    /// elsewhere), in the words of `ad.create_group`.
    Group,
}

/// [`to_json_with`] with the [`Extra`] fields of its class.
pub fn record_json(kind: DirectoryKind, entry: &RawEntry, withholding: &mut Withholding, extra: Extra<'_>) -> String {
    let attrs = entry.merged();
    let slots: Vec<Slot> = attrs.iter().map(|m| slot(m, withholding)).collect();
    serde_json::to_string(&RecordView { kind, entry, attrs: &attrs, slots: &slots, extra }).unwrap_or_default()
}

struct RecordView<'a> {
    kind: DirectoryKind,
    entry: &'a RawEntry,
    attrs: &'a [Merged<'a>],
    slots: &'a [Slot],
    extra: Extra<'a>,
}

/// Which map an attribute goes to, decided once per attribute.
#[derive(Clone, Copy)]
enum Slot {
    Skip,
    Sid,
    Text,
    Binary,
}

fn slot(attr: &Merged<'_>, withholding: &mut Withholding) -> Slot {
    let is = |n: &str| attr.name.eq_ignore_ascii_case(n);
    if is("objectguid") || is("entryuuid") {
        Slot::Skip
    } else if withholding.withholds(attr.name) {
        withholding.dropped(attr.name);
        Slot::Skip
    } else if is("objectsid") {
        Slot::Sid
    } else if BINARY.iter().any(|n| is(n)) || attr.values().any(|v| std::str::from_utf8(v).is_err()) {
        Slot::Binary
    } else {
        Slot::Text
    }
}

struct Attrs<'a> {
    attrs: &'a [Merged<'a>],
    slots: &'a [Slot],
    binary: bool,
}

/// Values already found to be UTF-8, written as a JSON array of strings.
struct Texts<'a>(&'a Merged<'a>);

impl serde::Serialize for Texts<'_> {
    fn serialize<S: serde::Serializer>(&self, ser: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeSeq;
        let mut seq = ser.serialize_seq(Some(self.0.len()))?;
        for v in self.0.values().filter_map(|v| std::str::from_utf8(v).ok()) {
            seq.serialize_element(v)?;
        }
        seq.end()
    }
}

impl serde::Serialize for Attrs<'_> {
    fn serialize<S: serde::Serializer>(&self, ser: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        let b64 = base64::engine::general_purpose::STANDARD;
        let mut map = ser.serialize_map(None)?;
        for (attr, slot) in self.attrs.iter().zip(self.slots) {
            match (slot, self.binary) {
                (Slot::Text, false) => map.serialize_entry(attr.name, &Texts(attr))?,
                (Slot::Sid, false) => {
                    let sids: Vec<String> = attr.values().filter_map(|v| sid_string(v)).collect();
                    map.serialize_entry(attr.name, &sids)?;
                }
                (Slot::Binary, true) => {
                    let encoded: Vec<String> = attr.values().map(|v| b64.encode(v)).collect();
                    map.serialize_entry(attr.name, &encoded)?;
                }
                _ => {}
            }
        }
        map.end()
    }
}

impl serde::Serialize for RecordView<'_> {
    fn serialize<S: serde::Serializer>(&self, ser: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        let enabled = match self.kind {
            DirectoryKind::ActiveDirectory => self
                .entry
                .first_text("userAccountControl")
                .and_then(|s| s.parse::<u32>().ok())
                .map(|uac| uac & ACCOUNTDISABLE == 0),
            DirectoryKind::Ldap => None,
        };
        let (entry, attrs, slots) = (self.entry, self.attrs, self.slots);
        let mut map = ser.serialize_map(Some(6))?;
        map.serialize_entry("dn", &entry.dn)?;
        map.serialize_entry("guid", &entry_guid(self.kind, entry))?;
        map.serialize_entry("deleted", &false)?;
        map.serialize_entry("enabled", &enabled)?;
        match self.extra {
            Extra::None => {}
            Extra::User(expiry) => {
                map.serialize_entry("password_expires_at", &expiry.password_expires_at)?;
                map.serialize_entry("account_expires_at", &expiry.account_expires_at)?;
            }
            Extra::Group => {
                let t = entry.first_text("groupType").and_then(GroupType::parse);
                map.serialize_entry("group_scope", &t.and_then(GroupType::scope))?;
                map.serialize_entry("group_kind", &t.map(GroupType::kind))?;
            }
        }
        map.serialize_entry("attributes", &Attrs { attrs, slots, binary: false })?;
        map.serialize_entry("binary_attributes", &Attrs { attrs, slots, binary: true })?;
        map.end()
    }
}

/// The record of an entry as a `Value` (see [`to_json`]), classified the same way.
pub fn build(kind: DirectoryKind, entry: &RawEntry) -> Value {
    build_with(kind, entry, &mut Withholding::default())
}

/// [`build`], withholding what `withholding` says and noting there what it dropped.
pub fn build_with(kind: DirectoryKind, entry: &RawEntry, withholding: &mut Withholding) -> Value {
    let mut attributes = Map::new();
    let mut binary = Map::new();
    let b64 = base64::engine::general_purpose::STANDARD;
    for attr in entry.merged() {
        let name = attr.name.to_owned();
        match slot(&attr, withholding) {
            Slot::Skip => {}
            Slot::Sid => {
                let sids = attr.values().filter_map(|v| sid_string(v)).map(Value::String);
                attributes.insert(name, Value::Array(sids.collect()));
            }
            Slot::Text => {
                let texts = attr.values().filter_map(|v| std::str::from_utf8(v).ok()).map(Value::from);
                attributes.insert(name, Value::Array(texts.collect()));
            }
            Slot::Binary => {
                binary.insert(name, Value::Array(attr.values().map(|v| Value::String(b64.encode(v))).collect()));
            }
        }
    }
    let enabled = match kind {
        DirectoryKind::ActiveDirectory => entry
            .first_text("userAccountControl")
            .and_then(|s| s.parse::<u32>().ok())
            .map(|uac| Value::Bool(uac & ACCOUNTDISABLE == 0))
            .unwrap_or(Value::Null),
        DirectoryKind::Ldap => Value::Null,
    };
    json!({
        "dn": entry.dn,
        "guid": entry_guid(kind, entry),
        "deleted": false,
        "enabled": enabled,
        "attributes": attributes,
        "binary_attributes": binary,
    })
}

#[cfg(test)]
mod tests;
