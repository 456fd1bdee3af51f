//! Which acknowledged job runs next: priority lanes with caps, and ordering keys.
//!
//! Plain data, no I/O: rebuilt from the store at open.
//! - A job is *eligible* when it is the oldest (created_at, arrival) of each of its
//!   ordering keys and no job of those keys is running: one key, one job at a time, in
//!   order. A job usually has one key; a create has two (see [`KEY_SEPARATOR`]).
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

/// What one take may still start: `free` jobs, within the caps.
#[derive(Debug, Clone, Copy)]
pub struct Room {
    free: usize,
    running: usize,
    per_lane: [usize; 3],
    caps: LaneCaps,
}

impl Room {
    /// Nothing more can start in this take.
    pub fn is_full(&self) -> bool {
        self.free == 0 || self.running >= self.caps.max_concurrency
    }

    /// One more job of `lane` may start.
    pub fn fits(&self, lane: Lane) -> bool {
        !self.is_full() && self.per_lane[lane.index()] < self.caps.per_lane[lane.index()]
    }

    /// A job of `lane` was started.
    pub fn take(&mut self, lane: Lane) {
        self.free = self.free.saturating_sub(1);
        self.running += 1;
        self.per_lane[lane.index()] += 1;
    }
}

/// Position of a job in its key's line: created_at, then arrival.
type Place = (u64, u64);

/// Separates the keys of a job that has several (a create orders by its sAMAccountName
/// and by its target DN): U+001F, the ASCII unit separator. A server's key that holds one
/// is read as several keys, which only ever makes ordering stricter, never looser.
pub const KEY_SEPARATOR: char = '\u{1f}';

#[derive(Debug, Clone)]
struct Waiting {
    lane: Lane,
    place: Place,
    not_before_ms: u64,
    keys: Vec<String>,
}

#[derive(Debug)]
pub struct Scheduler {
    caps: LaneCaps,
    /// Waiting jobs by id.
    waiting: HashMap<String, Waiting>,
    /// Ids per ordering key, oldest first. A key is present while it has waiting jobs.
    lines: HashMap<String, BTreeMap<Place, String>>,
    /// Jobs at the head of every line they are in, none of whose keys is running, per
    /// lane, oldest first.
    eligible: [BTreeSet<(Place, String)>; 3],
    busy_keys: HashSet<String>,
    running: HashMap<String, (Lane, Vec<String>)>,
    running_per_lane: [usize; 3],
}

fn split(key: &str) -> Vec<String> {
    let mut keys: Vec<String> = key.split(KEY_SEPARATOR).map(str::to_owned).collect();
    keys.sort();
    keys.dedup();
    keys
}

impl Scheduler {
    pub fn new(caps: LaneCaps) -> Self {
        Scheduler {
            caps,
            waiting: HashMap::new(),
            lines: HashMap::new(),
            eligible: Default::default(),
            busy_keys: HashSet::new(),
            running: HashMap::new(),
            running_per_lane: [0; 3],
        }
    }

    /// Waiting and running jobs per lane (for the UI and metrics).
    pub fn lane_figures(&self) -> [crate::protocol::wire::LaneFigures; 3] {
        let mut out = [crate::protocol::wire::LaneFigures::default(); 3];
        for w in self.waiting.values() {
            out[w.lane.index()].waiting += 1;
        }
        for (i, n) in self.running_per_lane.iter().enumerate() {
            out[i].running = *n as u64;
        }
        out
    }

    /// Adds an acknowledged job (new, resumed after a crash, or back for a retry).
    /// `key` may hold several keys joined by [`KEY_SEPARATOR`].
    pub fn insert(&mut self, id: &str, key: &str, lane: Lane, place: Place, not_before_ms: u64) {
        let keys = split(key);
        self.demote_heads(&keys);
        for k in &keys {
            self.lines.entry(k.clone()).or_default().insert(place, id.to_owned());
        }
        self.waiting.insert(id.to_owned(), Waiting { lane, place, not_before_ms, keys: keys.clone() });
        self.promote_heads(&keys);
    }

    /// Makes a waiting job due now (a job stored but not yet acknowledged waits with
    /// `not_before = u64::MAX`: it holds its place in its keys' lines without running).
    pub fn release(&mut self, id: &str) {
        if let Some(w) = self.waiting.get_mut(id) {
            w.not_before_ms = 0;
        }
    }

    /// Removes a waiting job (cancelled, or failed before it ran). Returns whether it was there.
    pub fn remove_waiting(&mut self, id: &str) -> bool {
        let Some(keys) = self.waiting.get(id).map(|w| w.keys.clone()) else {
            return false;
        };
        self.demote_heads(&keys);
        self.remove_from_lines(id);
        self.promote_heads(&keys);
        true
    }

    /// Takes up to `free` jobs to start now, highest lane first, within the caps.
    #[cfg(test)]
    pub fn take(&mut self, now_ms: u64, free: usize) -> Vec<String> {
        let taken = self.due(now_ms, free);
        for id in &taken {
            self.start(id);
        }
        taken
    }

    /// The jobs [`Scheduler::take`] would start now, without starting them. Eligible
    /// jobs share no key (each heads all its lines), so starting one never makes
    /// another ineligible: only the caps are counted here. (The queue's take walks
    /// [`Scheduler::due_in_order`] itself, and starts each with [`Scheduler::start`]
    /// once its new state is stored.)
    #[cfg(test)]
    pub fn due(&self, now_ms: u64, free: usize) -> Vec<String> {
        let mut room = self.room(free);
        let mut taken = Vec::new();
        for (lane, id) in self.due_in_order(now_ms) {
            if room.is_full() {
                break;
            }
            if room.fits(lane) {
                room.take(lane);
                taken.push(id.clone());
            }
        }
        taken
    }

    /// Every eligible job due at `now_ms`, in the order a take tries them: interactive,
    /// normal, bulk, each oldest first. The caller counts what it starts in a [`Room`]
    /// (a job it answers without running, e.g. a shed login, takes no room).
    pub fn due_in_order(&self, now_ms: u64) -> impl Iterator<Item = (Lane, &String)> + '_ {
        Lane::ALL.into_iter().flat_map(move |lane| {
            self.eligible[lane.index()]
                .iter()
                .map(move |(_, id)| (lane, id))
                .filter(move |(_, id)| self.waiting.get(*id).is_some_and(|w| w.not_before_ms <= now_ms))
        })
    }

    /// The room a take of at most `free` jobs has: the caps less what runs.
    pub fn room(&self, free: usize) -> Room {
        Room { free, running: self.running.len(), per_lane: self.running_per_lane, caps: self.caps }
    }

    /// Moves a waiting job to the running set (its keys busy until [`Scheduler::finished`]).
    pub fn start(&mut self, id: &str) {
        let Some((lane, place)) = self.waiting.get(id).map(|w| (w.lane, w.place)) else {
            return;
        };
        self.eligible[lane.index()].remove(&(place, id.to_owned()));
        let Some(keys) = self.remove_from_lines(id) else {
            return;
        };
        for k in &keys {
            self.busy_keys.insert(k.clone());
        }
        self.running.insert(id.to_owned(), (lane, keys));
        self.running_per_lane[lane.index()] += 1;
    }

    /// The job left the running set (finished, or going back to wait for a retry).
    pub fn finished(&mut self, id: &str) {
        if let Some((lane, keys)) = self.running.remove(id) {
            self.running_per_lane[lane.index()] -= 1;
            for k in &keys {
                self.busy_keys.remove(k);
            }
            self.promote_heads(&keys);
        }
    }

    /// The earliest `not_before` among eligible jobs, to know when to look again.
    pub fn next_wakeup_ms(&self) -> Option<u64> {
        self.eligible
            .iter()
            .flatten()
            .filter_map(|(_, id)| self.waiting.get(id))
            .map(|w| w.not_before_ms)
            .filter(|t| *t != u64::MAX)
            .min()
    }

    /// Takes a waiting job out of every line it is in; returns its keys.
    fn remove_from_lines(&mut self, id: &str) -> Option<Vec<String>> {
        let w = self.waiting.remove(id)?;
        for k in &w.keys {
            if let Some(line) = self.lines.get_mut(k) {
                line.remove(&w.place);
                if line.is_empty() {
                    self.lines.remove(k);
                }
            }
        }
        Some(w.keys)
    }

    fn head(&self, key: &str) -> Option<&String> {
        self.lines.get(key).and_then(|l| l.values().next())
    }

    /// Whether a waiting job heads every line it is in and none of its keys runs.
    fn is_free(&self, id: &str) -> bool {
        self.waiting.get(id).is_some_and(|w| {
            w.keys.iter().all(|k| !self.busy_keys.contains(k) && self.head(k).map(String::as_str) == Some(id))
        })
    }

    fn demote_heads(&mut self, keys: &[String]) {
        let heads: Vec<String> = keys.iter().filter_map(|k| self.head(k).cloned()).collect();
        for id in heads {
            if let Some(w) = self.waiting.get(&id) {
                self.eligible[w.lane.index()].remove(&(w.place, id.clone()));
            }
        }
    }

    fn promote_heads(&mut self, keys: &[String]) {
        let heads: Vec<String> = keys.iter().filter_map(|k| self.head(k).cloned()).collect();
        for id in heads {
            if self.is_free(&id) {
                if let Some(w) = self.waiting.get(&id) {
                    self.eligible[w.lane.index()].insert((w.place, id.clone()));
                }
            }
        }
    }
}
