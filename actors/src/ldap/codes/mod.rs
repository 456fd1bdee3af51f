//! LDAP result codes and Active Directory diagnostic data codes, each named once with
//! its source, and mapped in one table to the protocol's error codes and login reasons.
//!
//! - [`rc`]: LDAP result codes (RFC 4511 §4.1.9, Appendix A) and their predicates.
//! - [`ad_data`]: AD's `data` codes (Win32 system error codes) and how to read them.
//! - [`failure`]: [`LdapFailure`] and [`code_for`], result code → protocol error code.
//! - [`login`]: [`LoginReason`] from AD data codes or the ppolicy control.
//! - [`ppolicy`]: reading OpenLDAP's password-policy response control.
//!
//! User-account-control bits live in `crate::ad::uac`, nowhere else.

pub mod ad_data;
pub mod failure;
pub mod login;
pub mod ppolicy;
pub mod rc;

pub use ad_data::ad_data_code;
pub use failure::{code_for, LdapFailure};
pub use login::{ad_login_reason, ppolicy_login_reason, LoginReason};
pub use ppolicy::{ppolicy_error, PPOLICY_OID};

#[cfg(test)]
mod tests;
