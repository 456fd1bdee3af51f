//! Directories: one actor per configured directory, owning its connection pool, with
//! what it takes to open a connection ([`connect`], [`tls`]) and its settings. The LDAP
//! work done on its connections (logins, imports, the entry and DN types) is in
//! [`crate::ldap`].
//!
//! - **Owns** the service-account connections of its directory (bounded `pool_min`..
//!   `pool_max`, each probed every 10 s with a root DSE read and dropped when it does not
//!   answer, re-established with failover across `urls` or the servers DNS names
//!   ([`discovery`]: re-resolved on TTL and when every server failed; fail-back to a
//!   better-ranked server once it has answered for `failback_after`),
//!   and publishes its figures (reachable, pool size, operations in flight).
//! - **Receives** [`Checkout`]: lends a connection to a job ([`Lease`]);
//!   [`CheckoutWrites`]: lends the one connection that carries the directory's writes.
//! - **Sends** nothing; jobs run in the dispatcher's tasks with their lease.
//! - **Failure policy**: a failed connect is reported to the job as retryable
//!   `directory_unavailable` (a wrong service password as `invalid_credentials`); a
//!   directory that comes back is reconnected on the next checkout or health tick.
//! - **Service credentials** ([`bind`]): a password, a TLS client certificate (SASL
//!   EXTERNAL, presented on the service account's connections only) or a keytab (SASL
//!   GSSAPI, tickets renewed from it); what expires within 14 days (the certificate, AD's
//!   password expiry read hourly) goes into the directory's report, so the heartbeat and
//!   the UI warn.
//! - **User binds** never use a pooled connection: they go over connections that carry
//!   nothing but user binds ([`BindConnection`]: taken with [`TakeUserConnection`], given
//!   back with [`ReturnUserConnection`], retired 30–50 s after opening), so a bind never
//!   changes the identity of a connection that searches or writes.
//! - **Imports** stream on a connection of their own ([`Lease::dedicated`]).
//! - **On reload** ([`Retire`]): stops probing and keeping spares; the jobs that hold it
//!   finish on it, and it stops (closing its connections) once no one holds it.
//! - **On shutdown**: nothing to save; connections close with the process.

mod actor;
pub mod bind;
pub mod connect;
pub mod discovery;
pub mod forest;
mod lease;
mod messages;
mod pool;
mod settings;
pub mod tls;

pub use actor::DirectoryActor;
pub use bind::ServiceBind;
pub use lease::Lease;
pub use messages::{BindConnection, Checkout, CheckoutWrites, Retire, ReturnUserConnection, TakeUserConnection};
pub use settings::{DirectoryKind, DirectorySettings, LoginSettings, MemberAttribute, PlainUrlSecurity, ScopePolicy};
