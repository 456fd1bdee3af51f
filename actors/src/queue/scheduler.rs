//! Which acknowledged job runs next: priority lanes with caps, and ordering keys.
//!
//! Plain data, no I/O: rebuilt from the store at open.
//! - A job is *eligible* when it is the oldest (created_at, arrival) of its ordering key
//!   and no job of that key is running: one key, one job at a time, in order.
//! - Lanes are tried interactive → normal → bulk, each under its cap; the caps of normal
//!   and bulk leave slots only interactive work can use, so a login never waits behind an
//!   import, and bulk keeps its own slots, so it is never starved by normal work.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};

use crate::protocol::Lane;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LaneCaps {
    pub max_concurrency: usize,
    /// Most running jobs per lane, indexed by [`Lane::index`].
    pub per_lane: [usize; 3],
}

impl LaneCaps {
    /// Default split: normal gets 5/8 and bulk 1/4 (at least one slot each); what is left
    /// (at least one slot when concurrency ≥ 3) is interactive's alone.
    pub fn for_concurrency(max: usize) -> LaneCaps {
        let max = max.max(1);
        let bulk = (max / 4).max(1);
        let normal = (max * 5 / 8).max(1);
        LaneCaps { max_concurrency: max, per_lane: [max, normal, bulk] }
    }
}

/// Position of a job in its key's line: created_at, then arrival.
type Place = (u64, u64);

#[derive(Debug, Clone)]
struct Waiting {
    id: String,
    lane: Lane,
    not_before_ms: u64,
}

#[derive(Debug)]
pub struct Scheduler {
    caps: LaneCaps,
    /// Jobs per ordering key, oldest first. A key is present while it has waiting jobs.
    lines: HashMap<String, BTreeMap<Place, Waiting>>,
    /// Heads of lines whose key is not running, per lane, oldest first.
    eligible: [BTreeSet<(Place, String)>; 3],
    /// Ordering key of each waiting job.
    key_of: HashMap<String, String>,
    busy_keys: HashSet<String>,
    running: HashMap<String, (Lane, String)>,
    running_per_lane: [usize; 3],
}

impl Scheduler {
    pub fn new(caps: LaneCaps) -> Self {
        Scheduler {
            caps,
            lines: HashMap::new(),
            eligible: Default::default(),
            key_of: HashMap::new(),
            busy_keys: HashSet::new(),
            running: HashMap::new(),
            running_per_lane: [0; 3],
        }
    }

    /// Waiting and running jobs per lane (for the UI and metrics).
    pub fn lane_figures(&self) -> [crate::protocol::wire::LaneFigures; 3] {
        let mut out = [crate::protocol::wire::LaneFigures::default(); 3];
        for w in self.lines.values().flat_map(|line| line.values()) {
            out[w.lane.index()].waiting += 1;
        }
        for (i, n) in self.running_per_lane.iter().enumerate() {
            out[i].running = *n as u64;
        }
        out
    }

    /// Adds an acknowledged job (new, resumed after a crash, or back for a retry).
    pub fn insert(&mut self, id: &str, key: &str, lane: Lane, place: Place, not_before_ms: u64) {
        self.demote_head(key);
        let waiting = Waiting { id: id.to_owned(), lane, not_before_ms };
        self.key_of.insert(id.to_owned(), key.to_owned());
        self.lines.entry(key.to_owned()).or_default().insert(place, waiting);
        self.promote_head(key);
    }

    /// Makes a waiting job due now (a job stored but not yet acknowledged waits with
    /// `not_before = u64::MAX`: it holds its place in its key's line without running).
    pub fn release(&mut self, id: &str) {
        let Some(key) = self.key_of.get(id).cloned() else { return };
        if let Some(w) = self.lines.get_mut(&key).and_then(|l| l.values_mut().find(|w| w.id == id)) {
            w.not_before_ms = 0;
        }
    }

    /// Removes a waiting job (cancelled, or failed before it ran). Returns whether it was there.
    pub fn remove_waiting(&mut self, id: &str, key: &str) -> bool {
        let Some(line) = self.lines.get(key) else {
            return false;
        };
        let Some(place) = line.iter().find(|(_, w)| w.id == id).map(|(p, _)| *p) else {
            return false;
        };
        self.demote_head(key);
        self.remove_from_line(key, &place, id);
        self.promote_head(key);
        true
    }

    /// Takes up to `free` jobs to start now, highest lane first, within the caps.
    pub fn take(&mut self, now_ms: u64, free: usize) -> Vec<String> {
        let mut taken = Vec::new();
        for lane in Lane::ALL {
            while taken.len() < free && self.has_room(lane) {
                let Some(id) = self.take_one(lane, now_ms) else {
                    break;
                };
                taken.push(id);
            }
        }
        taken
    }

    /// The job left the running set (finished, or going back to wait for a retry).
    pub fn finished(&mut self, id: &str) {
        if let Some((lane, key)) = self.running.remove(id) {
            self.running_per_lane[lane.index()] -= 1;
            self.busy_keys.remove(&key);
            self.promote_head(&key);
        }
    }

    /// The earliest `not_before` among eligible jobs, to know when to look again.
    pub fn next_wakeup_ms(&self) -> Option<u64> {
        self.eligible
            .iter()
            .flatten()
            .filter_map(|(p, id)| self.waiting(p, id))
            .map(|w| w.not_before_ms)
            .filter(|t| *t != u64::MAX)
            .min()
    }

    fn waiting(&self, place: &Place, id: &str) -> Option<&Waiting> {
        let key = self.key_of.get(id)?;
        self.lines.get(key)?.get(place).filter(|w| w.id == id)
    }

    fn has_room(&self, lane: Lane) -> bool {
        self.running.len() < self.caps.max_concurrency
            && self.running_per_lane[lane.index()] < self.caps.per_lane[lane.index()]
    }

    fn take_one(&mut self, lane: Lane, now_ms: u64) -> Option<String> {
        let pick = self.eligible[lane.index()]
            .iter()
            .find(|(place, id)| self.waiting(place, id).is_some_and(|w| w.not_before_ms <= now_ms))
            .cloned()?;
        self.eligible[lane.index()].remove(&pick);
        let (place, id) = pick;
        let key = self.key_of.get(&id)?.clone();
        self.remove_from_line(&key, &place, &id);
        self.busy_keys.insert(key.clone());
        self.running.insert(id.clone(), (lane, key));
        self.running_per_lane[lane.index()] += 1;
        Some(id)
    }

    fn remove_from_line(&mut self, key: &str, place: &Place, id: &str) {
        self.key_of.remove(id);
        if let Some(line) = self.lines.get_mut(key) {
            line.remove(place);
            if line.is_empty() {
                self.lines.remove(key);
            }
        }
    }

    fn demote_head(&mut self, key: &str) {
        if let Some((place, w)) = self.lines.get(key).and_then(|l| l.iter().next()) {
            self.eligible[w.lane.index()].remove(&(*place, w.id.clone()));
        }
    }

    fn promote_head(&mut self, key: &str) {
        if self.busy_keys.contains(key) {
            return;
        }
        if let Some((place, w)) = self.lines.get(key).and_then(|l| l.iter().next()) {
            self.eligible[w.lane.index()].insert((*place, w.id.clone()));
        }
    }
}
