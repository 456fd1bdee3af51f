//! Messages of a directory actor.

use actix::Message;

use super::actor::Lease;
use crate::errors::JobError;

/// A service-account connection for one job's operations; reconnects (with failover
/// across `urls`) when none is healthy.
#[derive(Message)]
#[rtype(result = "Result<Lease, JobError>")]
pub struct Checkout;

/// A TLS connection used for nothing but user binds, for one more user bind (taken from
/// a stock the actor keeps ready, so a login does not wait for a handshake). `None`:
/// open one.
#[derive(Message)]
#[rtype(result = "Option<BindConnection>")]
pub struct TakeUserConnection;

/// A bind connection back after a bind the directory answered: it goes back into the
/// stock (until it is too old), since a bind replaces whatever identity it had.
#[derive(Message)]
#[rtype(result = "()")]
pub struct ReturnUserConnection(pub BindConnection);

/// A connection that only ever carries simple binds of users, never a search or a write,
/// so the identity a user's bind leaves on it gives nobody anything.
pub struct BindConnection {
    pub ldap: ldap3::Ldap,
    pub opened: std::time::Instant,
}

impl BindConnection {
    /// Connections are short-lived: one is retired this long after it was opened.
    pub const MAX_AGE: std::time::Duration = std::time::Duration::from_secs(30);

    pub fn usable(&mut self) -> bool {
        self.opened.elapsed() < Self::MAX_AGE && !self.ldap.is_closed()
    }
}
