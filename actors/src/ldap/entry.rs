//! A search result entry read from its raw BER, without panics (ldap3's
//! `SearchEntry::construct` panics on malformed input) and without guessing which values
//! are text: every value stays bytes until the record builder decides. Ranged values
//! ([MS-ADTS] 3.1.1.3.1.3.3) are followed and merged by [`RawEntry::complete_ranges`]
//! (in `search.rs`) and [`RawEntry::merged`] (see `range.rs`).

use ldap3::ResultEntry;

use super::codes::LdapFailure;

mod range;
pub(crate) use range::next_part;
pub use range::{plain_name, range_of, ranged, Merged, Range};

#[derive(Debug, Clone, PartialEq)]
pub struct RawEntry {
    pub dn: String,
    /// Attribute descriptions as the server sent them (may carry `;range=…`), in order.
    pub attributes: Vec<(String, Vec<Vec<u8>>)>,
}

impl RawEntry {
    pub fn parse(entry: ResultEntry) -> Result<RawEntry, LdapFailure> {
        let bad = |what: &str| LdapFailure::Protocol(format!("malformed search entry: {what}"));
        let mut parts =
            entry.0.match_id(4).and_then(|t| t.expect_constructed()).ok_or_else(|| bad("not an entry"))?.into_iter();
        let dn_bytes = parts.next().and_then(|t| t.expect_primitive()).ok_or_else(|| bad("no DN"))?;
        let dn = String::from_utf8(dn_bytes).map_err(|_| bad("DN is not UTF-8"))?;
        let mut attributes = Vec::new();
        let list = parts.next().and_then(|t| t.expect_constructed()).ok_or_else(|| bad("no attribute list"))?;
        for partial in list {
            let mut pieces = partial.expect_constructed().ok_or_else(|| bad("attribute"))?.into_iter();
            let name = pieces.next().and_then(|t| t.expect_primitive()).ok_or_else(|| bad("attribute type"))?;
            let name = String::from_utf8(name).map_err(|_| bad("attribute type is not UTF-8"))?;
            let values = pieces.next().and_then(|t| t.expect_constructed()).ok_or_else(|| bad("values"))?;
            let values = values
                .into_iter()
                .map(|v| v.expect_primitive().ok_or_else(|| bad("value")))
                .collect::<Result<Vec<_>, _>>()?;
            attributes.push((name, values));
        }
        Ok(RawEntry { dn, attributes })
    }

    pub fn first(&self, name: &str) -> Option<&[u8]> {
        self.attributes
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .and_then(|(_, v)| v.first())
            .map(Vec::as_slice)
    }

    pub fn first_text(&self, name: &str) -> Option<&str> {
        self.first(name).and_then(|b| std::str::from_utf8(b).ok())
    }

    /// Every UTF-8 value of `name`, ranged parts merged (`memberOf;range=0-1499` …).
    pub fn texts(&self, name: &str) -> Vec<&str> {
        self.merged()
            .into_iter()
            .filter(|a| a.name.eq_ignore_ascii_case(name))
            .flat_map(|a| a.values().filter_map(|v| std::str::from_utf8(v).ok()).collect::<Vec<_>>())
            .collect()
    }
}

#[cfg(test)]
mod tests;
