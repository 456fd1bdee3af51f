//! The pool of service-account connections of one directory: plain data, no I/O.
//! ldap3 multiplexes operations on one connection, so "in use" counts operations in
//! flight, and new connections are opened while below `pool_min`, or when every
//! connection carries more than [`OPS_PER_CONNECTION`] operations (up to `pool_max`).

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use ldap3::Ldap;

use super::discovery::Target;

const OPS_PER_CONNECTION: usize = 8;

/// Counts an operation in flight until dropped.
#[derive(Debug)]
pub struct InUse(Arc<AtomicUsize>);

impl Drop for InUse {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::Relaxed);
    }
}

#[derive(Debug, Default)]
pub struct Pool {
    /// (number, server, connection).
    conns: Vec<(u64, Arc<Target>, Ldap)>,
    added: u64,
    next: usize,
    in_use: Arc<AtomicUsize>,
    /// The server new connections go to first: the last one that answered, or the one
    /// a fail-back chose.
    pub preferred: Option<Arc<Target>>,
    pub last_error: Option<String>,
}

impl Pool {
    /// Drops connections whose driver ended (server gone or restarted).
    pub fn prune(&mut self) {
        self.conns.retain_mut(|(_, _, l)| !l.is_closed());
    }

    pub fn size(&mut self) -> usize {
        self.prune();
        self.conns.len()
    }

    pub fn in_use(&self) -> usize {
        self.in_use.load(Ordering::Relaxed)
    }

    /// Whether a new connection should be opened before handing one out.
    pub fn wants_more(&mut self, min: usize, max: usize) -> bool {
        let size = self.size();
        size < min.max(1) || (size < max && self.in_use() >= size * OPS_PER_CONNECTION)
    }

    pub fn add(&mut self, target: Arc<Target>, ldap: Ldap) {
        self.preferred = Some(target.clone());
        self.last_error = None;
        self.added += 1;
        self.conns.push((self.added, target, ldap));
    }

    /// Makes `target` the preferred server and drops the connections to any other (a
    /// fail-back): jobs that hold one finish on it, new ones go to `target`.
    pub fn move_to(&mut self, target: Arc<Target>) {
        self.conns.retain(|(_, t, _)| t.same(&target));
        self.preferred = Some(target);
    }

    /// A healthy connection, round robin, with its in-use guard and server.
    pub fn checkout(&mut self) -> Option<(Ldap, Arc<Target>, InUse)> {
        self.prune();
        if self.conns.is_empty() {
            return None;
        }
        self.next = (self.next + 1) % self.conns.len();
        let (_, target, ldap) = self.conns.get(self.next)?;
        self.in_use.fetch_add(1, Ordering::Relaxed);
        Some((ldap.clone(), target.clone(), InUse(self.in_use.clone())))
    }

    /// The oldest healthy connection, with its in-use guard and server.
    pub fn first(&mut self) -> Option<(Ldap, Arc<Target>, InUse)> {
        self.prune();
        let (_, target, ldap) = self.conns.first()?;
        self.in_use.fetch_add(1, Ordering::Relaxed);
        Some((ldap.clone(), target.clone(), InUse(self.in_use.clone())))
    }

    pub fn guard(&self) -> InUse {
        self.in_use.fetch_add(1, Ordering::Relaxed);
        InUse(self.in_use.clone())
    }

    /// Each connection with its number, for a health probe.
    pub fn probes(&self) -> Vec<(u64, Ldap)> {
        self.conns.iter().map(|(n, _, l)| (*n, l.clone())).collect()
    }

    /// Drops connection `number` (it failed its probe); operations in flight on it end
    /// with their own timeouts.
    pub fn remove(&mut self, number: u64) -> bool {
        let before = self.conns.len();
        self.conns.retain(|(n, ..)| *n != number);
        self.conns.len() < before
    }

    pub fn clear(&mut self) {
        self.conns.clear();
    }
}
