//! Ranged attribute values ([MS-ADTS] 3.1.1.3.1.3.3 "Range Retrieval of Attribute
//! Values"): a DC returns at most MaxValRange values of one attribute per read (1,500 by
//! default, [MS-ADTS] 3.1.1.3.4.6 "LDAP Policies"), as `name;range=low-high`, where `high`
//! is `*` on the last part; a Windows DC also sends an empty `name` next to the first part
//! (the placeholder). The rest is read with `name;range=<high+1>-*` until a part ends in
//! `*`. Samba folds a ranged request into one part but ranges only when asked.
//!
//! Invariants of a merged entry ([`RawEntry::merged`], [`RawEntry::merge_ranges`]): one
//! attribute per plain name (the description without its range option, compared ignoring
//! case as RFC 4512 §2.5 compares descriptions; other options such as `;binary` stay: they
//! name another description), spelled as its first occurrence; the values of its unranged
//! parts first (so the empty placeholder adds nothing), then those of its ranged parts in
//! the order of their low bound; a ranged part that starts inside a range already taken
//! repeats it and is dropped.

use super::RawEntry;

/// The range option of an attribute description: `member;range=0-1499` is
/// `{ base: "member", low: 0, high: Some(1499) }`; `high` is `None` for `*` (the last part).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Range<'a> {
    pub base: &'a str,
    pub low: u64,
    pub high: Option<u64>,
}

/// The range option of `name`, when it is its last option (where DCs put it); `None`
/// for a name without one or with a malformed one.
pub fn range_of(name: &str) -> Option<Range<'_>> {
    // Nearly every name has no option at all: skip the search for those.
    if !name.as_bytes().contains(&b';') {
        return None;
    }
    let at = name.rfind(';')?;
    let (base, option) = (name.get(..at)?, name.get(at + 1..)?);
    let bounds = option.get(..6).filter(|o| o.eq_ignore_ascii_case("range=")).and(option.get(6..))?;
    let (low, high) = bounds.split_once('-')?;
    let high = if high == "*" { None } else { Some(high.parse().ok()?) };
    Some(Range { base, low: low.parse().ok()?, high })
}

/// `member;range=0-1499` → ("member", Some(1499)); the end is `None` for `*` (the last part).
pub fn ranged(name: &str) -> Option<(&str, Option<u64>)> {
    range_of(name).map(|r| (r.base, r.high))
}

/// The description without its range option: `member;range=0-1499` → `member`.
pub fn plain_name(name: &str) -> &str {
    range_of(name).map_or(name, |r| r.base)
}

/// One attribute of a merged entry: its plain name and the parts its values come from.
#[derive(Debug, Clone, PartialEq)]
pub struct Merged<'a> {
    pub name: &'a str,
    parts: Parts<'a>,
}

#[derive(Debug, Clone, PartialEq)]
enum Parts<'a> {
    /// The common case, without an allocation.
    One(&'a [Vec<u8>]),
    Many(Vec<&'a [Vec<u8>]>),
}

impl<'a> Merged<'a> {
    /// Every value, in order.
    pub fn values(&self) -> impl Iterator<Item = &'a Vec<u8>> + '_ {
        let parts: &[&'a [Vec<u8>]] = match &self.parts {
            Parts::One(values) => std::slice::from_ref(values),
            Parts::Many(parts) => parts,
        };
        parts.iter().flat_map(|p| p.iter())
    }

    pub fn len(&self) -> usize {
        match &self.parts {
            Parts::One(values) => values.len(),
            Parts::Many(parts) => parts.iter().map(|p| p.len()).sum(),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// One part of an attribute: its range bounds (`low` is `None` for an unranged part).
struct Part<'a> {
    low: Option<u64>,
    high: Option<u64>,
    values: &'a [Vec<u8>],
}

/// Whether two attributes share a plain name. Quadratic, but on lengths first: an entry
/// has tens of attributes, and this runs once per imported entry.
fn repeats(names: &[&str]) -> bool {
    names.iter().enumerate().any(|(i, a)| names[..i].iter().any(|b| a.len() == b.len() && a.eq_ignore_ascii_case(b)))
}

impl RawEntry {
    /// The attributes under their plain names, ranged parts merged (see the module's
    /// invariants). Borrows the values: the record builder calls this for every entry.
    pub fn merged(&self) -> Vec<Merged<'_>> {
        let names: Vec<&str> = self.attributes.iter().map(|(n, _)| plain_name(n)).collect();
        if !repeats(&names) {
            return self
                .attributes
                .iter()
                .zip(names)
                .map(|(a, name)| Merged { name, parts: Parts::One(&a.1) })
                .collect();
        }
        let mut out = Vec::with_capacity(names.len());
        let mut taken = vec![false; names.len()];
        for (i, name) in names.iter().enumerate() {
            if taken[i] {
                continue;
            }
            let mut parts: Vec<Part<'_>> = Vec::new();
            for (j, (written, values)) in self.attributes.iter().enumerate().skip(i) {
                if !taken[j] && names[j].eq_ignore_ascii_case(name) {
                    taken[j] = true;
                    let range = range_of(written);
                    parts.push(Part { low: range.map(|r| r.low), high: range.and_then(|r| r.high), values });
                }
            }
            // Stable: unranged parts first, in the order they came.
            parts.sort_by_key(|p| p.low.map_or(0, |l| l + 1));
            let mut covered: Option<Option<u64>> = None; // highest bound taken; Some(None) = `*`
            let mut kept = Vec::with_capacity(parts.len());
            for part in parts {
                if let Some(low) = part.low {
                    let repeat = match covered {
                        Some(None) => true,
                        Some(Some(end)) => low <= end,
                        None => false,
                    };
                    if repeat {
                        continue;
                    }
                    covered = Some(part.high);
                }
                kept.push(part.values);
            }
            let parts = if kept.len() == 1 { Parts::One(kept[0]) } else { Parts::Many(kept) };
            out.push(Merged { name, parts });
        }
        out
    }

    /// Renames ranged attributes to their plain names and merges each into one attribute
    /// (see the module's invariants). Nothing is copied when there is nothing to merge.
    pub fn merge_ranges(&mut self) {
        let needs = self.attributes.iter().any(|(n, _)| range_of(n).is_some()) || {
            let names: Vec<&str> = self.attributes.iter().map(|(n, _)| n.as_str()).collect();
            repeats(&names)
        };
        if needs {
            let merged: Vec<(String, Vec<Vec<u8>>)> =
                self.merged().iter().map(|m| (m.name.to_owned(), m.values().cloned().collect())).collect();
            self.attributes = merged;
        }
    }
}

/// The part of `base` that continues after `high` in a follow-up answer: one that starts
/// right after it, the fullest if the DC sent more than one (it has been seen to send
/// `member;range=4500-5999` next to `member;range=4500-*`).
pub(crate) fn next_part(entry: RawEntry, base: &str, high: u64) -> Option<(String, Vec<Vec<u8>>)> {
    entry
        .attributes
        .into_iter()
        .filter(|(n, _)| range_of(n).is_some_and(|r| r.base.eq_ignore_ascii_case(base) && r.low > high))
        .max_by_key(|(_, values)| values.len())
}

#[cfg(test)]
mod tests;
