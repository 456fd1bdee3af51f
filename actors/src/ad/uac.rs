//! userAccountControl bits, named once ([MS-ADTS] 2.2.16 "userAccountControl Bits";
//! KB 305144 "How to use the UserAccountControl flags").

/// ACCOUNTDISABLE: the account cannot log on.
pub const ACCOUNTDISABLE: u32 = 0x0002;
/// PASSWD_NOTREQD: the account may have no password. The connector never sets it.
pub const PASSWD_NOTREQD: u32 = 0x0020;
/// NORMAL_ACCOUNT: an ordinary user account.
pub const NORMAL_ACCOUNT: u32 = 0x0200;
/// DONT_EXPIRE_PASSWORD: the password never expires, and the DC ignores pwdLastSet = 0
/// (the user is never made to change it: measured on Samba 4.17, see
/// `../shared/notes/facts-2.md`).
pub const DONT_EXPIRE_PASSWORD: u32 = 0x1_0000;
