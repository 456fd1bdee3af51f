//! Messages of a directory actor.

use actix::Message;

use super::actor::Lease;
use crate::errors::JobError;

/// A service-account connection for one job's operations; reconnects (with failover
/// across `urls`) when none is healthy.
#[derive(Message)]
#[rtype(result = "Result<Lease, JobError>")]
pub struct Checkout;
