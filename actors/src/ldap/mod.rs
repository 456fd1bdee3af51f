//! LDAP work on a directory's connections, and the LDAP vocabulary the rest of the crate
//! speaks. Plain async code, no actor: the dispatcher runs the executors in a job's task
//! with a [`Lease`](crate::directory::Lease) from the directory actor.
//!
//! - Executors: [`auth`] (`ldap.authenticate`: user search, then a bind on a connection
//!   that carries only user binds) and [`import`] (`ldap.import`: plan, paged stream,
//!   delta phases, batches into the queue's spool).
//! - Searches: [`paged`] (RFC 2696 paged search, entry by entry), [`search`] (a few
//!   entries, and the follow-up reads of ranged values).
//! - Data: [`entry`] (a search result entry, ranged attributes merged), [`record`] (an
//!   entry as the protocol's JSON record), [`withheld`] (secret attributes never
//!   exported, and the journal of those withheld), [`dn`] (DNs parsed and compared as
//!   RFC 4514 says), [`escape`] (filter and DN escaping, RFC 4515/4514).
//! - Errors: [`codes`] (LDAP result codes and AD data codes, named once, and
//!   [`codes::LdapFailure`]).
//!
//! The AD mutations are in [`crate::ad`]; the connection pool in [`crate::directory`].

pub mod auth;
pub mod codes;
pub mod dn;
pub mod entry;
pub mod escape;
pub mod import;
pub mod paged;
pub mod record;
pub mod referral;
pub mod search;
pub mod withheld;
