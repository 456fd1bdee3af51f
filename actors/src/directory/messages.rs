//! Messages of a directory actor.

use actix::Message;

use super::actor::Lease;
use crate::errors::JobError;

/// A service-account connection for one job's operations; reconnects (with failover
/// across `urls`) when none is healthy.
#[derive(Message)]
#[rtype(result = "Result<Lease, JobError>")]
pub struct Checkout;

/// A fresh TLS connection, not bound, for one user bind (taken from a small stock the
/// actor keeps ready, so a login does not wait for a handshake). `None`: open one.
#[derive(Message)]
#[rtype(result = "Option<ldap3::Ldap>")]
pub struct TakeUserConnection;
