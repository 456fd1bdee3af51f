//! LDAP result codes, named once (RFC 4511 §4.1.9 and Appendix A.1/A.2), with the
//! predicates the connector decides on. Nothing outside this file compares a result code
//! with a bare number.

/// `success` (RFC 4511 A.1).
pub const SUCCESS: u32 = 0;
/// `timeLimitExceeded` (RFC 4511 A.2): the server's own time limit cut the operation.
pub const TIME_LIMIT_EXCEEDED: u32 = 3;
/// `sizeLimitExceeded` (RFC 4511 A.2): more entries matched than the size limit allows.
pub const SIZE_LIMIT_EXCEEDED: u32 = 4;
/// `referral` (RFC 4511 A.2, §4.1.10): the base lies at another server; the result's
/// referral URLs say where.
pub const REFERRAL: u32 = 10;
/// `noSuchAttribute` (RFC 4511 A.2).
pub const NO_SUCH_ATTRIBUTE: u32 = 16;
/// `constraintViolation` (RFC 4511 A.2); AD adds a data code saying which (see
/// [`super::ad_data`]).
pub const CONSTRAINT_VIOLATION: u32 = 19;
/// `attributeOrValueExists` (RFC 4511 A.2).
pub const ATTRIBUTE_OR_VALUE_EXISTS: u32 = 20;
/// `invalidAttributeSyntax` (RFC 4511 A.2).
pub const INVALID_ATTRIBUTE_SYNTAX: u32 = 21;
/// `noSuchObject` (RFC 4511 A.2).
pub const NO_SUCH_OBJECT: u32 = 32;
/// `invalidCredentials` (RFC 4511 A.2); AD adds a data code saying why (see
/// [`super::ad_data`]).
pub const INVALID_CREDENTIALS: u32 = 49;
/// `insufficientAccessRights` (RFC 4511 A.2).
pub const INSUFFICIENT_ACCESS_RIGHTS: u32 = 50;
/// `busy` (RFC 4511 A.2): the server is too busy to serve the operation now.
pub const BUSY: u32 = 51;
/// `unavailable` (RFC 4511 A.2): the server is shutting down or not serving.
pub const UNAVAILABLE: u32 = 52;
/// `unwillingToPerform` (RFC 4511 A.2).
pub const UNWILLING_TO_PERFORM: u32 = 53;
/// `objectClassViolation` (RFC 4511 A.2).
pub const OBJECT_CLASS_VIOLATION: u32 = 65;
/// `notAllowedOnRDN` (RFC 4511 A.2).
pub const NOT_ALLOWED_ON_RDN: u32 = 67;
/// `entryAlreadyExists` (RFC 4511 A.2).
pub const ENTRY_ALREADY_EXISTS: u32 = 68;
/// `objectClassModsProhibited` (RFC 4511 A.2).
pub const OBJECT_CLASS_MODS_PROHIBITED: u32 = 69;

/// `busy` or `unavailable`: the directory cannot serve now, so the job is retried
/// (RFC 4511 A.2 describes both as transient server states).
pub fn is_unavailable(rc: u32) -> bool {
    matches!(rc, BUSY | UNAVAILABLE)
}

/// `success`, or `sizeLimitExceeded`: the search ran and returned what the size limit let
/// through, which is enough where one or two entries are asked for (RFC 4511 §4.5.1.4:
/// the entries up to the limit are returned before the result).
pub fn is_complete_or_size_limited(rc: u32) -> bool {
    matches!(rc, SUCCESS | SIZE_LIMIT_EXCEEDED)
}
