//! Messages of a directory actor.

use actix::Message;

use super::lease::Lease;
use crate::errors::JobError;

/// A service-account connection for one job's operations; reconnects (with failover
/// across `urls`) when none is healthy.
#[derive(Message)]
#[rtype(result = "Result<Lease, JobError>")]
pub struct Checkout;

/// The service-account connection that carries a directory's writes (the AD jobs): the
/// first healthy one of the pool, the same one as long as it lives. A DC's store takes
/// one write at a time anyway, and Samba keeps a database context per connection that it
/// reloads after every commit made through another one: spread over the pool, the same
/// creates cost it 23% more CPU in `prefork` (52.4 vs 42.7 ms per user, README
/// "Benchmarks"). Opens one, like [`Checkout`], when the pool is empty.
#[derive(Message)]
#[rtype(result = "Result<Lease, JobError>")]
pub struct CheckoutWrites;

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
    ldap: ldap3::Ldap,
    retire_at: std::time::Instant,
    /// When it last carried a bind (or was opened): a spare idle longer than
    /// [`BindConnection::PROBE_WHEN_IDLE`] is probed before a login trusts it.
    idle_since: std::time::Instant,
}

impl BindConnection {
    /// Connections are short-lived: one is retired 30 to 50 s after it was opened. The
    /// spread matters: connections opened by one burst of logins would otherwise all
    /// retire together, and the next burst would wait for as many handshakes (measured:
    /// login p99 90 ms instead of 15).
    pub fn new(ldap: ldap3::Ldap) -> BindConnection {
        use rand::Rng;
        let life = std::time::Duration::from_millis(rand::thread_rng().gen_range(30_000..50_000));
        let now = std::time::Instant::now();
        BindConnection { ldap, retire_at: now + life, idle_since: now }
    }

    /// A spare unused this long may have been dropped by a firewall or a DC without a
    /// reset (half-open): nothing would tell until a bind on it waited out the whole
    /// operation timeout. Busier spares were just answered, so they skip the probe.
    pub const PROBE_WHEN_IDLE: std::time::Duration = std::time::Duration::from_secs(1);
    /// How long a probed spare has to answer; past it a fresh connection carries the
    /// login, so a half-open spare costs a login about this much.
    pub const PROBE_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(1);

    /// Whether the spare can be trusted with a bind: used within [`Self::PROBE_WHEN_IDLE`],
    /// or it answers a root DSE read within [`Self::PROBE_TIMEOUT`].
    pub async fn alive(&mut self) -> bool {
        self.idle_since.elapsed() < Self::PROBE_WHEN_IDLE
            || super::connect::answers(&mut self.ldap, Self::PROBE_TIMEOUT).await
    }

    /// Marks the connection as just used (when it goes back to the stock).
    pub fn used(&mut self) {
        self.idle_since = std::time::Instant::now();
    }

    pub fn ldap(&mut self) -> &mut ldap3::Ldap {
        &mut self.ldap
    }

    pub fn usable(&mut self) -> bool {
        std::time::Instant::now() < self.retire_at && !self.ldap.is_closed()
    }
}

/// A reload replaced this directory's settings (or removed it): stop probing, drop the
/// spare bind connections, and stop once the jobs that still hold this actor (and their
/// leases) are done. Jobs already running finish on it; new jobs go to its successor.
#[derive(Message)]
#[rtype(result = "()")]
pub struct Retire;
