//! Directories: one actor per configured directory, owning its connection pool, and the
//! plain logic of the LDAP jobs (`ldap.authenticate`, `ldap.import`) that use it.
//!
//! - **Owns** the service-account connections of its directory (bounded `pool_min`..
//!   `pool_max`, each probed every 10 s with a root DSE read and dropped when it does not
//!   answer, re-established with failover across `urls`),
//!   and publishes its figures (reachable, pool size, operations in flight).
//! - **Receives** [`Checkout`]: lends a connection to a job ([`Lease`]);
//!   [`CheckoutWrites`]: lends the one connection that carries the directory's writes.
//! - **Sends** nothing; jobs run in the dispatcher's tasks with their lease.
//! - **Failure policy**: a failed connect is reported to the job as retryable
//!   `directory_unavailable` (a wrong service password as `invalid_credentials`); a
//!   directory that comes back is reconnected on the next checkout or health tick.
//! - **User binds** never use a pooled connection: they go over connections that carry
//!   nothing but user binds ([`BindConnection`]: taken with [`TakeUserConnection`], given
//!   back with [`ReturnUserConnection`], retired 30–50 s after opening), so a bind never
//!   changes the identity of a connection that searches or writes.
//! - **Imports** stream on a connection of their own ([`Lease::dedicated`]).
//! - **On shutdown**: nothing to save; connections close with the process.

mod actor;
pub mod auth;
pub mod codes;
pub mod connect;
pub mod dn;
pub mod entry;
pub mod escape;
pub mod import;
mod messages;
pub mod paged;
mod pool;
pub mod record;
mod settings;
pub mod tls;
pub mod withheld;

pub use actor::{DirectoryActor, Lease};
pub use messages::{BindConnection, Checkout, CheckoutWrites, ReturnUserConnection, TakeUserConnection};
pub use settings::{DirectoryKind, DirectorySettings, PlainUrlSecurity, ScopePolicy};
